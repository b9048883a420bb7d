// The printable form of a prescription or a certificate, read through the gate (the entry's
// categories plus the patient's identity) and generated on the fly: the PDF is never stored.
import type { Database } from '../../platform/db/database.js';
import type { Actor } from '../../platform/http/context.js';
import { DomainError } from '../../platform/http/errors.js';
import { SPECIALTIES } from '../directory/index.js';
import type { AccessGate } from '../access/index.js';
import type { Vault } from '../vault/index.js';
import { openEntries, READ_CATEGORIES } from './entries.js';
import { openPatientRows, type PatientFile } from './patient-codec.js';
import { certificatePdf, prescriptionPdf, type MedicationLine } from './pdf.js';
import type { RecordsStore } from './store.js';

export function createEntryPdf(deps: { db: Database; gate: AccessGate; vault: Vault; store: RecordsStore }) {
  const { db, gate, vault, store } = deps;
  return async function entryPdf(actor: Actor, establishmentId: string, patientId: string, entryId: string, ip: string | null): Promise<{ pdf: Buffer; kind: string }> {
    const head = await db.withTenant(establishmentId, (tx) => store.entryHead(tx, patientId, entryId));
    if (!head || (head.kind !== 'prescription' && head.kind !== 'certificate')) throw new DomainError('not_found', 'No printable entry here');
    const staff = actor.kind === 'user' && actor.memberships.some((m) => m.establishmentId === establishmentId);
    const { value } = await gate.access(
      { actor, establishmentId, action: 'read', resourceKind: 'clinical_entry', categories: [...READ_CATEGORIES[head.kind], 'identity'], patientIds: [patientId], resourceIds: [entryId], purpose: 'print', ip },
      async (tx) => {
        const rows = await store.listEntries(tx, { patientId, kinds: [head.kind], entryId, releasedOnly: !staff });
        if (rows.length === 0) return null;
        const [entry] = await openEntries(tx, vault, rows, false);
        const [patientRow] = await store.findPatients(tx, [patientId], ['birth_name_enc', 'first_names_enc', 'used_name_enc', 'birth_date_enc']);
        if (!patientRow) return null;
        const [file] = (await openPatientRows(tx, vault, [patientRow as never], new Set(['identity']))) as [Partial<PatientFile>];
        const prescriber = await store.practitionerOfUser(tx, entry!.authorUserId);
        return { entry: entry!, file, prescriber };
      },
    );
    if (!value || !value.prescriber) throw new DomainError('not_found', 'No printable entry here');
    const { entry, file, prescriber } = value;
    const common = {
      prescriber: {
        name: `${prescriber.first_name} ${prescriber.last_name}`,
        rpps: prescriber.rpps,
        specialty: SPECIALTIES.find((s) => s.code === prescriber.specialty_code)?.labelFr ?? null,
      },
      patient: { name: `${file.firstNames} ${file.usedName ?? file.birthName}`, birthDate: file.birthDate! },
      issuedAt: new Date(entry.createdAt),
    };
    if (entry.kind === 'prescription') {
      const content = entry.content as { lines: MedicationLine[]; notes?: string };
      return { kind: 'ordonnance', pdf: await prescriptionPdf({ ...common, lines: content.lines, ...(content.notes ? { notes: content.notes } : {}) }) };
    }
    const content = entry.content as { title: string; text: string };
    return { kind: 'certificat', pdf: await certificatePdf({ ...common, title: content.title, text: content.text }) };
  };
}

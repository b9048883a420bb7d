// The records module's public face: patient files (encrypted), clinical entries, documents and
// the patients' GDPR rights. Other modules import only this file.
import type { FastifyPluginAsync } from 'fastify';
import type { Insertable } from 'kysely';
import type { PatientsTable } from '../../platform/db/schema.js';
import type { Database, Exec, Tx } from '../../platform/db/database.js';
import type { AccessGate } from '../access/index.js';
import type { PreparedKey, Vault } from '../vault/index.js';
import { accountContacts } from '../identity/index.js';
import { createPatientService, insertPatientFile as insertFile, newPatientFileRow as newFileRow, patientDisplayNames as displayNames } from './patients.js';
import { patientRoutes } from './routes.js';
import { createEntryService } from './entries.js';
import { createEntryPdf } from './entry-pdf.js';
import { entryRoutes } from './entry-routes.js';
import { createGdprService, type ExportSection } from './gdpr.js';
import { gdprRoutes } from './gdpr-routes.js';
import { createDocumentService } from './documents.js';
import { documentRoutes } from './document-routes.js';
import { createRecordsStore } from './store.js';
import { BLIND, openPatientRows, type PatientFile } from './patient-codec.js';

export { isValidNir, nirKey, nirProblem, withNirKey, compactNir } from './ins.js';
export type { PatientFile, Address, BaseInsurance, ComplementaryInsurance, GeneralPractitioner } from './patient-codec.js';
export { sectionsFor } from './patients.js';
export { retentionEnd } from './retention.js';
export type { ExportSection } from './gdpr.js';
export { planRecordsDemo, loadRecordsDemo, DEMO_DIAGNOSES, DEMO_MEDICATIONS, DEMO_GENETIC, DEMO_DEATH_CAUSE, type RecordsDemoPlan } from './demo.js';

export interface RecordsDeps {
  db: Database;
  vault: Vault;
  gate: AccessGate;
  now?: () => Date;
  /** Sections other modules add to the patient's export (the audit module's access log). */
  exportSections?: ExportSection[];
}

export function createRecordsModule(deps: RecordsDeps) {
  const store = createRecordsStore();
  const patients = createPatientService({ gate: deps.gate, vault: deps.vault, store });
  const entries = createEntryService({ db: deps.db, gate: deps.gate, vault: deps.vault, store });
  const entryPdf = createEntryPdf({ db: deps.db, gate: deps.gate, vault: deps.vault, store });
  const documents = createDocumentService({ db: deps.db, gate: deps.gate, vault: deps.vault });
  const gdpr = createGdprService({ db: deps.db, gate: deps.gate, vault: deps.vault, store, patients, entries, documents, ...(deps.now ? { now: deps.now } : {}), exportSections: deps.exportSections ?? [] });
  const routes: FastifyPluginAsync = async (app) => {
    await app.register(patientRoutes(patients));
    await app.register(entryRoutes(entries, entryPdf));
    await app.register(gdprRoutes(gdpr));
    await app.register(documentRoutes(documents));
  };
  return { patients, entries, entryPdf, gdpr, documents, routes };
}

export type RecordsModule = ReturnType<typeof createRecordsModule>;

/**
 * Creates a patient file in the caller's tenant transaction, which must already be authorized
 * (scheduling's first booking of an account holder, the demo seed). Returns the new id.
 */
export function insertPatientFile(
  tx: Tx,
  vault: Vault,
  input: { establishmentId: string; accountUserId: string | null; file: Partial<PatientFile> & Pick<PatientFile, 'birthName' | 'firstNames' | 'sex' | 'birthDate'>; id?: string },
): Promise<string> {
  return insertFile(tx, { vault, store: createRecordsStore() }, input);
}

/**
 * The sealed row of a new patient file, for a caller that inserts it in its own statement inside
 * its tenant wall (scheduling's first booking of an account holder, with the appointment). With
 * `id` and `key` (Vault.preparePatientKey for that id), the file is sealed under that key, which
 * the caller inserts in the same statement; otherwise the file's data key is created here, in the
 * caller's transaction.
 */
export function newPatientFileRow(
  tx: Exec,
  vault: Vault,
  input: {
    establishmentId: string;
    accountUserId: string | null;
    file: Partial<PatientFile> & Pick<PatientFile, 'birthName' | 'firstNames' | 'sex' | 'birthDate'>;
    id?: string;
    key?: PreparedKey;
  },
): Promise<{ id: string; row: Insertable<PatientsTable> }> {
  return newFileRow(tx, { vault }, input);
}

/**
 * Ids of live files matching an exact last name and birth date through the blind indexes, in a
 * transaction the gate has opened (the drill's search; the HTTP search is the patient service's).
 */
export async function searchPatientIds(tx: Tx, vault: Vault, establishmentId: string, q: { lastName: string; birthDate: string }, limit: number): Promise<string[]> {
  const index = await vault.blindIndexer(tx, establishmentId);
  return createRecordsStore().searchPatients(tx, { lastName: index(BLIND.lastName, [{ name: q.lastName }]), birthDate: index(BLIND.birthDate, [{ date: q.birthDate }]) }, limit);
}

/**
 * Where to reach each patient, in a transaction where reading their contact is already justified
 * and audited (notices, breach letters): the account's e-mail and phone when the file is linked to
 * an account that has one, else the file's own (decrypted).
 */
export async function patientContacts(tx: Tx, vault: Vault, patientIds: string[]): Promise<Map<string, { email: string | null; phone: string | null }>> {
  if (patientIds.length === 0) return new Map();
  const linked = await tx.selectFrom('patients').select(['id', 'account_user_id']).where('id', 'in', patientIds).execute();
  const accounts = await accountContacts(tx, vault, linked.flatMap((l) => (l.account_user_id ? [l.account_user_id] : [])));
  const out = new Map<string, { email: string | null; phone: string | null }>();
  for (const l of linked) {
    const a = l.account_user_id ? accounts.get(l.account_user_id) : undefined;
    if (a) out.set(l.id, { email: a.email, phone: a.phone });
  }
  const withoutAccount = patientIds.filter((id) => !out.has(id));
  if (withoutAccount.length > 0) {
    const rows = await createRecordsStore().findPatients(tx, withoutAccount, ['email_enc', 'phone_enc']);
    const opened = await openPatientRows(tx, vault, rows as never, new Set(['contact']));
    rows.forEach((r, i) => out.set(r.id, { email: opened[i]!.email ?? null, phone: opened[i]!.phone ?? null }));
  }
  return out;
}

/** "Firstnames NAME" of files, in a transaction where the gate has authorized reading their identity. */
export function patientDisplayNames(tx: Tx, vault: Vault, patientIds: string[]): Promise<Map<string, string>> {
  return displayNames(tx, { vault, store: createRecordsStore() }, patientIds);
}

// The patients' GDPR rights on their records: access and portability (a JSON export of their files
// in every establishment and the entries released to them), rectification requests recorded for
// staff, and erasure by crypto-shredding, asked by one staff member and approved by another, only
// once the legal retention period of the medical record is over.
import { v7 as uuidv7 } from 'uuid';
import type { Database, Tx } from '../../platform/db/database.js';
import type { Actor } from '../../platform/http/context.js';
import { DomainError } from '../../platform/http/errors.js';
import { requireRecentSecondFactor, type AccessGate } from '../access/index.js';
import { appendAuditEvent } from '../audit/index.js';
import type { Vault } from '../vault/index.js';
import type { DocumentService } from './documents.js';
import type { EntryService } from './entries.js';
import type { PatientService } from './patients.js';
import { retentionEnd } from './retention.js';
import type { RecordsStore } from './store.js';

export type ErasureReason = 'patient_request' | 'created_in_error' | 'duplicate';

/** Extra data another module adds to the export (the audit module's access log). */
export type ExportSection = (actor: Extract<Actor, { kind: 'user' }>) => Promise<Record<string, unknown>>;

export function createGdprService(deps: {
  db: Database;
  gate: AccessGate;
  vault: Vault;
  store: RecordsStore;
  patients: PatientService;
  entries: EntryService;
  documents: DocumentService;
  now?: () => Date;
  exportSections?: ExportSection[];
}) {
  const { db, gate, vault, store } = deps;
  const now = deps.now ?? (() => new Date());
  const msgCtx = (establishmentId: string, patientId: string, rowId: string) => ({ establishmentId, patientId, table: 'rectification_requests', column: 'message_enc', rowId });

  return {
    /** Everything the records hold about the acting patient, each read through the gate. */
    async export(actor: Actor, ip: string | null) {
      if (actor.kind !== 'user') throw new DomainError('forbidden', 'Only a patient exports their data');
      const establishments = await db.withPlatform((tx) => tx.selectFrom('establishments').select(['id', 'name', 'city']).orderBy('id').execute());
      const files = [];
      for (const e of establishments) {
        const ids = await db.withTenant(e.id, (tx) => store.accountPatients(tx, actor.userId));
        for (const pid of ids) {
          const file = await deps.patients.read(actor, e.id, pid, ip);
          const entries = await deps.entries.list(actor, e.id, pid, ip).catch((error: unknown) => {
            if (error instanceof DomainError && error.code === 'not_found') return [];
            throw error;
          });
          const documents = await deps.documents.list(actor, e.id, pid, ip).catch((error: unknown) => {
            if (error instanceof DomainError && error.code === 'not_found') return [];
            throw error;
          });
          // Document metadata only: each document is downloaded on its own link, through the gate.
          files.push({ establishment: e, file, entries, documents });
        }
      }
      const extra: Record<string, unknown> = {};
      for (const section of deps.exportSections ?? []) Object.assign(extra, await section(actor));
      return { format: 'hygie-export/1', generatedAt: now().toISOString(), userId: actor.userId, files, ...extra };
    },

    /** A patient asks an establishment to correct their file; staff see it in their queue. */
    async requestRectification(actor: Actor, input: { establishmentId: string; patientId: string; fields: string[]; message: string }, ip: string | null) {
      if (actor.kind !== 'user') throw new DomainError('forbidden');
      const id = uuidv7();
      // The patient may not write their file, only read it: the gate checks it is theirs (isSelf).
      await gate.access(
        { actor, establishmentId: input.establishmentId, action: 'read', resourceKind: 'rectification_request', categories: ['identity'], patientIds: [input.patientId], resourceIds: [id], purpose: 'rectification_request', ip },
        async (tx) => {
          const message = await vault.encryptField(tx, msgCtx(input.establishmentId, input.patientId, id), input.message);
          await tx
            .insertInto('rectification_requests')
            .values({ id, establishment_id: input.establishmentId, patient_id: input.patientId, requested_by_user_id: actor.userId, fields: input.fields, message_enc: message!, resolved_at: null, resolved_by_user_id: null })
            .execute();
        },
      );
      return { id, status: 'open' as const };
    },

    /** Open requests of the establishment, for the staff who handle files (filtered by the gate). */
    async listRectifications(actor: Actor, establishmentId: string, ip: string | null) {
      const rows = await gate.list(
        { actor, establishmentId, action: 'read', resourceKind: 'rectification_request', categories: ['identity', 'contact'], ip },
        async (tx) => {
          const open = await tx.selectFrom('rectification_requests').selectAll().where('status', '=', 'open').orderBy('created_at').limit(50).execute();
          const messages = await vault.decryptFields(tx, open.map((r) => ({ ctx: msgCtx(establishmentId, r.patient_id, r.id), value: r.message_enc })));
          return open.map((r, i) => ({ id: r.id, patientId: r.patient_id, fields: r.fields, message: messages[i]!, createdAt: new Date(r.created_at as unknown as Date).toISOString() }));
        },
        (r) => r.patientId,
      );
      return { items: rows };
    },

    async resolveRectification(actor: Actor, establishmentId: string, requestId: string, status: 'done' | 'rejected', ip: string | null) {
      if (actor.kind !== 'user') throw new DomainError('forbidden');
      const row = await db.withTenant(establishmentId, (tx) => tx.selectFrom('rectification_requests').select(['patient_id', 'status']).where('id', '=', requestId).executeTakeFirst());
      if (!row) throw new DomainError('not_found', 'No such request');
      await gate.access(
        { actor, establishmentId, action: 'write', resourceKind: 'rectification_request', categories: ['administrative'], patientIds: [row.patient_id], resourceIds: [requestId], ip },
        (tx) => tx.updateTable('rectification_requests').set({ status, resolved_at: now(), resolved_by_user_id: actor.userId }).where('id', '=', requestId).where('status', '=', 'open').execute(),
      );
    },

    /** First person: asks for the erasure of a file (recorded, nothing destroyed yet). */
    async requestErasure(actor: Actor, establishmentId: string, patientId: string, reason: ErasureReason, ip: string | null) {
      if (actor.kind !== 'user') throw new DomainError('forbidden');
      const id = uuidv7();
      await gate.access(
        { actor, establishmentId, action: 'write', resourceKind: 'erasure_request', categories: ['identity', 'administrative'], patientIds: [patientId], resourceIds: [id], purpose: 'erasure', ip },
        async (tx) => {
          if (await store.isErased(tx, patientId)) throw new DomainError('not_found', 'No such patient');
          await tx.insertInto('erasure_requests').values({ id, establishment_id: establishmentId, patient_id: patientId, reason, requested_by_user_id: actor.userId, decided_by_user_id: null, decided_at: null }).execute();
        },
      );
      return { id, status: 'pending' as const };
    },

    /**
     * Second person, with a fresh second factor: approves, and the patient's data key is destroyed
     * (crypto-shredding: every ciphertext of the file, in every table and every backup, becomes
     * noise). Refused while the medical record must legally be kept.
     */
    async approveErasure(actor: Actor, establishmentId: string, requestId: string, ip: string | null) {
      requireRecentSecondFactor(actor, now());
      if (actor.kind !== 'user') throw new DomainError('forbidden');
      const request = await db.withTenant(establishmentId, (tx) => tx.selectFrom('erasure_requests').selectAll().where('id', '=', requestId).executeTakeFirst());
      if (!request || request.status !== 'pending') throw new DomainError('not_found', 'No pending erasure request');
      // Two people (ASVS 2.3.5): the database refuses it too (check constraint).
      if (request.requested_by_user_id === actor.userId) throw new DomainError('forbidden', 'A second person must approve an erasure');
      const patientId = request.patient_id;
      await gate.access(
        { actor, establishmentId, action: 'write', resourceKind: 'erasure_request', categories: ['identity', 'administrative'], patientIds: [patientId], resourceIds: [requestId], purpose: 'erasure', ip },
        async (tx) => {
          await assertRetentionOver(tx, patientId);
          await vault.shredPatientKey(tx, { establishmentId, patientId });
          // The blind indexes go too: the file can no longer be found, nor its presence confirmed.
          await tx
            .updateTable('patients')
            .set({ erased_at: now(), bi_last_name: `erased:${patientId}`, bi_birth_date: `erased:${patientId}`, bi_used_name: null, bi_ins: null })
            .where('id', '=', patientId)
            .execute();
          await tx.updateTable('erasure_requests').set({ status: 'approved', decided_by_user_id: actor.userId, decided_at: now() }).where('id', '=', requestId).execute();
          await appendAuditEvent(tx, {
            establishmentId, actor, ip, action: 'patient.erase', resourceKind: 'patient', resourceIds: [requestId], patientIds: [patientId], purpose: 'erasure', reason: request.reason, outcome: 'allowed',
          });
        },
      );
      return { id: requestId, status: 'approved' as const };
    },
  };

  async function assertRetentionOver(tx: Tx, patientId: string): Promise<void> {
    const last = await store.lastClinicalActivity(tx, patientId);
    if (last === null) return;
    const [row] = await store.findPatients(tx, [patientId], ['birth_date_enc']);
    const birthDate = row ? await vault.decryptField(tx, { establishmentId: row.establishment_id, patientId, table: 'patients', column: 'birth_date_enc', rowId: patientId }, row['birth_date_enc'] ?? null) : null;
    const until = retentionEnd({ lastActivity: last, birthDate });
    if (until.getTime() > now().getTime()) {
      throw new DomainError('conflict', `The medical record must be kept until ${until.toISOString().slice(0, 10)} (20 years after the last stay, Code de la santé publique R1112-7)`, {
        retainedUntil: until.toISOString().slice(0, 10),
      });
    }
  }
}

export type GdprService = ReturnType<typeof createGdprService>;

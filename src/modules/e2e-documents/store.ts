// SQL of the end-to-end documents module. Every method is scoped: keys by their owner, documents
// by the transaction's establishment (row-level security) and by recipient.
import type { Tx } from '../../platform/db/database.js';
import './tables.js';
import type { E2eDocumentKeysTable, E2eDocumentsTable, E2eUserKeysTable } from './tables.js';

export function createE2eStore() {
  return {
    findKeys(tx: Tx, userId: string): Promise<E2eUserKeysTable | undefined> {
      return tx.selectFrom('e2e_user_keys').selectAll().where('user_id', '=', userId).executeTakeFirst() as Promise<E2eUserKeysTable | undefined>;
    },

    findPublicKeys(tx: Tx, userIds: string[]) {
      if (userIds.length === 0) return Promise.resolve([]);
      return tx.selectFrom('e2e_user_keys').select(['user_id', 'public_key', 'fingerprint']).where('user_id', 'in', userIds).execute();
    },

    /** Inserts a user's keys; false when they already have some (keys are never replaced here). */
    async insertKeys(tx: Tx, row: Omit<E2eUserKeysTable, 'created_at'>): Promise<boolean> {
      const inserted = await tx.insertInto('e2e_user_keys').values(row).onConflict((oc) => oc.column('user_id').doNothing()).returning('user_id').executeTakeFirst();
      return inserted !== undefined;
    },

    /**
     * The account linked to a patient file of this establishment. (Reads the foundation's
     * `patients` table for its account link only; records will export this once it lands.)
     */
    async accountOfPatientFile(tx: Tx, patientId: string): Promise<string | null | undefined> {
      const row = await tx.selectFrom('patients').select('account_user_id').where('id', '=', patientId).executeTakeFirst();
      return row ? row.account_user_id : undefined;
    },

    /** Patient files of an account in this establishment. */
    async patientFilesOfAccount(tx: Tx, userId: string): Promise<string[]> {
      const rows = await tx.selectFrom('patients').select('id').where('account_user_id', '=', userId).execute();
      return rows.map((r) => r.id);
    },

    async insertDocument(tx: Tx, doc: Omit<E2eDocumentsTable, 'created_at'>, keys: E2eDocumentKeysTable[]): Promise<void> {
      await tx.insertInto('e2e_documents').values(doc).execute();
      await tx.insertInto('e2e_document_keys').values(keys).execute();
    },

    /** Documents of the given patient files that the user can open, newest first (no ciphertext). */
    listForRecipient(tx: Tx, userId: string, patientIds: string[], limit: number) {
      if (patientIds.length === 0) return Promise.resolve([]);
      return tx
        .selectFrom('e2e_documents as d')
        .innerJoin('e2e_document_keys as k', (j) => j.onRef('k.document_id', '=', 'd.id').on('k.recipient_user_id', '=', userId))
        .select(['d.id', 'd.patient_id', 'd.author_user_id', 'd.size_bytes', 'd.created_at'])
        .where('d.patient_id', 'in', patientIds)
        .orderBy('d.created_at', 'desc')
        .orderBy('d.id', 'desc')
        .limit(limit)
        .execute();
    },

    /** One document with the user's wrapped key; undefined unless the user is a recipient. */
    findForRecipient(tx: Tx, documentId: string, userId: string) {
      return tx
        .selectFrom('e2e_documents as d')
        .innerJoin('e2e_document_keys as k', (j) => j.onRef('k.document_id', '=', 'd.id').on('k.recipient_user_id', '=', userId))
        .select(['d.id', 'd.patient_id', 'd.author_user_id', 'd.ciphertext', 'd.iv', 'd.meta_ciphertext', 'd.meta_iv', 'd.size_bytes', 'd.created_at', 'k.wrapped_key'])
        .where('d.id', '=', documentId)
        .executeTakeFirst();
    },

    async documentExists(tx: Tx, documentId: string): Promise<boolean> {
      return (await tx.selectFrom('e2e_documents').select('id').where('id', '=', documentId).executeTakeFirst()) !== undefined;
    },
  };
}
export type E2eStore = ReturnType<typeof createE2eStore>;

// SQL of the records module. Every method runs inside a tenant transaction (the gate's, or the
// seed's withTenant): row-level security limits it to one establishment.
import { sql, type Insertable, type Updateable } from 'kysely';
import type { Tx } from '../../platform/db/database.js';
import type { ClinicalEntriesTable, ClinicalEntryKind, PatientsTable } from '../../platform/db/schema.js';

export type PatientInsert = Insertable<PatientsTable>;
export type PatientUpdate = Updateable<PatientsTable>;
/** A file's row as read: its ids and times, and the sealed columns asked for. */
export type PatientRow = Pick<PatientsTable, 'id' | 'establishment_id' | 'account_user_id'> & { created_at: Date; updated_at: Date } & Record<string, string | null>;

export function createRecordsStore() {
  return {
    async insertPatient(tx: Tx, row: PatientInsert): Promise<void> {
      await tx.insertInto('patients').values(row).execute();
    },

    async updatePatient(tx: Tx, patientId: string, changes: PatientUpdate): Promise<void> {
      await tx
        .updateTable('patients')
        .set({ ...changes, updated_at: sql<Date>`now()` })
        .where('id', '=', patientId)
        .where('erased_at', 'is', null)
        .execute();
    },

    /** Live files (not erased) among these ids, with the sealed columns asked for. */
    async findPatients(tx: Tx, patientIds: string[], columns: ReadonlyArray<keyof PatientsTable>) {
      if (patientIds.length === 0) return [];
      return tx
        .selectFrom('patients')
        .select(['id', 'establishment_id', 'account_user_id', 'created_at', 'updated_at', ...columns])
        .where('id', 'in', patientIds)
        .where('erased_at', 'is', null)
        .execute() as unknown as Promise<PatientRow[]>;
    },

    /**
     * The query (not run) of findPatients, of fixed text for a given column list, for the gate's
     * read (which runs it in one prepared statement with its audit append).
     */
    patientRowsQuery(patientIds: string[], columns: ReadonlyArray<keyof PatientsTable>) {
      const selected = sql.join(['id', 'establishment_id', 'account_user_id', 'created_at', 'updated_at', ...columns].map((c) => sql.ref(c)));
      return sql<PatientRow>`select ${selected} from patients where id = any(${patientIds}::uuid[]) and erased_at is null`;
    },

    /** Ids of live files whose blind indexes match, oldest first, at most `limit`. */
    async searchPatients(tx: Tx, q: { lastName?: string; birthDate?: string; ins?: string }, limit: number): Promise<string[]> {
      let query = tx.selectFrom('patients').select('id').where('erased_at', 'is', null);
      if (q.ins !== undefined) query = query.where('bi_ins', '=', q.ins);
      if (q.lastName !== undefined) {
        const name = q.lastName;
        query = query.where((eb) => eb.or([eb('bi_last_name', '=', name), eb('bi_used_name', '=', name)]));
      }
      if (q.birthDate !== undefined) query = query.where('bi_birth_date', '=', q.birthDate);
      const rows = await query.orderBy('id').limit(limit).execute();
      return rows.map((r) => r.id);
    },

    async isErased(tx: Tx, patientId: string): Promise<boolean> {
      const row = await tx.selectFrom('patients').select('erased_at').where('id', '=', patientId).executeTakeFirst();
      return row !== undefined && row.erased_at !== null;
    },

    /** Files of one account in this establishment (the patient's own view). */
    async accountPatients(tx: Tx, userId: string): Promise<string[]> {
      const rows = await tx.selectFrom('patients').select('id').where('account_user_id', '=', userId).where('erased_at', 'is', null).execute();
      return rows.map((r) => r.id);
    },

    // --- clinical entries ---------------------------------------------------------------------

    async insertEntryVersion(tx: Tx, row: Insertable<ClinicalEntriesTable>): Promise<void> {
      await tx.insertInto('clinical_entries').values(row).execute();
    },

    /** Metadata of the latest version of an entry (no content): what the gate needs to decide. */
    async entryHead(tx: Tx, patientId: string, entryId: string) {
      return tx
        .selectFrom('clinical_entries')
        .select(['entry_id', 'kind', 'version', 'named_user_ids', 'author_user_id'])
        .where('patient_id', '=', patientId)
        .where('entry_id', '=', entryId)
        .orderBy('version', 'desc')
        .limit(1)
        .executeTakeFirst();
    },

    /** True when the user is named on at least one genetic result of the patient. */
    async namedOnGenetic(tx: Tx, patientId: string, userId: string): Promise<boolean> {
      const row = await tx
        .selectFrom('clinical_entries')
        .select('id')
        .where('patient_id', '=', patientId)
        .where('kind', '=', 'genetic_result')
        .where(sql<boolean>`named_user_ids @> array[${userId}]::uuid[]`)
        .limit(1)
        .executeTakeFirst();
      return row !== undefined;
    },

    /**
     * Versions of a patient's entries of these kinds (all versions when history, else the latest
     * of each entry), newest entry first.
     */
    async listEntries(
      tx: Tx,
      q: { patientId: string; kinds: ClinicalEntryKind[]; entryId?: string; history?: boolean; releasedOnly?: boolean; namedUserId?: string },
    ) {
      if (q.kinds.length === 0) return [];
      let query = tx
        .selectFrom('clinical_entries as e')
        .selectAll('e')
        .where('e.patient_id', '=', q.patientId)
        .where('e.kind', 'in', q.kinds);
      if (q.entryId !== undefined) query = query.where('e.entry_id', '=', q.entryId);
      if (!q.history) {
        query = query.where(({ not, exists, selectFrom }) =>
          not(
            exists(
              selectFrom('clinical_entries as n').select('n.id').whereRef('n.entry_id', '=', 'e.entry_id').whereRef('n.version', '>', 'e.version'),
            ),
          ),
        );
      }
      if (q.releasedOnly) query = query.where('e.released_to_patient', '=', true);
      if (q.namedUserId !== undefined) {
        const uid = q.namedUserId;
        query = query.where((eb) => eb.or([eb('e.kind', '<>', 'genetic_result'), sql<boolean>`e.named_user_ids @> array[${uid}]::uuid[]`]));
      }
      return query.orderBy('e.entry_id', 'desc').orderBy('e.version', 'desc').limit(500).execute();
    },

    /** The most recent clinical activity on a file (for retention periods). */
    async lastClinicalActivity(tx: Tx, patientId: string): Promise<Date | null> {
      const row = await tx
        .selectFrom('clinical_entries')
        .select((eb) => eb.fn.max('created_at').as('at'))
        .where('patient_id', '=', patientId)
        .executeTakeFirst();
      const doc = await tx
        .selectFrom('patient_documents')
        .select((eb) => eb.fn.max('created_at').as('at'))
        .where('patient_id', '=', patientId)
        .where('category', '=', 'clinical')
        .executeTakeFirst();
      const dates = [row?.at, doc?.at].filter((d): d is Date => d instanceof Date || typeof d === 'string').map((d) => new Date(d));
      return dates.length === 0 ? null : new Date(Math.max(...dates.map((d) => d.getTime())));
    },

    /** The prescriber's public directory identity (name and RPPS), by user id. */
    async practitionerOfUser(tx: Tx, userId: string) {
      return tx.selectFrom('practitioners').select(['first_name', 'last_name', 'rpps', 'specialty_code']).where('user_id', '=', userId).executeTakeFirst();
    },
  };
}

export type RecordsStore = ReturnType<typeof createRecordsStore>;

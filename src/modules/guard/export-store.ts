// SQL of the export register (guard_exports). Every method runs in a tenant transaction of the
// establishment it names.
import { sql } from 'kysely';
import type { Tx } from '../../platform/db/database.js';
import type { GuardExportsTable } from '../../platform/db/schema.js';

export type ExportRowDb = Pick<
  GuardExportsTable,
  'id' | 'kind' | 'purpose' | 'requested_by' | 'status' | 'decided_by' | 'patient_count'
> & { params: Record<string, unknown>; requested_at: Date; decided_at: Date | null; expires_at: Date; downloaded_at: Date | null };

const COLUMNS = ['id', 'kind', 'params', 'purpose', 'requested_by', 'requested_at', 'status', 'decided_by', 'decided_at', 'expires_at', 'downloaded_at', 'patient_count'] as const;

export function createExportStore() {
  return {
    async insert(tx: Tx, e: { id: string; establishmentId: string; kind: string; params: Record<string, string>; purpose: string; requestedBy: string; at: Date; expiresAt: Date }): Promise<void> {
      await tx
        .insertInto('guard_exports')
        .values({
          id: e.id,
          establishment_id: e.establishmentId,
          kind: e.kind,
          params: JSON.stringify(e.params),
          purpose: e.purpose,
          requested_by: e.requestedBy,
          requested_at: e.at,
          status: 'pending',
          decided_by: null,
          decided_at: null,
          expires_at: e.expiresAt,
          downloaded_at: null,
          patient_count: null,
        })
        .execute();
    },

    async find(tx: Tx, establishmentId: string, id: string): Promise<ExportRowDb | undefined> {
      return (await tx.selectFrom('guard_exports').select(COLUMNS).where('establishment_id', '=', establishmentId).where('id', '=', id).executeTakeFirst()) as ExportRowDb | undefined;
    },

    async list(tx: Tx, establishmentId: string, q: { requestedBy?: string; limit: number; cursor?: string | undefined }): Promise<ExportRowDb[]> {
      let query = tx.selectFrom('guard_exports').select(COLUMNS).where('establishment_id', '=', establishmentId);
      if (q.requestedBy) query = query.where('requested_by', '=', q.requestedBy);
      if (q.cursor) query = query.where('id', '<', q.cursor);
      return (await query.orderBy('id', 'desc').limit(q.limit + 1).execute()) as ExportRowDb[];
    },

    /** Requests of this person still open (pending, or approved and not yet downloaded or expired). */
    async openCount(tx: Tx, establishmentId: string, requestedBy: string, at: Date): Promise<number> {
      const row = await tx
        .selectFrom('guard_exports')
        .select(sql<string>`count(*)`.as('n'))
        .where('establishment_id', '=', establishmentId)
        .where('requested_by', '=', requestedBy)
        .where('status', 'in', ['pending', 'approved'])
        .where('expires_at', '>', at)
        .executeTakeFirst();
      return Number(row?.n ?? 0);
    },

    /** pending -> approved/rejected, only while pending and undecided; false when it was not. */
    async decide(tx: Tx, establishmentId: string, id: string, d: { status: 'approved' | 'rejected'; by: string; at: Date; expiresAt: Date }): Promise<boolean> {
      const rows = await tx
        .updateTable('guard_exports')
        .set({ status: d.status, decided_by: d.by, decided_at: d.at, expires_at: d.expiresAt })
        .where('establishment_id', '=', establishmentId)
        .where('id', '=', id)
        .where('status', '=', 'pending')
        .where('expires_at', '>', d.at)
        .returning('id')
        .execute();
      return rows.length === 1;
    },

    /**
     * Claims the single download: approved -> downloaded, for the requester, before expiry. Two
     * concurrent downloads race on this row; exactly one gets it.
     */
    async claimDownload(tx: Tx, establishmentId: string, id: string, requestedBy: string, at: Date): Promise<Record<string, unknown> | null> {
      const row = await tx
        .updateTable('guard_exports')
        .set({ status: 'downloaded', downloaded_at: at })
        .where('establishment_id', '=', establishmentId)
        .where('id', '=', id)
        .where('requested_by', '=', requestedBy)
        .where('status', '=', 'approved')
        .where('expires_at', '>', at)
        .returning('params')
        .executeTakeFirst();
      return row ? (row.params as Record<string, unknown>) : null;
    },

    /**
     * The guard's check at the meter: this user claimed this export's download and it has not been
     * metered yet (the claim and the metering share the gate's transaction).
     */
    async claimedBy(tx: Tx, establishmentId: string, id: string, userId: string): Promise<boolean> {
      const row = await tx
        .selectFrom('guard_exports')
        .select('id')
        .where('establishment_id', '=', establishmentId)
        .where('id', '=', id)
        .where('requested_by', '=', userId)
        .where('status', '=', 'downloaded')
        .where('patient_count', 'is', null)
        .executeTakeFirst();
      return row !== undefined;
    },

    async recordVolume(tx: Tx, establishmentId: string, id: string, patients: number): Promise<void> {
      await tx.updateTable('guard_exports').set({ patient_count: patients }).where('establishment_id', '=', establishmentId).where('id', '=', id).execute();
    },
  };
}
export type ExportStore = ReturnType<typeof createExportStore>;

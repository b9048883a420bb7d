// SQL of the guard's own tables (except the counters, in counters.ts). Every method runs in a
// tenant transaction of the establishment it names.
import { sql } from 'kysely';
import { v7 as uuidv7 } from 'uuid';
import type { Tx } from '../../platform/db/database.js';

export function createGuardStore() {
  return {
    async establishmentTimeZone(tx: Tx, establishmentId: string): Promise<string> {
      const row = await tx.selectFrom('establishments').select('time_zone').where('id', '=', establishmentId).executeTakeFirst();
      return row?.time_zone ?? 'Europe/Paris';
    },

    /** Serialises one actor's metering across connections and server instances until commit. */
    async lockActor(tx: Tx, establishmentId: string, actorKey: string): Promise<void> {
      await sql`select pg_advisory_xact_lock(hashtextextended(${`guard:${establishmentId}:${actorKey}`}, 0))`.execute(tx);
    },

    async thresholdOverrides(tx: Tx, establishmentId: string): Promise<Record<string, unknown> | null> {
      const row = await tx.selectFrom('guard_settings').select('thresholds').where('establishment_id', '=', establishmentId).executeTakeFirst();
      return row ? (row.thresholds as Record<string, unknown>) : null;
    },

    async saveThresholdOverrides(tx: Tx, establishmentId: string, thresholds: Record<string, unknown>, userId: string | null): Promise<void> {
      const json = JSON.stringify(thresholds);
      await tx
        .insertInto('guard_settings')
        .values({ establishment_id: establishmentId, thresholds: json, updated_by_user_id: userId })
        .onConflict((oc) => oc.column('establishment_id').doUpdateSet({ thresholds: json, updated_by_user_id: userId, updated_at: new Date() }))
        .execute();
    },

    async stepUpDemandedAt(tx: Tx, establishmentId: string, actorKey: string): Promise<Date | null> {
      const row = await tx
        .selectFrom('guard_actor_state')
        .select('step_up_demanded_at')
        .where('establishment_id', '=', establishmentId)
        .where('actor_key', '=', actorKey)
        .executeTakeFirst();
      return row?.step_up_demanded_at ? new Date(row.step_up_demanded_at) : null;
    },

    async demandStepUp(tx: Tx, establishmentId: string, actorKey: string, at: Date, signals: string[]): Promise<void> {
      await tx
        .insertInto('guard_actor_state')
        .values({ establishment_id: establishmentId, actor_key: actorKey, step_up_demanded_at: at, step_up_signals: signals })
        .onConflict((oc) => oc.columns(['establishment_id', 'actor_key']).doUpdateSet({ step_up_demanded_at: at, step_up_signals: signals, refused_while_pending: 0 }))
        .execute();
    },

    /** One more crossing refused while the step-up is pending; returns how many so far. */
    async countRefusalWhilePending(tx: Tx, establishmentId: string, actorKey: string): Promise<number> {
      const row = await tx
        .updateTable('guard_actor_state')
        .set({ refused_while_pending: sql`refused_while_pending + 1` })
        .where('establishment_id', '=', establishmentId)
        .where('actor_key', '=', actorKey)
        .returning('refused_while_pending')
        .executeTakeFirst();
      return row?.refused_while_pending ?? 0;
    },

    async clearStepUp(tx: Tx, establishmentId: string, actorKey: string): Promise<void> {
      await tx
        .updateTable('guard_actor_state')
        .set({ step_up_demanded_at: null, step_up_signals: [], refused_while_pending: 0 })
        .where('establishment_id', '=', establishmentId)
        .where('actor_key', '=', actorKey)
        .execute();
    },

    /** Unexplained counts of the actor's previous days (most recent first, at most `days`). */
    async previousDays(tx: Tx, establishmentId: string, actorKey: string, today: string, days: number): Promise<number[]> {
      const rows = await tx
        .selectFrom('guard_daily')
        .select('unexplained')
        .where('establishment_id', '=', establishmentId)
        .where('actor_key', '=', actorKey)
        .where('day', '<', today)
        .orderBy('day', 'desc')
        .limit(days)
        .execute();
      return rows.map((r) => Number(r.unexplained));
    },

    async recordDay(tx: Tx, establishmentId: string, actorKey: string, day: string, unexplained: number, explained: number): Promise<void> {
      await tx
        .insertInto('guard_daily')
        .values({ establishment_id: establishmentId, actor_key: actorKey, day, unexplained, explained })
        .onConflict((oc) =>
          oc.columns(['establishment_id', 'actor_key', 'day']).doUpdateSet({
            unexplained: sql`greatest(guard_daily.unexplained, excluded.unexplained)`,
            explained: sql`greatest(guard_daily.explained, excluded.explained)`,
          }),
        )
        .execute();
    },

    async knownNetworks(tx: Tx, establishmentId: string, actorKey: string): Promise<Set<string>> {
      const rows = await tx.selectFrom('guard_networks').select('network').where('establishment_id', '=', establishmentId).where('actor_key', '=', actorKey).execute();
      return new Set(rows.map((r) => r.network));
    },

    async rememberNetwork(tx: Tx, establishmentId: string, actorKey: string, network: string, at: Date): Promise<void> {
      await tx
        .insertInto('guard_networks')
        .values({ establishment_id: establishmentId, actor_key: actorKey, network, first_seen_at: at })
        .onConflict((oc) => oc.columns(['establishment_id', 'actor_key', 'network']).doNothing())
        .execute();
    },

    async decoysAmong(tx: Tx, establishmentId: string, patientIds: string[]): Promise<string[]> {
      if (patientIds.length === 0) return [];
      const rows = await tx.selectFrom('guard_decoys').select('patient_id').where('establishment_id', '=', establishmentId).where('patient_id', 'in', patientIds).execute();
      return rows.map((r) => r.patient_id);
    },

    /** True when the actor is contained in any establishment (through the security-definer check). */
    async isContained(tx: Tx, actorKey: string): Promise<boolean> {
      const { rows } = await sql<{ c: boolean }>`select hygie_actor_contained(${actorKey}) as c`.execute(tx);
      return rows[0]?.c === true;
    },

    async insertContainment(
      tx: Tx,
      c: { establishmentId: string; actorKey: string; userId: string | null; apiKeyId: string | null; signals: string[]; alertId: string | null; at: Date },
    ): Promise<string> {
      const id = uuidv7();
      await tx
        .insertInto('contained_actors')
        .values({
          id,
          establishment_id: c.establishmentId,
          actor_key: c.actorKey,
          user_id: c.userId,
          api_key_id: c.apiKeyId,
          signals: c.signals,
          alert_id: c.alertId,
          contained_at: c.at,
          released_at: null,
          released_by_user_id: null,
        })
        .execute();
      return id;
    },

    /** Releases the actor's active containments in this establishment; returns how many. */
    async releaseContainments(tx: Tx, establishmentId: string, actorKey: string, byUserId: string, at: Date): Promise<number> {
      const rows = await tx
        .updateTable('contained_actors')
        .set({ released_at: at, released_by_user_id: byUserId })
        .where('establishment_id', '=', establishmentId)
        .where('actor_key', '=', actorKey)
        .where('released_at', 'is', null)
        .returning('id')
        .execute();
      return rows.length;
    },

    async containments(tx: Tx, establishmentId: string, actorKey: string) {
      return tx
        .selectFrom('contained_actors')
        .select(['id', 'signals', 'contained_at', 'released_at', 'released_by_user_id', 'alert_id'])
        .where('establishment_id', '=', establishmentId)
        .where('actor_key', '=', actorKey)
        .orderBy('contained_at')
        .execute();
    },

    async listAlerts(tx: Tx, establishmentId: string, q: { status: 'open' | 'resolved' | 'all'; limit: number; cursor?: string | undefined }) {
      let query = tx
        .selectFrom('security_alerts')
        .select(['id', 'kind', 'severity', 'actor_user_id', 'patient_ids', 'details', 'created_at', 'resolved_at', 'resolved_by_user_id'])
        .where('establishment_id', '=', establishmentId);
      if (q.status === 'open') query = query.where('resolved_at', 'is', null);
      if (q.status === 'resolved') query = query.where('resolved_at', 'is not', null);
      if (q.cursor) query = query.where('id', '<', q.cursor);
      return query.orderBy('id', 'desc').limit(q.limit + 1).execute();
    },

    async resolveAlert(tx: Tx, establishmentId: string, alertId: string, userId: string, at: Date): Promise<'resolved' | 'already' | 'missing'> {
      const row = await tx.selectFrom('security_alerts').select('resolved_at').where('establishment_id', '=', establishmentId).where('id', '=', alertId).executeTakeFirst();
      if (!row) return 'missing';
      if (row.resolved_at) return 'already';
      await tx.updateTable('security_alerts').set({ resolved_at: at, resolved_by_user_id: userId }).where('id', '=', alertId).execute();
      return 'resolved';
    },
  };
}
export type GuardStore = ReturnType<typeof createGuardStore>;

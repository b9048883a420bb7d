// SQL of the guard's own tables (except the counters, in counters.ts). Every method runs in a
// tenant transaction of the establishment it names.
import { sql, type RawBuilder } from 'kysely';
import { v7 as uuidv7 } from 'uuid';
import { PREPARED, type Tx } from '../../platform/db/database.js';
import type { GuardExposureClass } from '../../platform/db/schema.js';
import type { ClassWindows, CounterColumns, InlineCounters } from './counters.js';

/** What the meter reads before deciding, in one statement (see `meterFacts`). */
export interface MeterFacts {
  contained: boolean;
  /** How many of the request's patients are decoys. */
  decoys: number;
  /** The establishment's threshold overrides as JSON text, or null. */
  thresholds: string | null;
  timeZone: string;
  knownNetworks: Set<string>;
  /** Unexplained counts of the actor's previous days, most recent first (at most 14). */
  previousDays: number[];
  stepUpDemandedAt: Date | null;
  /** The counters read inline (null when the counter store reads its own, e.g. Redis). */
  counters: { windows: Record<GuardExposureClass, ClassWindows>; misses5m: number } | null;
}

/** The exposure's write: the counters (when inline), the network and the day, in one statement. */
export interface AccessRecord {
  establishmentId: string;
  actorKey: string;
  at: Date;
  /** The counter store's WITH-list entries that record the exposures (null: it records them itself). */
  counters: RawBuilder<unknown> | null;
  /** A network to remember (null: none new). */
  newNetwork: string | null;
  day: string;
  unexplained: number;
  explained: number;
}

const BASELINE_DAYS = 14;

export function createGuardStore() {
  return {
    /**
     * Everything the meter's decision reads, in one prepared statement of scalar subqueries (it
     * replaced some twelve statements per metered access): containment, decoys among the
     * patients, threshold overrides, time zone, known networks, previous days, a pending step-up
     * and, with `counters`, the counter store's inline reads. Run after `lockActor`, in a
     * statement of its own, so that it sees what the actor's previous request committed.
     */
    async meterFacts(
      tx: Tx,
      q: { establishmentId: string; actorKey: string; patientIds: string[]; day: string; at: Date; counters: InlineCounters | undefined },
    ): Promise<MeterFacts> {
      const e = sql`${q.establishmentId}::uuid`;
      const k = sql`${q.actorKey}::text`;
      const ids = sql`${q.patientIds}::uuid[]`;
      const scope = { establishmentId: q.establishmentId, actorKey: q.actorKey, now: q.at };
      const counters = q.counters
        ? sql`,
          ${q.counters.missesColumn(scope)},
          ${q.counters.windowColumns({ ...scope, incomingIds: q.patientIds })}`
        : sql``;
      const { rows } = await sql<{
        contained: boolean | null;
        decoys: number;
        thresholds: string | null;
        time_zone: string | null;
        networks: string[];
        previous: number[];
        demanded_at: Date | string | null;
      } & CounterColumns>`${PREPARED}
        select
          hygie_actor_contained(${k}) as contained,
          (select count(*) from guard_decoys where establishment_id = ${e} and patient_id = any(${ids}))::int as decoys,
          (select thresholds::text from guard_settings where establishment_id = ${e}) as thresholds,
          (select time_zone from establishments where id = ${e}) as time_zone,
          (select coalesce(json_agg(network), '[]'::json) from guard_networks where establishment_id = ${e} and actor_key = ${k}) as networks,
          (select coalesce(json_agg(d.unexplained order by d.day desc), '[]'::json) from (
            select day, unexplained from guard_daily
            where establishment_id = ${e} and actor_key = ${k} and day < ${q.day}::date
            order by day desc limit ${BASELINE_DAYS}::int) d) as previous,
          (select step_up_demanded_at from guard_actor_state where establishment_id = ${e} and actor_key = ${k}) as demanded_at${counters}`.execute(tx);
      const r = rows[0]!;
      return {
        contained: r.contained === true,
        decoys: Number(r.decoys),
        thresholds: r.thresholds,
        timeZone: r.time_zone ?? 'Europe/Paris',
        knownNetworks: new Set(r.networks),
        previousDays: r.previous.map(Number),
        stepUpDemandedAt: r.demanded_at ? new Date(r.demanded_at) : null,
        counters: q.counters ? q.counters.read(r) : null,
      };
    },

    /**
     * An allowed exposure's write, in one prepared statement: the counters' entries (when the
     * counter store is inline), the network remembered when new, the day's counts raised.
     */
    async recordAccess(tx: Tx, r: AccessRecord): Promise<void> {
      const e = sql`${r.establishmentId}::uuid`;
      const k = sql`${r.actorKey}::text`;
      await sql`${PREPARED}
        with ${r.counters ? sql`${r.counters}, ` : sql``}network as (
          insert into guard_networks (establishment_id, actor_key, network, first_seen_at)
          select ${e}, ${k}, n, ${r.at}::timestamptz from (select ${r.newNetwork}::text as n) x where n is not null
          on conflict (establishment_id, actor_key, network) do nothing
          returning 1
        )
        insert into guard_daily (establishment_id, actor_key, day, unexplained, explained)
        values (${e}, ${k}, ${r.day}::date, ${r.unexplained}::real, ${r.explained}::int)
        on conflict (establishment_id, actor_key, day) do update set
          unexplained = greatest(guard_daily.unexplained, excluded.unexplained),
          explained = greatest(guard_daily.explained, excluded.explained)`.execute(tx);
    },

    /** Serialises one actor's metering across connections and server instances until commit. */
    async lockActor(tx: Tx, establishmentId: string, actorKey: string): Promise<void> {
      await sql`${PREPARED}select pg_advisory_xact_lock(hashtextextended(${`guard:${establishmentId}:${actorKey}`}::text, 0))`.execute(tx);
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

    async decoysAmong(tx: Tx, establishmentId: string, patientIds: string[]): Promise<string[]> {
      if (patientIds.length === 0) return [];
      const rows = await tx.selectFrom('guard_decoys').select('patient_id').where('establishment_id', '=', establishmentId).where('patient_id', 'in', patientIds).execute();
      return rows.map((r) => r.patient_id);
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

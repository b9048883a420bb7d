// Sliding-window counters of distinct patients per actor, in PostgreSQL (default) or Redis.
// Both stores keep, per (actor, class, patient), the last time the actor was shown that patient;
// a window's count is the number of patients seen within it. The meter serialises one actor's
// requests with a transaction-scoped advisory lock in PostgreSQL, so two server instances over one
// database (and one Redis) never both let through the request that crosses a line.
import { sql, type RawBuilder } from 'kysely';
import type { Redis } from 'ioredis';
import { v7 as uuidv7 } from 'uuid';
import type { Tx } from '../../platform/db/database.js';
import type { GuardExposureClass } from '../../platform/db/schema.js';
import { WINDOW_MS, WINDOWS, type GuardWindow } from './signals.js';

export const CLASSES: readonly GuardExposureClass[] = ['unexplained', 'explained', 'care', 'break_glass'];

/** For one class: how many patients each window holds, and which of the incoming ones it already holds. */
export interface ClassWindows {
  counts: Record<GuardWindow, number>;
  /** Incoming patient id -> last time seen (ms), for those seen in the last 24 h. */
  lastSeen: Map<string, number>;
}

export interface WindowTotals {
  unexplained: Record<GuardWindow, number>;
  explained: Record<GuardWindow, number>;
  /** Incoming patients not seen in any class within 5 minutes. */
  newPatients: number;
}

/** Adds the incoming request to what the store holds (pure). */
export function combineWindows(
  existing: Record<GuardExposureClass, ClassWindows>,
  incoming: Map<string, GuardExposureClass>,
  nowMs: number,
  weights: { breakGlass: number; care: number },
): WindowTotals {
  const withIncoming = (cls: GuardExposureClass, w: GuardWindow) => {
    const e = existing[cls];
    let n = e.counts[w];
    for (const [id, c] of incoming) {
      if (c !== cls) continue;
      const seen = e.lastSeen.get(id);
      if (seen === undefined || seen <= nowMs - WINDOW_MS[w]) n += 1;
    }
    return n;
  };
  const unexplained = {} as Record<GuardWindow, number>;
  const explained = {} as Record<GuardWindow, number>;
  for (const w of WINDOWS) {
    const care = withIncoming('care', w);
    unexplained[w] = withIncoming('unexplained', w) + weights.breakGlass * withIncoming('break_glass', w) + weights.care * care;
    explained[w] = withIncoming('explained', w) + care;
  }
  let newPatients = 0;
  for (const id of incoming.keys()) {
    const recent = CLASSES.some((c) => {
      const seen = existing[c].lastSeen.get(id);
      return seen !== undefined && seen > nowMs - WINDOW_MS['5m'];
    });
    if (!recent) newPatients += 1;
  }
  return { unexplained, explained, newPatients };
}

export interface CounterStore {
  /** The counters as parts of the meter's own statements, for a store that lives in its database (PostgreSQL). */
  readonly inline?: InlineCounters;
  windows(tx: Tx, establishmentId: string, actorKey: string, now: Date, incomingIds: string[]): Promise<Record<GuardExposureClass, ClassWindows>>;
  record(tx: Tx, establishmentId: string, actorKey: string, now: Date, incoming: Map<string, GuardExposureClass>): Promise<void>;
  /** A booking explains the look-ups that led to it: moves those patients from unexplained to explained. */
  explainAfterwards(tx: Tx, establishmentId: string, actorKey: string, now: Date, patientIds: string[]): Promise<void>;
  addMiss(tx: Tx, establishmentId: string, actorKey: string, now: Date, kind: 'search_miss' | 'not_found', count: number): Promise<void>;
  misses5m(tx: Tx, establishmentId: string, actorKey: string, now: Date): Promise<number>;
  /** Forgets an actor's counters (on release: the officer has reviewed the activity). */
  reset(tx: Tx, establishmentId: string, actorKey: string): Promise<void>;
}

/** Whose counters, at which instant. */
export interface CounterScope {
  establishmentId: string;
  actorKey: string;
  now: Date;
}

/** The columns the inline reads add to a select list (each absent when its fragment was not selected). */
export interface CounterColumns {
  windows?: Array<[GuardExposureClass, number | string, number | string, number | string]>;
  seen?: Array<[GuardExposureClass, string, number | string]>;
  misses5m?: number | string;
}

/**
 * A counter store's SQL as fragments of another statement: the meter reads the counters in its one
 * facts statement and writes them in its one record statement instead of statements of their own.
 * The store's own methods run these same fragments alone, so each counter's SQL is written once.
 */
export interface InlineCounters {
  /** Select-list columns `windows` (per class, the patients of each window) and `seen` (the incoming patients seen within 24 h). */
  windowColumns(q: CounterScope & { incomingIds: string[] }): RawBuilder<unknown>;
  /** Select-list column `misses5m`: the misses of the last 5 minutes. */
  missesColumn(q: CounterScope): RawBuilder<unknown>;
  /** Those columns of a result row, parsed (absent ones read as empty). */
  read(row: CounterColumns): { windows: Record<GuardExposureClass, ClassWindows>; misses5m: number };
  /** WITH-list entries (`exposures`, `expired`) that record the exposures and drop the actor's rows older than a day. */
  recordEntries(q: CounterScope & { incoming: Map<string, GuardExposureClass> }): RawBuilder<unknown>;
}

const emptyWindows = (): ClassWindows => ({ counts: { '5m': 0, '1h': 0, '24h': 0 }, lastSeen: new Map() });

function postgresInline(): InlineCounters {
  const since = (now: Date, w: GuardWindow) => new Date(now.getTime() - WINDOW_MS[w]);
  return {
    windowColumns(q) {
      const e = sql`${q.establishmentId}::uuid`;
      const k = sql`${q.actorKey}::text`;
      const mine = sql`establishment_id = ${e} and actor_key = ${k} and last_at > ${since(q.now, '24h')}::timestamptz and last_at <= ${q.now}::timestamptz`;
      return sql`
        (select coalesce(json_agg(json_build_array(w.class, w.c5, w.c1, w.c24)), '[]'::json) from (
          select class,
            count(*) filter (where last_at > ${since(q.now, '5m')}::timestamptz) as c5,
            count(*) filter (where last_at > ${since(q.now, '1h')}::timestamptz) as c1,
            count(*) as c24
          from guard_exposures where ${mine}
          group by class) w) as windows,
        (select coalesce(json_agg(json_build_array(class, patient_id, (extract(epoch from last_at) * 1000)::float8)), '[]'::json)
          from guard_exposures where ${mine} and patient_id = any(${q.incomingIds}::uuid[])) as seen`;
    },
    missesColumn(q) {
      return sql`
        (select count(*) from guard_misses
          where establishment_id = ${q.establishmentId}::uuid and actor_key = ${q.actorKey}::text
            and at > ${since(q.now, '5m')}::timestamptz and at <= ${q.now}::timestamptz)::int as misses5m`;
    },
    read(row) {
      const windows = { unexplained: emptyWindows(), explained: emptyWindows(), care: emptyWindows(), break_glass: emptyWindows() };
      for (const [cls, c5, c1, c24] of row.windows ?? []) windows[cls].counts = { '5m': Number(c5), '1h': Number(c1), '24h': Number(c24) };
      for (const [cls, patientId, lastMs] of row.seen ?? []) windows[cls].lastSeen.set(patientId, Number(lastMs));
      return { windows, misses5m: Number(row.misses5m ?? 0) };
    },
    // One statement cannot touch a row twice: the expiry spares the rows being refreshed.
    recordEntries(q) {
      const e = sql`${q.establishmentId}::uuid`;
      const k = sql`${q.actorKey}::text`;
      const ids = sql`${[...q.incoming.keys()]}::uuid[]`;
      const classes = sql`${[...q.incoming.values()]}::text[]`;
      return sql`
        exposures as (
          insert into guard_exposures (establishment_id, actor_key, patient_id, class, last_at)
          select ${e}, ${k}, i.p, i.c, ${q.now}::timestamptz from unnest(${ids}, ${classes}) as i(p, c)
          on conflict (establishment_id, actor_key, class, patient_id) do update set last_at = excluded.last_at
          returning 1
        ), expired as (
          delete from guard_exposures g
          where g.establishment_id = ${e} and g.actor_key = ${k} and g.last_at < ${since(q.now, '24h')}::timestamptz
            and cardinality(${ids}) > 0
            and not exists (select 1 from unnest(${ids}, ${classes}) as i(p, c) where i.p = g.patient_id and i.c = g.class)
          returning 1
        )`;
    },
  };
}

export function postgresCounters(): CounterStore {
  const inline = postgresInline();
  return {
    inline,
    async windows(tx, establishmentId, actorKey, now, incomingIds) {
      const { rows } = await sql<CounterColumns>`select ${inline.windowColumns({ establishmentId, actorKey, now, incomingIds })}`.execute(tx);
      return inline.read(rows[0] ?? {}).windows;
    },
    async record(tx, establishmentId, actorKey, now, incoming) {
      if (incoming.size === 0) return;
      await sql`with ${inline.recordEntries({ establishmentId, actorKey, now, incoming })} select 1`.execute(tx);
    },
    async explainAfterwards(tx, establishmentId, actorKey, now, patientIds) {
      if (patientIds.length === 0) return;
      const moved = await tx
        .deleteFrom('guard_exposures')
        .where('establishment_id', '=', establishmentId)
        .where('actor_key', '=', actorKey)
        .where('class', '=', 'unexplained')
        .where('patient_id', 'in', patientIds)
        .where('last_at', '>', new Date(now.getTime() - WINDOW_MS['1h']))
        .returning('patient_id')
        .execute();
      await this.record(tx, establishmentId, actorKey, now, new Map(moved.map((m) => [m.patient_id, 'explained' as const])));
    },
    async addMiss(tx, establishmentId, actorKey, now, kind, count) {
      if (count <= 0) return;
      await tx
        .insertInto('guard_misses')
        .values(Array.from({ length: Math.min(count, 100) }, () => ({ id: uuidv7(), establishment_id: establishmentId, actor_key: actorKey, kind, at: now })))
        .execute();
      await tx
        .deleteFrom('guard_misses')
        .where('establishment_id', '=', establishmentId)
        .where('actor_key', '=', actorKey)
        .where('at', '<', new Date(now.getTime() - WINDOW_MS['1h']))
        .execute();
    },
    async misses5m(tx, establishmentId, actorKey, now) {
      const { rows } = await sql<CounterColumns>`select ${inline.missesColumn({ establishmentId, actorKey, now })}`.execute(tx);
      return inline.read(rows[0] ?? {}).misses5m;
    },
    async reset(tx, establishmentId, actorKey) {
      await tx.deleteFrom('guard_exposures').where('establishment_id', '=', establishmentId).where('actor_key', '=', actorKey).execute();
      await tx.deleteFrom('guard_misses').where('establishment_id', '=', establishmentId).where('actor_key', '=', actorKey).execute();
    },
  };
}

/**
 * The same counters in Redis: one sorted set per (establishment, actor, class), member = patient
 * id, score = last time seen (ms). Keys expire a day after their last write.
 */
export function redisCounters(redis: Redis, prefix = 'hygie:guard'): CounterStore {
  const key = (e: string, a: string, c: string) => `${prefix}:{${e}:${a}}:${c}`;
  const DAY_S = 24 * 3600 + 600;
  return {
    async windows(_tx, establishmentId, actorKey, now, incomingIds) {
      const t = now.getTime();
      const p = redis.pipeline();
      for (const c of CLASSES) {
        const k = key(establishmentId, actorKey, c);
        for (const w of WINDOWS) p.zcount(k, `(${t - WINDOW_MS[w]}`, String(t));
        if (incomingIds.length > 0) p.zmscore(k, ...incomingIds);
      }
      const results = (await p.exec()) ?? [];
      let i = 0;
      const out = { unexplained: emptyWindows(), explained: emptyWindows(), care: emptyWindows(), break_glass: emptyWindows() };
      for (const c of CLASSES) {
        for (const w of WINDOWS) {
          const [err, n] = results[i++]!;
          if (err) throw err;
          out[c].counts[w] = Number(n);
        }
        if (incomingIds.length > 0) {
          const [err, scores] = results[i++]!;
          if (err) throw err;
          (scores as Array<string | null>).forEach((s, j) => {
            if (s !== null && Number(s) > t - WINDOW_MS['24h'] && Number(s) <= t) out[c].lastSeen.set(incomingIds[j]!, Number(s));
          });
        }
      }
      return out;
    },
    async record(_tx, establishmentId, actorKey, now, incoming) {
      if (incoming.size === 0) return;
      const t = now.getTime();
      const byClass = new Map<string, string[]>();
      for (const [id, c] of incoming) byClass.set(c, [...(byClass.get(c) ?? []), id]);
      const p = redis.pipeline();
      for (const [c, ids] of byClass) {
        const k = key(establishmentId, actorKey, c);
        p.zadd(k, ...ids.flatMap((id) => [String(t), id]));
        p.zremrangebyscore(k, '-inf', String(t - WINDOW_MS['24h']));
        p.expire(k, DAY_S);
      }
      await p.exec();
    },
    async explainAfterwards(tx, establishmentId, actorKey, now, patientIds) {
      if (patientIds.length === 0) return;
      const k = key(establishmentId, actorKey, 'unexplained');
      const scores = await redis.zmscore(k, ...patientIds);
      const recent = patientIds.filter((_, j) => scores[j] !== null && Number(scores[j]) > now.getTime() - WINDOW_MS['1h']);
      if (recent.length === 0) return;
      await redis.zrem(k, ...recent);
      await this.record(tx, establishmentId, actorKey, now, new Map(recent.map((id) => [id, 'explained' as const])));
    },
    async addMiss(_tx, establishmentId, actorKey, now, kind, count) {
      if (count <= 0) return;
      const k = key(establishmentId, actorKey, 'misses');
      const t = now.getTime();
      await redis
        .pipeline()
        .zadd(k, ...Array.from({ length: Math.min(count, 100) }, () => [String(t), `${kind}:${uuidv7()}`]).flat())
        .zremrangebyscore(k, '-inf', String(t - WINDOW_MS['1h']))
        .expire(k, 3700)
        .exec();
    },
    async misses5m(_tx, establishmentId, actorKey, now) {
      const t = now.getTime();
      return redis.zcount(key(establishmentId, actorKey, 'misses'), `(${t - WINDOW_MS['5m']}`, String(t));
    },
    async reset(_tx, establishmentId, actorKey) {
      await redis.del(...[...CLASSES, 'misses'].map((c) => key(establishmentId, actorKey, c)));
    },
  };
}

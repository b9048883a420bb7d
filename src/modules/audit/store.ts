// SQL of the audit module. Chain, checkpoints, keys and the pending queue are read and written by
// the owner connection only (the sealer, the verifier, the CLI); the application role reaches the
// audit data only through appendAuditEvent and hygie_patient_access_log().
import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { DB } from '../../platform/db/schema.js';
import type { Tx } from '../../platform/db/database.js';
import type { ChainableEvent } from './canonical.js';

export const PLATFORM_STREAM = '00000000-0000-0000-0000-000000000000';
type Exec = Kysely<DB>;

export const streamOf = (establishmentId: string | null): string => establishmentId ?? PLATFORM_STREAM;
export const establishmentOf = (stream: string): string | null => (stream === PLATFORM_STREAM ? null : stream);

// Each event is read as ONE text column, a JSON array of its values in canonical order, each value
// with an exact, stable text form (ids as text, the instant in microseconds UTC, arrays as JSON
// arrays). The sealer and the verifier read millions of events: one field per row instead of
// seventeen, decoded by JSON.parse instead of the driver's per-column parsers, costs a fraction of
// the CPU and garbage. It carries the column values only: the hashed form is still built from them
// in canonical.ts, never taken from the database.
const EVENT_JSON: RawBuilder<unknown> = sql`json_build_array(
  e.id, e.establishment_id, to_char(e.at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US'), e.actor_kind,
  e.actor_user_id, e.actor_role, e.session_id, e.api_key_id, e.ip::text, e.action, e.resource_kind,
  e.resource_ids, e.patient_ids, e.categories, e.purpose, e.reason, e.outcome)::text`;

type Json = string | null | Json[];

function badShape(): never {
  throw new Error('audit event row has an unexpected shape');
}
function str(t: Json[], i: number): string {
  const x = t[i];
  return typeof x === 'string' ? x : badShape();
}
function opt(t: Json[], i: number): string | null {
  const x = t[i];
  return x === null ? null : typeof x === 'string' ? x : badShape();
}
function list(t: Json[], i: number): string[] {
  const x = t[i];
  // Elements kept as PostgreSQL gave them (a NULL element stays null): the hash must see them so.
  return Array.isArray(x) ? (x as string[]) : badShape();
}

/** Decodes one EVENT_JSON value; anything but the expected shape is refused, never guessed at. */
export function eventFromJson(text: string): ChainableEvent {
  const v = JSON.parse(text) as unknown;
  if (!Array.isArray(v) || v.length !== 17) badShape();
  const t = v as Json[];
  return {
    id: str(t, 0),
    establishmentId: opt(t, 1),
    at: str(t, 2),
    actorKind: str(t, 3),
    actorUserId: opt(t, 4),
    actorRole: opt(t, 5),
    sessionId: opt(t, 6),
    apiKeyId: opt(t, 7),
    ip: opt(t, 8),
    action: str(t, 9),
    resourceKind: opt(t, 10),
    resourceIds: list(t, 11),
    patientIds: list(t, 12),
    categories: list(t, 13),
    purpose: opt(t, 14),
    reason: opt(t, 15),
    outcome: str(t, 16),
  };
}

export interface ChainLink {
  stream: string;
  seq: bigint;
  eventId: string;
  hash: Buffer;
}

export interface ChainRow {
  /** Decimal text of the sequence number, as PostgreSQL prints a bigint. */
  seq: string;
  eventId: string;
  hash: Buffer;
  /** The event as EVENT_JSON text (eventFromJson), null when it was deleted. */
  event: string | null;
}

export interface CheckpointRow {
  stream: string;
  seq: bigint;
  hash: Buffer;
  signedAt: Date;
  keyId: string;
  signature: Buffer;
}

/** A chain page as the verifier reads it: the sequence number as its text, the event undecoded (EVENT_JSON). */
async function chainRows(exec: Exec, stream: string, afterSeq: bigint, uptoSeq: bigint): Promise<ChainRow[]> {
  const { rows } = await sql<{ seq: string; event_id: string; hash: Buffer; ev: string | null }>`
    select c.seq::text as seq, c.event_id, c.hash, e.ev
    from audit_chain c
    left join lateral (select ${EVENT_JSON} as ev from audit_events e where e.id = c.event_id limit 1) e on true
    where c.stream = ${stream} and c.seq > ${afterSeq.toString()}::bigint and c.seq <= ${uptoSeq.toString()}::bigint
    order by c.seq`.execute(exec);
  return rows.map((r) => ({ seq: r.seq, eventId: r.event_id, hash: r.hash, event: r.ev }));
}

export function createAuditStore() {
  return {
    /** True when the connection's role sees every stream (superuser or BYPASSRLS). */
    async ownerBypassesRls(exec: Exec): Promise<boolean> {
      const { rows } = await sql<{ ok: boolean }>`
        select (rolsuper or rolbypassrls) as ok from pg_roles where rolname = current_user`.execute(exec);
      return rows[0]?.ok === true;
    },

    /** One sealer at a time across instances; others skip the round instead of waiting. */
    async tryLockSealer(tx: Exec): Promise<boolean> {
      const { rows } = await sql<{ ok: boolean }>`select pg_try_advisory_xact_lock(7373455441) as ok`.execute(tx);
      return rows[0]?.ok === true;
    },

    /**
     * Takes the oldest queued events off the queue (in this transaction: a rollback puts them back)
     * and returns them with their stream, in queue order. One statement: the queue rows are found
     * by its primary key and deleted, and each event is read by one primary-key lookup (LATERAL …
     * LIMIT 1 keeps the planner from merge- or hash-joining the whole event table). A queued id
     * whose event no longer exists is dropped from the queue rather than blocking it.
     */
    async claimPending(tx: Exec, limit: number): Promise<Array<{ stream: string; event: ChainableEvent }>> {
      const { rows } = await sql<{ stream: string; ev: string }>`
        with p as (
          delete from audit_pending
          where event_id = any(array(select event_id from audit_pending order by event_id limit ${limit}))
          returning event_id, stream)
        select p.stream, e.ev
        from p cross join lateral (select ${EVENT_JSON} as ev from audit_events e where e.id = p.event_id limit 1) e
        order by p.event_id`.execute(tx);
      return rows.map((r) => ({ stream: r.stream, event: eventFromJson(r.ev) }));
    },

    async streamHeads(tx: Exec, streams: string[]): Promise<Map<string, { seq: bigint; hash: Buffer }>> {
      const { rows } = await sql<{ stream: string; seq: string; hash: Buffer }>`
        select s.stream, h.seq::text as seq, h.hash
        from unnest(${streams}::uuid[]) as s(stream)
        join lateral (select c.seq, c.hash from audit_chain c where c.stream = s.stream order by c.seq desc limit 1) h on true`.execute(tx);
      return new Map(rows.map((r) => [r.stream, { seq: BigInt(r.seq), hash: r.hash }]));
    },

    async insertChainLinks(tx: Exec, links: ChainLink[]): Promise<void> {
      if (links.length === 0) return;
      await sql`
        insert into audit_chain (stream, seq, event_id, hash)
        select t.stream, t.seq, t.event_id, decode(t.hash, 'hex')
        from unnest(${links.map((l) => l.stream)}::uuid[], ${links.map((l) => l.seq.toString())}::bigint[],
                    ${links.map((l) => l.eventId)}::uuid[], ${links.map((l) => l.hash.toString('hex'))}::text[])
          as t(stream, seq, event_id, hash)`.execute(tx);
    },

    async registerKey(tx: Exec, key: { keyId: string; stream: string; publicKey: Buffer }): Promise<void> {
      await tx
        .insertInto('audit_signing_keys')
        .values({ key_id: key.keyId, stream: key.stream, public_key: key.publicKey })
        .onConflict((oc) => oc.column('key_id').doNothing())
        .execute();
    },

    async keysOf(exec: Exec, stream: string): Promise<Map<string, Buffer>> {
      const rows = await exec.selectFrom('audit_signing_keys').select(['key_id', 'public_key']).where('stream', '=', stream).execute();
      return new Map(rows.map((r) => [r.key_id, r.public_key]));
    },

    /** Streams that have ever been chained (each registers its key when first chained). */
    async knownStreams(exec: Exec): Promise<string[]> {
      const rows = await exec.selectFrom('audit_signing_keys').select('stream').distinct().execute();
      return rows.map((r) => r.stream);
    },

    async lastCheckpointSeqs(tx: Exec, streams: string[]): Promise<Map<string, bigint>> {
      const { rows } = await sql<{ stream: string; seq: string }>`
        select s.stream, k.seq::text as seq
        from unnest(${streams}::uuid[]) as s(stream)
        join lateral (select c.seq from audit_checkpoints c where c.stream = s.stream order by c.seq desc limit 1) k on true`.execute(tx);
      return new Map(rows.map((r) => [r.stream, BigInt(r.seq)]));
    },

    async insertCheckpoint(tx: Exec, id: string, c: CheckpointRow): Promise<boolean> {
      const r = await tx
        .insertInto('audit_checkpoints')
        .values({ id, stream: c.stream, seq: c.seq.toString(), hash: c.hash, signed_at: c.signedAt, key_id: c.keyId, signature: c.signature })
        .onConflict((oc) => oc.columns(['stream', 'seq']).doNothing())
        .executeTakeFirst();
      return Number(r.numInsertedOrUpdatedRows ?? 0) > 0;
    },

    async checkpointsOf(exec: Exec, stream: string, afterSeq = 0n): Promise<CheckpointRow[]> {
      const rows = await exec
        .selectFrom('audit_checkpoints')
        .select(['stream', sql<string>`seq::text`.as('seq'), 'hash', 'signed_at', 'key_id', 'signature'])
        .where('stream', '=', stream)
        .where('seq', '>', afterSeq.toString() as never)
        .orderBy(sql`audit_checkpoints.seq`)
        .execute();
      return rows.map((r) => ({
        stream: r.stream,
        seq: BigInt(r.seq),
        hash: r.hash,
        signedAt: new Date(r.signed_at),
        keyId: r.key_id,
        signature: r.signature,
      }));
    },

    /** Highest sequence number of a stream's chain (0 when empty). */
    async maxSeq(exec: Exec, stream: string): Promise<bigint> {
      const { rows } = await sql<{ seq: string | null }>`select max(seq)::text as seq from audit_chain where stream = ${stream}`.execute(exec);
      return BigInt(rows[0]?.seq ?? 0);
    },

    /**
     * Chain rows of a stream with afterSeq < seq <= uptoSeq, with their event (null if it was
     * deleted). A bounded range rather than LIMIT: the plan stays a short index range scan
     * whatever the table statistics say.
     */
    async chainPage(
      exec: Exec,
      stream: string,
      afterSeq: bigint,
      uptoSeq: bigint,
    ): Promise<Array<{ seq: bigint; eventId: string; hash: Buffer; event: ChainableEvent | null }>> {
      const rows = await chainRows(exec, stream, afterSeq, uptoSeq);
      return rows.map((r) => ({ seq: BigInt(r.seq), eventId: r.eventId, hash: r.hash, event: r.event === null ? null : eventFromJson(r.event) }));
    },

    chainRows,

    async pendingCount(exec: Exec, stream: string): Promise<number> {
      const { rows } = await sql<{ n: string }>`select count(*)::text as n from audit_pending where stream = ${stream}`.execute(exec);
      return Number(rows[0]?.n ?? 0);
    },

    /** Events of a stream, and how many of them are waiting in the queue (cheap orphan check). */
    async eventCounts(exec: Exec, stream: string): Promise<{ events: number; pending: number }> {
      const where = stream === PLATFORM_STREAM ? sql`e.establishment_id is null` : sql`e.establishment_id = ${stream}`;
      const { rows } = await sql<{ events: string; pending: string }>`
        select (select count(*) from audit_events e where ${where})::text as events,
               (select count(*) from audit_pending p join audit_events e on e.id = p.event_id where ${where})::text as pending`.execute(exec);
      return { events: Number(rows[0]?.events ?? 0), pending: Number(rows[0]?.pending ?? 0) };
    },

    /** Events of a stream that are neither chained nor waiting to be: written behind the sealer's back. */
    async orphanEvents(exec: Exec, stream: string, limit: number): Promise<Array<{ id: string; at: string }>> {
      const { rows } = await sql<{ id: string; at: string }>`
        select e.id, to_char(e.at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') as at
        from audit_events e
        where ${stream === PLATFORM_STREAM ? sql`e.establishment_id is null` : sql`e.establishment_id = ${stream}`}
          and not exists (select 1 from audit_chain c where c.event_id = e.id)
          and not exists (select 1 from audit_pending p where p.event_id = e.id)
        order by e.at, e.id
        limit ${limit}`.execute(exec);
      return rows;
    },

    /** Every stream worth verifying: each establishment, the platform stream, and any keyed stream. */
    async allStreams(exec: Exec): Promise<string[]> {
      const { rows } = await sql<{ stream: string }>`
        select id as stream from establishments
        union select ${PLATFORM_STREAM}::uuid
        union select stream from audit_signing_keys
        order by 1`.execute(exec);
      return rows.map((r) => r.stream);
    },

    async patientAccessLog(
      tx: Tx,
      accountUserId: string,
      limit: number,
      before: { at: string; id: string } | undefined,
    ): Promise<AccessLogRow[]> {
      const { rows } = await sql<AccessLogRow>`
        select event_id, at, at_text, actor_kind, actor_user_id, actor_role,
               establishment_name, action, categories, purpose, reason
        from hygie_patient_access_log(${accountUserId}::uuid, ${limit}::integer,
          ${before ? before.at : null}::timestamp at time zone 'UTC', ${before ? before.id : null}::uuid)`.execute(tx);
      return rows;
    },

    /**
     * One page of an establishment's events for the security officer's search, newest first,
     * with the event in EVENT_JSON form (to recompute its hash) and the actor's id when the actor
     * is a staff member of this establishment, whose name may be shown (never a patient's name). Runs in a tenant
     * transaction: row-level security walls it to that establishment on top of the explicit
     * condition. The caller decrypts members' names through identity.
     */
    async searchEvents(tx: Tx, establishmentId: string, f: AuditSearchFilter, limit: number): Promise<AuditSearchRow[]> {
      const conditions = [sql`e.establishment_id = ${establishmentId}::uuid`];
      if (f.actorUserId) conditions.push(sql`e.actor_user_id = ${f.actorUserId}::uuid`);
      if (f.patientId) conditions.push(sql`e.patient_ids @> array[${f.patientId}::uuid]`);
      if (f.from) conditions.push(sql`e.at >= ${f.from.toISOString()}::timestamptz`);
      if (f.to) conditions.push(sql`e.at <= ${f.to.toISOString()}::timestamptz`);
      if (f.before) conditions.push(sql`(e.at, e.id) < (${f.before.at}::timestamp at time zone 'UTC', ${f.before.id}::uuid)`);
      // The page's ids first, then each event's values and names: the event's text is then built
      // for the page only, whatever plan is chosen (without table statistics the planner built it
      // for every matching row before the LIMIT: 4 times slower in bench/audit-search.ts).
      const { rows } = await sql<AuditSearchRow>`
        with page as (
          select e.id, e.at from audit_events e
          where ${sql.join(conditions, sql` and `)}
          order by e.at desc, e.id desc
          limit ${limit})
        select e.id as event_id, e.at, to_char(e.at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') as at_text, ${EVENT_JSON} as ev,
               case when m.ok then e.actor_user_id end as actor_member_id
        from page p
        join audit_events e on e.id = p.id
        left join lateral (select true as ok from memberships m where m.user_id = e.actor_user_id and m.establishment_id = e.establishment_id limit 1) m on true
        order by p.at desc, p.id desc`.execute(tx);
      return rows;
    },

    /** Chain links of these events in the transaction's establishment stream (hygie_audit_event_links). */
    async eventLinks(tx: Tx, eventIds: string[]): Promise<EventLinkRow[]> {
      if (eventIds.length === 0) return [];
      const { rows } = await sql<EventLinkRow>`select event_id, seq, hash, prev_hash, pending from hygie_audit_event_links(${eventIds}::uuid[])`.execute(tx);
      return rows;
    },

    /** The newest checkpoint of the transaction's establishment stream (hygie_audit_latest_checkpoint). */
    async latestCheckpoint(tx: Tx): Promise<LatestCheckpointRow | undefined> {
      const { rows } = await sql<LatestCheckpointRow>`
        select seq, hash, signed_at, key_id, signature, public_key, chain_hash from hygie_audit_latest_checkpoint()`.execute(tx);
      return rows[0];
    },
  };
}

export interface AuditSearchFilter {
  actorUserId?: string | undefined;
  patientId?: string | undefined;
  from?: Date | undefined;
  to?: Date | undefined;
  before?: { at: string; id: string } | undefined;
}

export interface AuditSearchRow {
  event_id: string;
  at: Date;
  at_text: string;
  ev: string;
  /** The actor's user id when they are a member of this establishment (their name may be shown). */
  actor_member_id: string | null;
}

export interface EventLinkRow {
  event_id: string;
  seq: string | null;
  hash: Buffer | null;
  prev_hash: Buffer | null;
  pending: boolean;
}

export interface LatestCheckpointRow {
  seq: string;
  hash: Buffer;
  signed_at: Date;
  key_id: string;
  signature: Buffer;
  public_key: Buffer | null;
  chain_hash: Buffer | null;
}

export interface AccessLogRow {
  event_id: string;
  at: Date;
  at_text: string;
  actor_kind: string;
  /** Used to ask the identity module for the actor's name; never sent to the patient. */
  actor_user_id: string | null;
  actor_role: string | null;
  establishment_name: string | null;
  action: string;
  categories: string[];
  purpose: string | null;
  reason: string | null;
}

export type AuditStore = ReturnType<typeof createAuditStore>;

// The vault's SQL. Two keyspaces share one shape: an establishment's (tables walled by row-level
// security, and every query also names the establishment) and the platform's. Only wrapped keys
// and provider references are stored here, never key material.
import { sql, type RawBuilder } from 'kysely';
import type { Exec } from '../../platform/db/database.js';
import type { VaultKeyState } from '../../platform/db/schema.js';

export type Keyspace = { kind: 'establishment'; establishmentId: string } | { kind: 'platform' };
export type OwnerKind = 'patient' | 'user' | 'establishment' | 'blind_index' | 'platform';

export interface KekRow {
  version: number;
  provider: string;
  key_ref: string;
  state: VaultKeyState;
}

export interface DataKeyRow {
  id: string;
  owner_kind: OwnerKind;
  owner_id: string;
  kek_version: number | null;
  wrapped_key: Buffer | null;
  shredded_at: Date | null;
  key_ref: string | null;
  kek_state: VaultKeyState | null;
}

export interface NewDataKey {
  id: string;
  ownerKind: OwnerKind;
  ownerId: string;
  kekVersion: number;
  wrapped: Buffer;
}

export interface Rewrap {
  id: string;
  fromVersion: number;
  wrapped: Buffer;
}

function tables(ks: Keyspace) {
  return ks.kind === 'establishment'
    ? { kek: sql.table('vault_establishment_keys'), data: sql.table('vault_data_keys') }
    : { kek: sql.table('vault_platform_keys'), data: sql.table('vault_platform_data_keys') };
}

/** The keyspace condition on a table alias (RLS walls establishments too; this keeps plans exact). */
function scoped(ks: Keyspace, alias: string): RawBuilder<unknown> {
  return ks.kind === 'establishment' ? sql`${sql.ref(`${alias}.establishment_id`)} = ${ks.establishmentId}` : sql`true`;
}

const DATA_KEY_COLUMNS = sql`d.id, d.owner_kind, d.owner_id, d.kek_version, d.wrapped_key, d.shredded_at, k.key_ref, k.state as kek_state`;

function joinKek(ks: Keyspace): RawBuilder<unknown> {
  const t = tables(ks);
  return ks.kind === 'establishment'
    ? sql`left join ${t.kek} k on k.establishment_id = d.establishment_id and k.version = d.kek_version`
    : sql`left join ${t.kek} k on k.version = d.kek_version`;
}

const OWNER_KINDS: ReadonlySet<string> = new Set<OwnerKind>(['patient', 'user', 'establishment', 'blind_index', 'platform']);
const KEY_STATES: ReadonlySet<string> = new Set<VaultKeyState>(['active', 'previous', 'retired']);

/**
 * A data key row as `ownerKeyJson` answers it, checked; undefined for null (no key) or anything
 * else. Trusting it costs nothing: an unwrap is bound to the scope, owner and id the caller expects.
 */
export function dataKeyRowFromJson(value: unknown): DataKeyRow | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  const text = (x: unknown): x is string => typeof x === 'string';
  if (!text(v.id) || !text(v.owner_kind) || !OWNER_KINDS.has(v.owner_kind) || !text(v.owner_id)) return undefined;
  if (v.kek_version !== null && typeof v.kek_version !== 'number') return undefined;
  if (v.wrapped_key !== null && !text(v.wrapped_key)) return undefined;
  if (v.shredded_at !== null && !text(v.shredded_at)) return undefined;
  if (v.key_ref !== null && !text(v.key_ref)) return undefined;
  if (v.kek_state !== null && !(text(v.kek_state) && KEY_STATES.has(v.kek_state))) return undefined;
  return {
    id: v.id,
    owner_kind: v.owner_kind as OwnerKind,
    owner_id: v.owner_id,
    kek_version: v.kek_version,
    wrapped_key: v.wrapped_key === null ? null : Buffer.from(v.wrapped_key, 'base64'),
    shredded_at: v.shredded_at === null ? null : new Date(v.shredded_at),
    key_ref: v.key_ref,
    kek_state: v.kek_state as VaultKeyState | null,
  };
}

export function createVaultStore() {
  return {
    /** The active KEK version, locked FOR SHARE so a rotation cannot switch it under a new wrap. */
    async findActiveKek(tx: Exec, ks: Keyspace, lock: boolean): Promise<KekRow | undefined> {
      const t = tables(ks);
      const { rows } = await sql<KekRow>`
        select k.version, k.provider, k.key_ref, k.state from ${t.kek} k
        where ${scoped(ks, 'k')} and k.state = 'active'
        ${lock ? sql`for share` : sql``}`.execute(tx);
      return rows[0];
    },

    async listKeks(tx: Exec, ks: Keyspace): Promise<KekRow[]> {
      const t = tables(ks);
      const { rows } = await sql<KekRow>`
        select k.version, k.provider, k.key_ref, k.state from ${t.kek} k where ${scoped(ks, 'k')} order by k.version`.execute(tx);
      return rows;
    },

    /** Inserts a KEK version; false when that version already exists (a concurrent creator won). */
    async insertKek(tx: Exec, ks: Keyspace, row: KekRow): Promise<boolean> {
      const t = tables(ks);
      const result =
        ks.kind === 'establishment'
          ? await sql`
              insert into ${t.kek} (establishment_id, version, provider, key_ref, state)
              values (${ks.establishmentId}, ${row.version}, ${row.provider}, ${row.key_ref}, ${row.state})
              on conflict do nothing`.execute(tx)
          : await sql`
              insert into ${t.kek} (version, provider, key_ref, state)
              values (${row.version}, ${row.provider}, ${row.key_ref}, ${row.state})
              on conflict do nothing`.execute(tx);
      return Number(result.numAffectedRows ?? 0) === 1;
    },

    async setKekState(tx: Exec, ks: Keyspace, version: number, state: VaultKeyState): Promise<void> {
      const t = tables(ks);
      await sql`
        update ${t.kek} k set state = ${state}, retired_at = ${state === 'retired' ? sql`now()` : sql`null`}
        where ${scoped(ks, 'k')} and k.version = ${version}`.execute(tx);
    },

    /** Retires every non-active version that no data key references; returns them. */
    async retireUnreferencedKeks(tx: Exec, ks: Keyspace): Promise<KekRow[]> {
      const t = tables(ks);
      const sameScope = ks.kind === 'establishment' ? sql`and d.establishment_id = k.establishment_id` : sql``;
      const { rows } = await sql<KekRow>`
        update ${t.kek} k set state = 'retired', retired_at = now()
        where ${scoped(ks, 'k')} and k.state = 'previous'
          and not exists (select 1 from ${t.data} d where d.kek_version = k.version ${sameScope})
        returning k.version, k.provider, k.key_ref, k.state`.execute(tx);
      return rows;
    },

    async findDataKeyByOwner(tx: Exec, ks: Keyspace, ownerKind: OwnerKind, ownerId: string): Promise<DataKeyRow | undefined> {
      const t = tables(ks);
      const { rows } = await sql<DataKeyRow>`
        select ${DATA_KEY_COLUMNS} from ${t.data} d ${joinKek(ks)}
        where ${scoped(ks, 'd')} and d.owner_kind = ${ownerKind} and d.owner_id = ${ownerId}`.execute(tx);
      return rows[0];
    },

    async findDataKeysByOwners(tx: Exec, ks: Keyspace, ownerKind: OwnerKind, ownerIds: readonly string[]): Promise<DataKeyRow[]> {
      if (ownerIds.length === 0) return [];
      const t = tables(ks);
      const { rows } = await sql<DataKeyRow>`
        select ${DATA_KEY_COLUMNS} from ${t.data} d ${joinKek(ks)}
        where ${scoped(ks, 'd')} and d.owner_kind = ${ownerKind} and d.owner_id = any(${[...ownerIds]}::uuid[])`.execute(tx);
      return rows;
    },

    async findDataKeysByIds(tx: Exec, ks: Keyspace, ids: readonly string[]): Promise<DataKeyRow[]> {
      if (ids.length === 0) return [];
      const t = tables(ks);
      const { rows } = await sql<DataKeyRow>`
        select ${DATA_KEY_COLUMNS} from ${t.data} d ${joinKek(ks)}
        where ${scoped(ks, 'd')} and d.id = any(${[...ids]}::uuid[])`.execute(tx);
      return rows;
    },

    /**
     * A correlated subquery for a caller's select: the data key row (as JSON, or null) of the owner
     * whose id `ownerId` names, so that sealed rows and their keys come in one round trip.
     */
    ownerKeyJson(ks: Keyspace, ownerKind: OwnerKind, ownerId: RawBuilder<unknown>): RawBuilder<unknown> {
      const t = tables(ks);
      return sql`(
        select json_build_object('id', d.id, 'owner_kind', d.owner_kind, 'owner_id', d.owner_id, 'kek_version', d.kek_version,
          'wrapped_key', encode(d.wrapped_key, 'base64'), 'shredded_at', d.shredded_at, 'key_ref', k.key_ref, 'kek_state', k.state)
        from ${t.data} d ${joinKek(ks)}
        where ${scoped(ks, 'd')} and d.owner_kind = ${ownerKind} and d.owner_id = ${ownerId})`;
    },

    /** Inserts data keys, skipping owners that already have one; returns the ids inserted. */
    async insertDataKeys(tx: Exec, ks: Keyspace, keys: readonly NewDataKey[]): Promise<Set<string>> {
      if (keys.length === 0) return new Set();
      const t = tables(ks);
      const ids = keys.map((k) => k.id);
      const kinds = keys.map((k) => k.ownerKind);
      const owners = keys.map((k) => k.ownerId);
      const versions = keys.map((k) => k.kekVersion);
      const wrapped = keys.map((k) => k.wrapped.toString('base64'));
      const values = sql`unnest(${ids}::uuid[], ${kinds}::text[], ${owners}::uuid[], ${versions}::int[], ${wrapped}::text[]) as v(id, kind, owner, version, wrapped)`;
      const { rows } =
        ks.kind === 'establishment'
          ? await sql<{ id: string }>`
              insert into ${t.data} (id, establishment_id, owner_kind, owner_id, kek_version, wrapped_key)
              select v.id, ${ks.establishmentId}::uuid, v.kind, v.owner, v.version, decode(v.wrapped, 'base64') from ${values}
              on conflict do nothing returning id`.execute(tx)
          : await sql<{ id: string }>`
              insert into ${t.data} (id, owner_kind, owner_id, kek_version, wrapped_key)
              select v.id, v.kind, v.owner, v.version, decode(v.wrapped, 'base64') from ${values}
              on conflict do nothing returning id`.execute(tx);
      return new Set(rows.map((r) => r.id));
    },

    /**
     * Inserts data keys wrapped by key version `version`, in the same statement that locks that
     * version FOR SHARE and checks it is still the active one (what findActiveKek then
     * insertDataKeys do in two round trips). Nothing is inserted when the version is no longer
     * active (a rotation switched it): the caller then falls back to findActiveKek. Owners that
     * already have a key are skipped; returns the ids inserted.
     */
    async insertDataKeysUnderActiveKek(tx: Exec, ks: Keyspace, version: number, keys: readonly Omit<NewDataKey, 'kekVersion'>[]): Promise<Set<string>> {
      if (keys.length === 0) return new Set();
      const t = tables(ks);
      const values = sql`unnest(${keys.map((k) => k.id)}::uuid[], ${keys.map((k) => k.ownerKind)}::text[], ${keys.map((k) => k.ownerId)}::uuid[], ${keys.map((k) => k.wrapped.toString('base64'))}::text[]) as v(id, kind, owner, wrapped)`;
      const { rows } =
        ks.kind === 'establishment'
          ? await sql<{ id: string }>`
              insert into ${t.data} (id, establishment_id, owner_kind, owner_id, kek_version, wrapped_key)
              select v.id, k.establishment_id, v.kind, v.owner, k.version, decode(v.wrapped, 'base64')
              from (select k.establishment_id, k.version from ${t.kek} k
                    where ${scoped(ks, 'k')} and k.version = ${version} and k.state = 'active' for share) k
              cross join ${values}
              on conflict do nothing returning id`.execute(tx)
          : await sql<{ id: string }>`
              insert into ${t.data} (id, owner_kind, owner_id, kek_version, wrapped_key)
              select v.id, v.kind, v.owner, k.version, decode(v.wrapped, 'base64')
              from (select k.version from ${t.kek} k where k.version = ${version} and k.state = 'active' for share) k
              cross join ${values}
              on conflict do nothing returning id`.execute(tx);
      return new Set(rows.map((r) => r.id));
    },

    /**
     * The insert of one new data key wrapped by key version `version`, for the caller to run as a
     * part of its own statement (a CTE). The version is read, locked FOR SHARE and checked active in
     * that statement; when a rotation has switched it meanwhile, the key's version is null and the
     * table's check (a live key has its material and its version) fails the whole statement, so no
     * row is ever written under a key that was not stored (see isStaleVersionError).
     */
    newDataKeyInsert(ks: Keyspace, version: number, key: Omit<NewDataKey, 'kekVersion'>): RawBuilder<{ id: string }> {
      const t = tables(ks);
      return ks.kind === 'establishment'
        ? sql<{ id: string }>`
            insert into ${t.data} (id, establishment_id, owner_kind, owner_id, kek_version, wrapped_key)
            values (${key.id}::uuid, ${ks.establishmentId}::uuid, ${key.ownerKind}, ${key.ownerId}::uuid,
              (select k.version from ${t.kek} k
               where k.establishment_id = ${ks.establishmentId}::uuid and k.version = ${version}::int and k.state = 'active' for share),
              decode(${key.wrapped.toString('base64')}, 'base64'))
            returning id`
        : sql<{ id: string }>`
            insert into ${t.data} (id, owner_kind, owner_id, kek_version, wrapped_key)
            values (${key.id}::uuid, ${key.ownerKind}, ${key.ownerId}::uuid,
              (select k.version from ${t.kek} k where k.version = ${version}::int and k.state = 'active' for share),
              decode(${key.wrapped.toString('base64')}, 'base64'))
            returning id`;
    },

    /** Destroys the material of an owner's data key, keeping a tombstone; returns its id. */
    async shredDataKey(tx: Exec, ks: Keyspace, ownerKind: OwnerKind, ownerId: string): Promise<string | undefined> {
      const t = tables(ks);
      const { rows } = await sql<{ id: string }>`
        update ${t.data} d set wrapped_key = null, kek_version = null, shredded_at = now()
        where ${scoped(ks, 'd')} and d.owner_kind = ${ownerKind} and d.owner_id = ${ownerId} and d.shredded_at is null
        returning d.id`.execute(tx);
      return rows[0]?.id;
    },

    /** Ids of the live data keys not yet wrapped by the given version, in id order. */
    async listIdsForRewrap(tx: Exec, ks: Keyspace, toVersion: number): Promise<string[]> {
      const t = tables(ks);
      const { rows } = await sql<{ id: string }>`
        select d.id from ${t.data} d
        where ${scoped(ks, 'd')} and d.shredded_at is null and d.kek_version <> ${toVersion}
        order by d.id`.execute(tx);
      return rows.map((r) => r.id);
    },

    /**
     * Writes re-wrapped keys; a row whose version changed meanwhile (shredded, or re-wrapped by
     * another run) is left alone. Returns the number of rows updated.
     */
    async saveRewrapped(tx: Exec, ks: Keyspace, toVersion: number, rewraps: readonly Rewrap[]): Promise<number> {
      if (rewraps.length === 0) return 0;
      const t = tables(ks);
      const result = await sql`
        update ${t.data} d set wrapped_key = decode(v.wrapped, 'base64'), kek_version = ${toVersion}
        from unnest(${rewraps.map((r) => r.id)}::uuid[], ${rewraps.map((r) => r.fromVersion)}::int[],
                    ${rewraps.map((r) => r.wrapped.toString('base64'))}::text[]) as v(id, from_version, wrapped)
        where ${scoped(ks, 'd')} and d.id = v.id and d.kek_version = v.from_version`.execute(tx);
      return Number(result.numAffectedRows ?? 0);
    },

    /** Provider references of the platform's live key versions (start-up check). */
    async platformKeyRefs(tx: Exec): Promise<string[]> {
      const { rows } = await sql<{ key_ref: string }>`select key_ref from vault_platform_keys where state <> 'retired'`.execute(tx);
      return rows.map((r) => r.key_ref);
    },

    async establishmentKeyRefs(tx: Exec, establishmentId: string): Promise<string[]> {
      const { rows } = await sql<{ key_ref: string }>`
        select key_ref from vault_establishment_keys where establishment_id = ${establishmentId} and state <> 'retired'`.execute(tx);
      return rows.map((r) => r.key_ref);
    },

    /** Ids only, to walk every establishment's keyspace through its own tenant wall. */
    async establishmentIds(tx: Exec): Promise<string[]> {
      const { rows } = await sql<{ id: string }>`select id from establishments order by id`.execute(tx);
      return rows.map((r) => r.id);
    },
  };
}

export type VaultStore = ReturnType<typeof createVaultStore>;

// Envelope encryption: each owner (a patient of an establishment, a user, an establishment) has a
// random 256-bit data key, stored only wrapped by its keyspace's current key-encryption key from
// the key provider. Fields are AES-256-GCM ciphertexts under the data key, bound to their row.
import type { RawBuilder } from 'kysely';
import { v7 as uuidv7 } from 'uuid';
import type { Exec } from '../../platform/db/database.js';
import { DataKeyCache } from './cache.js';
import {
  VaultError,
  fieldAad,
  fromText,
  newDataKey,
  open,
  packCiphertext,
  parseCiphertext,
  seal,
  toText,
  wrapAad,
  type FieldBinding,
} from './format.js';
import { blindIndexValue, normaliseDate, normaliseEmail, normaliseIdentifier, normaliseName, purposeKey } from './blind-index.js';
import type { KeyProvider } from './providers.js';
import { createVaultStore, dataKeyRowFromJson, type DataKeyRow, type Keyspace, type KekRow, type OwnerKind, type VaultStore } from './store.js';

/**
 * A fresh data key for an owner the caller has just made (a new patient's id), not yet stored: the
 * caller encrypts with it (`encryptFields(…, { prepared })`) and writes it in the same statement as
 * the rows it seals (`preparedKeyInsert`), so the key exists if and only if they do. The key
 * material stays inside the vault.
 */
export interface PreparedKey {
  /** The id its ciphertexts name. */
  readonly id: string;
  readonly establishmentId: string | null;
  readonly ownerKind: OwnerKind;
  readonly ownerId: string;
}

/** A patient's field in an establishment: the usual case for records. */
export interface PatientFieldContext {
  establishmentId: string;
  patientId: string;
  table: string;
  column: string;
  rowId: string;
}

/**
 * A secret that is not a patient's: a user's TOTP seed, an establishment's integration secret.
 * establishmentId null puts it in the platform keyspace (global accounts); there, owner kind
 * 'platform' names a platform-wide key (PLATFORM_QUEUE_OWNER: queued mail and the outboxes).
 */
export interface SecretFieldContext {
  establishmentId: string | null;
  ownerKind: 'user' | 'establishment' | 'platform';
  ownerId: string;
  table: string;
  column: string;
  rowId: string;
}

export type FieldContext = PatientFieldContext | SecretFieldContext;

/** A row whose columns are encrypted together (each column still has its own binding). */
export type RowContext = Omit<PatientFieldContext, 'column'> | Omit<SecretFieldContext, 'column'>;

type Columns<K extends string> = { [C in K]: string | null };

export interface DecryptOptions {
  /**
   * What a value under a shredded key becomes: 'throw' (default, VaultError key_shredded) or
   * 'null', so that a list holding an erased patient still shows the others.
   */
  shredded?: 'throw' | 'null';
  /**
   * The values of `ownerKeyColumn` read with the rows: their keys need no statement of their own
   * (null entries, and keys not among them, are read as usual).
   */
  keyRows?: readonly unknown[];
}

/** One component of a blind index, normalised according to its kind. */
export type SearchPart = { name: string } | { date: string } | { identifier: string } | { email: string };

/**
 * The owner id of the platform's blind-index key (owner kind 'platform' in the platform keyspace):
 * one key, wrapped by the platform's key-encryption key, for the indexes of global accounts.
 */
export const PLATFORM_BLIND_INDEX_OWNER = '00000000-0000-7000-8000-000000000b1d';

/**
 * The owner id of the platform's queue key (owner kind 'platform'): messages waiting in the job
 * outbox and kept by the development outboxes are sealed under it, whoever they are for — the
 * recipient of a queued message is not always an account (a patient file's e-mail, an invitee).
 */
export const PLATFORM_QUEUE_OWNER = '00000000-0000-7000-8000-00000000a11e';

export interface VaultOptions {
  provider: KeyProvider;
  /** Unwrapped data keys kept in memory (default 10,000). */
  cacheMaxEntries?: number;
  /** How long an unwrapped key stays cached (default 30 s; 0 disables the cache). */
  cacheTtlMs?: number;
}

interface Owner {
  ks: Keyspace;
  scope: string;
  kind: OwnerKind;
  id: string;
}

export interface VaultInternals {
  provider: KeyProvider;
  store: VaultStore;
  cache: DataKeyCache;
}

export function scopeOf(ks: Keyspace): string {
  return ks.kind === 'establishment' ? ks.establishmentId : 'platform';
}

export function keyspaceOf(establishmentId: string | null): Keyspace {
  return establishmentId === null ? { kind: 'platform' } : { kind: 'establishment', establishmentId };
}

function ownerOf(ctx: FieldContext): Owner {
  if ('patientId' in ctx) {
    const ks = keyspaceOf(ctx.establishmentId);
    return { ks, scope: scopeOf(ks), kind: 'patient', id: ctx.patientId };
  }
  const ks = keyspaceOf(ctx.establishmentId);
  if (ks.kind === 'platform' && ctx.ownerKind === 'establishment') throw new VaultError('invalid_context', 'the platform keyspace holds user and platform secrets only');
  if (ks.kind === 'establishment' && ctx.ownerKind === 'platform') throw new VaultError('invalid_context', 'platform keys live in the platform keyspace');
  return { ks, scope: scopeOf(ks), kind: ctx.ownerKind, id: ctx.ownerId };
}

function bindingOf(ctx: FieldContext, owner: Owner): FieldBinding {
  return { scope: owner.scope, table: ctx.table, column: ctx.column, rowId: ctx.rowId };
}

const ownerKey = (o: Owner): string => `${o.scope}|${o.kind}|${o.id}`;

/** The checks that fail a prepared key's insert when its version is no longer active (migration 0006). */
const STALE_VERSION_CHECKS: ReadonlySet<string> = new Set(['vault_data_keys_check', 'vault_platform_data_keys_check']);

export function createVault(options: VaultOptions) {
  const provider = options.provider;
  const store = createVaultStore();
  const cache = new DataKeyCache(options.cacheMaxEntries ?? 10_000, options.cacheTtlMs ?? 30_000);
  // Keys created by a transaction are cached only once it has committed (a later transaction reads
  // them back): a rolled-back key must never be used again, or its ciphertexts would be lost.
  const createdIn = new WeakMap<Exec, Set<string>>();
  /** Blind-index purpose keys derived from each cached index key (see indexerFor). */
  const purposeKeysOf = new WeakMap<Buffer, Map<string, Buffer>>();
  const createdHere = (tx: Exec, id: string): boolean => createdIn.get(tx)?.has(id) ?? false;
  /** What a PreparedKey carries that its holder must not see: the key, its wrap and version. */
  const prepared = new WeakMap<PreparedKey, { owner: Owner; key: Buffer; wrapped: Buffer; version: number }>();

  // The active key version of each keyspace, as last read. Only a hint: the insert that uses it
  // checks (and locks) that version as the active one in the same statement, so a rotation made
  // meanwhile, here or by another instance, costs one more round trip and never a key wrapped by
  // a version that is no longer active.
  const activeKeks = new Map<string, KekRow>();
  // Keys of owners that are never shredded (the blind-index keys), by owner: crypto-shredding
  // is for patients' keys, which are always read afresh. Rotation re-wraps a data key without
  // changing it, so a cached one stays right; evictCache drops them with the rest.
  const ownerKeys = new DataKeyCache(10_000, options.cacheTtlMs === 0 ? 0 : 10 * 60_000);
  const NEVER_SHREDDED: ReadonlySet<OwnerKind> = new Set(['blind_index', 'platform']);

  async function activeKek(tx: Exec, ks: Keyspace): Promise<KekRow> {
    const found = (await store.findActiveKek(tx, ks, true)) ?? (await createFirstKek(tx, ks));
    activeKeks.set(scopeOf(ks), found);
    return found;
  }

  async function createFirstKek(tx: Exec, ks: Keyspace): Promise<KekRow> {
    const keyRef = await provider.createKey(scopeOf(ks));
    await store.insertKek(tx, ks, { version: 1, provider: provider.name, key_ref: keyRef, state: 'active' });
    const created = await store.findActiveKek(tx, ks, true);
    if (!created) throw new VaultError('key_not_found', 'no active key version');
    return created;
  }

  async function unwrapRow(tx: Exec, owner: Owner, row: DataKeyRow): Promise<Buffer> {
    if (row.shredded_at !== null || row.wrapped_key === null || row.key_ref === null) {
      throw new VaultError('key_shredded', `data key ${row.id} was shredded`);
    }
    if (row.kek_state === 'retired') throw new VaultError('key_retired', `data key ${row.id} is wrapped by a retired key version`);
    const key = await provider.unwrap(row.key_ref, owner.scope, row.wrapped_key, wrapAad(owner.scope, row.owner_kind, row.owner_id, row.id));
    if (!createdHere(tx, row.id)) cache.set(row.id, { key, scope: owner.scope, ownerKind: row.owner_kind, ownerId: row.owner_id });
    return key;
  }

  /** Fresh data keys for owners, wrapped by `kek`. */
  async function wrapFresh(kek: KekRow, scope: string, kind: OwnerKind, owners: Owner[]) {
    return Promise.all(
      owners.map(async (o) => {
        const id = uuidv7();
        const key = newDataKey();
        const wrapped = await provider.wrap(kek.key_ref, scope, key, wrapAad(scope, kind, o.id, id));
        return { id, key, owner: o, wrapped, ownerKind: kind, ownerId: o.id };
      }),
    );
  }

  /**
   * The data keys of several owners of one keyspace, created where missing. `newOwners`: the
   * caller has just made these owners (a new patient's id), so there is no key to look for first.
   */
  async function keysForEncryption(
    tx: Exec,
    owners: Owner[],
    newOwners = false,
    preparedKeys: readonly PreparedKey[] = [],
  ): Promise<Map<string, { id: string; key: Buffer }>> {
    const out = new Map<string, { id: string; key: Buffer }>();
    for (const p of preparedKeys) {
      const inner = prepared.get(p);
      if (!inner) throw new VaultError('invalid_context', 'not a key prepared by this vault');
      out.set(ownerKey(inner.owner), { id: p.id, key: inner.key });
    }
    const byKeyspace = new Map<string, Owner[]>();
    for (const o of owners) {
      if (out.has(ownerKey(o))) continue;
      const k = `${o.scope}|${o.kind}`;
      const list = byKeyspace.get(k) ?? [];
      if (!list.some((x) => x.id === o.id)) list.push(o);
      byKeyspace.set(k, list);
    }
    const mine = (): Set<string> => {
      const set = createdIn.get(tx) ?? new Set<string>();
      createdIn.set(tx, set);
      return set;
    };
    for (const all of byKeyspace.values()) {
      const { ks, kind, scope } = all[0]!;
      const group: Owner[] = [];
      for (const o of all) {
        const hit = NEVER_SHREDDED.has(kind) ? ownerKeys.get(ownerKey(o)) : undefined;
        if (hit?.id !== undefined) out.set(ownerKey(o), { id: hit.id, key: hit.key });
        else group.push(o);
      }
      if (group.length === 0) continue;
      // Otherwise always read the row (cheap, by owner): a shredded key must refuse new data at once.
      const byOwner = new Map<string, DataKeyRow>();
      const readRows = async (ids: string[]) => {
        for (const r of await store.findDataKeysByOwners(tx, ks, kind, ids)) byOwner.set(r.owner_id, r);
      };
      if (!newOwners) await readRows(group.map((o) => o.id));
      let missing = group.filter((o) => !byOwner.has(o.id));
      const created = (fresh: Awaited<ReturnType<typeof wrapFresh>>, inserted: Set<string>) => {
        for (const f of fresh) {
          if (!inserted.has(f.id)) continue;
          mine().add(f.id);
          out.set(ownerKey(f.owner), { id: f.id, key: f.key });
        }
        return missing.filter((o) => !out.has(ownerKey(o)));
      };
      // One round trip with the version last seen active (checked and locked in the statement).
      const hint = activeKeks.get(scope);
      // A remembered version whose provider key is gone (a root key removed meanwhile) is dropped.
      const freshUnderHint = hint && missing.length > 0 ? await wrapFresh(hint, scope, kind, missing).catch(() => undefined) : undefined;
      if (hint && missing.length > 0 && !freshUnderHint) activeKeks.delete(scope);
      if (hint && freshUnderHint) {
        const fresh = freshUnderHint;
        const inserted = await store.insertDataKeysUnderActiveKek(tx, ks, hint.version, fresh);
        if (inserted.size === 0) activeKeks.delete(scope);
        missing = created(fresh, inserted);
        // Owners whose key exists after all (a concurrent transaction made it): read theirs.
        if (missing.length > 0) await readRows(missing.map((o) => o.id));
        missing = missing.filter((o) => !byOwner.has(o.id));
      }
      if (missing.length > 0) {
        const kek = await activeKek(tx, ks);
        const fresh = await wrapFresh(kek, scope, kind, missing);
        const inserted = await store.insertDataKeys(tx, ks, fresh.map((f) => ({ ...f, kekVersion: kek.version })));
        missing = created(fresh, inserted);
        if (missing.length > 0) await readRows(missing.map((o) => o.id));
      }
      for (const o of group) {
        if (out.has(ownerKey(o))) continue;
        const row = byOwner.get(o.id);
        if (!row) continue;
        if (row.shredded_at !== null) throw new VaultError('key_shredded', `data key ${row.id} was shredded`);
        const key = cache.get(row.id)?.key ?? (await unwrapRow(tx, o, row));
        out.set(ownerKey(o), { id: row.id, key });
        if (NEVER_SHREDDED.has(kind) && !createdHere(tx, row.id)) ownerKeys.set(ownerKey(o), { id: row.id, key, scope, ownerKind: kind, ownerId: o.id });
      }
    }
    return out;
  }

  /** The data keys named by ciphertexts, checked against the owners the caller expects. */
  async function keysForDecryption(
    tx: Exec,
    wanted: Array<{ keyId: string; owner: Owner }>,
    supplied: ReadonlyMap<string, DataKeyRow> = new Map(),
  ): Promise<Map<string, Buffer | 'shredded'>> {
    const out = new Map<string, Buffer | 'shredded'>();
    // Each key once (a file's fields share one): every other field naming it must expect the same
    // owner, which is then checked against the key's own once.
    const ownerOfKey = new Map<string, Owner>();
    for (const { keyId, owner } of wanted) {
      const first = ownerOfKey.get(keyId);
      if (first === undefined) ownerOfKey.set(keyId, owner);
      else if (first.scope !== owner.scope || first.kind !== owner.kind || first.id !== owner.id) {
        throw new VaultError('decryption_failed', 'the ciphertext belongs to another owner');
      }
    }
    const missing = new Map<string, { ks: Keyspace; ids: Set<string> }>();
    for (const [keyId, owner] of ownerOfKey) {
      const cached = cache.get(keyId);
      if (cached) {
        if (cached.scope !== owner.scope || cached.ownerKind !== owner.kind || cached.ownerId !== owner.id) {
          throw new VaultError('decryption_failed', 'the ciphertext belongs to another owner');
        }
        out.set(keyId, cached.key);
        continue;
      }
      const group = missing.get(owner.scope) ?? { ks: owner.ks, ids: new Set<string>() };
      group.ids.add(keyId);
      missing.set(owner.scope, group);
    }
    for (const { ks, ids } of missing.values()) {
      // Rows the caller read with its own (ownerKeyColumn) need no statement of their own.
      const rows = new Map<string, DataKeyRow>();
      for (const id of ids) {
        const row = supplied.get(id);
        if (row) rows.set(id, row);
      }
      const toRead = [...ids].filter((id) => !rows.has(id));
      for (const r of await store.findDataKeysByIds(tx, ks, toRead)) rows.set(r.id, r);
      for (const keyId of ids) {
        const owner = ownerOfKey.get(keyId)!;
        const row = rows.get(keyId);
        // Another establishment's key is invisible (row-level security): the same answer as none.
        if (!row) throw new VaultError('key_not_found', `data key ${keyId} not found in this keyspace`);
        if (row.owner_kind !== owner.kind || row.owner_id !== owner.id) {
          throw new VaultError('decryption_failed', 'the ciphertext belongs to another owner');
        }
        out.set(keyId, row.shredded_at !== null ? 'shredded' : await unwrapRow(tx, owner, row));
      }
    }
    return out;
  }

  async function encryptMany(
    tx: Exec,
    items: ReadonlyArray<{ ctx: FieldContext; value: Buffer | null }>,
    newOwners = false,
    preparedKeys: readonly PreparedKey[] = [],
  ): Promise<Array<Buffer | null>> {
    const owners = items.filter((i) => i.value !== null).map((i) => ownerOf(i.ctx));
    const keys = await keysForEncryption(tx, owners, newOwners, preparedKeys);
    return items.map(({ ctx, value }) => {
      if (value === null) return null;
      const owner = ownerOf(ctx);
      const dk = keys.get(ownerKey(owner))!;
      const sealed = seal(dk.key, value, fieldAad(1, dk.id, bindingOf(ctx, owner)));
      return packCiphertext(dk.id, sealed);
    });
  }

  async function decryptMany(
    tx: Exec,
    items: ReadonlyArray<{ ctx: FieldContext; value: Buffer | null }>,
    options: DecryptOptions = {},
  ): Promise<Array<Buffer | null>> {
    const parsed = items.map(({ ctx, value }) => (value === null ? null : { ctx, owner: ownerOf(ctx), c: parseCiphertext(value) }));
    const supplied = new Map<string, DataKeyRow>();
    for (const value of options.keyRows ?? []) {
      const row = dataKeyRowFromJson(value);
      if (row) supplied.set(row.id, row);
    }
    const keys = await keysForDecryption(
      tx,
      parsed.flatMap((p) => (p ? [{ keyId: p.c.keyId, owner: p.owner }] : [])),
      supplied,
    );
    return parsed.map((p) => {
      if (!p) return null;
      const key = keys.get(p.c.keyId)!;
      if (key === 'shredded') {
        if (options.shredded === 'null') return null;
        throw new VaultError('key_shredded', `data key ${p.c.keyId} was shredded`);
      }
      return open(key, p.c.sealed, fieldAad(p.c.version, p.c.keyId, bindingOf(p.ctx, p.owner)));
    });
  }

  const asText = (b: Buffer | null): string | null => (b === null ? null : toText(b));
  const fromTextOrNull = (s: string | null): Buffer | null => (s === null ? null : fromText(s));
  const utf8 = (s: string | null): Buffer | null => (s === null ? null : Buffer.from(s, 'utf8'));
  const str = (b: Buffer | null): string | null => (b === null ? null : b.toString('utf8'));

  return {
    provider,
    /** Encrypts a text field ("hv1:…" for a text column); null stays null. */
    async encryptField(tx: Exec, ctx: FieldContext, plaintext: string | null): Promise<string | null> {
      return asText((await encryptMany(tx, [{ ctx, value: utf8(plaintext) }]))[0]!);
    },
    async decryptField(tx: Exec, ctx: FieldContext, ciphertext: string | null): Promise<string | null> {
      return str((await decryptMany(tx, [{ ctx, value: fromTextOrNull(ciphertext) }]))[0]!);
    },
    /**
     * Batch form: one key query for the whole list, each key unwrapped once. `newOwners`: the
     * owners were made by the caller just now (a new patient's id), so their keys are created
     * without being looked for first; a key found to exist after all is used as usual.
     */
    async encryptFields(
      tx: Exec,
      items: ReadonlyArray<{ ctx: FieldContext; value: string | null }>,
      options: { newOwners?: boolean; prepared?: readonly PreparedKey[] } = {},
    ): Promise<Array<string | null>> {
      return (await encryptMany(tx, items.map((i) => ({ ctx: i.ctx, value: utf8(i.value) })), options.newOwners === true, options.prepared)).map(asText);
    },
    async decryptFields(
      tx: Exec,
      items: ReadonlyArray<{ ctx: FieldContext; value: string | null }>,
      options: DecryptOptions = {},
    ): Promise<Array<string | null>> {
      return (await decryptMany(tx, items.map((i) => ({ ctx: i.ctx, value: fromTextOrNull(i.value) })), options)).map(str);
    },
    /**
     * Encrypts several columns of one row: `encryptColumns(tx, { establishmentId, patientId,
     * table: 'patients', rowId }, { birth_name: 'DUPONT', email: null })`.
     */
    async encryptColumns<K extends string>(tx: Exec, row: RowContext, values: Columns<K>): Promise<Columns<K>> {
      return (await encryptRowsOf(tx, [{ row, values }]))[0]!;
    },
    async decryptColumns<K extends string>(tx: Exec, row: RowContext, values: Columns<K>): Promise<Columns<K>> {
      return (await decryptRowsOf(tx, [{ row, values }]))[0]!;
    },
    /** Batch form for lists: one key query for every row, each key unwrapped once. */
    async decryptRows<K extends string>(
      tx: Exec,
      rows: ReadonlyArray<{ row: RowContext; values: Columns<K> }>,
      options: DecryptOptions = {},
    ): Promise<Array<Columns<K>>> {
      return decryptRowsOf(tx, rows, options);
    },
    async encryptRows<K extends string>(tx: Exec, rows: ReadonlyArray<{ row: RowContext; values: Columns<K> }>): Promise<Array<Columns<K>>> {
      return encryptRowsOf(tx, rows);
    },
    /** Binary form (documents, bytea columns). */
    async encryptBytes(tx: Exec, ctx: FieldContext, plaintext: Buffer): Promise<Buffer> {
      return (await encryptMany(tx, [{ ctx, value: plaintext }]))[0]!;
    },
    async decryptBytes(tx: Exec, ctx: FieldContext, ciphertext: Buffer): Promise<Buffer> {
      return (await decryptMany(tx, [{ ctx, value: ciphertext }]))[0]!;
    },

    /**
     * A data key for a patient the caller has just made, wrapped by the keyspace's active key
     * version as last seen (read when none is known yet, or always with `readVersion`): nothing is
     * written here. The caller seals the file with it and inserts it with `preparedKeyInsert` in
     * the file's own statement, whose check of the version as still active makes a rotation
     * meanwhile fail that statement (`isStaleKeyVersion`) instead of storing fields under a key
     * that is not.
     */
    async preparePatientKey(tx: Exec, ref: { establishmentId: string; patientId: string }, options: { readVersion?: boolean } = {}): Promise<PreparedKey> {
      const ks = keyspaceOf(ref.establishmentId);
      const owner: Owner = { ks, scope: ref.establishmentId, kind: 'patient', id: ref.patientId };
      const under = async (kek: KekRow) => (await wrapFresh(kek, owner.scope, owner.kind, [owner]))[0]!;
      // readVersion: in a transaction, the version read is locked until it ends, so the insert cannot find it stale.
      let kek = options.readVersion === true ? undefined : activeKeks.get(owner.scope);
      // A remembered version whose provider key is gone (a root key removed meanwhile) is dropped.
      let fresh = kek ? await under(kek).catch(() => undefined) : undefined;
      if (!kek || !fresh) {
        activeKeks.delete(owner.scope);
        kek = await activeKek(tx, ks);
        fresh = await under(kek);
      }
      const handle: PreparedKey = Object.freeze({ id: fresh.id, establishmentId: ref.establishmentId, ownerKind: 'patient' as const, ownerId: ref.patientId });
      prepared.set(handle, { owner, key: fresh.key, wrapped: fresh.wrapped, version: kek.version });
      return handle;
    },
    /** The insert of a prepared key, to run as a part (a CTE) of the statement that writes what it seals. */
    preparedKeyInsert(key: PreparedKey) {
      const inner = prepared.get(key);
      if (!inner) throw new VaultError('invalid_context', 'not a key prepared by this vault');
      return store.newDataKeyInsert(inner.owner.ks, inner.version, { id: key.id, ownerKind: key.ownerKind, ownerId: key.ownerId, wrapped: inner.wrapped });
    },
    /**
     * Whether a statement failed because a prepared key's version was no longer the active one (a
     * rotation switched it): the version is forgotten, and preparing the key again reads the new one.
     */
    isStaleKeyVersion(error: unknown, key: PreparedKey): boolean {
      const e = error as { code?: unknown; constraint?: unknown } | null;
      const stale = typeof e === 'object' && e !== null && e.code === '23514' && typeof e.constraint === 'string' && STALE_VERSION_CHECKS.has(e.constraint);
      if (stale) activeKeks.delete(key.establishmentId ?? 'platform');
      return stale;
    },

    /**
     * For a caller's select of sealed rows: a column holding the data key of the owner whose id
     * `ownerId` names (a column of that select), to hand to decryption (`keyRows`), so the rows and
     * their keys come in one round trip. Unwrapping still binds each key to the expected owner.
     */
    ownerKeyColumn(ref: { establishmentId: string | null; ownerKind: OwnerKind }, ownerId: RawBuilder<unknown>): RawBuilder<unknown> {
      return store.ownerKeyJson(keyspaceOf(ref.establishmentId), ref.ownerKind, ownerId);
    },

    /** Creates the data keys of these patients where missing (seeding, imports). */
    async ensurePatientKeys(tx: Exec, establishmentId: string, patientIds: readonly string[]): Promise<void> {
      const ks = keyspaceOf(establishmentId);
      await keysForEncryption(tx, patientIds.map((id) => ({ ks, scope: establishmentId, kind: 'patient' as const, id })));
    },

    /**
     * Crypto-shredding: destroys a patient's data key, so every ciphertext under it, in every table
     * and every later backup, is unreadable. Irreversible; the caller enforces the approval and
     * the legal retention period. Returns false when there was no live key.
     */
    async shredPatientKey(tx: Exec, ref: { establishmentId: string; patientId: string }): Promise<boolean> {
      return shred(tx, keyspaceOf(ref.establishmentId), 'patient', ref.patientId);
    },
    /** Shreds a secret owner's key (a user's TOTP seed key, for example). */
    async shredSecretKey(tx: Exec, ref: { establishmentId: string | null; ownerKind: 'user' | 'establishment' | 'platform'; ownerId: string }) {
      return shred(tx, keyspaceOf(ref.establishmentId), ref.ownerKind, ref.ownerId);
    },

    /**
     * The blind index of normalised search parts under the establishment's index key for this
     * purpose ('patient.birth_name', 'patient.name_birth_date', 'patient.ins', …).
     */
    async blindIndex(tx: Exec, ref: { establishmentId: string; purpose: string }, parts: readonly SearchPart[]): Promise<string> {
      return (await blindIndexer(tx, ref.establishmentId))(ref.purpose, parts);
    },
    /** A synchronous indexer for many values (one key load). */
    blindIndexer,
    /**
     * The blind index of global accounts' values ('user.email'): keyed by the platform's
     * blind-index key, a data key wrapped by the platform key from the key provider, never stored
     * in clear. Rotation re-wraps it without changing it, so the index values stay valid.
     */
    async platformBlindIndex(tx: Exec, purpose: string, parts: readonly SearchPart[]): Promise<string> {
      return (await platformBlindIndexer(tx))(purpose, parts);
    },
    platformBlindIndexer,

    /** Drops every cached key of a keyspace (after a rotation or an incident). */
    evictCache(establishmentId: string | null): void {
      cache.evictScope(establishmentId ?? 'platform');
      ownerKeys.evictScope(establishmentId ?? 'platform');
      activeKeks.delete(establishmentId ?? 'platform');
    },

    internals(): VaultInternals {
      return { provider, store, cache };
    },
  };

  function flatten<K extends string>(rows: ReadonlyArray<{ row: RowContext; values: Columns<K> }>) {
    return rows.flatMap(({ row, values }) =>
      (Object.keys(values) as K[]).map((column) => ({ ctx: { ...row, column } as FieldContext, value: values[column], column })),
    );
  }

  function regroup<K extends string>(rows: ReadonlyArray<{ values: Columns<K> }>, out: Array<Buffer | null>, map: (b: Buffer | null) => string | null) {
    let i = 0;
    return rows.map(({ values }) => {
      const result = {} as Columns<K>;
      for (const column of Object.keys(values) as K[]) result[column] = map(out[i++]!);
      return result;
    });
  }

  async function encryptRowsOf<K extends string>(tx: Exec, rows: ReadonlyArray<{ row: RowContext; values: Columns<K> }>) {
    const out = await encryptMany(tx, flatten(rows).map((f) => ({ ctx: f.ctx, value: utf8(f.value) })));
    return regroup(rows, out, asText);
  }

  async function decryptRowsOf<K extends string>(tx: Exec, rows: ReadonlyArray<{ row: RowContext; values: Columns<K> }>, options: DecryptOptions = {}) {
    const out = await decryptMany(tx, flatten(rows).map((f) => ({ ctx: f.ctx, value: fromTextOrNull(f.value) })), options);
    return regroup(rows, out, str);
  }

  async function shred(tx: Exec, ks: Keyspace, kind: OwnerKind, ownerId: string): Promise<boolean> {
    const id = await store.shredDataKey(tx, ks, kind, ownerId);
    if (id !== undefined) cache.delete(id);
    return id !== undefined;
  }

  async function platformBlindIndexer(tx: Exec): Promise<(purpose: string, parts: readonly SearchPart[]) => string> {
    const ks: Keyspace = { kind: 'platform' };
    const owner: Owner = { ks, scope: scopeOf(ks), kind: 'platform', id: PLATFORM_BLIND_INDEX_OWNER };
    return indexerFor(tx, owner);
  }

  async function blindIndexer(tx: Exec, establishmentId: string): Promise<(purpose: string, parts: readonly SearchPart[]) => string> {
    const ks = keyspaceOf(establishmentId);
    return indexerFor(tx, { ks, scope: establishmentId, kind: 'blind_index', id: establishmentId });
  }

  async function indexerFor(tx: Exec, owner: Owner): Promise<(purpose: string, parts: readonly SearchPart[]) => string> {
    const { key } = (await keysForEncryption(tx, [owner])).get(ownerKey(owner))!;
    // Derived keys live as long as the key they come from stays cached (the same Buffer): an
    // HKDF per index was a twentieth of the job worker's CPU (each queued message indexes its
    // recipient).
    let purposeKeys = purposeKeysOf.get(key);
    if (!purposeKeys) purposeKeysOf.set(key, (purposeKeys = new Map<string, Buffer>()));
    return (purpose, parts) => {
      let pk = purposeKeys.get(purpose);
      if (!pk) purposeKeys.set(purpose, (pk = purposeKey(key, purpose)));
      return blindIndexValue(pk, parts.map(normalisePart));
    };
  }
}

export function normalisePart(part: SearchPart): string {
  if ('name' in part) return normaliseName(part.name);
  if ('date' in part) return normaliseDate(part.date);
  if ('email' in part) return normaliseEmail(part.email);
  return normaliseIdentifier(part.identifier);
}

export type Vault = ReturnType<typeof createVault>;

// Key rotation without downtime: a new key-encryption key version becomes active (new data keys
// are wrapped by it at once), then every live data key is re-wrapped in small transactions while
// readers keep using whichever version their row names; once no data key references an old
// version, that version is retired and its provider key released.
//
// Data keys themselves do not change, so no field is re-encrypted and cached data keys stay valid.
import type { Database, Tx } from '../../platform/db/database.js';
import { wrapAad, VaultError } from './format.js';
import { keyspaceOf, scopeOf, type Vault } from './service.js';
import type { Keyspace, Rewrap } from './store.js';

export interface RotationResult {
  keyspace: string;
  fromVersion: number | null;
  toVersion: number;
  rewrapped: number;
  retiredVersions: number[];
}

export interface RotationOptions {
  /** Data keys re-wrapped per transaction (default 2,000: short transactions, few round trips). */
  batchSize?: number;
  onProgress?: (done: number, total: number) => void;
  /** Batches in flight at once (default 4 on PostgreSQL, 1 on the single-connection PGlite). */
  parallelism?: number;
}

/** Rotates the key of an establishment, or of the platform keyspace when establishmentId is null. */
export async function rotateKeys(db: Database, vault: Vault, establishmentId: string | null, options: RotationOptions = {}): Promise<RotationResult> {
  const { provider, store } = vault.internals();
  const ks: Keyspace = keyspaceOf(establishmentId);
  const scope = scopeOf(ks);
  const batchSize = options.batchSize ?? 2000;
  const inKeyspace = <T>(fn: (tx: Tx) => Promise<T>): Promise<T> =>
    establishmentId === null ? db.withPlatform(fn) : db.withTenant(establishmentId, fn);

  if (establishmentId !== null && !(await db.withPlatform((tx) => store.establishmentIds(tx))).includes(establishmentId)) {
    throw new VaultError('invalid_context', `no establishment ${establishmentId}`);
  }

  // 1. Switch versions in one short transaction. FOR SHARE in the encryption path makes this wait
  //    for transactions that are wrapping new keys with the old version, so none is left behind.
  const newKeyRef = await provider.createKey(scope);
  const { fromVersion, toVersion } = await inKeyspace(async (tx) => {
    const versions = await store.listKeks(tx, ks);
    const active = versions.find((v) => v.state === 'active');
    const toVersion = Math.max(0, ...versions.map((v) => v.version)) + 1;
    if (active) {
      await store.setKekState(tx, ks, active.version, 'previous');
    }
    if (!(await store.insertKek(tx, ks, { version: toVersion, provider: provider.name, key_ref: newKeyRef, state: 'active' }))) {
      throw new VaultError('invalid_context', 'another rotation is running for this keyspace');
    }
    return { fromVersion: active?.version ?? null, toVersion };
  });

  // 2. Re-wrap every live data key not yet under the new version (also those of earlier
  //    rotations that were interrupted): ids first, then batches of ids, one transaction each,
  //    several at a time on PostgreSQL. A row shredded or re-wrapped meanwhile is skipped.
  const parallelism = options.parallelism ?? (db.kind === 'postgres' ? 4 : 1);
  let done = 0;
  let total = 0;
  for (let pass = 0; pass < 3; pass++) {
    const ids = await inKeyspace((tx) => store.listIdsForRewrap(tx, ks, toVersion));
    if (ids.length === 0) break;
    total += ids.length;
    options.onProgress?.(done, total);
    const batches: string[][] = [];
    for (let i = 0; i < ids.length; i += batchSize) batches.push(ids.slice(i, i + batchSize));
    let next = 0;
    await Promise.all(
      Array.from({ length: Math.min(parallelism, batches.length) }, async () => {
        while (next < batches.length) {
          const batch = batches[next++]!;
          const saved = await inKeyspace(async (tx) => {
            const rows = (await store.findDataKeysByIds(tx, ks, batch)).filter((r) => r.shredded_at === null && r.kek_version !== toVersion);
            const rewraps: Rewrap[] = await Promise.all(
              rows.map(async (row) => {
                const aad = wrapAad(scope, row.owner_kind, row.owner_id, row.id);
                const key = await provider.unwrap(row.key_ref!, scope, row.wrapped_key!, aad);
                return { id: row.id, fromVersion: row.kek_version!, wrapped: await provider.wrap(newKeyRef, scope, key, aad) };
              }),
            );
            return store.saveRewrapped(tx, ks, toVersion, rewraps);
          });
          done += saved;
          options.onProgress?.(Math.min(done, total), total);
        }
      }),
    );
  }
  options.onProgress?.(total, total);

  // 3. Retire versions nothing references any more.
  const retired = await inKeyspace((tx) => store.retireUnreferencedKeks(tx, ks));
  for (const r of retired) await provider.retireKey(r.key_ref);
  vault.evictCache(establishmentId);
  return { keyspace: scope, fromVersion, toVersion, rewrapped: done, retiredVersions: retired.map((r) => r.version).sort((a, b) => a - b) };
}

/**
 * Rotates every keyspace: each establishment, then the platform. After a new root key is put first
 * in the keyring, this moves every key version onto it, so the old root key can be removed.
 */
export async function rotateAllKeys(
  db: Database,
  vault: Vault,
  options: Omit<RotationOptions, 'onProgress'> & { onKeyspace?: (keyspace: string, index: number, count: number) => RotationOptions['onProgress'] } = {},
): Promise<RotationResult[]> {
  const { store } = vault.internals();
  const keyspaces: Array<string | null> = [...(await db.withPlatform((tx) => store.establishmentIds(tx))), null];
  const results: RotationResult[] = [];
  for (const [i, establishmentId] of keyspaces.entries()) {
    const onProgress = options.onKeyspace?.(establishmentId ?? 'platform', i, keyspaces.length);
    results.push(await rotateKeys(db, vault, establishmentId, { ...options, ...(onProgress ? { onProgress } : {}) }));
  }
  return results;
}

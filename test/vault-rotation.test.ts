// Key rotation while the vault keeps serving: every concurrent read succeeds with the right
// plaintext, every data key ends under the new version, old versions are retired, and a key left
// wrapped by a retired version is refused.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { v7 as uuidv7 } from 'uuid';
import { createTestDatabase, testConfig, type TestDatabase } from './helpers/db.js';
import { seedDemo } from '../src/seed/demo.js';
import type { DemoData } from '../src/seed/demo-data.js';
import { accountEmailIndex, accountProfiles } from '../src/modules/identity/index.js';
import {
  createEnvKeyProvider,
  createVault,
  openVault,
  rotateAllKeys,
  rotateKeys,
  VaultError,
  type PatientFieldContext,
  type Vault,
} from '../src/modules/vault/index.js';

describe('vault key rotation', () => {
  let t: TestDatabase;
  let a: string;
  let b: string;
  let vault: Vault;
  const oldRoot = randomBytes(32);
  const provider = createEnvKeyProvider([oldRoot]);
  // Synthetic patients: rotation concerns keys, not patient rows.
  const patients = Array.from({ length: 240 }, () => uuidv7());
  const ctx = (patientId: string, establishmentId: string): PatientFieldContext => ({
    establishmentId,
    patientId,
    table: 'patients',
    column: 'birth_name',
    rowId: patientId,
  });
  let ciphertexts: Array<string | null>;
  let ofB: string | null;

  const versions = (establishmentId: string) =>
    t.db.owner
      .selectFrom('vault_establishment_keys')
      .select(['version', 'state'])
      .where('establishment_id', '=', establishmentId)
      .orderBy('version')
      .execute();
  const keyVersions = async (establishmentId: string) =>
    (
      await t.db.owner
        .selectFrom('vault_data_keys')
        .select('kek_version')
        .distinct()
        .where('establishment_id', '=', establishmentId)
        .where('shredded_at', 'is', null)
        .execute()
    ).map((r) => r.kek_version);

  let demo: DemoData;
  beforeAll(async () => {
    t = await createTestDatabase();
    // The demo's patient files are encrypted under this test's root key too.
    vault = createVault({ provider });
    const { data } = await seedDemo(t.db, undefined, vault);
    demo = data;
    a = data.establishments[0]!.id;
    b = data.establishments[1]!.id;
    ciphertexts = await t.db.withTenant(a, (tx) => vault.encryptFields(tx, patients.map((p, i) => ({ ctx: ctx(p, a), value: `Patient ${i}` }))));
    ofB = await t.db.withTenant(b, (tx) => vault.encryptField(tx, ctx(patients[0]!, b), 'autre établissement'));
  });
  afterAll(async () => t?.drop());

  it('re-wraps every data key while concurrent reads all succeed with the right plaintext', async () => {
    expect(await versions(a)).toEqual([{ version: 1, state: 'active' }]);
    const wrappedBefore = await t.db.owner.selectFrom('vault_data_keys').select(['id', 'wrapped_key']).where('establishment_id', '=', a).execute();

    let rotating = true;
    const progress: Array<[number, number]> = [];
    const reads: Array<{ ok: boolean; right: boolean; during: boolean }> = [];
    const reader = async (offset: number) => {
      // Uncached readers: each read unwraps the data key from whatever version its row names now.
      const fresh = createVault({ provider, cacheTtlMs: 0 });
      for (let i = offset; rotating || i < offset + 5; i += 7) {
        const n = i % patients.length;
        const during = rotating;
        try {
          const plain = await t.db.withTenant(a, (tx) => fresh.decryptField(tx, ctx(patients[n]!, a), ciphertexts[n]!));
          reads.push({ ok: true, right: plain === `Patient ${n}`, during });
        } catch {
          reads.push({ ok: false, right: false, during });
        }
      }
    };
    const writer = async () => {
      // New data written during the rotation must be readable afterwards.
      const written: Array<[string, string | null]> = [];
      while (rotating) {
        const p = uuidv7();
        written.push([p, await t.db.withTenant(a, (tx) => vault.encryptField(tx, ctx(p, a), `new ${p}`))]);
      }
      return written;
    };
    const rotation = rotateKeys(t.db, vault, a, { batchSize: 16, onProgress: (done, total) => progress.push([done, total]) }).finally(() => {
      rotating = false;
    });
    const [result, , , written] = await Promise.all([rotation, reader(0), reader(3), writer()]);

    expect(result).toMatchObject({ keyspace: a, fromVersion: 1, toVersion: 2, retiredVersions: [1] });
    expect(result.rewrapped).toBeGreaterThanOrEqual(patients.length);
    expect(reads.filter((r) => r.during).length).toBeGreaterThan(10);
    expect(reads.filter((r) => !r.ok || !r.right)).toEqual([]);
    expect(progress.at(-1)?.[0]).toBe(progress.at(-1)?.[1]);
    expect(progress.map((p) => p[0])).toEqual([...progress.map((p) => p[0])].sort((x, y) => x - y));

    expect(await versions(a)).toEqual([
      { version: 1, state: 'retired' },
      { version: 2, state: 'active' },
    ]);
    expect(await keyVersions(a)).toEqual([2]);
    const wrappedAfter = new Map(
      (await t.db.owner.selectFrom('vault_data_keys').select(['id', 'wrapped_key']).where('establishment_id', '=', a).execute()).map((r) => [r.id, r.wrapped_key]),
    );
    for (const before of wrappedBefore) expect(wrappedAfter.get(before.id)!.equals(before.wrapped_key!)).toBe(false);

    // Every old and new value reads back with a fresh vault.
    const fresh = createVault({ provider });
    const all = await t.db.withTenant(a, (tx) => fresh.decryptFields(tx, patients.map((p, i) => ({ ctx: ctx(p, a), value: ciphertexts[i]! }))));
    expect(all).toEqual(patients.map((_, i) => `Patient ${i}`));
    for (const [p, c] of written) expect(await t.db.withTenant(a, (tx) => fresh.decryptField(tx, ctx(p, a), c))).toBe(`new ${p}`);
  });

  it('leaves other establishments alone', async () => {
    expect(await versions(b)).toEqual([{ version: 1, state: 'active' }]);
    expect(await t.db.withTenant(b, (tx) => createVault({ provider }).decryptField(tx, ctx(patients[0]!, b), ofB))).toBe('autre établissement');
  });

  it('refuses a data key still wrapped by a retired version', async () => {
    // Simulate a row put back from before the rotation (by an operator, or a partial restore).
    const p = uuidv7();
    const c = await t.db.withTenant(a, (tx) => vault.encryptField(tx, ctx(p, a), 'x'));
    const row = await t.db.owner.selectFrom('vault_data_keys').select(['id']).where('owner_id', '=', p).executeTakeFirstOrThrow();
    await t.db.owner.updateTable('vault_data_keys').set({ kek_version: 1 }).where('id', '=', row.id).execute();
    const fresh = createVault({ provider });
    const error = await t.db.withTenant(a, (tx) => fresh.decryptField(tx, ctx(p, a), c)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VaultError);
    expect((error as VaultError).code).toBe('key_retired');
    await t.db.owner.updateTable('vault_data_keys').set({ kek_version: 2 }).where('id', '=', row.id).execute();
  });

  it('rotates again, skipping shredded keys, and retires the previous version', async () => {
    await t.db.withTenant(a, (tx) => vault.shredPatientKey(tx, { establishmentId: a, patientId: patients[1]! }));
    const result = await rotateKeys(t.db, vault, a, { batchSize: 100 });
    expect(result).toMatchObject({ fromVersion: 2, toVersion: 3, retiredVersions: [2] });
    expect(await keyVersions(a)).toEqual([3]);
    const fresh = createVault({ provider });
    expect(await t.db.withTenant(a, (tx) => fresh.decryptField(tx, ctx(patients[2]!, a), ciphertexts[2]!))).toBe('Patient 2');
    await expect(t.db.withTenant(a, (tx) => fresh.decryptField(tx, ctx(patients[1]!, a), ciphertexts[1]!))).rejects.toThrow(/shredded/);
  });

  it('never wraps a new key by a version another instance rotated away (the version it remembers is checked in the insert)', async () => {
    // This vault remembers the active version from its last new key.
    const before = uuidv7();
    await t.db.withTenant(a, (tx) => vault.encryptField(tx, ctx(before, a), 'before'));
    // Another instance rotates: this vault is not told.
    const rotated = await rotateKeys(t.db, createVault({ provider }), a, { batchSize: 100 });
    const after = uuidv7();
    const [sealed] = await t.db.withTenant(a, (tx) => vault.encryptFields(tx, [{ ctx: ctx(after, a), value: 'after' }], { newOwners: true }));
    const row = await t.db.owner.selectFrom('vault_data_keys').select('kek_version').where('establishment_id', '=', a).where('owner_id', '=', after).executeTakeFirstOrThrow();
    expect(row.kek_version).toBe(rotated.toVersion);
    expect(await keyVersions(a)).toEqual([rotated.toVersion]);
    expect(await t.db.withTenant(a, (tx) => createVault({ provider }).decryptField(tx, ctx(after, a), sealed!))).toBe('after');
    // A new owner whose key exists after all (the caller was wrong) gets that key, not a second one.
    const again = await t.db.withTenant(a, (tx) => vault.encryptFields(tx, [{ ctx: ctx(after, a), value: 'again' }], { newOwners: true }));
    const keys = await t.db.owner.selectFrom('vault_data_keys').select('id').where('establishment_id', '=', a).where('owner_id', '=', after).execute();
    expect(keys).toHaveLength(1);
    expect(await t.db.withTenant(a, (tx) => createVault({ provider }).decryptField(tx, ctx(after, a), again[0]!))).toBe('again');
  });

  it('a prepared key under a version rotated away fails its whole statement, and the next one takes the new version', async () => {
    // This vault remembers the active version from a new key of its own.
    await t.db.withTenant(a, (tx) => vault.encryptField(tx, ctx(uuidv7(), a), 'warm'));
    const rotated = await rotateKeys(t.db, createVault({ provider }), a, { batchSize: 100 });
    const p = uuidv7();
    const stale = await t.db.withTenantAutocommit(a, (exec) => vault.preparePatientKey(exec, { establishmentId: a, patientId: p }));
    // Its insert and a valid write (another instance's key, under the new version) in one
    // statement: neither happens.
    const marker = uuidv7();
    const other = createVault({ provider });
    const valid = await t.db.withTenantAutocommit(a, (exec) => other.preparePatientKey(exec, { establishmentId: a, patientId: marker }));
    const error = await t.db
      .withTenant(a, (tx) => sql`with keyed as (${vault.preparedKeyInsert(stale)}), other as (${other.preparedKeyInsert(valid)}) select 1`.execute(tx))
      .catch((e: unknown) => e);
    expect(vault.isStaleKeyVersion(error, stale)).toBe(true);
    const written = await t.db.owner.selectFrom('vault_data_keys').select('owner_id').where('owner_id', 'in', [p, marker]).execute();
    expect(written).toHaveLength(0);
    // The stale version is forgotten: the next prepared key reads and uses the new one.
    const again = await t.db.withTenantAutocommit(a, (exec) => vault.preparePatientKey(exec, { establishmentId: a, patientId: p }));
    await t.db.withTenant(a, (tx) => sql`with keyed as (${vault.preparedKeyInsert(again)}) select 1`.execute(tx));
    const row = await t.db.owner.selectFrom('vault_data_keys').select('kek_version').where('owner_id', '=', p).executeTakeFirstOrThrow();
    expect(row.kek_version).toBe(rotated.toVersion);
  });

  it('rotates the platform keyspace too', async () => {
    const user = uuidv7();
    const secret = { establishmentId: null, ownerKind: 'user' as const, ownerId: user, table: 'users', column: 'totp_secret', rowId: user };
    const c = await t.db.withPlatform((tx) => vault.encryptField(tx, secret, 'SEED'));
    // Every account of the demo has its data key there too, and the platform holds the e-mail index key.
    const live = Number((await t.db.owner.selectFrom('vault_platform_data_keys').select((eb) => eb.fn.countAll<string>().as('n')).where('shredded_at', 'is', null).executeTakeFirstOrThrow()).n);
    expect(live).toBe(demo.staff.length + demo.patientAccounts.length + 2);
    const account = demo.patientAccounts[0]!;
    const indexBefore = await t.db.withPlatform((tx) => accountEmailIndex(tx, vault, account.email));
    const result = await rotateKeys(t.db, vault, null);
    expect(result).toMatchObject({ keyspace: 'platform', fromVersion: 1, toVersion: 2, rewrapped: live, retiredVersions: [1] });
    const fresh = createVault({ provider });
    expect(await t.db.withPlatform((tx) => fresh.decryptField(tx, secret, c))).toBe('SEED');
    // Accounts still open, and the e-mail index (its key re-wrapped, not changed) still finds them.
    expect(await t.db.withPlatform((tx) => accountEmailIndex(tx, fresh, account.email))).toBe(indexBefore);
    expect((await t.db.withPlatform((tx) => accountProfiles(tx, fresh, [account.userId]))).get(account.userId)?.email).toBe(account.email);
  });

  it('gives an establishment that never encrypted anything its first key version', async () => {
    // A new establishment: the demo ones all hold encrypted patient files.
    const c = uuidv7();
    await t.db.owner.insertInto('establishments').values({ id: c, name: 'Centre sans dossiers', address_line: '1 rue Neuve', city: 'Lyon', postal_code: '69001' }).execute();
    expect(await rotateKeys(t.db, vault, c)).toMatchObject({ fromVersion: null, toVersion: 1, rewrapped: 0, retiredVersions: [] });
    expect(await versions(c)).toEqual([{ version: 1, state: 'active' }]);
  });

  it('moves every keyspace onto a new root key, after which the old root key can be removed', async () => {
    const user = uuidv7();
    const secret = { establishmentId: null, ownerKind: 'user' as const, ownerId: user, table: 'users', column: 'totp_secret', rowId: user };
    const c = await t.db.withPlatform((tx) => vault.encryptField(tx, secret, 'SEED-2'));
    const newRoot = randomBytes(32);
    const env = (...keys: Buffer[]) => testConfig({ HYGIE_MASTER_KEY: keys.map((k) => k.toString('base64')).join(',') });
    const during = await openVault(env(newRoot, oldRoot), t.db);
    const results = await rotateAllKeys(t.db, during);
    const establishments = (await t.db.owner.selectFrom('establishments').select('id').orderBy('id').execute()).map((e) => e.id);
    expect(results.map((r) => r.keyspace)).toEqual([...establishments, 'platform']);
    expect(results.every((r) => r.retiredVersions.length === (r.fromVersion === null ? 0 : 1))).toBe(true);

    // The old root key is no longer needed: an instance holding only the new one opens and reads
    // everything; one holding only the old one is refused at start-up.
    const after = await openVault(env(newRoot), t.db);
    expect(await t.db.withTenant(a, (tx) => after.decryptField(tx, ctx(patients[2]!, a), ciphertexts[2]!))).toBe('Patient 2');
    expect(await t.db.withTenant(b, (tx) => after.decryptField(tx, ctx(patients[0]!, b), ofB))).toBe('autre établissement');
    expect(await t.db.withPlatform((tx) => after.decryptField(tx, secret, c))).toBe('SEED-2');
    await expect(openVault(env(oldRoot), t.db)).rejects.toThrow(/need root keys/);
  });
});

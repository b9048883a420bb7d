// The vault against a real database (PGlite, or PostgreSQL with DATABASE_URL): envelope
// encryption bound to rows, tenant walls on keys, batch decryption with cached keys, crypto-
// shredding, platform secrets and blind indexes. Every property has its negative case.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { v7 as uuidv7 } from 'uuid';
import { createTestDatabase, testConfig, type TestDatabase } from './helpers/db.js';
import { seedDemo } from '../src/seed/demo.js';
import type { DemoData } from '../src/seed/demo-data.js';
import {
  createEnvKeyProvider,
  createVault,
  keyIdOf,
  openVault,
  VaultError,
  type KeyProvider,
  type PatientFieldContext,
  type Vault,
} from '../src/modules/vault/index.js';

/** A provider that counts unwraps, to prove keys are cached and batched. */
function countingProvider(inner: KeyProvider): KeyProvider & { unwraps: number } {
  const p = {
    ...inner,
    unwraps: 0,
    async unwrap(keyRef: string, scope: string, wrapped: Buffer, aad: Buffer) {
      p.unwraps += 1;
      return inner.unwrap(keyRef, scope, wrapped, aad);
    },
  };
  return p;
}

async function vaultErrorCode(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof VaultError) return error.code;
    throw error;
  }
  return 'no error';
}

describe('vault', () => {
  let t: TestDatabase;
  let data: DemoData;
  let rootKey: Buffer;
  let provider: KeyProvider;
  let vault: Vault;
  let a: string;
  let b: string;
  let patientsOfA: string[];
  let patientOfB: string;

  beforeAll(async () => {
    t = await createTestDatabase();
    rootKey = randomBytes(32);
    provider = createEnvKeyProvider([rootKey]);
    vault = createVault({ provider });
    // The demo's patient files are encrypted under this test's root key (a separate cache).
    ({ data } = await seedDemo(t.db, undefined, createVault({ provider })));
    a = data.establishments[0]!.id;
    b = data.establishments[1]!.id;
    patientsOfA = data.patientFiles.filter((f) => f.establishmentId === a).map((f) => f.id);
    patientOfB = data.patientFiles.find((f) => f.establishmentId === b)!.id;
  });
  afterAll(async () => t?.drop());

  const field = (patientId: string, column = 'birth_name', establishmentId = a): PatientFieldContext => ({
    establishmentId,
    patientId,
    table: 'patients',
    column,
    rowId: patientId,
  });

  it('encrypts a field so the row holds only a versioned ciphertext, and decrypts it back', async () => {
    const p = patientsOfA[0]!;
    const stored = await t.db.withTenant(a, async (tx) => {
      const c = await vault.encryptField(tx, field(p), 'DUPONT-LÉGER');
      await tx.updateTable('patients').set({ birth_name_enc: c! }).where('id', '=', p).execute();
      return (await tx.selectFrom('patients').select('birth_name_enc').where('id', '=', p).executeTakeFirstOrThrow()).birth_name_enc;
    });
    expect(stored).toMatch(/^hv1:[A-Za-z0-9_-]+$/);
    expect(stored).not.toContain('DUPONT');
    const plain = await t.db.withTenant(a, (tx) => vault.decryptField(tx, field(p), stored));
    expect(plain).toBe('DUPONT-LÉGER');
    // Null stays null, empty stays empty.
    expect(await t.db.withTenant(a, (tx) => vault.encryptField(tx, field(p), null))).toBeNull();
    const empty = await t.db.withTenant(a, (tx) => vault.encryptField(tx, field(p), ''));
    expect(await t.db.withTenant(a, (tx) => vault.decryptField(tx, field(p), empty))).toBe('');
  });

  it('a ciphertext copied to another row, column or table does not decrypt', async () => {
    const [p, q] = patientsOfA;
    const c = await t.db.withTenant(a, async (tx) => {
      const ct = await vault.encryptField(tx, field(p!), 'MARTIN');
      await tx.updateTable('patients').set({ birth_name_enc: ct! }).where('id', '=', p!).execute();
      // The attacker with SQL access moves the ciphertext to another row and column.
      await sql`update patients set used_name_enc = (select birth_name_enc from patients where id = ${p!}) where id = ${q!}`.execute(tx);
      return ct!;
    });
    const moved = await t.db.withTenant(a, async (tx) => (await tx.selectFrom('patients').select('used_name_enc').where('id', '=', q!).executeTakeFirstOrThrow()).used_name_enc);
    expect(moved).toBe(c);
    // Same patient key, other row / column / table: authentication fails.
    expect(await vaultErrorCode(t.db.withTenant(a, (tx) => vault.decryptField(tx, { ...field(p!), rowId: q! }, c)))).toBe('decryption_failed');
    expect(await vaultErrorCode(t.db.withTenant(a, (tx) => vault.decryptField(tx, field(p!, 'used_name'), c)))).toBe('decryption_failed');
    expect(await vaultErrorCode(t.db.withTenant(a, (tx) => vault.decryptField(tx, { ...field(p!), table: 'clinical_entries' }, c)))).toBe('decryption_failed');
    // Read as patient q's field, where it now sits: the key is p's, not q's.
    expect(await vaultErrorCode(t.db.withTenant(a, (tx) => vault.decryptField(tx, field(q!, 'used_name'), moved)))).toBe('decryption_failed');
    // And the genuine one still works.
    expect(await t.db.withTenant(a, (tx) => vault.decryptField(tx, field(p!), c))).toBe('MARTIN');
  });

  it('gives each patient their own data key, and an establishment cannot use another one\'s keys', async () => {
    const [p, q] = patientsOfA;
    const [cp, cq] = await t.db.withTenant(a, (tx) =>
      vault.encryptFields(tx, [
        { ctx: field(p!), value: 'x' },
        { ctx: field(q!), value: 'y' },
      ]),
    );
    expect(keyIdOf(cp!)).not.toBe(keyIdOf(cq!));
    // A fresh vault (nothing cached) inside establishment B: A's keys are behind the tenant wall.
    const fresh = createVault({ provider });
    expect(await vaultErrorCode(t.db.withTenant(b, (tx) => fresh.decryptField(tx, field(p!), cp!)))).toBe('key_not_found');
    expect(await vaultErrorCode(t.db.withTenant(b, (tx) => fresh.decryptField(tx, field(p!, 'birth_name', b), cp!)))).toBe('key_not_found');
    // B's own patient works in B.
    const cb = await t.db.withTenant(b, (tx) => fresh.encryptField(tx, field(patientOfB, 'birth_name', b), 'B'));
    expect(await t.db.withTenant(b, (tx) => fresh.decryptField(tx, field(patientOfB, 'birth_name', b), cb))).toBe('B');
  });

  it('decrypts a list of 50 patients with one unwrap per key, and none on the second page view', async () => {
    const fifty = patientsOfA.slice(0, 50);
    expect(fifty).toHaveLength(50);
    expect(patientsOfA.length).toBeGreaterThan(55);
    const items = fifty.map((p, i) => ({ ctx: field(p, 'city'), value: `Ville ${i}` }));
    const cipher = await t.db.withTenant(a, (tx) => vault.encryptFields(tx, items));
    const counting = countingProvider(provider);
    const reader = createVault({ provider: counting });
    const list = items.map((item, i) => ({ ctx: item.ctx, value: cipher[i]! }));
    const first = await t.db.withTenant(a, (tx) => reader.decryptFields(tx, list));
    expect(first).toEqual(items.map((i) => i.value));
    expect(counting.unwraps).toBe(50);
    const second = await t.db.withTenant(a, (tx) => reader.decryptFields(tx, list));
    expect(second).toEqual(first);
    expect(counting.unwraps).toBe(50);
    // Without a cache every view unwraps again (the cache is what saves the work).
    const uncached = createVault({ provider: counting, cacheTtlMs: 0 });
    await t.db.withTenant(a, (tx) => uncached.decryptFields(tx, list));
    expect(counting.unwraps).toBe(100);
  });

  it('encrypts the columns of a row together, and swapping two columns of the row breaks both', async () => {
    const [p, q] = [patientsOfA[40]!, patientsOfA[41]!];
    const row = (patientId: string) => ({ establishmentId: a, patientId, table: 'patients', rowId: patientId });
    const enc = await t.db.withTenant(a, (tx) => vault.encryptColumns(tx, row(p), { birth_name: 'GARNIER', email: 'g@example.fr', phone: null }));
    expect(enc.phone).toBeNull();
    expect(Object.values(enc).join()).not.toMatch(/GARNIER|example/);
    expect(await t.db.withTenant(a, (tx) => vault.decryptColumns(tx, row(p), enc))).toEqual({ birth_name: 'GARNIER', email: 'g@example.fr', phone: null });
    const swapped = { birth_name: enc.email, email: enc.birth_name, phone: null };
    await expect(t.db.withTenant(a, (tx) => vault.decryptColumns(tx, row(p), swapped))).rejects.toThrow(VaultError);
    const other = await t.db.withTenant(a, (tx) => vault.encryptColumns(tx, row(q), { birth_name: 'PERRIN', email: null, phone: '0601020304' }));
    const list = await t.db.withTenant(a, (tx) =>
      createVault({ provider }).decryptRows(tx, [
        { row: row(p), values: enc },
        { row: row(q), values: other },
      ]),
    );
    expect(list).toEqual([
      { birth_name: 'GARNIER', email: 'g@example.fr', phone: null },
      { birth_name: 'PERRIN', email: null, phone: '0601020304' },
    ]);
  });

  it('never reuses a data key whose creating transaction rolled back', async () => {
    // A patient with no key yet (the demo files all have theirs since records encrypt them).
    const p = uuidv7();
    let lost: string | null = null;
    await expect(
      t.db.withTenant(a, async (tx) => {
        lost = await vault.encryptField(tx, field(p), 'lost');
        throw new Error('rollback');
      }),
    ).rejects.toThrow('rollback');
    const kept = await t.db.withTenant(a, (tx) => vault.encryptField(tx, field(p), 'kept'));
    expect(keyIdOf(kept!)).not.toBe(keyIdOf(lost!));
    expect(await t.db.withTenant(a, (tx) => vault.decryptField(tx, field(p), kept))).toBe('kept');
    expect(await vaultErrorCode(t.db.withTenant(a, (tx) => vault.decryptField(tx, field(p), lost)))).toBe('key_not_found');
  });

  it('a prepared key exists only through the statement that inserts it, and only a key this vault prepared is used', async () => {
    const p = uuidv7();
    const key = await t.db.withTenantAutocommit(a, (exec) => vault.preparePatientKey(exec, { establishmentId: a, patientId: p }));
    // Sealing with it needs no key statement; the field does not open while the key is not stored.
    const [sealed] = await t.db.withTenant(a, (tx) => vault.encryptFields(tx, [{ ctx: field(p), value: 'prepared' }], { prepared: [key] }));
    expect(keyIdOf(sealed!)).toBe(key.id);
    expect(await vaultErrorCode(t.db.withTenant(a, (tx) => createVault({ provider }).decryptField(tx, field(p), sealed!)))).toBe('key_not_found');
    // A statement that inserts it and then fails leaves no key behind.
    await expect(
      t.db.withTenant(a, (tx) => sql`with keyed as (${vault.preparedKeyInsert(key)}) select 1 / 0`.execute(tx)),
    ).rejects.toThrow(/division by zero/);
    expect(await t.db.owner.selectFrom('vault_data_keys').select('id').where('owner_id', '=', p).execute()).toHaveLength(0);
    await t.db.withTenant(a, (tx) => sql`with keyed as (${vault.preparedKeyInsert(key)}) select count(*) from keyed`.execute(tx));
    expect(await t.db.withTenant(a, (tx) => createVault({ provider }).decryptField(tx, field(p), sealed!))).toBe('prepared');
    // Inserting it twice is refused by the table (one key per owner), and is no stale version.
    const twice = await t.db.withTenant(a, (tx) => sql`with keyed as (${vault.preparedKeyInsert(key)}) select 1`.execute(tx)).catch((e: unknown) => e);
    expect((twice as { code?: string }).code).toBe('23505');
    expect(vault.isStaleKeyVersion(twice, key)).toBe(false);

    // A look-alike handle, or one from another vault, is refused: its key material is not there.
    const forged = { ...key };
    const other = createVault({ provider });
    for (const v of [vault, other]) {
      const handle = v === vault ? forged : key;
      expect(await vaultErrorCode(t.db.withTenant(a, (tx) => v.encryptFields(tx, [{ ctx: field(p), value: 'x' }], { prepared: [handle] })))).toBe('invalid_context');
      expect(() => v.preparedKeyInsert(handle)).toThrow(VaultError);
    }
    // A file of another establishment cannot take a key prepared for this one.
    const elsewhere = await t.db.withTenantAutocommit(b, (exec) => vault.preparePatientKey(exec, { establishmentId: b, patientId: uuidv7() }));
    await expect(t.db.withTenant(a, (tx) => sql`with keyed as (${vault.preparedKeyInsert(elsewhere)}) select 1`.execute(tx))).rejects.toThrow();
  });

  it('keys read with the rows (ownerKeyColumn) need no statement of their own; a key row made up for an owner does not open', async () => {
    const [p, q] = patientsOfA as [string, string];
    const [cp, cq] = await t.db.withTenant(a, (tx) => vault.encryptFields(tx, [{ ctx: field(p), value: 'P' }, { ctx: field(q), value: 'Q' }]));
    const keyRow = (id: string) =>
      t.db
        .withTenant(a, (tx) => tx.selectNoFrom(vault.ownerKeyColumn({ establishmentId: a, ownerKind: 'patient' }, sql`${id}::uuid`).as('k')).executeTakeFirstOrThrow())
        .then((r) => r.k as Record<string, unknown>);
    const [kp, kq] = [await keyRow(p), await keyRow(q)];
    expect(kp.id).toBe(keyIdOf(cp!));
    // Another owner's column holds no key: null.
    expect(await keyRow(uuidv7())).toBeNull();
    const done = new Error('rolled back');
    const opened = await t.db
      .withTenant(a, async (tx) => {
        // After a failed statement every other one fails: what opens here needed none.
        await sql`select 1 / 0`.execute(tx).catch(() => undefined);
        const cold = createVault({ provider });
        const values = await cold.decryptFields(tx, [{ ctx: field(p), value: cp! }, { ctx: field(q), value: cq! }], { keyRows: [kp, kq] });
        // A key row whose wrapped key is another owner's does not unwrap under this owner's binding.
        const forged = { ...kq, wrapped_key: kp.wrapped_key };
        const refused = await createVault({ provider }).decryptFields(tx, [{ ctx: field(q), value: cq! }], { keyRows: [forged] }).catch((e: unknown) => e);
        // Without its row, the key is read as usual, and here that fails.
        const unread = await createVault({ provider }).decryptFields(tx, [{ ctx: field(q), value: cq! }], { keyRows: [kp] }).catch((e: unknown) => e);
        throw Object.assign(done, { values, refused, unread });
      })
      .catch((e: unknown) => e as typeof done & { values: unknown; refused: unknown; unread: unknown });
    expect(opened.values).toEqual(['P', 'Q']);
    expect(opened.refused).toBeInstanceOf(Error);
    expect(opened.refused).not.toBe(done);
    expect(String(opened.refused)).not.toMatch(/aborted/);
    expect(String(opened.unread)).toMatch(/aborted/);
  });

  it('crypto-shredding makes every ciphertext of the patient unreadable, and only theirs', async () => {
    const [p, q] = [patientsOfA[52]!, patientsOfA[53]!];
    const [cp1, cp2, cq] = await t.db.withTenant(a, (tx) =>
      vault.encryptFields(tx, [
        { ctx: field(p), value: 'ROUSSEAU' },
        { ctx: { ...field(p), table: 'clinical_entries', column: 'body', rowId: uuidv7() }, value: 'diagnostic' },
        { ctx: field(q), value: 'LEROY' },
      ]),
    );
    // Warm the cache: shredding must evict it.
    expect(await t.db.withTenant(a, (tx) => vault.decryptField(tx, field(p), cp1!))).toBe('ROUSSEAU');
    expect(await t.db.withTenant(a, (tx) => vault.shredPatientKey(tx, { establishmentId: a, patientId: p }))).toBe(true);
    expect(await vaultErrorCode(t.db.withTenant(a, (tx) => vault.decryptField(tx, field(p), cp1!)))).toBe('key_shredded');
    const fresh = createVault({ provider });
    expect(await vaultErrorCode(t.db.withTenant(a, (tx) => fresh.decryptField(tx, field(p), cp1!)))).toBe('key_shredded');
    expect(await vaultErrorCode(t.db.withTenant(a, (tx) => fresh.decryptBytes(tx, field(p), Buffer.from(cp2!.slice(4), 'base64url'))))).toBe('key_shredded');
    // No silent new key for a shredded patient.
    expect(await vaultErrorCode(t.db.withTenant(a, (tx) => vault.encryptField(tx, field(p), 'again')))).toBe('key_shredded');
    // The row is a tombstone without material; the other patient is untouched.
    const row = await t.db.owner.selectFrom('vault_data_keys').selectAll().where('owner_id', '=', p).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ wrapped_key: null, kek_version: null });
    expect(row.shredded_at).not.toBeNull();
    expect(await t.db.withTenant(a, (tx) => fresh.decryptField(tx, field(q), cq!))).toBe('LEROY');
    expect(await t.db.withTenant(a, (tx) => vault.shredPatientKey(tx, { establishmentId: a, patientId: p }))).toBe(false);
    // A list holding the erased patient still shows the others when asked to.
    const list = [
      { ctx: field(p), value: cp1! },
      { ctx: field(q), value: cq! },
    ];
    expect(await vaultErrorCode(t.db.withTenant(a, (tx) => fresh.decryptFields(tx, list)))).toBe('key_shredded');
    expect(await t.db.withTenant(a, (tx) => fresh.decryptFields(tx, list, { shredded: 'null' }))).toEqual([null, 'LEROY']);
    // Another establishment cannot shred A's patient.
    expect(await t.db.withTenant(b, (tx) => vault.shredPatientKey(tx, { establishmentId: b, patientId: q }))).toBe(false);
    expect(await t.db.withTenant(a, (tx) => fresh.decryptField(tx, field(q), cq!))).toBe('LEROY');
  });

  it('the application role cannot delete keys: shredding is the only way to destroy one', async () => {
    await expect(t.db.withTenant(a, (tx) => sql`delete from vault_data_keys`.execute(tx))).rejects.toThrow(/permission denied/);
    await expect(t.db.withPlatform((tx) => sql`delete from vault_platform_data_keys`.execute(tx))).rejects.toThrow(/permission denied/);
  });

  it('encrypts user secrets in the platform keyspace, bound to their user', async () => {
    const user = data.staff[0]!.userId;
    const other = data.staff[1]!.userId;
    const ctx = { establishmentId: null, ownerKind: 'user' as const, ownerId: user, table: 'users', column: 'totp_secret', rowId: user };
    const c = await t.db.withPlatform((tx) => vault.encryptField(tx, ctx, 'JBSWY3DPEHPK3PXP'));
    expect(c).not.toContain('JBSWY3DPEHPK3PXP');
    const fresh = createVault({ provider });
    expect(await t.db.withPlatform((tx) => fresh.decryptField(tx, ctx, c))).toBe('JBSWY3DPEHPK3PXP');
    expect(await vaultErrorCode(t.db.withPlatform((tx) => fresh.decryptField(tx, { ...ctx, ownerId: other, rowId: other }, c)))).toBe('decryption_failed');
    // Cached as a platform key, it is refused for an establishment keyspace; uncached, it is not there.
    expect(await vaultErrorCode(t.db.withTenant(a, (tx) => fresh.decryptField(tx, { ...ctx, establishmentId: a }, c)))).toBe('decryption_failed');
    const uncached = createVault({ provider });
    expect(await vaultErrorCode(t.db.withTenant(a, (tx) => uncached.decryptField(tx, { ...ctx, establishmentId: a }, c)))).toBe('key_not_found');
    expect(await t.db.withPlatform((tx) => fresh.shredSecretKey(tx, { establishmentId: null, ownerKind: 'user', ownerId: user }))).toBe(true);
    expect(await vaultErrorCode(t.db.withPlatform((tx) => fresh.decryptField(tx, ctx, c)))).toBe('key_shredded');
  });

  it('blind indexes match normalised spellings, differ between establishments, and hold no name', async () => {
    const idx = (establishmentId: string, name: string, birthDate: string) =>
      t.db.withTenant(establishmentId, (tx) =>
        vault.blindIndex(tx, { establishmentId, purpose: 'patient.name_birth_date' }, [{ name }, { date: birthDate }]),
      );
    const i1 = await idx(a, 'DUPONT', '1970-01-31');
    expect(await idx(a, 'Dupont', '1970-01-31')).toBe(i1);
    expect(await idx(a, ' dupont ', '1970-01-31')).toBe(i1);
    expect(await idx(a, 'DUPOND', '1970-01-31')).not.toBe(i1);
    expect(await idx(a, 'DUPONT', '1970-01-30')).not.toBe(i1);
    expect(await idx(b, 'DUPONT', '1970-01-31')).not.toBe(i1);
    expect(i1.toLowerCase()).not.toContain('dupont');
    // A fresh vault derives the same index (the key is stored wrapped, not kept in memory only).
    const fresh = createVault({ provider });
    const again = await t.db.withTenant(a, (tx) =>
      fresh.blindIndex(tx, { establishmentId: a, purpose: 'patient.name_birth_date' }, [{ name: 'Dupont' }, { date: '1970-01-31' }]),
    );
    expect(again).toBe(i1);
    const accents = await t.db.withTenant(a, (tx) =>
      fresh.blindIndexer(tx, a).then((index) => [index('patient.birth_name', [{ name: 'Éloïse' }]), index('patient.birth_name', [{ name: 'ELOISE' }])]),
    );
    expect(accents[0]).toBe(accents[1]);
    await expect(idx(a, '', '1970-01-31')).rejects.toThrow(RangeError);
  });

  it('an instance whose keyring lacks the keys the database uses refuses to open the vault', async () => {
    const right = testConfig({ HYGIE_MASTER_KEY: rootKey.toString('base64') });
    const opened = await openVault(right, t.db);
    const probe = patientsOfA[0]!;
    const c = await t.db.withTenant(a, (tx) => opened.encryptField(tx, field(probe), 'ok'));
    expect(await t.db.withTenant(a, (tx) => opened.decryptField(tx, field(probe), c))).toBe('ok');
    const wrong = testConfig({ HYGIE_MASTER_KEY: randomBytes(32).toString('base64') });
    await expect(openVault(wrong, t.db)).rejects.toThrow(/need root keys that this instance's key provider does not hold/);
    // A local provider with no key file is refused too, and no fresh key file is made for this database.
    const emptyDir = await mkdtemp(path.join(tmpdir(), 'hygie-nokey-'));
    await expect(openVault(testConfig({ HYGIE_DATA_DIR: emptyDir }), t.db)).rejects.toThrow(/the key file is missing/);
    expect(await readdir(emptyDir)).toEqual([]);
    await rm(emptyDir, { recursive: true, force: true });
    // A stray wrong key cannot read either (unwrap fails), even bypassing the start-up check.
    const stray = createVault({ provider: createEnvKeyProvider([randomBytes(32)]) });
    expect(await vaultErrorCode(t.db.withTenant(a, (tx) => stray.decryptField(tx, field(probe), c)))).toBe('unknown_root_key');
  });
});

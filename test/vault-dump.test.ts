// A full dump of the database (every table, every column, as text) holds ciphertexts and wrapped
// keys only: no plaintext of encrypted values, no data key, no root key from the key file.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { binaryForms, demoPatientValues, dumpDatabase, dumpTables, findInDump } from './helpers/dump.js';
import { seedDemo } from '../src/seed/demo.js';
import type { DemoData } from '../src/seed/demo-data.js';
import { createLocalKeyProvider, createVault, KEY_FILE_NAME, rotateKeys, type KeyProvider, type Vault } from '../src/modules/vault/index.js';

/** Records every data key it wraps or unwraps: the test knows what must not leak. */
function spyingProvider(inner: KeyProvider, seen: Buffer[]): KeyProvider {
  return {
    ...inner,
    async wrap(keyRef, scope, dataKey, aad) {
      seen.push(Buffer.from(dataKey));
      return inner.wrap(keyRef, scope, dataKey, aad);
    },
    async unwrap(keyRef, scope, wrapped, aad) {
      const key = await inner.unwrap(keyRef, scope, wrapped, aad);
      seen.push(Buffer.from(key));
      return key;
    },
  };
}

describe('a database dump holds no secret in clear', () => {
  let t: TestDatabase;
  let data: DemoData;
  let dir: string;
  let vault: Vault;
  const dataKeys: Buffer[] = [];
  const secrets = ['Hémochromatose héréditaire HFE C282Y', 'Amoxicilline 1 g matin et soir', 'JBSWY3DPEHPK3PXP', '1 84 12 76 451 089 46'];
  let dump: string;

  beforeAll(async () => {
    t = await createTestDatabase();
    dir = await mkdtemp(path.join(tmpdir(), 'hygie-dump-'));
    vault = createVault({ provider: spyingProvider(createLocalKeyProvider(dir), dataKeys) });
    ({ data } = await seedDemo(t.db, undefined, vault));
    for (const establishment of data.establishments.slice(0, 2)) {
      const files = data.patientFiles.filter((f) => f.establishmentId === establishment.id).slice(0, 10);
      await t.db.withTenant(establishment.id, async (tx) => {
        for (const [i, f] of files.entries()) {
          const c = await vault.encryptField(
            tx,
            { establishmentId: establishment.id, patientId: f.id, table: 'patients', column: 'used_name_enc', rowId: f.id },
            secrets[i % 2]!,
          );
          await tx.updateTable('patients').set({ used_name_enc: c }).where('id', '=', f.id).execute();
        }
        await vault.blindIndex(tx, { establishmentId: establishment.id, purpose: 'patient.ins' }, [{ identifier: secrets[3]! }]);
      });
    }
    const user = data.staff[0]!.userId;
    await t.db.withPlatform(async (tx) => {
      const c = await vault.encryptField(tx, { establishmentId: null, ownerKind: 'user', ownerId: user, table: 'users', column: 'totp_secret', rowId: user }, secrets[2]!);
      await tx.updateTable('users').set({ totp_secret: c }).where('id', '=', user).execute();
    });
    // A rotation leaves two key versions behind: the dump must hold neither in clear.
    await rotateKeys(t.db, vault, data.establishments[0]!.id);
    dump = await dumpDatabase(t.db);
  });
  afterAll(async () => {
    await t?.drop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('dumps every table, vault tables included, and the search finds what is there', async () => {
    const tables = (await dumpTables(t.db)).map((d) => d.table);
    expect(tables).toEqual(expect.arrayContaining(['patients', 'users', 'vault_data_keys', 'vault_establishment_keys', 'vault_platform_data_keys']));
    // Positive controls: public data is found, folded or not; ciphertexts and wrapped keys are in the dump.
    expect(findInDump(dump, ['Clinique des Cèdres', 'CLINIQUE DES CEDRES'])).toEqual(['Clinique des Cèdres', 'CLINIQUE DES CEDRES']);
    expect(dump).toMatch(/hv1:[A-Za-z0-9_-]{40,}/);
    const wrapped = await t.db.owner.selectFrom('vault_data_keys').select('wrapped_key').where('wrapped_key', 'is not', null).execute();
    expect(wrapped.length).toBeGreaterThan(20);
    expect(dump).toContain(`\\\\x${wrapped[0]!.wrapped_key!.toString('hex')}`);
    expect(() => findInDump(dump, ['ab'])).toThrow(RangeError);
  });

  it('gives the records proof the demo patients\' values to look for', () => {
    const values = demoPatientValues(data);
    expect(values.names.length).toBeGreaterThan(150);
    expect(values.emails.length).toBeGreaterThan(20);
    expect(values.phones.length).toBeGreaterThan(150);
    expect(values.addresses.length).toBeGreaterThan(150);
    const file = data.patientFiles[0]!;
    expect(values.names).toContain(`${file.firstNames} ${file.birthName}`);
    // The search is accent- and case-insensitive: a folded copy of a name is still found.
    const folded = `${file.firstNames} ${file.birthName}`.normalize('NFKD').replace(/\p{M}+/gu, '').toUpperCase();
    expect(findInDump(`patients\t(${folded})`, [`${file.firstNames} ${file.birthName}`])).toHaveLength(1);
  });

  it('holds none of the encrypted values, nor the searched identifier', () => {
    expect(findInDump(dump, secrets)).toEqual([]);
    expect(findInDump(dump, ['184127645108946'])).toEqual([]);
  });

  it('holds no data key in any encoding', () => {
    expect(dataKeys.length).toBeGreaterThan(20);
    // Every patient file has its own key now: search a spread sample of them (the search of one key
    // in every encoding scans the whole dump).
    const step = Math.max(1, Math.floor(dataKeys.length / 64));
    const sample = dataKeys.filter((_, i) => i % step === 0);
    const lower = dump.toLowerCase();
    const leaks = sample.flatMap((k) => binaryForms(k)).filter((form) => lower.includes(form.toLowerCase()));
    expect(leaks).toEqual([]);
  });

  it('holds no root key: the key file lives beside the database, never in it', async () => {
    const file = JSON.parse(await readFile(path.join(dir, KEY_FILE_NAME), 'utf8')) as { keys: Array<{ key: string }> };
    expect(file.keys.length).toBe(1);
    for (const { key } of file.keys) {
      const raw = Buffer.from(key, 'base64');
      expect(binaryForms(raw).filter((form) => dump.toLowerCase().includes(form.toLowerCase()))).toEqual([]);
    }
    expect(dump).not.toContain(KEY_FILE_NAME);
  });
});

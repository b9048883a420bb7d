// `hygie keys rotate` as an operator runs it: a real process, on the embedded database with its
// local key file, or on PostgreSQL with HYGIE_MASTER_KEY.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { v7 as uuidv7 } from 'uuid';
import { runCli } from './helpers/cli.js';
import { onPostgres, testConfig, createTestDatabase, type TestDatabase } from './helpers/db.js';
import { openMigratedDatabase } from '../src/server.js';
import { KEY_FILE_NAME, openVault, type PatientFieldContext } from '../src/modules/vault/index.js';
import type { Config } from '../src/config.js';

describe('hygie keys rotate', () => {
  let dir: string;
  let pg: TestDatabase | undefined;
  let env: Record<string, string>;
  let config: Config;
  const establishmentId = uuidv7();
  const patients = Array.from({ length: 30 }, () => uuidv7());
  const ctx = (patientId: string): PatientFieldContext => ({ establishmentId, patientId, table: 'patients', column: 'birth_name', rowId: patientId });
  let ciphertexts: Array<string | null>;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'hygie-keys-'));
    if (onPostgres()) {
      pg = await createTestDatabase({ migrate: false });
      env = { DATABASE_URL: pg.url!, HYGIE_MASTER_KEY: randomBytes(32).toString('base64'), HYGIE_DATA_DIR: dir };
      await pg.db.close();
    } else {
      env = { HYGIE_DATA_DIR: dir };
    }
    config = testConfig(env);
    const db = await openMigratedDatabase(config);
    try {
      await db.owner
        .insertInto('establishments')
        .values({ id: establishmentId, name: 'Centre de test', address_line: '1 rue de la Clé', city: 'Nantes', postal_code: '44000' })
        .execute();
      const vault = await openVault(config, db);
      ciphertexts = await db.withTenant(establishmentId, (tx) => vault.encryptFields(tx, patients.map((p, i) => ({ ctx: ctx(p), value: `Nom ${i}` }))));
    } finally {
      await db.close();
    }
  }, 120_000);
  afterAll(async () => {
    await pg?.drop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('re-wraps every data key, retires the old version, and the data still reads', async () => {
    const r = await runCli(['keys', 'rotate', '--establishment', establishmentId], env);
    expect(r.stderr).not.toMatch(/failed/);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Key of ${establishmentId} rotated: v1 -> v2, ${patients.length} data key(s) re-wrapped.`);
    expect(r.stdout).toContain('Retired key version(s): v1.');
    expect(r.stderr).toMatch(/Re-wrapping data keys: 100%/);
    if (!onPostgres()) expect((await stat(path.join(dir, KEY_FILE_NAME))).mode & 0o777).toBe(0o600);

    const db = await openMigratedDatabase(config);
    try {
      const vault = await openVault(config, db);
      const plain = await db.withTenant(establishmentId, (tx) => vault.decryptFields(tx, patients.map((p, i) => ({ ctx: ctx(p), value: ciphertexts[i]! }))));
      expect(plain).toEqual(patients.map((_, i) => `Nom ${i}`));
      const versions = await db.owner.selectFrom('vault_establishment_keys').select(['version', 'state']).orderBy('version').execute();
      expect(versions).toEqual([
        { version: 1, state: 'retired' },
        { version: 2, state: 'active' },
      ]);
    } finally {
      await db.close();
    }
  }, 120_000);

  it('refuses bad arguments, an unknown establishment and a wrong keyring', async () => {
    expect((await runCli(['keys', 'rotate'], env)).code).toBe(2);
    expect((await runCli(['keys', 'rotate', '--establishment', 'not-a-uuid'], env)).code).toBe(2);
    expect((await runCli(['keys', 'spin'], env)).code).toBe(2);
    const unknown = await runCli(['keys', 'rotate', '--establishment', uuidv7()], env);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/no establishment/);
    const wrongKey = randomBytes(32).toString('base64');
    const wrong = await runCli(['keys', 'rotate', '--establishment', establishmentId], { ...env, HYGIE_MASTER_KEY: wrongKey });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/need root keys that this instance's key provider does not hold/);
    expect(wrong.stderr + wrong.stdout).not.toContain(wrongKey);
  }, 120_000);
});

// The `hygie` command and server start-up: demo data on the first start of an empty embedded
// database only, data kept across restarts, the data-directory lock, configuration errors.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runCli } from './helpers/cli.js';
import { startServer } from '../src/server.js';
import { openDatabase } from '../src/platform/db/database.js';
import { createLogger } from '../src/platform/log.js';
import { randomBytes } from 'node:crypto';
import { createEnvKeyProvider, createVault, queueCipher } from '../src/modules/vault/index.js';
import { createMailer } from '../src/platform/mail.js';
import { createTestDatabase, onPostgres, testConfig, type TestDatabase } from './helpers/db.js';

const logger = createLogger('silent');

describe('hygie CLI', () => {
  it('rejects a bad configuration with one line per bad value and exit code 2', async () => {
    const r = await runCli(['migrate'], { PORT: 'abc', HYGIE_LOG_LEVEL: 'chatty', HYGIE_DATA_DIR: '/nonexistent' });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/PORT must be an integer/);
    expect(r.stderr).toMatch(/HYGIE_LOG_LEVEL must be one of/);
  });

  it('rejects an unknown command with its usage', async () => {
    const r = await runCli(['frobnicate'], {});
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown command');
    expect(r.stderr).toContain('Usage: hygie');
  });
});

describe.skipIf(onPostgres())('embedded database (PGlite on disk)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'hygie-cli-'));
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  it('first start loads the demo data and writes the accounts file; a restart keeps the data and does not reseed', async () => {
    const config = testConfig({ HYGIE_DATA_DIR: dir, PORT: '0' });
    const first = await startServer(config, { logger });
    expect(first.demoAccountsFile).toBe(path.join(dir, 'demo-accounts.json'));
    const accounts = JSON.parse(await readFile(first.demoAccountsFile!, 'utf8'));
    expect((await stat(first.demoAccountsFile!)).mode & 0o777).toBe(0o600);
    expect(accounts.establishments).toHaveLength(3);
    const health = await fetch(`${first.url}/health`);
    expect(await health.json()).toEqual({ status: 'ok', database: 'ok' });
    const patientsBefore = await first.db.owner.selectFrom('patients').select('id').execute();
    await first.close();

    const second = await startServer(config, { logger });
    expect(second.demoAccountsFile).toBeUndefined();
    const patientsAfter = await second.db.owner.selectFrom('patients').select('id').execute();
    expect(patientsAfter.map((p) => p.id).sort()).toEqual(patientsBefore.map((p) => p.id).sort());
    await second.close();
  }, 180_000);

  it('a second process refuses to open the data directory while it is in use', async () => {
    const config = testConfig({ HYGIE_DATA_DIR: dir });
    const held = await openDatabase(config);
    try {
      const r = await runCli(['seed', '--demo', '--out', path.join(dir, 'x.json')], { HYGIE_DATA_DIR: dir });
      expect(r.code).toBe(3);
      expect(r.stderr).toMatch(/in use by another Hygie process/);
      expect(r.stderr).toMatch(/Stop it first/);
      expect(existsSync(path.join(dir, 'x.json'))).toBe(false);
    } finally {
      await held.close();
    }
  }, 120_000);

  it('seed --demo --out on a database that already holds the demo data only writes the file', async () => {
    const out = path.join(dir, 'demo.json');
    const r = await runCli(['seed', '--demo', '--out', out], { HYGIE_DATA_DIR: dir });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('already holds the demo data');
    const written = JSON.parse(await readFile(out, 'utf8'));
    const original = JSON.parse(await readFile(path.join(dir, 'demo-accounts.json'), 'utf8'));
    // Same establishments, people, ids and passwords; only the base URL follows the configuration.
    expect({ ...written, baseUrl: undefined }).toEqual({ ...original, baseUrl: undefined });
    expect(written.baseUrl).toBe('http://127.0.0.1:3000');
  }, 120_000);
});

describe.skipIf(!onPostgres())('PostgreSQL (DATABASE_URL)', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase({ migrate: false });
  });
  afterAll(async () => t?.drop());

  it('migrate applies the migrations; the server never loads demo data by itself; seed --demo does', async () => {
    const migrate = await runCli(['migrate'], { DATABASE_URL: t.url });
    expect(migrate.code).toBe(0);
    expect(migrate.stdout).toMatch(/Applied \d+ migration/);

    const server = await startServer(testConfig({ DATABASE_URL: t.url!, PORT: '0' }), { logger });
    expect(server.demoAccountsFile).toBeUndefined();
    expect(await server.db.owner.selectFrom('establishments').select('id').execute()).toEqual([]);
    await server.close();

    const dir = await mkdtemp(path.join(tmpdir(), 'hygie-pg-'));
    const out = path.join(dir, 'demo.json');
    const seed = await runCli(['seed', '--demo', '--out', out], { DATABASE_URL: t.url });
    expect(seed.code).toBe(0);
    const accounts = JSON.parse(await readFile(out, 'utf8'));
    expect(accounts.staff.length).toBeGreaterThan(20);
    expect((await t.db.owner.selectFrom('establishments').select('id').execute()).length).toBe(3);
    await rm(dir, { recursive: true, force: true });
  }, 180_000);
});

describe.skipIf(!onPostgres())('hygie mail outbox (PostgreSQL)', () => {
  let t: TestDatabase;
  afterAll(async () => t?.drop());

  it('prints the sealed development outbox of one recipient, decrypted with the configured keys', async () => {
    t = await createTestDatabase();
    const key = randomBytes(32);
    const vault = createVault({ provider: createEnvKeyProvider([key]) });
    const mailer = createMailer(testConfig(), { db: t.db, logger, cipher: queueCipher(vault) });
    await mailer.send({ to: 'Dev.Eloise@example.fr', subject: 'Réinitialisation de votre mot de passe', text: 'Ouvrez http://localhost/reset-password#token=abc', template: 'identity.password_reset' });
    const env = { DATABASE_URL: t.url, HYGIE_MASTER_KEY: key.toString('base64') };
    const found = await runCli(['mail', 'outbox', '--to', 'dev.eloise@example.fr'], env);
    expect(found.code, found.stderr).toBe(0);
    expect(found.stdout).toContain('identity.password_reset');
    expect(found.stdout).toContain('#token=abc');
    const none = await runCli(['mail', 'outbox', '--to', 'personne@example.fr'], env);
    expect(none.stdout).toContain('No message kept');
  }, 120_000);
});

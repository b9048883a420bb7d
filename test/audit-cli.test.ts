// `hygie audit verify` as an operator runs it: a separate process, exit codes, the first bad event
// named; on demo data; and refused with a clear message while the server holds the embedded database.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { createTestDatabase, onPostgres, testConfig, type TestDatabase } from './helpers/db.js';
import { appendMany, insertEstablishments } from './helpers/audit.js';
import { keyringFromConfig, sealPending } from '../src/modules/audit/index.js';
import { openMigratedDatabase } from '../src/server.js';
import type { Config } from '../src/config.js';
import type { Database } from '../src/platform/db/database.js';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function hygie(args: string[], env: Record<string, string>): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(path.resolve('node_modules/.bin/tsx'), ['src/main.ts', ...args], {
      env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '', HYGIE_LOG_LEVEL: 'silent', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('hygie audit verify (CLI)', { timeout: 180_000 }, () => {
  let dataDir: string;
  let env: Record<string, string>;
  let config: Config;
  let server: TestDatabase | undefined;
  let a: string;
  let b: string;
  let idsA: string[];

  // The embedded database is a directory only one process may open: open, work, close.
  const withDb = async <T>(fn: (db: Database) => Promise<T>): Promise<T> => {
    if (server) return fn(server.db);
    const db = await openMigratedDatabase(config);
    try {
      return await fn(db);
    } finally {
      await db.close();
    }
  };

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'hygie-audit-cli-'));
    env = { HYGIE_DATA_DIR: dataDir };
    if (onPostgres()) {
      server = await createTestDatabase();
      env['DATABASE_URL'] = server.url!;
    }
    config = testConfig(env);
    await withDb(async (db) => {
      [a, b] = (await insertEstablishments(db)) as [string, string];
      idsA = await appendMany(db, a, 8, 4);
      await appendMany(db, b, 3, 3);
      await appendMany(db, null, 2, 1);
      await sealPending(db, keyringFromConfig(config));
    });
  });
  afterAll(async () => {
    await server?.drop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('exits 0 on an intact log, one line per stream', async () => {
    const run = await hygie(['audit', 'verify'], env);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`ok establishment ${a}: 8 event(s) chained, sealed up to seq 8`);
    expect(run.stdout).toContain(`ok establishment ${b}: 3 event(s) chained`);
    expect(run.stdout).toContain('ok platform stream: 2 event(s) chained');
  });

  it('exports the checkpoints to a 0600 file', async () => {
    const file = path.join(dataDir, 'outside', 'checkpoints.jsonl');
    const run = await hygie(['audit', 'export', '--out', file], env);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('3 checkpoint(s) written');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
  });

  it('exits 1 naming the first bad event after an edit by the database owner, and with the outside checkpoints after a rewrite', async () => {
    await withDb(async (db) => {
      await sql`alter table audit_events disable trigger audit_events_no_update_delete`.execute(db.owner);
      await sql`update audit_events set categories = '{}' where id = ${idsA[5]}`.execute(db.owner);
      await sql`alter table audit_events enable trigger audit_events_no_update_delete`.execute(db.owner);
    });
    const run = await hygie(['audit', 'verify'], env);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(`TAMPERED establishment ${a}: event ${idsA[5]} (seq 6) does not match the chain`);
    expect(run.stdout).toContain(`ok establishment ${b}`);
    expect(run.stderr).toContain(`first bad event: ${idsA[5]}`);

    const onlyB = await hygie(['audit', 'verify', '--establishment', b], env);
    expect(onlyB.code).toBe(0);
    const withFile = await hygie(['audit', 'verify', '--establishment', a, '--checkpoints', path.join(dataDir, 'outside', 'checkpoints.jsonl')], env);
    expect(withFile.code).toBe(1);
    expect(withFile.stdout).toContain(idsA[5]);
  });

  it('refuses a malformed establishment id', async () => {
    const run = await hygie(['audit', 'verify', '--establishment', "1' or '1'='1"], env);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--establishment takes an establishment id');
  });

  it.skipIf(onPostgres())('says to stop the server first while the embedded database is in use', async () => {
    const db = await openMigratedDatabase(config);
    try {
      const run = await hygie(['audit', 'verify'], env);
      expect(run.code).toBe(3);
      expect(run.stderr).toMatch(/in use by another Hygie process.*Stop it first/s);
    } finally {
      await db.close();
    }
  });
});

describe('hygie audit verify on the demo data', { timeout: 180_000 }, () => {
  let dataDir: string;
  let pg: TestDatabase | undefined;
  afterAll(async () => {
    await pg?.drop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('exits 0 on freshly seeded demo data', async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'hygie-audit-demo-'));
    const env: Record<string, string> = { HYGIE_DATA_DIR: dataDir };
    if (onPostgres()) {
      pg = await createTestDatabase();
      env['DATABASE_URL'] = pg.url!;
    }
    const seed = await hygie(['seed', '--demo'], env);
    expect(seed.code).toBe(0);
    const run = await hygie(['audit', 'verify'], env);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^ok/);
  });
});

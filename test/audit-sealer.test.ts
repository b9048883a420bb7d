// The sealer as a background worker (started by startServer, stoppable), its checkpoints file,
// its concurrency (appends never wait for it; one sealer at a time), and the forwarding iterator.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { createTestDatabase, onPostgres, testConfig, type TestDatabase } from './helpers/db.js';
import { appendMany, insertEstablishments, sampleEvent, testKeyring } from './helpers/audit.js';
import {
  appendAuditEvent,
  createAuditSealer,
  readCheckpointsFile,
  sealedEventsSince,
  sealPending,
  verifyAuditLog,
  VerifyAccessError,
  type AuditKeyring,
} from '../src/modules/audit/index.js';
import { startServer } from '../src/server.js';
import { createLogger } from '../src/platform/log.js';

async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`gave up waiting: ${what}`);
}

describe('audit sealer', () => {
  let t: TestDatabase;
  let keyring: AuditKeyring;
  let a: string;
  let b: string;
  let dir: string;

  beforeAll(async () => {
    t = await createTestDatabase();
    keyring = testKeyring();
    [a, b] = (await insertEstablishments(t.db)) as [string, string];
    dir = await mkdtemp(path.join(tmpdir(), 'hygie-sealer-'));
  });
  afterAll(async () => {
    await t?.drop();
    await rm(dir, { recursive: true, force: true });
  });

  const pending = async () => Number((await sql<{ n: string }>`select count(*)::text as n from audit_pending`.execute(t.db.owner)).rows[0]!.n);

  it('seals in the background, appends each checkpoint to the outside file (0600), and seals the rest on stop', async () => {
    const file = path.join(dir, 'checkpoints.jsonl');
    const runs: number[] = [];
    const sealer = createAuditSealer({ db: t.db, keyring, intervalMs: 20, checkpointsFile: file, onRun: (r) => runs.push(r.chained) });
    await sealer.start();
    const ids = await appendMany(t.db, a, 30, 5);
    await until(async () => (await pending()) === 0, 'the background sealer to chain everything');
    await until(async () => (await readCheckpointsFile(file).catch(() => [])).some((c) => c.stream === a && c.seq === '30'), 'a checkpoint at seq 30');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    // Appended while stopping: sealed by the final run.
    await appendMany(t.db, b, 3, 3);
    await sealer.stop();
    expect(await pending()).toBe(0);
    const records = await readCheckpointsFile(file);
    expect(records.filter((r) => r.stream === b).map((r) => r.seq)).toEqual(['3']);
    const report = await verifyAuditLog(t.db.owner, { keyring, externalCheckpoints: records });
    expect(report.ok).toBe(true);
    expect(report.streams.find((s) => s.stream === a)).toMatchObject({ events: 30, sealedUpTo: '30' });
    expect(runs.reduce((x, y) => x + y, 0)).toBe(33);
    expect(ids).toHaveLength(30);
    const lines = (await readFile(file, 'utf8')).trim().split('\n');
    expect(lines.length).toBe(records.length);
  });

  it('forwards sealed events in order from a given sequence number, and stops at the last checkpoint', async () => {
    const all = [];
    for await (const e of sealedEventsSince(t.db, { establishmentId: a, pageSize: 7 })) all.push(e);
    expect(all.map((e) => e.seq)).toEqual(Array.from({ length: 30 }, (_, i) => BigInt(i + 1)));
    const rest = [];
    for await (const e of sealedEventsSince(t.db, { establishmentId: a, afterSeq: 25n })) rest.push(e.event.id);
    expect(rest).toEqual(all.slice(25).map((e) => e.event.id));
    // Appended but not sealed yet: not forwarded.
    await appendMany(t.db, a, 2, 2);
    const after = [];
    for await (const e of sealedEventsSince(t.db, { establishmentId: a, afterSeq: 30n })) after.push(e);
    expect(after).toEqual([]);
    await sealPending(t.db, keyring);
    for await (const e of sealedEventsSince(t.db, { establishmentId: a, afterSeq: 30n })) after.push(e);
    expect(after.map((e) => e.seq)).toEqual([31n, 32n]);
  });

  it.runIf(onPostgres())('appending never waits for a sealer holding its lock, and a second sealer skips its turn', async () => {
    await appendMany(t.db, a, 2, 2);
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let locked!: () => void;
    const isLocked = new Promise<void>((r) => (locked = r));
    const holder = t.db.owner.transaction().execute(async (tx) => {
      await sql`select pg_advisory_xact_lock(7373455441)`.execute(tx);
      locked();
      await held;
    });
    await isLocked;
    // Appends commit while the sealer lock is held...
    const id = await t.db.withTenant(a, (tx) => appendAuditEvent(tx, sampleEvent(a, 1)));
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    // ...and a second sealer does not queue behind the first.
    const second = await sealPending(t.db, keyring);
    expect(second).toMatchObject({ busy: true, chained: 0 });
    release();
    await holder;
    expect((await sealPending(t.db, keyring)).chained).toBe(3);
  });

  it('verification refuses to run as a role that row-level security would blind (it would report a partial log as intact)', async () => {
    await expect(t.db.withPlatform((tx) => verifyAuditLog(tx))).rejects.toBeInstanceOf(VerifyAccessError);
    await expect(t.db.withTenant(a, (tx) => verifyAuditLog(tx))).rejects.toThrow(/BYPASSRLS/);
  });
});

describe('startServer runs the sealer', { timeout: 180_000 }, () => {
  it('chains events appended through the running server and seals the rest when it closes', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'hygie-server-sealer-'));
    const pg = onPostgres() ? await createTestDatabase() : undefined;
    try {
      const config = testConfig({ HYGIE_DATA_DIR: dataDir, PORT: '0', ...(pg ? { DATABASE_URL: pg.url! } : {}) });
      const server = await startServer(config, { logger: createLogger('silent') });
      let establishment: string;
      let before: number;
      try {
        [establishment] = (await insertEstablishments(server.db, 1)) as [string];
        before = Number((await sql<{ n: string }>`select count(*)::text as n from audit_chain`.execute(server.db.owner)).rows[0]!.n);
        await appendMany(server.db, establishment, 5, 5);
        await until(
          async () => Number((await sql<{ n: string }>`select count(*)::text as n from audit_chain`.execute(server.db.owner)).rows[0]!.n) === before + 5,
          'the server sealer',
        );
        await appendMany(server.db, establishment, 2, 2);
      } finally {
        await server.close();
      }
      // Reopen: everything is chained, sealed, and verifies with the key file under the data dir.
      const { openMigratedDatabase } = await import('../src/server.js');
      const { keyringFromConfig } = await import('../src/modules/audit/index.js');
      const db = await openMigratedDatabase(config);
      try {
        const report = await verifyAuditLog(db.owner, { keyring: keyringFromConfig(config), establishmentId: establishment! });
        expect(report.ok).toBe(true);
        expect(report.streams[0]).toMatchObject({ events: 7, sealedUpTo: '7', pending: 0 });
        expect((await stat(path.join(dataDir, 'audit-keys', `${establishment!}.pem`))).mode & 0o777).toBe(0o600);
      } finally {
        await db.close();
      }
    } finally {
      await pg?.drop();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

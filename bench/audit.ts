// Audit benchmarks, one JSON line per figure:
//   - append throughput (events/s) from many concurrent transactions, with the sealer running;
//   - sealing lag under that load (ms from an event's transaction start to its signed checkpoint);
//   - catch-up sealing rate and `audit verify` time on a stream of 1,000,000 events made by SQL.
// Runs against PostgreSQL (BENCH_DATABASE_URL, else DATABASE_URL, else the local server; a scratch
// database is created and dropped), or an in-memory PGlite with --pglite. Usage:
//   npx tsx bench/audit.ts [--seconds 10] [--workers 16] [--batch-sizes 1,10,50] [--verify-events 1000000] [--pglite]
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { sql } from 'kysely';
import { v7 as uuidv7 } from 'uuid';
import { loadConfig } from '../src/config.js';
import { openDatabase, type Database } from '../src/platform/db/database.js';
import { migrateToLatest } from '../src/platform/db/migrations/index.js';
import { appendAuditEvents, createAuditSealer, derivedKeyring, sealPending, verifyAuditLog, type AuditEventInput } from '../src/modules/audit/index.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: process.env['BENCH_DURATION'] ?? '10' },
    pglite: { type: 'boolean', default: false },
    workers: { type: 'string', default: '16' },
    'batch-sizes': { type: 'string', default: '1,10,50' },
    'verify-events': { type: 'string', default: '1000000' },
  },
});
const seconds = Number(values.seconds);
const workers = Number(values.workers);
const batchSizes = values['batch-sizes'].split(',').map(Number);
const verifyEvents = Number(values['verify-events']);

function emit(bench: string, value: number, unit: string): void {
  console.log(JSON.stringify({ bench, value: Math.round(value * 100) / 100, unit }));
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function scratchDatabase(): Promise<{ db: Database; kind: string; drop: () => Promise<void> }> {
  const config = loadConfig({ HYGIE_LOG_LEVEL: 'silent', HYGIE_DATA_DIR: '/nonexistent-bench-dir' });
  const base = process.env['BENCH_DATABASE_URL'] ?? process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  if (values.pglite) {
    const db = await openDatabase(config, { databaseUrl: undefined, pgliteDataDir: 'memory://' });
    await migrateToLatest(db.owner, { appRole: config.dbAppRole });
    return { db, kind: 'pglite', drop: () => db.close() };
  }
  const name = `hygie_bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(base);
  url.pathname = `/${name}`;
  const db = await openDatabase(config, { databaseUrl: url.toString(), poolSize: workers + 2 });
  await migrateToLatest(db.owner, { appRole: config.dbAppRole });
  return {
    db,
    kind: 'postgres',
    async drop() {
      await db.close();
      const c = new pg.Client({ connectionString: base });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}

function event(establishmentId: string, i: number): AuditEventInput {
  return {
    establishmentId,
    actor: { kind: 'user', userId: uuidv7(), sessionId: uuidv7(), memberships: [], secondFactorAt: null },
    actorRole: 'practitioner',
    ip: '192.0.2.10',
    action: i % 3 === 0 ? 'entries.read' : 'patient.read',
    resourceKind: 'patient',
    resourceIds: [uuidv7()],
    patientIds: [uuidv7()],
    categories: ['identity', 'clinical'],
    purpose: 'care',
    outcome: 'allowed',
  };
}

async function appendUnderLoad(db: Database, kind: string, establishments: string[], batch: number): Promise<void> {
  const keyring = derivedKeyring(randomBytes(32));
  const lags: number[] = [];
  let sealed = 0;
  // Lag of each sealing batch: from the oldest event's transaction start to its checkpoint's commit.
  const sealer = createAuditSealer({
    db,
    keyring,
    intervalMs: 250,
    batchSize: 10_000,
    onRun: (r) => {
      sealed += r.chained;
      if (r.maxLagMs !== undefined) lags.push(r.maxLagMs);
    },
  });
  await sealer.start();
  let appended = 0;
  let stop = false;
  const started = performance.now();
  const concurrency = kind === 'pglite' ? 1 : workers;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, w) => {
      for (let i = 0; !stop; i++) {
        const establishmentId = establishments[(w + i) % establishments.length]!;
        const events = Array.from({ length: batch }, (_, k) => event(establishmentId, k));
        await db.withTenant(establishmentId, (tx) => appendAuditEvents(tx, events));
        appended += batch;
        if (performance.now() - started > seconds * 1000) stop = true;
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  const sealedDuringLoad = sealed;
  const drainStart = performance.now();
  await sealer.stop();
  const drain = (performance.now() - drainStart) / 1000;
  const sorted = [...lags].sort((x, y) => x - y);
  const tag = `${kind}.batch${batch}.c${concurrency}`;
  emit(`audit.append.${tag}`, appended / elapsed, 'events/s');
  emit(`audit.append_tx.${tag}`, appended / batch / elapsed, 'transactions/s');
  emit(`audit.sealing_lag_p50.${tag}`, percentile(sorted, 50), 'ms');
  emit(`audit.sealing_lag_p95.${tag}`, percentile(sorted, 95), 'ms');
  emit(`audit.sealing_lag_max.${tag}`, sorted.at(-1) ?? NaN, 'ms');
  emit(`audit.sealed_during_load.${tag}`, (sealedDuringLoad / appended) * 100, '%');
  emit(`audit.drain_after_load.${tag}`, drain * 1000, 'ms');
}

async function verifyLargeStream(db: Database, kind: string, establishmentId: string): Promise<void> {
  // Made by SQL in chunks (the enqueue trigger queues them for the sealer like real appends).
  const chunk = 200_000;
  const genStart = performance.now();
  for (let done = 0; done < verifyEvents; done += chunk) {
    const n = Math.min(chunk, verifyEvents - done);
    await sql`
      insert into audit_events (id, establishment_id, at, actor_kind, actor_user_id, actor_role, session_id, ip, action,
                                resource_kind, resource_ids, patient_ids, categories, purpose, outcome)
      select gen_random_uuid(), ${establishmentId}, now() - make_interval(secs => (${verifyEvents - done}::int - i) / 1000.0),
             'user', gen_random_uuid(), 'practitioner', gen_random_uuid(), '192.0.2.10', 'patient.read',
             'patient', array[gen_random_uuid()], array[gen_random_uuid()], '{identity,clinical}', 'care', 'allowed'
      from generate_series(1, ${n}) as i`.execute(db.owner);
  }
  emit(`audit.generate_sql.${kind}`, verifyEvents / ((performance.now() - genStart) / 1000), 'events/s');

  const keyring = derivedKeyring(randomBytes(32));
  const sealStart = performance.now();
  const sealed = await sealPending(db, keyring, { batchSize: 20_000 });
  emit(`audit.seal_catch_up.${kind}`, sealed.chained / ((performance.now() - sealStart) / 1000), 'events/s');

  const verifyStart = performance.now();
  const report = await verifyAuditLog(db.owner, { establishmentId, keyring });
  const verifySeconds = (performance.now() - verifyStart) / 1000;
  if (!report.ok || report.streams[0]?.events !== verifyEvents) throw new Error(`verify did not check the generated stream: ${JSON.stringify(report.streams[0])}`);
  emit(`audit.verify_${verifyEvents}_events.${kind}`, verifySeconds, 's');
  emit(`audit.verify_rate.${kind}`, verifyEvents / verifySeconds, 'events/s');
}

async function main(): Promise<void> {
  const { db, kind, drop } = await scratchDatabase();
  try {
    const establishments = Array.from({ length: 8 }, () => uuidv7());
    await db.owner
      .insertInto('establishments')
      .values(establishments.map((id, i) => ({ id, name: `Bench ${i}`, address_line: '1 rue', city: 'Paris', postal_code: '75001' })))
      .execute();
    for (const batch of batchSizes) await appendUnderLoad(db, kind, establishments, batch);
    if (verifyEvents > 0) {
      const [fresh] = [uuidv7()];
      await db.owner.insertInto('establishments').values({ id: fresh, name: 'Bench verify', address_line: '1 rue', city: 'Paris', postal_code: '75001' }).execute();
      await verifyLargeStream(db, kind, fresh);
    }
  } finally {
    await drop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

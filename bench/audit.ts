// Audit benchmarks, one JSON line per figure (each with the 1-minute load average at that moment):
//   - append throughput (events/s) from many concurrent transactions, with the sealer running as
//     the server runs it (createAuditSealer's defaults), for several events-per-transaction sizes;
//   - the issue's target run: appends paced at --rate events/s (10,000) in transactions of 50,
//     reporting the rate actually sustained and the sealing lag under that load (ms from an
//     event's transaction start to the commit of the checkpoint covering it, p50/p95/max over the
//     sealer's runs, each run counting its oldest event, the run that catches up after the load
//     included);
//   - catch-up sealing rate and `audit verify` time on a stream of 1,000,000 events made by SQL
//     (ids time-ordered like the application's UUIDv7s).
// Runs against PostgreSQL (BENCH_DATABASE_URL, else DATABASE_URL, else the local server; a scratch
// database is created and dropped) and an in-memory PGlite, one after the other. Usage:
//   npx tsx bench/audit.ts [--db postgres,pglite] [--seconds 10] [--workers 16] [--batch-sizes 1,10,50]
//                          [--rate 10000] [--verify-events 1000000]
// (--pglite alone is kept as a short form of --db pglite.)
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
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
    db: { type: 'string', default: 'postgres,pglite' },
    workers: { type: 'string', default: '16' },
    'batch-sizes': { type: 'string', default: '1,10,50' },
    rate: { type: 'string', default: '10000' },
    'verify-events': { type: 'string', default: '1000000' },
  },
});
const seconds = Number(values.seconds);
const workers = Number(values.workers);
const batchSizes = values['batch-sizes'].split(',').filter(Boolean).map(Number);
const targetRate = Number(values.rate);
const verifyEvents = Number(values['verify-events']);
const kinds = (values.pglite ? 'pglite' : values.db).split(',').filter(Boolean);

function emit(bench: string, value: number, unit: string): void {
  console.log(JSON.stringify({ bench, value: Math.round(value * 100) / 100, unit, load1: Math.round(loadavg()[0]! * 100) / 100 }));
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/**
 * CPU seconds used so far by this process and by the PostgreSQL backends serving it (read from
 * /proc when the server is local; 0 otherwise). On a machine shared with other work, wall-clock
 * figures move with the load; CPU seconds per event show the cost of the code itself.
 */
async function cpuSnapshot(db: Database, kind: string): Promise<{ node: number; backends: Map<number, number> }> {
  const u = process.cpuUsage();
  const backends = new Map<number, number>();
  if (kind === 'postgres') {
    const { rows } = await sql<{ pid: number }>`
      select pid from pg_stat_activity where datname = current_database() and application_name = 'hygie'`.execute(db.owner);
    for (const { pid } of rows) {
      try {
        const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
        backends.set(pid, (Number(fields[11]) + Number(fields[12])) / 100);
      } catch {
        // not local, or gone
      }
    }
  }
  return { node: (u.user + u.system) / 1e6, backends };
}

function cpuSince(before: { node: number; backends: Map<number, number> }, after: { node: number; backends: Map<number, number> }): { node: number; db: number } {
  let dbCpu = 0;
  for (const [pid, t] of after.backends) dbCpu += t - (before.backends.get(pid) ?? 0);
  return { node: after.node - before.node, db: dbCpu };
}

async function scratchDatabase(kind: string): Promise<{ db: Database; kind: string; drop: () => Promise<void> }> {
  const config = loadConfig({ HYGIE_LOG_LEVEL: 'silent', HYGIE_DATA_DIR: '/nonexistent-bench-dir' });
  const base = process.env['BENCH_DATABASE_URL'] ?? process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  if (kind === 'pglite') {
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

/** The machine's ceiling at this moment: empty tenant transactions (role + tenant set, no work). */
async function baseline(db: Database, kind: string, establishmentId: string): Promise<void> {
  let done = 0;
  let stop = false;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: kind === 'pglite' ? 1 : workers }, async () => {
      while (!stop) {
        await db.withTenant(establishmentId, (tx) => sql`select 1`.execute(tx));
        done++;
        if (performance.now() - started > Math.min(seconds, 5) * 1000) stop = true;
      }
    }),
  );
  emit(`audit.baseline_empty_tx.${kind}`, done / ((performance.now() - started) / 1000), 'transactions/s');
}

/**
 * Appends for `seconds` from `concurrency` workers, in transactions of `batch` events, with the
 * sealer running as in the server. Closed loop (as fast as the database takes them) when rate is
 * undefined; otherwise paced: transaction k starts at k * batch / rate seconds, or as soon as a
 * worker is free when the database falls behind, so the figure is the rate actually sustained.
 */
async function appendUnderLoad(db: Database, kind: string, establishments: string[], batch: number, rate?: number): Promise<void> {
  const keyring = derivedKeyring(randomBytes(32));
  const lags: number[] = [];
  let sealed = 0;
  const sealer = createAuditSealer({
    db,
    keyring,
    onRun: (r) => {
      sealed += r.chained;
      if (r.maxLagMs !== undefined) lags.push(r.maxLagMs);
    },
  });
  await sealer.start();
  let appended = 0;
  let next = 0;
  const cpuBefore = await cpuSnapshot(db, kind);
  const started = performance.now();
  const deadline = started + seconds * 1000;
  const concurrency = kind === 'pglite' ? 1 : workers;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (;;) {
        const k = next++;
        if (rate !== undefined) {
          const due = started + (k * batch * 1000) / rate;
          if (due >= deadline) return;
          const wait = due - performance.now();
          if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        } else if (performance.now() >= deadline) {
          return;
        }
        const establishmentId = establishments[k % establishments.length]!;
        const events = Array.from({ length: batch }, (_, i) => event(establishmentId, i));
        await db.withTenant(establishmentId, (tx) => appendAuditEvents(tx, events));
        appended += batch;
        // PGlite answers in-process: without a turn of the event loop, the sealer's timer (like a
        // server's sockets) would never get one while this loop runs.
        if (kind === 'pglite') await new Promise((r) => setImmediate(r));
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  const cpu = cpuSince(cpuBefore, await cpuSnapshot(db, kind));
  const sealedDuringLoad = sealed;
  const drainStart = performance.now();
  await sealer.stop();
  const drain = (performance.now() - drainStart) / 1000;
  // Every run counts, the last one (after the load) included: a sealer that fell behind shows here
  // as the lag of the events it caught up with, not as a missing figure.
  const sorted = [...lags].sort((x, y) => x - y);
  const tag = `${kind}.batch${batch}.c${concurrency}${rate !== undefined ? `.paced${rate}` : ''}`;
  emit(`audit.append.${tag}`, appended / elapsed, 'events/s');
  emit(`audit.append_tx.${tag}`, appended / batch / elapsed, 'transactions/s');
  emit(`audit.sealing_lag_p50.${tag}`, percentile(sorted, 50), 'ms');
  emit(`audit.sealing_lag_p95.${tag}`, percentile(sorted, 95), 'ms');
  emit(`audit.sealing_lag_max.${tag}`, sorted.at(-1) ?? NaN, 'ms');
  emit(`audit.sealed_during_load.${tag}`, (sealedDuringLoad / appended) * 100, '%');
  emit(`audit.drain_after_load.${tag}`, drain * 1000, 'ms');
  // Appending and sealing together, per 1,000 events appended during the load.
  emit(`audit.cpu_per_1k_events_node.${tag}`, (cpu.node / appended) * 1000 * 1000, 'ms');
  if (kind === 'postgres') emit(`audit.cpu_per_1k_events_db.${tag}`, (cpu.db / appended) * 1000 * 1000, 'ms');
}

async function verifyLargeStream(db: Database, kind: string, establishmentId: string): Promise<void> {
  // Made by SQL in chunks (the enqueue trigger queues them for the sealer like real appends), one
  // per millisecond, with UUIDv7-like ids (48-bit millisecond prefix) as the application makes
  // them: the chain follows id order, so random ids would scatter every read across the table.
  const chunk = 200_000;
  const genStart = performance.now();
  for (let done = 0; done < verifyEvents; done += chunk) {
    const n = Math.min(chunk, verifyEvents - done);
    await sql`
      insert into audit_events (id, establishment_id, at, actor_kind, actor_user_id, actor_role, session_id, ip, action,
                                resource_kind, resource_ids, patient_ids, categories, purpose, outcome)
      select (lpad(to_hex((extract(epoch from g.at) * 1000)::bigint), 12, '0') || '7' || substr(replace(gen_random_uuid()::text, '-', ''), 14))::uuid,
             ${establishmentId}, g.at,
             'user', gen_random_uuid(), 'practitioner', gen_random_uuid(), '192.0.2.10', 'patient.read',
             'patient', array[gen_random_uuid()], array[gen_random_uuid()], '{identity,clinical}', 'care', 'allowed'
      from generate_series(1, ${n}) as i
      cross join lateral (select now() - make_interval(secs => (${verifyEvents - done}::int - i) / 1000.0) as at) g`.execute(db.owner);
  }
  emit(`audit.generate_sql.${kind}`, verifyEvents / ((performance.now() - genStart) / 1000), 'events/s');

  const keyring = derivedKeyring(randomBytes(32));
  const sealCpuBefore = await cpuSnapshot(db, kind);
  const sealStart = performance.now();
  const sealed = await sealPending(db, keyring, { batchSize: 20_000 });
  emit(`audit.seal_catch_up.${kind}`, sealed.chained / ((performance.now() - sealStart) / 1000), 'events/s');
  const sealCpu = cpuSince(sealCpuBefore, await cpuSnapshot(db, kind));
  emit(`audit.seal_cpu_per_1k_events_node.${kind}`, (sealCpu.node / sealed.chained) * 1e6, 'ms');
  if (kind === 'postgres') emit(`audit.seal_cpu_per_1k_events_db.${kind}`, (sealCpu.db / sealed.chained) * 1e6, 'ms');

  const cpuBefore = await cpuSnapshot(db, kind);
  const verifyStart = performance.now();
  const report = await verifyAuditLog(db.owner, { establishmentId, keyring });
  const verifySeconds = (performance.now() - verifyStart) / 1000;
  const cpu = cpuSince(cpuBefore, await cpuSnapshot(db, kind));
  if (!report.ok || report.streams[0]?.events !== verifyEvents) throw new Error(`verify did not check the generated stream: ${JSON.stringify(report.streams[0])}`);
  emit(`audit.verify_${verifyEvents}_events.${kind}`, verifySeconds, 's');
  emit(`audit.verify_rate.${kind}`, verifyEvents / verifySeconds, 'events/s');
  emit(`audit.verify_cpu_node.${kind}`, cpu.node, 's');
  if (kind === 'postgres') emit(`audit.verify_cpu_db.${kind}`, cpu.db, 's');
}

async function benchKind(kindWanted: string): Promise<void> {
  const { db, kind, drop } = await scratchDatabase(kindWanted);
  try {
    const establishments = Array.from({ length: 8 }, () => uuidv7());
    await db.owner
      .insertInto('establishments')
      .values(establishments.map((id, i) => ({ id, name: `Bench ${i}`, address_line: '1 rue', city: 'Paris', postal_code: '75001' })))
      .execute();
    await baseline(db, kind, establishments[0]!);
    for (const batch of batchSizes) await appendUnderLoad(db, kind, establishments, batch);
    if (targetRate > 0) await appendUnderLoad(db, kind, establishments, 50, targetRate);
    if (verifyEvents > 0) {
      const fresh = uuidv7();
      await db.owner.insertInto('establishments').values({ id: fresh, name: 'Bench verify', address_line: '1 rue', city: 'Paris', postal_code: '75001' }).execute();
      await verifyLargeStream(db, kind, fresh);
    }
  } finally {
    await drop();
  }
}

async function main(): Promise<void> {
  for (const kind of kinds) {
    if (kind !== 'postgres' && kind !== 'pglite') throw new Error(`--db: unknown database kind ${kind}`);
    await benchKind(kind);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

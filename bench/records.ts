// Records on PostgreSQL, in process (no HTTP): full administrative file reads (gate: role,
// existence, audit append; decryption of every field) and clinical entry writes (gate, sealing,
// append), with 16 concurrent callers over a pool of 10; then the same read through its HTTP route
// (in process, with the guard). Targets: ≥ 2,000 reads/s, ≥ 500 writes/s. Besides throughput it
// prints Node's and the PostgreSQL backends' CPU per operation and the statements (round trips)
// per operation: figures that hold on a busy machine. BENCH_ONLY=file_read | file_read_http |
// entry_write runs one part; BENCH_DURATION (seconds, default 8).
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { sql } from 'kysely';
import { loadavg } from 'node:os';
import { loadConfig } from '../src/config.js';
import { openDatabase } from '../src/platform/db/database.js';
import { migrateToLatest } from '../src/platform/db/migrations/index.js';
import { seedDemo } from '../src/seed/demo.js';
import { createAccessModule } from '../src/modules/access/index.js';
import { passThroughMeter } from '../src/modules/guard/index.js';
import { createEnvKeyProvider, createVault } from '../src/modules/vault/index.js';
import { createRecordsModule, planRecordsDemo } from '../src/modules/records/index.js';
import type { Actor } from '../src/platform/http/context.js';
import { buildApp } from '../src/app.js';
import { createLogger } from '../src/platform/log.js';
import { createBenchDatabase, report } from './lib.js';

const DURATION_MS = Number(process.env['BENCH_DURATION'] ?? 8) * 1000;
const CONCURRENCY = 16;
// BENCH_ONLY=file_read (or entry_write) runs one of the two.
const ONLY = process.env['BENCH_ONLY'];

// Round trips to the database: every statement the pg client sends (BEGIN and COMMIT included).
let statements = 0;
const query = pg.Client.prototype.query as (...args: unknown[]) => unknown;
pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
  statements += 1;
  return query.apply(this, args);
} as typeof pg.Client.prototype.query;

/**
 * CPU seconds used so far by the PostgreSQL backends of the pool (read from /proc: the server is
 * local here; an empty map otherwise). With Node's own CPU, a figure that holds on a busy machine.
 */
async function backendCpu(): Promise<Map<number, number>> {
  const out = new Map<number, number>();
  const { rows } = await sql<{ pid: number }>`
    select pid from pg_stat_activity where datname = current_database() and application_name = 'hygie'`.execute(db.owner);
  for (const { pid } of rows) {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      out.set(pid, (Number(fields[11]) + Number(fields[12])) / 100);
    } catch {
      // not local, or gone
    }
  }
  return out;
}

async function run(label: string, op: (i: number) => Promise<unknown>): Promise<void> {
  if (ONLY !== undefined && ONLY !== label) return;
  // Warm-up, concurrent so that the pool opens all its connections: keys unwrapped and cached.
  await Promise.all(Array.from({ length: CONCURRENCY }, async (_, w) => {
    for (let i = w; i < 400; i += CONCURRENCY) await op(i);
  }));
  let done = 0;
  const statements0 = statements;
  const latencies: number[] = [];
  const end = Date.now() + DURATION_MS;
  const started = Date.now();
  const db0 = await backendCpu();
  const cpu0 = process.cpuUsage();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async (_, w) => {
      for (let i = w; Date.now() < end; i += CONCURRENCY) {
        const t0 = performance.now();
        await op(i);
        latencies.push(performance.now() - t0);
        done += 1;
      }
    }),
  );
  const seconds = (Date.now() - started) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const statementsDone = statements - statements0;
  let dbSeconds = 0;
  for (const [pid, t] of await backendCpu()) dbSeconds += t - (db0.get(pid) ?? 0);
  latencies.sort((a, b) => a - b);
  report(`records.${label}.throughput`, done / seconds, 'ops/s', { concurrency: CONCURRENCY, seconds: Math.round(seconds), loadAverage: Math.round(loadavg()[0]! * 10) / 10 });
  // Node CPU per operation (the database's is apart): a figure that holds on a busy machine.
  report(`records.${label}.node_cpu_per_op`, (cpu.user + cpu.system) / 1000 / done, 'ms');
  if (dbSeconds > 0) report(`records.${label}.postgres_cpu_per_op`, (dbSeconds * 1000) / done, 'ms');
  report(`records.${label}.round_trips_per_op`, statementsDone / done, 'statements');
  report(`records.${label}.latency_p99`, latencies[Math.floor(latencies.length * 0.99)] ?? 0, 'ms');
}

const bench = await createBenchDatabase('hygie_bench_records');
const config = loadConfig({ HYGIE_LOG_LEVEL: 'silent', HYGIE_DATA_DIR: '/nonexistent-bench-dir' });
const db = await openDatabase(config, { databaseUrl: bench.url, poolSize: 10 });
try {
  await migrateToLatest(db.owner, { appRole: config.dbAppRole });
  const vault = createVault({ provider: createEnvKeyProvider([randomBytes(32)]) });
  const { data } = await seedDemo(db, undefined, vault);
  const gate = createAccessModule({ db, meter: passThroughMeter }).gate;
  const records = createRecordsModule({ db, vault, gate });
  const A = data.establishments[0]!.id;
  const secretaryUser = data.staff.find((s) => s.memberships.some((m) => m.establishmentId === A && m.role === 'secretary'))!;
  const actorOf = (userId: string, memberships: typeof secretaryUser.memberships): Actor => ({
    kind: 'user',
    userId,
    sessionId: '00000000-0000-7000-8000-000000000000',
    memberships: memberships.map((m) => ({ establishmentId: m.establishmentId, role: m.role })),
    secondFactorAt: null,
  });
  const secretary = actorOf(secretaryUser.userId, secretaryUser.memberships);
  const files = data.patientFiles.filter((f) => f.establishmentId === A).map((f) => f.id);

  await run('file_read', (i) => records.patients.read(secretary, A, files[i % files.length]!, '127.0.0.1'));

  // The same read through the HTTP route (GET /api/v1/establishments/:eid/patients/:pid), in
  // process (inject: no socket), with everything a request pays but the session check: the
  // actor is set by a test authenticator. The guard meters each read (the in-process figure
  // above uses a pass-through meter), so this is the file read as a secretary's browser sees it.
  if (ONLY === undefined || ONLY === 'file_read_http') {
    const app = await buildApp({
      config,
      db,
      logger: createLogger('silent'),
      vault,
      authenticate: async (request) => {
        request.actor = secretary;
      },
    });
    let refused = 0;
    await run('file_read_http', async (i) => {
      const res = await app.inject({ method: 'GET', url: `/api/v1/establishments/${A}/patients/${files[i % files.length]!}` });
      if (res.statusCode !== 200) refused += 1;
    });
    report('records.file_read_http.non_200', refused, 'responses');
    await app.close();
  }

  const careTeams = planRecordsDemo(data).careTeams.filter((c) => c.establishmentId === A);
  const authors = careTeams.map((c) => {
    const s = data.staff.find((x) => x.userId === c.practitionerUserId)!;
    return { actor: actorOf(s.userId, s.memberships), patientId: c.patientId };
  });
  await run('entry_write', (i) => {
    const { actor, patientId } = authors[i % authors.length]!;
    return records.entries.create(actor, A, patientId, { kind: 'note', content: { text: `Consultation de suivi n° ${i}: examen sans particularité.` } }, '127.0.0.1');
  });
} finally {
  await db.close();
  await bench.drop();
}

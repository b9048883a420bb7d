// What sealing queued mail (issue 6) costs: queuing one e-mail in its own transaction, and the
// worker's claim + open + delete of it, with the message in clear in the job (as before) and
// sealed under the platform queue key (as now). Load-independent figures: round trips per
// operation (pg client queries, BEGIN/COMMIT included), node CPU per operation (process.cpuUsage)
// and PostgreSQL backend CPU per operation (/proc of the one pooled backend). Fresh PostgreSQL
// database (BENCH_DATABASE_URL, DATABASE_URL or the local server). `npx tsx bench/queue-seal.ts`.
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { loadConfig } from '../src/config.js';
import { openDatabase } from '../src/platform/db/database.js';
import { migrateToLatest } from '../src/platform/db/migrations/index.js';
import { createJobRunner, enqueueJob } from '../src/platform/jobs.js';
import { createLogger } from '../src/platform/log.js';
import { enqueueMail, registerMailJobs, type MailMessage } from '../src/platform/mail.js';
import { createEnvKeyProvider, createVault, queueCipher } from '../src/modules/vault/index.js';
import { createBenchDatabase, report } from './lib.js';

const N = Number(process.env['QUEUE_SEAL_N'] ?? 2_000);

let queries = 0;
const query = pg.Client.prototype.query;
pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
  queries += 1;
  return (query as (...a: unknown[]) => unknown).apply(this, args);
} as typeof pg.Client.prototype.query;

const server = await createBenchDatabase('hygie_bench_queue');
const config = loadConfig({ HYGIE_LOG_LEVEL: 'silent', HYGIE_DATA_DIR: '/nonexistent-bench-dir' });
// One pooled connection: one backend whose CPU /proc can tell.
const db = await openDatabase(config, { databaseUrl: server.url, poolSize: 1 });
try {
  await migrateToLatest(db.owner, { appRole: config.dbAppRole });
  const vault = createVault({ provider: createEnvKeyProvider([randomBytes(32)]) });
  const cipher = queueCipher(vault);
  const backend = Number((await db.withPlatform((tx) => tx.selectNoFrom((eb) => eb.fn<number>('pg_backend_pid', []).as('pid')).executeTakeFirstOrThrow())).pid);
  const ticks = 100; // USER_HZ
  const backendCpuMs = (): number => {
    const fields = readFileSync(`/proc/${backend}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(fields[11]) + Number(fields[12])) / ticks) * 1000;
  };
  const message = (i: number): MailMessage => ({
    to: `patient.${i}@bench.hygie.example`,
    subject: 'Réinitialisation de votre mot de passe',
    text: `Bonjour Prénom${i},\n\nPour choisir un nouveau mot de passe, ouvrez ce lien :\n\nhttp://localhost:3000/reset-password#token=${randomBytes(32).toString('base64url')}\n`,
    template: 'identity.password_reset',
  });
  // Warm: the platform key version and the queue key exist, the key is cached.
  await db.withPlatform((tx) => enqueueMail(tx, cipher, message(-1)));
  await db.owner.deleteFrom('jobs').execute();

  const measure = async (name: string, op: (i: number) => Promise<unknown>, extra: Record<string, unknown>) => {
    const q0 = queries;
    const c0 = process.cpuUsage();
    const b0 = backendCpuMs();
    const t0 = performance.now();
    for (let i = 0; i < N; i++) await op(i);
    const wall = performance.now() - t0;
    const c = process.cpuUsage(c0);
    report(`${name}.round_trips`, (queries - q0) / N, 'queries/op', extra);
    report(`${name}.node_cpu`, (c.user + c.system) / N, 'µs/op', extra);
    report(`${name}.pg_cpu`, ((backendCpuMs() - b0) * 1000) / N, 'µs/op', { ...extra, resolution: '10 ms ticks over the run' });
    report(`${name}.throughput`, (N / wall) * 1000, 'ops/s', { ...extra, loadavg: loadavg().map((l) => Math.round(l * 100) / 100), cores: cpus().length });
  };

  // Before: the message in clear in the job's payload (what enqueueMail wrote until 0087).
  await measure('queue_seal.enqueue_clear', (i) => db.withPlatform((tx) => enqueueJob(tx, { kind: 'mail.send', payload: { ...message(i) } })), { n: N });
  const clearRunner = createJobRunner({ db, logger: createLogger('silent') });
  clearRunner.register('mail.send', async (payload) => void (payload as unknown as MailMessage).to.length);
  await measure('queue_seal.send_clear', () => clearRunner.runOnce(1), { n: N, note: 'claim + handler + delete, mailer a no-op' });

  // Now: one ciphertext under the platform queue key, opened by the worker.
  await measure('queue_seal.enqueue_sealed', (i) => db.withPlatform((tx) => enqueueMail(tx, cipher, message(i))), { n: N });
  const sealedRunner = createJobRunner({ db, logger: createLogger('silent') });
  registerMailJobs(sealedRunner, { send: async (m) => void m.to.length }, { db, cipher });
  await measure('queue_seal.send_sealed', () => sealedRunner.runOnce(1), { n: N, note: 'claim + open (own transaction) + delete, mailer a no-op' });
} finally {
  await db.close();
  await server.drop();
}

// The server side of the scheduling benches: a Hygie app on the configured PostgreSQL, listening
// on port 0, in its own process so that the load generator does not share its event loop. Prints
// "PORT=<n>" once listening. Authentication: the identity module's session check (cookie and CSRF
// token, as a browser sends them), or with BENCH_AUTH=stand-in the tests' X-Test-User header (one
// user lookup and one membership lookup per request).
import { readFileSync } from 'node:fs';
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { sql } from 'kysely';
import { buildApp } from '../src/app.js';
import { openVault } from '../src/modules/vault/index.js';
import { loadConfigFromProcess } from '../src/config.js';
import { createLogger } from '../src/platform/log.js';
import { openMigratedDatabase } from '../src/server.js';
import { connectGuardRedis } from '../src/modules/guard/index.js';
import { createAuditSealer, keyringFromConfig } from '../src/modules/audit/index.js';
import { testAuthenticator } from '../test/helpers/scheduling-auth.js';

const config = loadConfigFromProcess({ HYGIE_LOG_LEVEL: 'silent', PORT: '0' });
if (!config.databaseUrl) {
  console.error('bench: set DATABASE_URL to a PostgreSQL database seeded with `hygie seed --scale`');
  process.exit(2);
}
const db = await openMigratedDatabase(config);
// With REDIS_URL, as a fleet of instances runs: guard counters and public cache invalidations
// go through Redis (and public answers are cached for a minute instead of 5 s).
const redis = config.redisUrl ? await connectGuardRedis(config.redisUrl) : undefined;
const app = await buildApp({ config, db, vault: await openVault(config, db), logger: createLogger('silent'), ...(process.env['BENCH_AUTH'] === 'stand-in' ? { authenticate: testAuthenticator(db) } : {}), ...(redis ? { guard: { redis } } : {}) });
if (redis) app.addHook('onClose', async () => void (await redis.quit().catch(() => undefined)));
// BENCH_BACKGROUND=1: also the work a booking leaves for later, as `hygie serve` runs it: the job
// worker (the confirmation is due at once: read, render, send to the log transport, audit) and
// the audit sealer (hash chain and checkpoints), so that their CPU counts in the figures.
const background = process.env['BENCH_BACKGROUND'] === '1';
const sealer = background ? createAuditSealer({ db, keyring: keyringFromConfig(config), logger: createLogger('silent'), checkpointsFile: undefined }) : undefined;
if (sealer) {
  await sealer.start();
  app.addHook('onClose', async () => sealer.stop());
}
await app.listen({ port: 0, host: '127.0.0.1' });
if (background) app.jobs.start();
// SIGUSR2: print the CPU time this process and its PostgreSQL backends used since the last
// SIGUSR2 ("CPU node_ms=… pg_ms=…"), so that benches can report CPU per request, a figure that a
// crowded machine disturbs far less than requests per second.
const ticksPerMs = 100 / 1000; // USER_HZ is 100 on Linux
async function backendTicks(): Promise<Map<number, number>> {
  const { rows } = await sql<{ pid: number }>`select pid from pg_stat_activity where datname = current_database() and application_name = 'hygie'`.execute(db.owner);
  const out = new Map<number, number>();
  for (const { pid } of rows) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(pid, Number(fields[11]) + Number(fields[12]));
    } catch {
      // PostgreSQL on another machine: no backend figures
    }
  }
  return out;
}
// And where the latency tail comes from: the event loop's delay (p99, max) and the garbage
// collector's pauses (total, longest) over the same interval.
const loopDelay = monitorEventLoopDelay({ resolution: 5 });
loopDelay.enable();
let gcTotal = 0;
let gcMax = 0;
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    gcTotal += entry.duration;
    gcMax = Math.max(gcMax, entry.duration);
  }
}).observe({ entryTypes: ['gc'] });
let lastCpu = process.cpuUsage();
let lastTicks = await backendTicks();
process.on('SIGUSR2', () => {
  void backendTicks().then((ticks) => {
    const cpu = process.cpuUsage(lastCpu);
    let pg = 0;
    for (const [pid, t] of ticks) pg += t - (lastTicks.get(pid) ?? 0);
    lastCpu = process.cpuUsage();
    lastTicks = ticks;
    const loop = `loop_p99_ms=${(loopDelay.percentile(99) / 1e6).toFixed(1)} loop_max_ms=${(loopDelay.max / 1e6).toFixed(1)} gc_ms=${gcTotal.toFixed(0)} gc_max_ms=${gcMax.toFixed(1)}`;
    loopDelay.reset();
    gcTotal = 0;
    gcMax = 0;
    console.log(`CPU node_ms=${((cpu.user + cpu.system) / 1000).toFixed(0)} pg_ms=${(pg / ticksPerMs).toFixed(0)} node_sys_ms=${(cpu.system / 1000).toFixed(0)} ${loop}`);
  });
});
// Only now, with the SIGUSR2 handler in place (a signal before it would kill the process), say
// where we listen: the bench sends SIGUSR2 as soon as it knows.
const address = app.server.address();
console.log(`PORT=${typeof address === 'object' && address ? address.port : 0}`);
process.on('SIGTERM', () => {
  void app.close().then(() => db.close()).then(() => process.exit(0));
});

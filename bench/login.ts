// Login cost: one argon2id verification (m=19 MiB, t=2, p=1) per login, and password logins per
// second through the whole HTTP path (throttle check, argon2, session, device, audit) with
// autocannon. Run: npx tsx bench/login.ts (DATABASE_URL for PostgreSQL).
import autocannon from 'autocannon';
import { availableParallelism } from 'node:os';
import { hashPassword, verifyPassword } from '../src/modules/identity/index.js';
import { report, startBenchServer } from './helpers.js';

const N = 40;
const hash = await hashPassword('bench password of reasonable length');
let started = process.hrtime.bigint();
for (let i = 0; i < N; i++) await hashPassword(`bench password ${i}`);
report('login', 'argon2id_hash_ms', Number(process.hrtime.bigint() - started) / 1e6 / N, 'ms', { params: 'm=19456,t=2,p=1' });
started = process.hrtime.bigint();
for (let i = 0; i < N; i++) await verifyPassword(hash, 'bench password of reasonable length');
report('login', 'argon2id_verify_ms', Number(process.hrtime.bigint() - started) / 1e6 / N, 'ms');
// Concurrent verifications: what the cores (through libuv's thread pool) can do at most.
started = process.hrtime.bigint();
await Promise.all(Array.from({ length: N }, () => verifyPassword(hash, 'bench password of reasonable length')));
report('login', 'argon2id_verify_per_s_parallel', N / (Number(process.hrtime.bigint() - started) / 1e9), 'ops/s', { cores: availableParallelism() });

const server = await startBenchServer();
try {
  // Patients without a second factor: one request is a whole login. Successful logins are not
  // throttled, so one account can be used throughout.
  const patient = server.data.patientAccounts[0]!;
  const result = await autocannon({
    url: `${server.url}/api/v1/auth/login`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: patient.email, password: patient.password }),
    connections: 8,
    duration: 10,
  });
  if (result.non2xx > 0) console.error(`warning: ${result.non2xx} non-2xx answers`);
  report('login', 'password_logins_per_s', result.requests.average, 'req/s', { database: server.database, connections: 8, cores: availableParallelism() });
  report('login', 'password_login_latency_p50_ms', result.latency.p50, 'ms', { database: server.database });
  report('login', 'password_login_latency_p99_ms', result.latency.p99, 'ms', { database: server.database });
} finally {
  await server.close();
}

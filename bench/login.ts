// Login cost: one argon2id verification (m=19 MiB, t=2, p=1) per login, and password logins per
// second through the whole HTTP path (throttle check, argon2, session, device, audit), with
// autocannon against a server process on PGlite and on PostgreSQL. `npm run bench login`.
import { availableParallelism } from 'node:os';
import autocannon from 'autocannon';
import { hashPassword, verifyPassword } from '../src/modules/identity/index.js';
import { onBothDatabases } from './_identity-servers.js';
import { report } from './lib.js';

const DURATION = Number(process.env['BENCH_DURATION'] ?? 10);
const N = 40;
const cores = availableParallelism();
const password = 'bench password of reasonable length';
const hash = await hashPassword(password);
let started = performance.now();
for (let i = 0; i < N; i++) await hashPassword(`bench password ${i}`);
report('login.argon2id.hash', (performance.now() - started) / N, 'ms', { params: 'm=19456,t=2,p=1' });
started = performance.now();
for (let i = 0; i < N; i++) await verifyPassword(hash, password);
report('login.argon2id.verify', (performance.now() - started) / N, 'ms', { note: 'one per login attempt, known e-mail or not' });
// Concurrent verifications: what the cores (through libuv's thread pool) can do at most.
started = performance.now();
await Promise.all(Array.from({ length: N }, () => verifyPassword(hash, password)));
report('login.argon2id.verify_parallel', N / ((performance.now() - started) / 1000), 'ops/s', { cores });

await onBothDatabases(async (label, server, accounts) => {
  // A patient without second factor: one request is a whole login (successes are not throttled).
  const patient = accounts.patients[0]!;
  const result = await autocannon({
    url: `${server.url}/api/v1/auth/login`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: patient.email, password: patient.password }),
    connections: 8,
    duration: DURATION,
  });
  report(`login.${label}.password_logins`, result.requests.average, 'req/s', { connections: 8, cores, non2xx: result.non2xx });
  report(`login.${label}.latency_p50`, result.latency.p50, 'ms');
  report(`login.${label}.latency_p99`, result.latency.p99, 'ms');
});

// Session check: authenticated GET /api/v1/auth/me per second (cookie -> session row -> memberships
// -> actor, every request against the database so that revocation is immediate), with autocannon.
// Run: npx tsx bench/session-check.ts (DATABASE_URL for PostgreSQL).
import autocannon from 'autocannon';
import { availableParallelism } from 'node:os';
import { report, startBenchServer } from './helpers.js';

const server = await startBenchServer();
try {
  const patient = server.data.patientAccounts[0]!;
  const login = await fetch(`${server.url}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: patient.email, password: patient.password }),
  });
  const cookie = login.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  for (const connections of [1, 10]) {
    const result = await autocannon({ url: `${server.url}/api/v1/auth/me`, headers: { cookie }, connections, duration: 10 });
    if (result.non2xx > 0) console.error(`warning: ${result.non2xx} non-2xx answers`);
    report('session-check', 'me_req_per_s', result.requests.average, 'req/s', { database: server.database, connections, cores: availableParallelism() });
    report('session-check', 'me_latency_p50_ms', result.latency.p50, 'ms', { database: server.database, connections });
    report('session-check', 'me_latency_p99_ms', result.latency.p99, 'ms', { database: server.database, connections });
  }
} finally {
  await server.close();
}

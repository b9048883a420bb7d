// Session check: authenticated GET /api/v1/auth/me per second (cookie -> session row ->
// memberships -> actor, against the database on every request so that a revocation takes effect
// at once), with autocannon against a server process on PGlite and on PostgreSQL.
// `npm run bench session-check`.
import { availableParallelism } from 'node:os';
import autocannon from 'autocannon';
import { onBothDatabases } from './_identity-servers.js';
import { report } from './lib.js';

const DURATION = Number(process.env['BENCH_DURATION'] ?? 10);

await onBothDatabases(async (label, server, accounts) => {
  const patient = accounts.patients[0]!;
  const login = await fetch(`${server.url}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: patient.email, password: patient.password }),
  });
  const cookie = login.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  await autocannon({ url: `${server.url}/api/v1/auth/me`, headers: { cookie }, connections: 4, duration: 2 }); // warm-up
  for (const connections of [1, 16]) {
    const r = await autocannon({ url: `${server.url}/api/v1/auth/me`, headers: { cookie }, connections, duration: DURATION });
    report(`session-check.${label}.me_c${connections}`, r.requests.average, 'req/s', { cores: availableParallelism(), non2xx: r.non2xx });
    report(`session-check.${label}.me_c${connections}.latency_p99`, r.latency.p99, 'ms');
  }
});

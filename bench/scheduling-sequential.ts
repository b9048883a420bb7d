// Service time of the scheduling hot paths, one request at a time (in-process, app.inject): a
// figure less sensitive to a crowded machine than the autocannon benches. Needs DATABASE_URL on
// a `seed --scale` database.
import { sql } from 'kysely';
import { buildApp } from '../src/app.js';
import { openVault } from '../src/modules/vault/index.js';
import { loadConfigFromProcess } from '../src/config.js';
import { createLogger } from '../src/platform/log.js';
import { openMigratedDatabase } from '../src/server.js';
import { testAuthenticator } from '../test/helpers/scheduling-auth.js';
import { emit } from './_scheduling-common.js';

const config = loadConfigFromProcess({ HYGIE_LOG_LEVEL: 'silent' });
if (!config.databaseUrl) throw new Error('set DATABASE_URL');
const db = await openMigratedDatabase(config);
const app = await buildApp({ config, db, vault: await openVault(config, db), logger: createLogger('silent'), authenticate: testAuthenticator(db) });
const { rows: targets } = await sql<{ practitioner_id: string; motive_id: string }>`
  select a.practitioner_id, m.id as motive_id from agendas a join visit_motives m on m.agenda_id = a.id
  where m.label = 'Consultation' order by random() limit 200`.execute(db.owner);
const { rows: places } = await sql<{ city: string }>`select distinct city from establishments`.execute(db.owner);
// The scale seed's patient accounts: no password, linked to a file (e-mails are encrypted, not searchable).
const { rows: accounts } = await sql<{ id: string }>`select u.id from users u where u.password_hash is null and exists (select 1 from patients p where p.account_user_id = u.id) limit 200`.execute(db.owner);

async function measure(name: string, n: number, run: (i: number) => Promise<number>) {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const status = await run(i);
    times.push(performance.now() - t0);
    if (status >= 500) throw new Error(`${name}: ${status}`);
  }
  times.sort((a, b) => a - b);
  emit(`${name}.sequential_p50`, times[Math.floor(n / 2)]!, 'ms', { n });
  emit(`${name}.sequential_p99`, times[Math.floor(n * 0.99)]!, 'ms', { n });
}

await measure('search', 200, async (i) => (await app.inject({ method: 'GET', url: `/api/v1/search/practitioners?specialty=general_practice&near=${encodeURIComponent(places[i % places.length]!.city)}` })).statusCode);
await measure('availability', 200, async (i) => {
  const t = targets[i % targets.length]!;
  return (await app.inject({ method: 'GET', url: `/api/v1/practitioners/${t.practitioner_id}/availability?motiveId=${t.motive_id}` })).statusCode;
});
const free: Array<{ practitionerId: string; motiveId: string; start: string }> = [];
for (const t of targets.slice(0, 100)) {
  const res = await app.inject({ method: 'GET', url: `/api/v1/practitioners/${t.practitioner_id}/availability?motiveId=${t.motive_id}&from=${new Date(Date.now() + 2 * 86_400_000).toISOString()}` });
  const s = (res.json() as { slots: Array<{ start: string }> }).slots.at(-1);
  if (s) free.push({ practitionerId: t.practitioner_id, motiveId: t.motive_id, start: s.start });
}
await measure('booking', free.length, async (i) =>
  (await app.inject({ method: 'POST', url: '/api/v1/appointments', headers: { 'x-test-user': accounts[i % accounts.length]!.id }, payload: free[i]! })).statusCode,
);
await app.close();
await db.close();

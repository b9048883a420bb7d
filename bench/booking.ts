// Booking by authenticated patients (availability check, patient file, exclusion constraint,
// audit) at 64 connections, on the `seed --scale` data set. Free slots are computed first through
// the public API, so that most requests can succeed; 409s are counted apart.
import { sql } from 'kysely';
import { datasetSize, emit, loadAndReport, openBenchDatabase, startBenchServer } from './_scheduling-common.js';

const seconds = Number(process.env['BENCH_SECONDS'] ?? 10);
const db = await openBenchDatabase();
const size = await datasetSize(db);
const { rows: agendas } = await sql<{ practitioner_id: string; motive_id: string }>`
  select a.practitioner_id, m.id as motive_id from agendas a join visit_motives m on m.agenda_id = a.id
  where a.published and m.active and m.patient_kind = 'all' and not m.teleconsult and m.label = 'Consultation'
  order by random() limit 400`.execute(db.owner);
// The scale seed's patient accounts: no password, linked to a file (e-mails are encrypted, not searchable).
const { rows: accounts } = await sql<{ id: string }>`select u.id from users u where u.password_hash is null and u.email_verified_at is not null and exists (select 1 from patients p where p.account_user_id = u.id) limit 5000`.execute(db.owner);
await db.close();
if (accounts.length === 0) throw new Error('no scale patient accounts: run `hygie seed --scale` first');

const server = await startBenchServer();
try {
  const targets: Array<{ practitionerId: string; motiveId: string; start: string }> = [];
  const from = new Date(Date.now() + 86_400_000).toISOString();
  const to = new Date(Date.now() + 20 * 86_400_000).toISOString();
  for (const a of agendas) {
    const res = await fetch(`${server.url}/api/v1/practitioners/${a.practitioner_id}/availability?motiveId=${a.motive_id}&from=${from}&to=${to}`);
    const body = (await res.json()) as { slots: Array<{ start: string }> };
    for (const s of body.slots) targets.push({ practitionerId: a.practitioner_id, motiveId: a.motive_id, start: s.start });
  }
  // Interleave practitioners so that concurrent requests rarely queue on one practitioner.
  targets.sort((x, y) => (x.start < y.start ? -1 : x.start > y.start ? 1 : x.practitionerId < y.practitionerId ? -1 : 1));
  let i = 0;
  const result = await loadAndReport(server, 'booking', {
    connections: 64,
    duration: seconds,
    method: 'POST',
    setupRequest: (req) => {
      const t = targets[i % targets.length]!;
      const userId = accounts[i % accounts.length]!.id;
      i++;
      return { ...req, path: '/api/v1/appointments', method: 'POST', headers: { 'content-type': 'application/json', 'x-test-user': userId }, body: JSON.stringify(t) };
    },
  }, { connections: 64, freeSlotsOffered: targets.length, ...size });
  emit('booking.succeeded_per_s', result['2xx'] / seconds, 'bookings/s', { ...size });
} finally {
  await server.stop();
}

// Booking by authenticated patients (availability check, patient file, exclusion constraint,
// audit, notices) at 64 connections, on the `seed --scale` data set. Free slots are computed
// first through the public API, so that most requests can succeed; 409s are counted apart.
//
// BENCH_PATIENTS chooses who books:
//   any (default)  the scale seed's accounts in turn, wherever the slot is: nearly every booking
//                  is the account's first at that establishment, which creates and encrypts its
//                  patient file in the same transaction;
//   returning      accounts that already hold a file at the slot's establishment (no file made).
// BENCH_AUTH chooses how requests are authenticated:
//   session (default)  real session cookies (a session row per account, made here) checked by the
//                      identity module's authenticator, CSRF token included, as a browser does;
//   stand-in           the tests' X-Test-User header (one user and one membership lookup).
// The share of bookings that created a patient file is reported (`booking.first_booking_share`).
// BENCH_RATE=<n> offers n bookings/s across the 64 connections instead of sending each
// connection's next request as soon as it is answered: the latency at that load, rather than at
// saturation (where 64 requests always wait and latency is 64 / throughput by Little's law).
import { sql } from 'kysely';
import { v7 as uuidv7 } from 'uuid';
import { csrfTokenFor, randomToken, sha256 } from '../src/modules/identity/tokens.js';
import { datasetSize, emit, loadAndReport, openBenchDatabase, startBenchServer } from './_scheduling-common.js';

const seconds = Number(process.env['BENCH_SECONDS'] ?? 10);
const rate = process.env['BENCH_RATE'] !== undefined ? Number(process.env['BENCH_RATE']) : undefined;
const who = process.env['BENCH_PATIENTS'] ?? 'any';
const auth = process.env['BENCH_AUTH'] ?? 'session';
if (!['any', 'returning'].includes(who) || !['session', 'stand-in'].includes(auth)) {
  console.error('bench: BENCH_PATIENTS is any or returning; BENCH_AUTH is session or stand-in');
  process.exit(2);
}

// Which agendas: a fixed sample by default (the same for every run on the same data set, so that
// two runs compare code, not samples), or BENCH_SEED=<text> for another, BENCH_SEED=random for a new one each run.
const seed = process.env['BENCH_SEED'] ?? 'hygie';
const sample = seed === 'random' ? sql`random()` : sql`md5(m.id::text || ${seed})`;
const db = await openBenchDatabase();
const size = await datasetSize(db);
const motiveFilter = sql`a.published and m.active and m.patient_kind = 'all' and not m.teleconsult and m.label = 'Consultation'`;
const { rows: agendas } =
  who === 'returning'
    ? // Agendas of establishments where accounts hold files.
      await sql<{ practitioner_id: string; motive_id: string; establishment_id: string }>`
        select a.practitioner_id, m.id as motive_id, a.owner_establishment_id as establishment_id from agendas a join visit_motives m on m.agenda_id = a.id
        where ${motiveFilter} and a.owner_establishment_id in (select establishment_id from patients where account_user_id is not null)
        order by ${sample} limit 400`.execute(db.owner)
    : await sql<{ practitioner_id: string; motive_id: string; establishment_id: string }>`
        select a.practitioner_id, m.id as motive_id, a.owner_establishment_id as establishment_id from agendas a join visit_motives m on m.agenda_id = a.id
        where ${motiveFilter} order by ${sample} limit 400`.execute(db.owner);
// The scale seed's patient accounts: no password, linked to a file (e-mails are encrypted, not searchable).
const { rows: accounts } = await sql<{ id: string }>`select u.id from users u where u.password_hash is null and u.email_verified_at is not null and exists (select 1 from patients p where p.account_user_id = u.id) limit 5000`.execute(db.owner);
if (accounts.length === 0) throw new Error('no scale patient accounts: run `hygie seed --scale` first');
// For `returning`: the accounts holding a file at each establishment.
const holders = new Map<string, string[]>();
if (who === 'returning') {
  const { rows } = await sql<{ establishment_id: string; account_user_id: string }>`
    select p.establishment_id, p.account_user_id from patients p join users u on u.id = p.account_user_id
    where u.password_hash is null and u.email_verified_at is not null
      and p.establishment_id = any(${agendas.map((a) => a.establishment_id)}::uuid[])`.execute(db.owner);
  for (const r of rows) holders.set(r.establishment_id, [...(holders.get(r.establishment_id) ?? []), r.account_user_id]);
}
// Real sessions: one per account, as a login would leave (the token's SHA-256 in the database).
const headersOf = new Map<string, Record<string, string>>();
const users = who === 'returning' ? [...new Set([...holders.values()].flat())] : accounts.map((a) => a.id);
if (auth === 'session') {
  const now = new Date();
  const sessions = users.map((userId) => ({ userId, token: randomToken() }));
  for (let i = 0; i < sessions.length; i += 1000) {
    await db.owner
      .insertInto('sessions')
      .values(
        sessions.slice(i, i + 1000).map((s) => ({
          id: uuidv7(),
          user_id: s.userId,
          token_hash: sha256(s.token),
          mfa_state: 'not_required' as const,
          created_at: now,
          last_seen_at: now,
          expires_at: new Date(now.getTime() + 86_400_000),
          second_factor_at: null,
          ip: '127.0.0.1',
          user_agent: 'bench',
          device_hash: null,
          new_device: false,
          new_ip: false,
        })),
      )
      .execute();
  }
  for (const s of sessions) {
    headersOf.set(s.userId, { cookie: `hygie_session=${s.token}`, 'x-csrf-token': csrfTokenFor(s.token) });
  }
} else {
  for (const userId of users) headersOf.set(userId, { 'x-test-user': userId });
}
await db.close();

const server = await startBenchServer(undefined, { BENCH_AUTH: auth });
try {
  const targets: Array<{ practitionerId: string; motiveId: string; start: string; establishmentId: string }> = [];
  const from = new Date(Date.now() + 86_400_000).toISOString();
  const to = new Date(Date.now() + 20 * 86_400_000).toISOString();
  for (const a of agendas) {
    const res = await fetch(`${server.url}/api/v1/practitioners/${a.practitioner_id}/availability?motiveId=${a.motive_id}&from=${from}&to=${to}`);
    const body = (await res.json()) as { slots: Array<{ start: string }> };
    for (const s of body.slots) targets.push({ practitionerId: a.practitioner_id, motiveId: a.motive_id, start: s.start, establishmentId: a.establishment_id });
  }
  // Interleave practitioners so that concurrent requests rarely queue on one practitioner.
  targets.sort((x, y) => (x.start < y.start ? -1 : x.start > y.start ? 1 : x.practitionerId < y.practitionerId ? -1 : 1));
  let i = 0;
  const filesBefore = await patientFiles();
  const result = await loadAndReport(
    server,
    'booking',
    {
      connections: 64,
      duration: seconds,
      ...(rate !== undefined ? { overallRate: rate } : {}),
      method: 'POST',
      setupRequest: (req) => {
        const { establishmentId, ...t } = targets[i % targets.length]!;
        const pool = who === 'returning' ? holders.get(establishmentId)! : users;
        const userId = pool[(who === 'returning' ? Math.floor(i / targets.length) : i) % pool.length]!;
        i++;
        return { ...req, path: '/api/v1/appointments', method: 'POST', headers: { 'content-type': 'application/json', ...headersOf.get(userId) }, body: JSON.stringify(t) };
      },
    },
    { connections: 64, ...(rate !== undefined ? { offeredPerSecond: rate } : {}), freeSlotsOffered: targets.length, bookers: who, auth, ...size },
  );
  const created = (await patientFiles()) - filesBefore;
  emit('booking.succeeded_per_s', result['2xx'] / seconds, 'bookings/s', { bookers: who, auth, ...size });
  emit('booking.first_booking_share', created / Math.max(1, result['2xx']), 'of 2xx', { filesCreated: created, bookers: who, auth });
  if (process.env['BENCH_BACKGROUND'] === '1') await drain(result['2xx']);
} finally {
  await server.stop();
}

/**
 * BENCH_BACKGROUND=1: after the load, waits (at most 120 s) until the server's job worker has
 * sent every due message and its audit sealer has chained every event, and reports what that
 * deferred work cost per booking: the server's and PostgreSQL's CPU during the drain, divided by
 * the bookings made (what ran during the load is in booking.cpu_per_request already).
 */
async function drain(bookings: number): Promise<void> {
  const d = await openBenchDatabase();
  const started = Date.now();
  let left = { jobs: 0, audit: 0 };
  try {
    await server.cpu();
    const backlogAtEnd = await backlog(d);
    for (;;) {
      left = await backlog(d);
      if ((left.jobs === 0 && left.audit === 0) || Date.now() - started > 120_000) break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    const cpu = await server.cpu();
    const n = Math.max(1, bookings);
    emit('booking.deferred_cpu_per_booking', (cpu.nodeMs + cpu.pgMs) / n, 'ms', {
      node: Math.round((cpu.nodeMs / n) * 100) / 100,
      postgres: Math.round((cpu.pgMs / n) * 100) / 100,
      drainSeconds: (Date.now() - started) / 1000,
      dueJobsAtEnd: backlogAtEnd.jobs,
      unsealedEventsAtEnd: backlogAtEnd.audit,
      left,
    });
  } finally {
    await d.close();
  }
}

async function backlog(d: Awaited<ReturnType<typeof openBenchDatabase>>): Promise<{ jobs: number; audit: number }> {
  const { rows } = await sql<{ jobs: string; audit: string }>`
    select (select count(*) from jobs where failed_at is null and run_at <= now())::text as jobs,
           (select count(*) from audit_pending)::text as audit`.execute(d.owner);
  return { jobs: Number(rows[0]!.jobs), audit: Number(rows[0]!.audit) };
}

async function patientFiles(): Promise<number> {
  const d = await openBenchDatabase();
  try {
    return (await datasetSize(d)).patients;
  } finally {
    await d.close();
  }
}

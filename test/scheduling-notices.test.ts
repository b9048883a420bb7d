// Appointment notices end to end, against a real SMTP server in-process (smtp-server): what a
// patient receives when they book, when reminders fall due, when they cancel or move; that the
// notices carry date, time, place and practitioner and nothing of the motive, the specialty or the
// patient; and that nothing is lost when the process dies between booking and sending or when the
// SMTP server is down (the job survives and is retried with backoff).
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import ICAL from 'ical.js';
import PostalMime from 'postal-mime';
import { SMTPServer } from 'smtp-server';
import { buildApp } from '../src/app.js';
import { createLogger } from '../src/platform/log.js';
import { readSmsOutbox } from '../src/platform/sms.js';
import { queueCipher } from '../src/modules/vault/index.js';
import { NOTICE_JOB } from '../src/modules/scheduling/index.js';
import { createTestDatabase, testConfig, type TestDatabase } from './helpers/db.js';
import { as, testAuthenticator } from './helpers/scheduling-auth.js';
import { createMiniAgenda, type MiniAgenda } from './helpers/scheduling-fixture.js';

interface Received {
  to: string[];
  subject: string;
  text: string;
  ics: string | undefined;
  raw: string;
}

let smtp: SMTPServer;
const inbox: Received[] = [];
/** The next n deliveries are refused with a temporary failure (451), as an SMTP server under maintenance. */
let refuseNext = 0;

let t: TestDatabase;
let app: FastifyInstance;
let agenda: MiniAgenda;
const PHONE = '+33612345678';
const SENSITIVE_MOTIVE = 'Suivi psychiatrique';

function appOn(db: TestDatabase, port: number) {
  const config = { ...testConfig({ SMTP_URL: `smtp://127.0.0.1:${port}` }) };
  return buildApp({ config, db: db.db, vault: db.vault, logger: createLogger('silent'), authenticate: testAuthenticator(db.db) });
}

async function jobsOf(appointmentId: string) {
  const { rows } = await sql<{ kind: string; payload: { kind: string; channel: string }; run_at: Date; attempts: number; last_error: string | null }>`
    select kind, payload, run_at, attempts, last_error from jobs where subject = ${appointmentId} order by run_at, payload->>'channel'`.execute(t.db.owner);
  return rows;
}

async function book(userId: string, start: string) {
  const res = await app.inject({ method: 'POST', url: '/api/v1/appointments', headers: as(userId), payload: { practitionerId: agenda.practitionerId, motiveId: agenda.motiveId, start } });
  expect(res.statusCode, res.body).toBe(201);
  return (res.json() as { id: string }).id;
}

/** Makes the queued notices of an appointment due now, as if time had passed. */
async function fallDue(appointmentId: string, kind: string) {
  await sql`update jobs set run_at = now() where subject = ${appointmentId} and payload->>'kind' = ${kind}`.execute(t.db.owner);
}

async function drain(a: FastifyInstance = app) {
  while ((await a.jobs.runOnce()) > 0);
}

beforeAll(async () => {
  smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        if (refuseNext > 0) {
          refuseNext -= 1;
          callback(Object.assign(new Error('Service temporarily unavailable'), { responseCode: 451 }));
          return;
        }
        const raw = Buffer.concat(chunks);
        void PostalMime.parse(raw).then((mail) => {
          const ics = mail.attachments.find((a) => a.mimeType === 'text/calendar');
          inbox.push({
            to: session.envelope.rcptTo.map((r) => r.address),
            subject: mail.subject ?? '',
            text: mail.text ?? '',
            ics: ics ? (typeof ics.content === 'string' ? ics.content : new TextDecoder().decode(ics.content)) : undefined,
            raw: raw.toString('utf8'),
          });
          callback();
        }, callback);
      });
    },
  });
  await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
  t = await createTestDatabase();
  // Ten days ahead, so that both default reminders (7 days and 24 hours before) are in the future.
  const startAt = Math.ceil((Date.now() + 10 * 86_400_000) / 3_600_000) * 3_600_000;
  agenda = await createMiniAgenda(t.db, t.vault, { slots: 12, patients: 3, slotMinutes: 20, startAt, firstPatientPhone: PHONE });
  // A motive whose very name is sensitive, and a specialty that is: neither may leave in a notice.
  await t.db.owner.updateTable('visit_motives').set({ label: SENSITIVE_MOTIVE }).where('id', '=', agenda.motiveId).execute();
  await t.db.owner.updateTable('practitioners').set({ specialty_code: 'psychiatry' }).where('id', '=', agenda.practitionerId).execute();
  app = await appOn(t, (smtp.server.address() as AddressInfo).port);
});

afterAll(async () => {
  await app?.close();
  await t?.drop();
  await new Promise<void>((resolve) => smtp.close(() => resolve()));
});

beforeEach(() => {
  inbox.length = 0;
  refuseNext = 0;
});

function expectMinimal(message: Received) {
  const everything = `${message.subject}\n${message.text}\n${message.ics ?? ''}`;
  expect(everything).not.toMatch(/psychiatr/i);
  expect(everything).not.toContain(SENSITIVE_MOTIVE);
  expect(everything).not.toMatch(/Numero\d/); // the patient's name
  expect(everything).toContain('Alice Martin');
  expect(everything).toContain('1 rue du Test');
}

describe('appointment notices over SMTP', () => {
  it('queues the confirmation and reminders with the booking, and delivers a minimal confirmation with a calendar file', async () => {
    const userId = agenda.patientUserIds[0]!;
    const id = await book(userId, agenda.slots[0]!);
    const queued = await jobsOf(id);
    expect(queued.map((j) => [j.kind, j.payload.kind, j.payload.channel])).toEqual([
      [NOTICE_JOB, 'confirmation', 'mail'],
      [NOTICE_JOB, 'reminder', 'mail'],
      [NOTICE_JOB, 'reminder', 'mail'],
      [NOTICE_JOB, 'reminder', 'sms'],
    ]);
    const start = Date.parse(agenda.slots[0]!);
    expect(queued.slice(1).map((j) => j.run_at.getTime())).toEqual([start - 168 * 3_600_000, start - 24 * 3_600_000, start - 24 * 3_600_000]);
    // The jobs name the appointment only: no address, no name, no text in the outbox table.
    expect(JSON.stringify(queued)).not.toMatch(/@|Alice|Numero|\+336/);

    await drain();
    expect(inbox).toHaveLength(1);
    const [mail] = inbox;
    expect(mail!.to).toEqual([expect.stringMatching(/^patient0\..*@test\.hygie\.example$/)]);
    expect(mail!.subject).toBe('Votre rendez-vous est confirmé');
    expect(mail!.text).toContain('Centre de test, 1 rue du Test, 75001 Testville');
    expect(mail!.text).toContain('http://127.0.0.1:3000/mes-rendez-vous');
    expectMinimal(mail!);
    const event = new ICAL.Event(new ICAL.Component(ICAL.parse(mail!.ics!)).getFirstSubcomponent('vevent')!);
    expect(event.uid).toBe(`${id}@hygie`);
    expect(event.startDate.toJSDate().getTime()).toBe(start);
    // Reminders are not due yet; the confirmation job is gone once sent.
    expect((await jobsOf(id)).map((j) => j.payload.kind)).toEqual(['reminder', 'reminder', 'reminder']);

    await fallDue(id, 'reminder');
    await drain();
    expect(inbox.map((m) => m.subject)).toEqual(['Votre rendez-vous est confirmé', 'Rappel de votre rendez-vous', 'Rappel de votre rendez-vous']);
    for (const m of inbox) expectMinimal(m);
    const sms = await readSmsOutbox(t.db, queueCipher(t.vault), PHONE);
    expect(sms).toHaveLength(1);
    expect(sms[0]!.text).toContain('Alice Martin');
    expect(sms[0]!.text).not.toMatch(/psychiatr/i);
    expect(await jobsOf(id)).toEqual([]);
  });

  it('withdraws the reminders of a cancelled appointment and sends a cancellation with a cancelling calendar file', async () => {
    const userId = agenda.patientUserIds[1]!;
    const id = await book(userId, agenda.slots[2]!);
    await drain();
    expect(inbox.map((m) => m.subject)).toEqual(['Votre rendez-vous est confirmé']);
    const res = await app.inject({ method: 'POST', url: `/api/v1/appointments/${id}/cancel`, headers: as(userId) });
    expect(res.statusCode, res.body).toBe(200);
    expect((await jobsOf(id)).map((j) => j.payload.kind)).toEqual(['cancellation']);
    await drain();
    expect(inbox.map((m) => m.subject)).toEqual(['Votre rendez-vous est confirmé', 'Votre rendez-vous est annulé']);
    const cancel = inbox[1]!;
    expectMinimal(cancel);
    expect(cancel.ics).toMatch(/METHOD:CANCEL/);
    expect(cancel.ics).toMatch(/STATUS:CANCELLED/);
    expect(await jobsOf(id)).toEqual([]);
  });

  it('replaces the reminders of a moved appointment, and drops a reminder claimed before the move', async () => {
    const userId = agenda.patientUserIds[2]!;
    const id = await book(userId, agenda.slots[4]!);
    await drain();
    // A worker claimed the 24-hour reminder (leased) just before the appointment moved.
    const { rows: claimed } = await sql<{ id: string; payload: Record<string, unknown> }>`
      select id, payload from jobs where subject = ${id} and payload->>'kind' = 'reminder' and payload->>'channel' = 'mail' order by run_at desc limit 1`.execute(t.db.owner);
    const res = await app.inject({ method: 'POST', url: `/api/v1/appointments/${id}/reschedule`, headers: as(userId), payload: { start: agenda.slots[6]! } });
    expect(res.statusCode, res.body).toBe(200);
    const queued = await jobsOf(id);
    expect(queued.map((j) => j.payload.kind)).toEqual(['confirmation', 'reminder', 'reminder', 'reminder']);
    const newStart = Date.parse(agenda.slots[6]!);
    expect(queued.slice(1).map((j) => j.run_at.getTime())).toEqual([newStart - 168 * 3_600_000, newStart - 24 * 3_600_000, newStart - 24 * 3_600_000]);
    // The stale claimed job still runs in its worker: it must send nothing.
    await sql`insert into jobs (id, kind, payload, subject, locked_until) values (${claimed[0]!.id}, ${NOTICE_JOB}, ${JSON.stringify(claimed[0]!.payload)}::jsonb, ${id}, now() - interval '1 second')`.execute(t.db.owner);
    await drain();
    expect(inbox.map((m) => m.subject)).toEqual(['Votre rendez-vous est confirmé', 'Votre rendez-vous est confirmé']);
    expect(inbox[1]!.text).toContain(new Intl.DateTimeFormat('fr-FR', { timeZone: 'Europe/Paris', hour: '2-digit', minute: '2-digit' }).format(newStart));
  });

  it('loses nothing when the process dies between booking and sending, and retries a refused delivery with backoff', async () => {
    const userId = agenda.patientUserIds[0]!;
    const id = await book(userId, agenda.slots[8]!);
    // The process dies right after the booking committed: its worker never ran.
    await app.close();
    expect((await jobsOf(id)).map((j) => j.payload.kind)).toContain('confirmation');

    // A new instance starts while the SMTP server refuses mail for a while.
    app = await appOn(t, (smtp.server.address() as AddressInfo).port);
    refuseNext = 1;
    expect(await app.jobs.runOnce()).toBe(1);
    expect(inbox).toHaveLength(0);
    const [failed] = (await jobsOf(id)).filter((j) => j.payload.kind === 'confirmation');
    expect(failed!.attempts).toBe(1);
    expect(failed!.last_error).toMatch(/451|temporarily/i);
    expect(failed!.run_at.getTime()).toBeGreaterThan(Date.now() + 3000); // backoff: about 5 s
    expect(await app.jobs.runOnce()).toBe(0); // not due yet

    // A worker that claims the job and dies mid-send holds it only for its lease.
    await sql`update jobs set run_at = now(), locked_until = now() + interval '300 seconds', attempts = attempts + 1 where subject = ${id} and payload->>'kind' = 'confirmation'`.execute(t.db.owner);
    expect(await app.jobs.runOnce()).toBe(0);
    await sql`update jobs set locked_until = now() - interval '1 second' where subject = ${id} and payload->>'kind' = 'confirmation'`.execute(t.db.owner);
    await drain();
    expect(inbox.map((m) => m.subject)).toEqual(['Votre rendez-vous est confirmé']);
    expect(inbox[0]!.to[0]).toMatch(/^patient0\./);
    expect((await jobsOf(id)).map((j) => j.payload.kind)).toEqual(['reminder', 'reminder', 'reminder']);
  });

  it('queues nothing when the booking is refused (slot taken)', async () => {
    const before = await sql<{ n: string }>`select count(*) as n from jobs`.execute(t.db.owner);
    const res = await app.inject({ method: 'POST', url: '/api/v1/appointments', headers: as(agenda.patientUserIds[1]!), payload: { practitionerId: agenda.practitionerId, motiveId: agenda.motiveId, start: agenda.slots[0]! } });
    expect(res.statusCode).toBe(409);
    const after = await sql<{ n: string }>`select count(*) as n from jobs`.execute(t.db.owner);
    expect(after.rows[0]!.n).toBe(before.rows[0]!.n);
  });
});

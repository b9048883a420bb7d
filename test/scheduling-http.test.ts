// Scheduling through the HTTP API on the demo data set: public reads reveal no patient, booking
// and its refusals, patients' walls (another patient's real ids and random ids answer 404),
// staff configuration with precise validation errors, the audited staff agenda, calendar files.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import ICAL from 'ical.js';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { as, buildSchedulingTestApp } from './helpers/scheduling-auth.js';
import { seedDemo } from '../src/seed/demo.js';
import type { DemoData } from '../src/seed/demo-data.js';

let t: TestDatabase;
let app: FastifyInstance;
let data: DemoData;
let A: string;
let B: string;
let practitionerA: { userId: string; id: string }; // practises at A only
let otherPractitionerA: { userId: string; id: string };
let secretaryA: string;
let secretaryB: string;
let patient1: { userId: string; fileId: string }; // account holders with a file at A
let patient2: { userId: string; fileId: string };

type Json = Record<string, unknown>;
const api = '/api/v1';

async function profile(practitionerId: string) {
  const res = await app.inject({ method: 'GET', url: `${api}/practitioners/${practitionerId}` });
  expect(res.statusCode).toBe(200);
  return res.json() as { establishments: Array<{ id: string; motives: Array<{ id: string; label: string; patientKind: string }> }> };
}

async function slots(practitionerId: string, motiveId: string, query = '') {
  const res = await app.inject({ method: 'GET', url: `${api}/practitioners/${practitionerId}/availability?motiveId=${motiveId}${query}` });
  expect(res.statusCode).toBe(200);
  return (res.json() as { slots: Array<{ start: string; end: string }> }).slots;
}

async function motiveOf(practitionerId: string, establishmentId: string, label: string) {
  const p = await profile(practitionerId);
  return p.establishments.find((e) => e.id === establishmentId)!.motives.find((m) => m.label === label)!.id;
}

function book(userId: string, body: Json, headers: Record<string, string> = {}) {
  return app.inject({ method: 'POST', url: `${api}/appointments`, headers: { ...as(userId), ...headers }, payload: body });
}

beforeAll(async () => {
  t = await createTestDatabase();
  ({ data } = await seedDemo(t.db, undefined, t.vault));
  app = await buildSchedulingTestApp(t);
  A = data.establishments[0]!.id;
  B = data.establishments[1]!.id;
  const practitionersOfA = data.staff.filter((s) => s.practitioner && s.memberships.length === 1 && s.memberships[0]!.establishmentId === A);
  practitionerA = { userId: practitionersOfA[0]!.userId, id: practitionersOfA[0]!.practitioner!.id };
  otherPractitionerA = { userId: practitionersOfA[1]!.userId, id: practitionersOfA[1]!.practitioner!.id };
  const staffOf = (e: string, role: string) => data.staff.find((s) => s.memberships.some((m) => m.establishmentId === e && m.role === role))!.userId;
  secretaryA = staffOf(A, 'secretary');
  secretaryB = staffOf(B, 'secretary');
  const holders = data.patientFiles.filter((f) => f.establishmentId === A && f.accountIndex !== null);
  patient1 = { userId: data.patientAccounts[holders[0]!.accountIndex!]!.userId, fileId: holders[0]!.id };
  patient2 = { userId: data.patientAccounts[holders[1]!.accountIndex!]!.userId, fileId: holders[1]!.id };
});
afterAll(async () => {
  await app?.close();
  await t?.drop();
});

describe('public directory and availability', () => {
  it('lists a practitioner profile with motives, and 404 for an unknown one', async () => {
    const p = await profile(practitionerA.id);
    expect(p.establishments.map((e) => e.id)).toEqual([A]);
    expect(p.establishments[0]!.motives.map((m) => m.label)).toContain('Consultation');
    const res = await app.inject({ method: 'GET', url: `${api}/practitioners/${randomUUID()}` });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({ code: 'not_found' });
  });

  it('answers free slots with offsets, in the future, and refuses bad ranges', async () => {
    const motiveId = await motiveOf(practitionerA.id, A, 'Consultation');
    const free = await slots(practitionerA.id, motiveId);
    expect(free.length).toBeGreaterThan(0);
    for (const s of free) {
      expect(s.start).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+0[12]:00$/);
      expect(Date.parse(s.start)).toBeGreaterThan(Date.now());
    }
    const tooLong = await app.inject({ method: 'GET', url: `${api}/practitioners/${practitionerA.id}/availability?motiveId=${motiveId}&from=2027-01-01&to=2027-03-01` });
    expect(tooLong.statusCode).toBe(400);
    expect(tooLong.json()).toMatchObject({ code: 'invalid_request' });
    const wrongPractitioner = await app.inject({ method: 'GET', url: `${api}/practitioners/${otherPractitionerA.id}/availability?motiveId=${motiveId}` });
    expect(wrongPractitioner.statusCode).toBe(404);
    const badDate = await app.inject({ method: 'GET', url: `${api}/practitioners/${practitionerA.id}/availability?motiveId=${motiveId}&from=2027-02-31` });
    expect(badDate.statusCode).toBe(400);
  });

  it('searches by specialty and place with next slots, paged, and validates its query', async () => {
    const city = data.establishments[0]!.city;
    const page1 = await app.inject({ method: 'GET', url: `${api}/search/practitioners?near=${encodeURIComponent(city)}&limit=2` });
    expect(page1.statusCode).toBe(200);
    const body1 = page1.json() as { items: Array<{ practitionerId: string; establishment: { city: string }; nextSlots: unknown[] }>; nextCursor: string };
    expect(body1.items).toHaveLength(2);
    expect(body1.items.every((i) => i.establishment.city === city)).toBe(true);
    expect(body1.items.some((i) => i.nextSlots.length > 0)).toBe(true);
    expect(body1.nextCursor).toEqual(expect.any(String));
    const page2 = await app.inject({ method: 'GET', url: `${api}/search/practitioners?near=${encodeURIComponent(city)}&limit=2&cursor=${body1.nextCursor}` });
    const body2 = page2.json() as { items: Array<{ practitionerId: string }> };
    expect(body2.items.map((i) => i.practitionerId)).not.toContain(body1.items[0]!.practitionerId);

    const bySpecialty = await app.inject({ method: 'GET', url: `${api}/search/practitioners?specialty=cardiology&near=${data.establishments[1]!.postalCode}` });
    const items = (bySpecialty.json() as { items: Array<{ specialty: { code: string }; establishment: { postalCode: string } }> }).items;
    expect(items.length).toBeGreaterThan(0);
    expect(items.every((i) => i.specialty.code === 'cardiology' && i.establishment.postalCode === data.establishments[1]!.postalCode)).toBe(true);

    for (const q of ['', 'limit=100&near=Lyon', 'near=Lyon&cursor=%21%21', 'near=Lyon&cursor=abc', 'near=Lyon&unknown=1']) {
      const res = await app.inject({ method: 'GET', url: `${api}/search/practitioners?${q}` });
      expect(res.statusCode, q).toBe(400);
      expect(res.json()).toMatchObject({ code: 'invalid_request' });
    }
  });

  it('public answers name no patient and no appointment', async () => {
    const motiveId = await motiveOf(practitionerA.id, A, 'Consultation');
    const bodies = [
      (await app.inject({ method: 'GET', url: `${api}/practitioners/${practitionerA.id}` })).body,
      (await app.inject({ method: 'GET', url: `${api}/practitioners/${practitionerA.id}/availability?motiveId=${motiveId}` })).body,
      (await app.inject({ method: 'GET', url: `${api}/search/practitioners?near=${encodeURIComponent(data.establishments[0]!.city)}&limit=50` })).body,
    ].join('\n');
    const appointmentIds = (await t.db.owner.selectFrom('appointments').select('id').execute()).map((r) => r.id);
    for (const f of data.patientFiles) {
      expect(bodies).not.toContain(f.id);
      expect(bodies).not.toContain(f.birthName);
    }
    for (const id of appointmentIds.slice(0, 500)) expect(bodies).not.toContain(id);
  });
});

describe('booking', () => {
  it('a verified patient books a free slot; the loser of the same slot gets 409 slot_taken; the slot disappears', async () => {
    const motiveId = await motiveOf(practitionerA.id, A, 'Consultation');
    const [slot] = await slots(practitionerA.id, motiveId);
    const first = await book(patient1.userId, { practitionerId: practitionerA.id, motiveId, start: slot!.start });
    expect(first.statusCode).toBe(201);
    expect(first.json()).toMatchObject({ status: 'confirmed', start: slot!.start, end: slot!.end, id: expect.any(String) });
    const second = await book(patient2.userId, { practitionerId: practitionerA.id, motiveId, start: slot!.start });
    expect(second.statusCode).toBe(409);
    expect(second.json()).toMatchObject({ code: 'slot_taken' });
    expect(second.body).not.toContain(patient1.fileId);
    expect((await slots(practitionerA.id, motiveId)).map((s) => s.start)).not.toContain(slot!.start);
    // Audited with the patient's id, in the establishment's stream.
    const events = await t.db.owner.selectFrom('audit_events').select(['action', 'patient_ids', 'establishment_id']).where('action', '=', 'appointment.book').execute();
    expect(events).toContainEqual({ action: 'appointment.book', patient_ids: [patient1.fileId], establishment_id: A });
  });

  it('Idempotency-Key replays return the first result; a different body with the same key is refused', async () => {
    const motiveId = await motiveOf(practitionerA.id, A, 'Consultation');
    const [, slot] = await slots(practitionerA.id, motiveId);
    const body = { practitionerId: practitionerA.id, motiveId, start: slot!.start };
    const key = { 'idempotency-key': `k-${randomUUID()}` };
    const first = await book(patient2.userId, body, key);
    const replay = await book(patient2.userId, body, key);
    expect(first.statusCode).toBe(201);
    expect(replay.statusCode).toBe(201);
    expect(replay.json()).toEqual(first.json());
    const rows = await t.db.owner.selectFrom('appointments').select('id').where('idempotency_key', '=', key['idempotency-key']).execute();
    expect(rows).toHaveLength(1);
    const [, , other] = await slots(practitionerA.id, motiveId);
    const misuse = await book(patient2.userId, { ...body, start: other!.start }, key);
    expect(misuse.statusCode).toBe(409);
    expect(misuse.json()).toMatchObject({ code: 'conflict' });
    const badKey = await book(patient2.userId, body, { 'idempotency-key': 'spaces are not allowed' });
    expect(badKey.statusCode).toBe(400);
  });

  it('refuses: anonymous 401, unverified account 403, a time that is not a slot 400, unknown fields 400, unknown motive 404', async () => {
    const motiveId = await motiveOf(practitionerA.id, A, 'Consultation');
    const [slot] = await slots(practitionerA.id, motiveId);
    const body = { practitionerId: practitionerA.id, motiveId, start: slot!.start };
    const anonymous = await app.inject({ method: 'POST', url: `${api}/appointments`, payload: body });
    expect(anonymous.statusCode).toBe(401);
    await t.db.owner.updateTable('users').set({ email_verified_at: null }).where('id', '=', patient2.userId).execute();
    const unverified = await book(patient2.userId, body);
    await t.db.owner.updateTable('users').set({ email_verified_at: new Date() }).where('id', '=', patient2.userId).execute();
    expect(unverified.statusCode).toBe(403);
    const offGrid = new Date(Date.parse(slot!.start) + 7 * 60_000).toISOString();
    expect((await book(patient1.userId, { ...body, start: offGrid })).statusCode).toBe(400);
    const night = await book(patient1.userId, { ...body, start: '2027-01-05T02:00:00+01:00' });
    expect(night.statusCode).toBe(400);
    expect(night.json()).toMatchObject({ code: 'invalid_request', errors: [{ field: 'body.start' }] });
    expect((await book(patient1.userId, { ...body, status: 'confirmed' })).statusCode).toBe(400);
    expect((await book(patient1.userId, { ...body, motiveId: randomUUID() })).statusCode).toBe(404);
    expect((await book(patient1.userId, { ...body, start: 'tomorrow' })).statusCode).toBe(400);
  });

  it('a patient cannot book for someone else (patientId is for staff of that establishment)', async () => {
    const motiveId = await motiveOf(practitionerA.id, A, 'Consultation');
    const [slot] = await slots(practitionerA.id, motiveId);
    const res = await book(patient1.userId, { practitionerId: practitionerA.id, motiveId, start: slot!.start, patientId: patient2.fileId });
    expect(res.statusCode).toBe(404);
    const fromB = await book(secretaryB, { practitionerId: practitionerA.id, motiveId, start: slot!.start, patientId: patient2.fileId });
    expect(fromB.statusCode).toBe(404);
    const staff = await book(secretaryA, { practitionerId: practitionerA.id, motiveId, start: slot!.start, patientId: patient2.fileId });
    expect(staff.statusCode).toBe(201);
    const fileOfB = data.patientFiles.find((f) => f.establishmentId === B)!.id;
    const [next] = await slots(practitionerA.id, motiveId);
    const crossFile = await book(secretaryA, { practitionerId: practitionerA.id, motiveId, start: next!.start, patientId: fileOfB });
    expect(crossFile.statusCode).toBe(404);
  });

  it('new-patient-only motives are refused to known patients and granted to new ones', async () => {
    const newOnly = await motiveOf(practitionerA.id, A, 'Première consultation');
    const [slot] = await slots(practitionerA.id, newOnly);
    // patient1 already has an appointment with this practitioner (booked above).
    const known = await book(patient1.userId, { practitionerId: practitionerA.id, motiveId: newOnly, start: slot!.start });
    expect(known.statusCode).toBe(403);
    expect(known.json()).toMatchObject({ code: 'forbidden' });
    // An account holder from B who never saw this practitioner: a file at A is created for them.
    const fresh = data.patientFiles.find((f) => f.establishmentId === B && f.accountIndex !== null && !data.patientFiles.some((g) => g.establishmentId === A && g.accountIndex === f.accountIndex))!;
    const userId = data.patientAccounts[fresh.accountIndex!]!.userId;
    const ok = await book(userId, { practitionerId: practitionerA.id, motiveId: newOnly, start: slot!.start });
    expect(ok.statusCode).toBe(201);
    const files = await t.db.withTenant(A, (tx) => tx.selectFrom('patients').select('id').where('account_user_id', '=', userId).execute());
    expect(files).toHaveLength(1);
    const mine = await app.inject({ method: 'GET', url: `${api}/me/appointments`, headers: as(userId) });
    expect((mine.json() as { items: Array<{ id: string }> }).items.map((i) => i.id)).toContain((ok.json() as { id: string }).id);
  });
});

describe("a patient and other patients' appointments", () => {
  let mine: string;
  let theirs: string;
  beforeAll(async () => {
    const motiveId = await motiveOf(otherPractitionerA.id, A, 'Consultation');
    const free = await slots(otherPractitionerA.id, motiveId, '&to=' + encodeURIComponent(new Date(Date.now() + 20 * 86_400_000).toISOString()));
    const a = await book(patient1.userId, { practitionerId: otherPractitionerA.id, motiveId, start: free.at(-1)!.start });
    const b = await book(patient2.userId, { practitionerId: otherPractitionerA.id, motiveId, start: free.at(-2)!.start });
    mine = (a.json() as { id: string }).id;
    theirs = (b.json() as { id: string }).id;
  });

  it("lists only my own appointments, paged", async () => {
    const res = await app.inject({ method: 'GET', url: `${api}/me/appointments?limit=50`, headers: as(patient1.userId) });
    expect(res.statusCode).toBe(200);
    const items = (res.json() as { items: Array<{ id: string }> }).items;
    expect(items.map((i) => i.id)).toContain(mine);
    expect(items.map((i) => i.id)).not.toContain(theirs);
    const own = await t.db.withTenant(A, (tx) => tx.selectFrom('appointments').select('id').where('patient_id', '=', patient1.fileId).execute());
    const ownAtA = new Set(own.map((r) => r.id));
    expect(items.filter((i) => !ownAtA.has(i.id)).length).toBeLessThanOrEqual(items.length);
    expect((await app.inject({ method: 'GET', url: `${api}/me/appointments?limit=51`, headers: as(patient1.userId) })).statusCode).toBe(400);
  });

  it("another patient's real appointment id and a random id both answer 404, for every verb", async () => {
    for (const id of [theirs, randomUUID()]) {
      const ics = await app.inject({ method: 'GET', url: `${api}/appointments/${id}/ics`, headers: as(patient1.userId) });
      const cancel = await app.inject({ method: 'POST', url: `${api}/appointments/${id}/cancel`, headers: as(patient1.userId) });
      const move = await app.inject({ method: 'POST', url: `${api}/appointments/${id}/reschedule`, headers: as(patient1.userId), payload: { start: '2027-01-05T09:00:00+01:00' } });
      for (const res of [ics, cancel, move]) {
        expect(res.statusCode).toBe(404);
        expect(res.json()).toMatchObject({ code: 'not_found' });
      }
    }
    const still = await t.db.owner.selectFrom('appointments').select('status').where('id', '=', theirs).executeTakeFirstOrThrow();
    expect(still.status).toBe('confirmed');
  });

  it('the calendar file parses, has the time, place and practitioner, and neither motive nor specialty', async () => {
    const res = await app.inject({ method: 'GET', url: `${api}/appointments/${mine}/ics`, headers: as(patient1.userId) });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/calendar/);
    const component = new ICAL.Component(ICAL.parse(res.body));
    const event = new ICAL.Event(component.getFirstSubcomponent('vevent')!);
    const row = await t.db.owner.selectFrom('appointments').select(['starts_at', 'ends_at']).where('id', '=', mine).executeTakeFirstOrThrow();
    expect(event.startDate.toJSDate().getTime()).toBe(row.starts_at.getTime());
    expect(event.endDate.toJSDate().getTime()).toBe(row.ends_at.getTime());
    expect(event.uid).toBe(`${mine}@hygie`);
    expect(event.location).toContain(data.establishments[0]!.city);
    const staff = data.staff.find((s) => s.practitioner?.id === otherPractitionerA.id)!;
    expect(event.summary).toContain(staff.lastName);
    expect(res.body).not.toMatch(/Consultation/);
    expect(res.body.toLowerCase()).not.toContain(staff.practitioner!.specialtyCode.replace('_', ' '));
  });

  it('cancels before the cut-off, frees the slot, and refuses a second cancel', async () => {
    const res = await app.inject({ method: 'POST', url: `${api}/appointments/${mine}/cancel`, headers: as(patient1.userId) });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ id: mine, status: 'cancelled' });
    const again = await app.inject({ method: 'POST', url: `${api}/appointments/${mine}/cancel`, headers: as(patient1.userId) });
    expect(again.statusCode).toBe(409);
    // A retried request (same Idempotency-Key) gets the first result instead.
    const retried = await app.inject({ method: 'POST', url: `${api}/appointments/${mine}/cancel`, headers: { ...as(patient1.userId), 'idempotency-key': 'cancel-1' } });
    expect(retried.statusCode).toBe(200);
    expect(retried.json()).toEqual(res.json());
    const busy = await t.db.owner.selectFrom('practitioner_busy').select('appointment_id').where('appointment_id', '=', mine).execute();
    expect(busy).toEqual([]);
  });

  it('reschedules to a free slot, and a taken one answers slot_taken', async () => {
    const motiveId = await motiveOf(otherPractitionerA.id, A, 'Consultation');
    const free = await slots(otherPractitionerA.id, motiveId);
    const moved = await app.inject({ method: 'POST', url: `${api}/appointments/${theirs}/reschedule`, headers: as(patient2.userId), payload: { start: free.at(-6)!.start } });
    expect(moved.statusCode).toBe(200);
    expect(moved.json()).toMatchObject({ id: theirs, status: 'confirmed', start: free.at(-6)!.start });
    const taken = await book(patient1.userId, { practitionerId: otherPractitionerA.id, motiveId, start: free.at(-7)!.start });
    expect(taken.statusCode).toBe(201);
    const clash = await app.inject({ method: 'POST', url: `${api}/appointments/${theirs}/reschedule`, headers: as(patient2.userId), payload: { start: free.at(-7)!.start } });
    expect(clash.statusCode).toBe(409);
    expect(clash.json()).toMatchObject({ code: 'slot_taken' });
  });
});

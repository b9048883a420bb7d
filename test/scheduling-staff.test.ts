// Staff side of scheduling: agenda configuration with validation errors that say what is wrong,
// who may configure what, the audited and bounded agenda view, no-shows, and cut-offs that bind
// patients but not staff.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { as, buildSchedulingTestApp } from './helpers/scheduling-auth.js';
import { seedDemo } from '../src/seed/demo.js';
import type { DemoData } from '../src/seed/demo-data.js';

let t: TestDatabase;
let app: FastifyInstance;
let data: DemoData;
let A: string;
let B: string;
let pA: { userId: string; id: string };
let pA2: { userId: string; id: string };
let pB: { userId: string; id: string };
const role: Record<string, string> = {};
let patient: { userId: string; fileId: string };
const api = '/api/v1';
const HOUR = 3_600_000;

const req = (method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', url: string, userId: string, payload?: unknown) =>
  app.inject({ method, url: `${api}${url}`, headers: as(userId), ...(payload !== undefined ? { payload: payload as object } : {}) });

beforeAll(async () => {
  t = await createTestDatabase();
  ({ data } = await seedDemo(t.db, undefined, t.vault));
  app = await buildSchedulingTestApp(t);
  A = data.establishments[0]!.id;
  B = data.establishments[1]!.id;
  const only = (e: string) => data.staff.filter((s) => s.practitioner && s.memberships.length === 1 && s.memberships[0]!.establishmentId === e);
  pA = { userId: only(A)[0]!.userId, id: only(A)[0]!.practitioner!.id };
  pA2 = { userId: only(A)[1]!.userId, id: only(A)[1]!.practitioner!.id };
  pB = { userId: only(B)[0]!.userId, id: only(B)[0]!.practitioner!.id };
  for (const e of [A, B]) {
    for (const r of ['secretary', 'admin', 'security_officer']) {
      role[`${r}@${e === A ? 'A' : 'B'}`] = data.staff.find((s) => s.memberships.some((m) => m.establishmentId === e && m.role === r))!.userId;
    }
  }
  const file = data.patientFiles.find((f) => f.establishmentId === A && f.accountIndex !== null)!;
  patient = { userId: data.patientAccounts[file.accountIndex!]!.userId, fileId: file.id };
});
afterAll(async () => {
  await app?.close();
  await t?.drop();
});

describe('weekly schedule', () => {
  it('names every problem: overlapping ranges, end before start, bad times, unknown days and fields', async () => {
    const overlap = await req('PUT', `/establishments/${A}/practitioners/${pA.id}/schedule`, role['secretary@A']!, {
      weeklyHours: { monday: [{ start: '08:00', end: '12:00' }, { start: '11:00', end: '13:00' }], tuesday: [{ start: '10:00', end: '09:00' }] },
    });
    expect(overlap.statusCode).toBe(400);
    expect(overlap.json()).toMatchObject({
      code: 'invalid_request',
      errors: [
        { field: 'body.weeklyHours.monday[1]', message: '11:00–13:00 overlaps 08:00–12:00' },
        { field: 'body.weeklyHours.tuesday[0]', message: 'end 09:00 must be after start 10:00' },
      ],
    });
    const badTime = await req('PUT', `/establishments/${A}/practitioners/${pA.id}/schedule`, role['secretary@A']!, { weeklyHours: { monday: [{ start: '25:00', end: '26:00' }] } });
    expect(badTime.statusCode).toBe(400);
    expect(JSON.stringify(badTime.json())).toContain('weeklyHours.monday.0.start');
    const unknownDay = await req('PUT', `/establishments/${A}/practitioners/${pA.id}/schedule`, role['secretary@A']!, { weeklyHours: { funday: [] } });
    expect(unknownDay.json()).toMatchObject({ code: 'invalid_request', errors: [{ field: 'body.weeklyHours.funday', message: 'unknown field' }] });
    const extra = await req('PUT', `/establishments/${A}/practitioners/${pA.id}/schedule`, role['secretary@A']!, { weeklyHours: {}, establishmentId: B });
    expect(extra.statusCode).toBe(400);
  });

  it('a secretary replaces the hours; availability follows them in local time', async () => {
    const put = await req('PUT', `/establishments/${A}/practitioners/${pA2.id}/schedule`, role['secretary@A']!, {
      weeklyHours: { saturday: [{ start: '10:00', end: '11:00' }] },
    });
    expect(put.statusCode).toBe(200);
    expect(put.json()).toMatchObject({ timeZone: 'Europe/Paris', weeklyHours: { saturday: [{ start: '10:00', end: '11:00' }] }, published: true });
    const got = await req('GET', `/establishments/${A}/practitioners/${pA2.id}/schedule`, role['secretary@A']!);
    expect(got.json()).toEqual(put.json());
    const profile = (await app.inject({ method: 'GET', url: `${api}/practitioners/${pA2.id}` })).json() as { establishments: Array<{ motives: Array<{ id: string; label: string }> }> };
    const motiveId = profile.establishments[0]!.motives.find((m) => m.label === 'Consultation')!.id;
    const res = await app.inject({ method: 'GET', url: `${api}/practitioners/${pA2.id}/availability?motiveId=${motiveId}&from=${new Date(Date.now() + 2 * 86_400_000).toISOString().slice(0, 10)}&to=${new Date(Date.now() + 23 * 86_400_000).toISOString().slice(0, 10)}` });
    const slots = (res.json() as { slots: Array<{ start: string }> }).slots;
    expect(slots.length).toBeGreaterThan(0);
    // Only Saturdays 10:00, 10:20, 10:40 local (minus the demo's appointments and day off).
    expect(slots.every((s) => /T10:(00|20|40):00\+0[12]:00$/.test(s.start) && new Date(s.start).getUTCDay() === 6)).toBe(true);
  });

  it('admins configure too; security officers may not; other establishments and patients see nothing; a practitioner edits only their own agenda', async () => {
    const body = { weeklyHours: { monday: [{ start: '09:00', end: '12:00' }] } };
    const url = `/establishments/${A}/practitioners/${pA.id}/schedule`;
    expect((await req('PUT', url, role['admin@A']!, body)).statusCode).toBe(200);
    expect((await req('PUT', url, role['security_officer@A']!, body)).statusCode).toBe(403);
    expect((await req('PUT', url, role['secretary@B']!, body)).statusCode).toBe(404);
    expect((await req('PUT', url, patient.userId, body)).statusCode).toBe(404);
    expect((await req('PUT', url, pA2.userId, body)).statusCode).toBe(403);
    expect((await req('PUT', url, pA.userId, body)).statusCode).toBe(200);
    // A practitioner of B through A's establishment path: not practising there.
    expect((await req('PUT', `/establishments/${A}/practitioners/${pB.id}/schedule`, role['secretary@A']!, body)).statusCode).toBe(404);
    const audit = await t.db.owner.selectFrom('audit_events').select(['action', 'actor_user_id']).where('action', '=', 'agenda.schedule.update').execute();
    expect(audit.map((a) => a.actor_user_id)).toEqual(expect.arrayContaining([role['admin@A'], pA.userId]));
  });
});

describe('motives, absences and openings', () => {
  it('validates motives field by field, creates, changes and withdraws them', async () => {
    const url = `/establishments/${A}/practitioners/${pA.id}/motives`;
    const bad = await req('POST', url, role['secretary@A']!, { label: 'Court', durationMinutes: 3, horizonDays: 0 });
    expect(bad.statusCode).toBe(400);
    const fields = (bad.json() as { errors: Array<{ field: string }> }).errors.map((e) => e.field);
    expect(fields).toEqual(expect.arrayContaining(['body.durationMinutes', 'body.horizonDays']));
    const created = await req('POST', url, role['secretary@A']!, { label: 'Vaccination', durationMinutes: 10, cancelCutoffHours: 2 });
    expect(created.statusCode).toBe(201);
    const motive = created.json() as { id: string; bufferMinutes: number; patientKind: string };
    expect(motive).toMatchObject({ label: 'Vaccination', durationMinutes: 10, bufferMinutes: 0, patientKind: 'all', active: true });
    const patched = await req('PATCH', `/establishments/${A}/motives/${motive.id}`, role['secretary@A']!, { bufferMinutes: 5 });
    expect(patched.json()).toMatchObject({ bufferMinutes: 5, durationMinutes: 10 });
    expect((await req('PATCH', `/establishments/${A}/motives/${motive.id}`, role['secretary@A']!, {})).statusCode).toBe(400);
    expect((await req('PATCH', `/establishments/${B}/motives/${motive.id}`, role['secretary@B']!, { bufferMinutes: 0 })).statusCode).toBe(404);
    expect((await req('DELETE', `/establishments/${A}/motives/${motive.id}`, role['secretary@A']!)).statusCode).toBe(204);
    const profile = (await app.inject({ method: 'GET', url: `${api}/practitioners/${pA.id}` })).json() as { establishments: Array<{ motives: Array<{ id: string }> }> };
    expect(profile.establishments[0]!.motives.map((m) => m.id)).not.toContain(motive.id);
    const list = await req('GET', url, role['secretary@A']!);
    expect((list.json() as { items: Array<{ id: string; active: boolean }> }).items.find((m) => m.id === motive.id)).toMatchObject({ active: false });
  });

  it('an absence removes slots and its removal brings them back; a one-off opening adds some', async () => {
    const profile = (await app.inject({ method: 'GET', url: `${api}/practitioners/${pB.id}` })).json() as { establishments: Array<{ motives: Array<{ id: string; label: string }> }> };
    const motiveId = profile.establishments[0]!.motives.find((m) => m.label === 'Consultation')!.id;
    const free = async () =>
      ((await app.inject({ method: 'GET', url: `${api}/practitioners/${pB.id}/availability?motiveId=${motiveId}` })).json() as { slots: Array<{ start: string }> }).slots;
    const before = await free();
    expect(before.length).toBeGreaterThan(3);
    const start = before[0]!.start;
    const end = new Date(Date.parse(before[2]!.start)).toISOString();
    const bad = await req('POST', `/establishments/${B}/practitioners/${pB.id}/absences`, role['secretary@B']!, { start: end, end: start });
    expect(bad.json()).toMatchObject({ code: 'invalid_request', errors: [{ field: 'body.end' }] });
    const created = await req('POST', `/establishments/${B}/practitioners/${pB.id}/absences`, role['secretary@B']!, { start, end });
    expect(created.statusCode).toBe(201);
    const during = await free();
    expect(during.map((s) => s.start)).not.toContain(start);
    expect(during.map((s) => s.start)).toContain(before[2]!.start);
    const id = (created.json() as { id: string }).id;
    expect((await req('DELETE', `/establishments/${A}/absences/${id}`, role['secretary@A']!)).statusCode).toBe(404);
    expect((await req('DELETE', `/establishments/${B}/openings/${id}`, role['secretary@B']!)).statusCode).toBe(404);
    expect((await req('DELETE', `/establishments/${B}/absences/${id}`, role['secretary@B']!)).statusCode).toBe(204);
    expect((await free()).map((s) => s.start)).toContain(start);

    const night = { start: new Date(Date.now() + 3 * 86_400_000).toISOString().slice(0, 10) + 'T21:00:00+01:00' };
    const opening = await req('POST', `/establishments/${B}/practitioners/${pB.id}/openings`, role['secretary@B']!, { start: night.start, end: night.start.replace('T21:', 'T22:') });
    expect(opening.statusCode).toBe(201);
    const after = await free();
    expect(after.map((s) => Date.parse(s.start))).toContain(Date.parse(night.start));
  });
});

describe('the staff agenda', () => {
  const window = () => `from=${new Date(Date.now() - 20 * 86_400_000).toISOString().slice(0, 10)}&to=${new Date(Date.now() + 5 * 86_400_000).toISOString().slice(0, 10)}`;

  it('shows a secretary the appointments with patient names, paged, and audits the patients shown', async () => {
    const first = await req('GET', `/establishments/${A}/agenda?practitionerId=${pA.id}&${window()}&limit=5`, role['secretary@A']!);
    expect(first.statusCode).toBe(200);
    const body = first.json() as { items: Array<{ id: string; patient: { id: string; name: string } }>; nextCursor: string };
    expect(body.items).toHaveLength(5);
    expect(body.items.every((i) => i.patient.name.length > 0)).toBe(true);
    const second = await req('GET', `/establishments/${A}/agenda?practitionerId=${pA.id}&${window()}&limit=5&cursor=${body.nextCursor}`, role['secretary@A']!);
    const ids2 = (second.json() as { items: Array<{ id: string }> }).items.map((i) => i.id);
    expect(ids2.some((id) => body.items.map((i) => i.id).includes(id))).toBe(false);
    const events = await t.db.owner.selectFrom('audit_events').select(['patient_ids', 'resource_ids', 'actor_user_id']).where('action', '=', 'agenda.list').execute();
    const mine = events.find((e) => e.resource_ids.includes(body.items[0]!.id))!;
    expect(mine.actor_user_id).toBe(role['secretary@A']);
    expect(new Set(mine.patient_ids)).toEqual(new Set(body.items.map((i) => i.patient.id)));
  });

  it('refuses admins, security officers, other establishments, colleagues, patients, long ranges and big pages', async () => {
    const url = `/establishments/${A}/agenda?practitionerId=${pA.id}&${window()}`;
    expect((await req('GET', url, role['admin@A']!)).statusCode).toBe(403);
    expect((await req('GET', url, role['security_officer@A']!)).statusCode).toBe(403);
    expect((await req('GET', url, role['secretary@B']!)).statusCode).toBe(404);
    expect((await req('GET', url, patient.userId)).statusCode).toBe(404);
    expect((await req('GET', url, pA2.userId)).statusCode).toBe(403);
    // The practitioner's own near agenda (the guard meters older history as unexplained).
    const near = `from=${new Date(Date.now() - 86_400_000).toISOString().slice(0, 10)}&to=${new Date(Date.now() + 5 * 86_400_000).toISOString().slice(0, 10)}`;
    expect((await req('GET', `/establishments/${A}/agenda?practitionerId=${pA.id}&${near}`, pA.userId)).statusCode).toBe(200);
    expect((await req('GET', `/establishments/${A}/agenda?practitionerId=${pA.id}&from=2026-01-01&to=2026-03-01`, role['secretary@A']!)).statusCode).toBe(400);
    expect((await req('GET', `${url}&limit=51`, role['secretary@A']!)).statusCode).toBe(400);
    expect((await req('GET', `/establishments/${A}/agenda?practitionerId=${pA.id}`, role['secretary@A']!)).statusCode).toBe(400);
    expect((await req('GET', `/establishments/${A}/agenda?practitionerId=${pB.id}&${window()}`, role['secretary@A']!)).statusCode).toBe(404);
  });
});

describe('no-shows and cut-offs', () => {
  it('marks a past appointment missed, refuses a future one, and hides it from others', async () => {
    const past = await t.db.withTenant(A, (tx) =>
      tx.selectFrom('appointments').select(['id', 'starts_at']).where('practitioner_id', '=', pA.id).where('status', '=', 'confirmed').where('starts_at', '<', new Date()).orderBy('starts_at', 'desc').limit(1).executeTakeFirstOrThrow(),
    );
    const future = await t.db.withTenant(A, (tx) =>
      tx.selectFrom('appointments').select('id').where('practitioner_id', '=', pA.id).where('status', '=', 'confirmed').where('starts_at', '>', new Date()).limit(1).executeTakeFirstOrThrow(),
    );
    expect((await req('POST', `/establishments/${A}/appointments/${future.id}/no-show`, role['secretary@A']!)).statusCode).toBe(409);
    expect((await req('POST', `/establishments/${B}/appointments/${past.id}/no-show`, role['secretary@B']!)).statusCode).toBe(404);
    expect((await req('POST', `/establishments/${A}/appointments/${past.id}/no-show`, patient.userId)).statusCode).toBe(404);
    expect((await req('POST', `/establishments/${A}/appointments/${past.id}/no-show`, role['admin@A']!)).statusCode).toBe(403);
    const ok = await req('POST', `/establishments/${A}/appointments/${past.id}/no-show`, role['secretary@A']!);
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toMatchObject({ id: past.id, status: 'no_show' });
  });

  it('inside the cut-off a patient can neither cancel nor move; staff can', async () => {
    // A motive with a 48-hour cut-off and no notice, and an opening from three hours from now.
    const motive = (await req('POST', `/establishments/${A}/practitioners/${pA.id}/motives`, role['secretary@A']!, {
      label: 'Urgence', durationMinutes: 30, minNoticeMinutes: 0, cancelCutoffHours: 48,
    })).json() as { id: string };
    const start = new Date(Math.ceil((Date.now() + 3 * HOUR) / (30 * 60_000)) * 30 * 60_000);
    const end = new Date(start.getTime() + 6 * HOUR);
    expect((await req('POST', `/establishments/${A}/practitioners/${pA.id}/openings`, role['secretary@A']!, { start: start.toISOString(), end: end.toISOString() })).statusCode).toBe(201);
    // The opening may overlap the regular hours, where the demo's appointments hold some slots
    // (depending on the time of day the test runs): book and move between slots still free.
    const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
    const offered = await app.inject({ method: 'GET', url: `${api}/practitioners/${pA.id}/availability?motiveId=${motive.id}&from=${day(start.getTime() - 86_400_000)}&to=${day(end.getTime() + 86_400_000)}` });
    const free = (offered.json() as { slots: Array<{ start: string }> }).slots.map((s) => Date.parse(s.start)).filter((t) => t >= start.getTime() && t + 30 * 60_000 <= end.getTime());
    expect(free.length).toBeGreaterThanOrEqual(2);
    const [first, later] = [new Date(free[0]!).toISOString(), new Date(free[free.length - 1]!).toISOString()];
    const booked = await req('POST', '/appointments', patient.userId, { practitionerId: pA.id, motiveId: motive.id, start: first });
    expect(booked.statusCode).toBe(201);
    const id = (booked.json() as { id: string }).id;
    const cancel = await req('POST', `/appointments/${id}/cancel`, patient.userId);
    expect(cancel.statusCode).toBe(403);
    const move = await req('POST', `/appointments/${id}/reschedule`, patient.userId, { start: later });
    expect(move.statusCode).toBe(403);
    const staffMove = await req('POST', `/appointments/${id}/reschedule`, role['secretary@A']!, { start: later });
    expect(staffMove.statusCode).toBe(200);
    const staffCancel = await req('POST', `/appointments/${id}/cancel`, role['secretary@A']!);
    expect(staffCancel.json()).toMatchObject({ status: 'cancelled' });
    const row = await t.db.owner.selectFrom('appointments').select(['status', 'cancelled_by']).where('id', '=', id).executeTakeFirstOrThrow();
    expect(row).toEqual({ status: 'cancelled', cancelled_by: 'staff' });
    expect((await req('POST', `/appointments/${randomUUID()}/cancel`, role['secretary@A']!)).statusCode).toBe(404);
  });
});

// Directory administration: practitioners with a validated RPPS number, their profile, and the
// establishment's time zone; only admins (and a practitioner for their own profile) may change them.
import { insertAccounts } from './helpers/accounts.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { v7 as uuidv7 } from 'uuid';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { as, buildSchedulingTestApp } from './helpers/scheduling-auth.js';
import { createMiniAgenda, type MiniAgenda } from './helpers/scheduling-fixture.js';
import { rppsFromPayload } from '../src/modules/directory/index.js';
import type { StaffRole } from '../src/platform/db/schema.js';

let t: TestDatabase;
let app: FastifyInstance;
let A: MiniAgenda;
let B: MiniAgenda;
const staff: Record<string, string> = {};
const api = '/api/v1';

async function member(establishmentId: string, role: StaffRole): Promise<string> {
  const id = uuidv7();
  await insertAccounts(t.db, t.vault, [{ id, email: `${role}.${id.slice(-12)}@staff.test`, firstName: 'Staff', lastName: role }]);
  await t.db.withTenant(establishmentId, (tx) => tx.insertInto('memberships').values({ id: uuidv7(), establishment_id: establishmentId, user_id: id, role }).execute());
  return id;
}

beforeAll(async () => {
  t = await createTestDatabase();
  A = await createMiniAgenda(t.db, t.vault, { slots: 2, patients: 0 });
  B = await createMiniAgenda(t.db, t.vault, { slots: 2, patients: 0 });
  staff['adminA'] = await member(A.establishmentId, 'admin');
  staff['secretaryA'] = await member(A.establishmentId, 'secretary');
  staff['adminB'] = await member(B.establishmentId, 'admin');
  staff['doctorA'] = await member(A.establishmentId, 'practitioner');
  app = await buildSchedulingTestApp(t);
});
afterAll(async () => {
  await app?.close();
  await t?.drop();
});

const create = (userId: string, body: object, eid = A.establishmentId) =>
  app.inject({ method: 'POST', url: `${api}/establishments/${eid}/practitioners`, headers: as(userId), payload: body });

describe('practitioners in the directory', () => {
  const rpps = rppsFromPayload('1000000042');
  let created: string;

  it('an admin adds a practitioner whose RPPS check digit is right; the public profile shows them', async () => {
    const res = await create(staff['adminA']!, { firstName: 'Jeanne', lastName: 'Roux', rpps, specialty: 'dermatology', languages: ['fr', 'en'], teleconsult: true, userId: staff['doctorA'] });
    expect(res.statusCode).toBe(201);
    created = (res.json() as { id: string }).id;
    expect(res.json()).toMatchObject({ rpps, specialty: 'dermatology', languages: ['fr', 'en'], teleconsult: true });
    const profile = await app.inject({ method: 'GET', url: `${api}/practitioners/${created}` });
    expect(profile.json()).toMatchObject({ name: 'Jeanne Roux', specialty: { code: 'dermatology' }, establishments: [] });
  });

  it('says what is wrong with an RPPS number, a specialty or a duplicate', async () => {
    const wrongDigit = `${rpps.slice(0, 10)}${(Number(rpps[10]) + 1) % 10}`;
    const bad = await create(staff['adminA']!, { firstName: 'X', lastName: 'Y', rpps: wrongDigit, specialty: 'cardiology' });
    expect(bad.json()).toMatchObject({ code: 'invalid_request', errors: [{ field: 'body.rpps', message: expect.stringContaining('check digit') }] });
    const short = await create(staff['adminA']!, { firstName: 'X', lastName: 'Y', rpps: '1234', specialty: 'cardiology' });
    expect(short.json()).toMatchObject({ errors: [{ field: 'body.rpps', message: expect.stringContaining('11 digits') }] });
    const specialty = await create(staff['adminA']!, { firstName: 'X', lastName: 'Y', rpps: rppsFromPayload('1000000043'), specialty: 'astrology' });
    expect(specialty.json()).toMatchObject({ errors: [{ field: 'body.specialty' }] });
    expect((await create(staff['adminA']!, { firstName: 'X', lastName: 'Y', rpps, specialty: 'cardiology' })).statusCode).toBe(409);
    expect((await create(staff['adminA']!, { firstName: 'X', lastName: 'Y', rpps: rppsFromPayload('1000000044'), specialty: 'cardiology', verified: true })).statusCode).toBe(400);
  });

  it('only admins of the establishment add practitioners', async () => {
    const body = { firstName: 'X', lastName: 'Y', rpps: rppsFromPayload('1000000045'), specialty: 'cardiology' };
    expect((await create(staff['secretaryA']!, body)).statusCode).toBe(403);
    expect((await create(staff['adminB']!, body)).statusCode).toBe(404);
    expect((await create(staff['adminB']!, body, B.establishmentId)).statusCode).toBe(201);
  });

  it('the practitioner edits their own profile; another establishment cannot', async () => {
    const url = `${api}/establishments/${A.establishmentId}/practitioners/${created}`;
    const own = await app.inject({ method: 'PATCH', url, headers: as(staff['doctorA']!), payload: { languages: ['fr', 'de'] } });
    expect(own.json()).toMatchObject({ languages: ['fr', 'de'] });
    expect((await app.inject({ method: 'PATCH', url, headers: as(staff['secretaryA']!), payload: { teleconsult: false } })).statusCode).toBe(403);
    expect((await app.inject({ method: 'PATCH', url: `${api}/establishments/${B.establishmentId}/practitioners/${created}`, headers: as(staff['adminB']!), payload: { teleconsult: false } })).statusCode).toBe(404);
  });

  it('GET /establishments/:eid lists its practitioners to members, marks their own profile, and is 404 to anyone else', async () => {
    const url = `${api}/establishments/${A.establishmentId}`;
    const own = await app.inject({ method: 'GET', url, headers: as(staff['doctorA']!) });
    expect(own.statusCode).toBe(200);
    const body = own.json() as { id: string; timeZone: string; practitioners: Array<{ id: string; self: boolean }> };
    expect(body).toMatchObject({ id: A.establishmentId, timeZone: expect.any(String) });
    expect(body.practitioners.map((p) => p.id)).toContain(A.practitionerId);
    expect(body.practitioners.filter((p) => p.self).map((p) => p.id)).toEqual([created]);
    const secretary = (await app.inject({ method: 'GET', url, headers: as(staff['secretaryA']!) })).json() as typeof body;
    expect(secretary.practitioners.some((p) => p.self)).toBe(false);
    expect((await app.inject({ method: 'GET', url, headers: as(staff['adminB']!) })).statusCode).toBe(404);
    expect((await app.inject({ method: 'GET', url })).statusCode).toBe(401);
  });
});

describe('establishment time zone', () => {
  it('an admin sets an IANA zone and agendas follow it; nonsense is refused', async () => {
    const url = `${api}/establishments/${A.establishmentId}`;
    const ok = await app.inject({ method: 'PATCH', url, headers: as(staff['adminA']!), payload: { timeZone: 'Indian/Reunion' } });
    expect(ok.json()).toMatchObject({ timeZone: 'Indian/Reunion' });
    const slots = (await app.inject({ method: 'GET', url: `${api}/practitioners/${A.practitionerId}/availability?motiveId=${A.motiveId}&from=${A.slots[0]}&to=${A.slots[1]}` })).json() as { slots: Array<{ start: string }> };
    expect(slots.slots[0]!.start).toMatch(/\+04:00$/);
    const bad = await app.inject({ method: 'PATCH', url, headers: as(staff['adminA']!), payload: { timeZone: 'Mars/Olympus' } });
    expect(bad.json()).toMatchObject({ code: 'invalid_request', errors: [{ field: 'body.timeZone' }] });
    expect((await app.inject({ method: 'PATCH', url, headers: as(staff['secretaryA']!), payload: { timeZone: 'Europe/Paris' } })).statusCode).toBe(403);
    expect((await app.inject({ method: 'PATCH', url, headers: as(staff['adminB']!), payload: { timeZone: 'Europe/Paris' } })).statusCode).toBe(404);
  });

  it('an admin sets when reminders go out; out-of-range or repeated hours are refused', async () => {
    const url = `${api}/establishments/${A.establishmentId}`;
    const ok = await app.inject({ method: 'PATCH', url, headers: as(staff['adminA']!), payload: { reminderOffsetsHours: [2, 48] } });
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.json()).toMatchObject({ reminderOffsetsHours: [48, 2] });
    for (const bad of [[0], [721], [24, 24], [], [1, 2, 3, 4, 5, 6]]) {
      const res = await app.inject({ method: 'PATCH', url, headers: as(staff['adminA']!), payload: { reminderOffsetsHours: bad } });
      expect(res.json(), JSON.stringify(bad)).toMatchObject({ code: 'invalid_request' });
    }
    expect((await app.inject({ method: 'PATCH', url, headers: as(staff['adminA']!), payload: {} })).statusCode).toBe(400);
    expect((await app.inject({ method: 'PATCH', url, headers: as(staff['secretaryA']!), payload: { reminderOffsetsHours: [24] } })).statusCode).toBe(403);
  });
});

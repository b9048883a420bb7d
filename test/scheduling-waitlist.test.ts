// The waiting list: a cancellation offers the freed slot to the first in line, held for 15
// minutes; accepting confirms it and frees the later appointment for the next in line; an
// offer that lapses frees the slot; other patients reach nobody's entries.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { as, buildSchedulingTestApp } from './helpers/scheduling-auth.js';
import { createMiniAgenda, type MiniAgenda } from './helpers/scheduling-fixture.js';

let t: TestDatabase;
let app: FastifyInstance;
let f: MiniAgenda;
let clock = Date.now();
const api = '/api/v1';

const post = (userId: string, url: string, payload?: object) => app.inject({ method: 'POST', url: `${api}${url}`, headers: as(userId), ...(payload ? { payload } : {}) });
const get = (userId: string, url: string) => app.inject({ method: 'GET', url: `${api}${url}`, headers: as(userId) });
const book = (userId: string, start: string) => post(userId, '/appointments', { practitionerId: f.practitionerId, motiveId: f.motiveId, start });
type Mine = { items: Array<{ id: string; status: string; offer: { appointmentId: string; start: string; expiresAt: string } | null }> };

beforeAll(async () => {
  t = await createTestDatabase();
  f = await createMiniAgenda(t.db, t.vault, { slots: 6, patients: 4 });
  app = await buildSchedulingTestApp(t, { now: () => clock });
});
afterAll(async () => {
  await app?.close();
  await t?.drop();
});

describe('waiting list', () => {
  const [p0, p1, p2, p3] = [0, 1, 2, 3];
  let first: string;
  let later: string;
  let entry1: string;
  let entry2: string;

  it('patients join; a second active entry for the same motive is refused; a foreign appointment is 404', async () => {
    first = ((await book(f.patientUserIds[p0]!, f.slots[0]!)).json() as { id: string }).id;
    later = ((await book(f.patientUserIds[p1]!, f.slots[5]!)).json() as { id: string }).id;
    const j1 = await post(f.patientUserIds[p1]!, '/waitlist', { practitionerId: f.practitionerId, motiveId: f.motiveId, appointmentId: later });
    expect(j1.statusCode).toBe(201);
    entry1 = (j1.json() as { id: string }).id;
    expect(Date.parse((j1.json() as { wantedBefore: string }).wantedBefore)).toBe(Date.parse(f.slots[5]!));
    const j2 = await post(f.patientUserIds[p2]!, '/waitlist', { practitionerId: f.practitionerId, motiveId: f.motiveId });
    expect(j2.statusCode).toBe(201);
    entry2 = (j2.json() as { id: string }).id;
    expect((await post(f.patientUserIds[p2]!, '/waitlist', { practitionerId: f.practitionerId, motiveId: f.motiveId })).statusCode).toBe(409);
    expect((await post(f.patientUserIds[p3]!, '/waitlist', { practitionerId: f.practitionerId, motiveId: f.motiveId, appointmentId: later })).statusCode).toBe(404);
  });

  it('a cancellation offers the slot to the first in line and holds it for 15 minutes', async () => {
    expect((await post(f.patientUserIds[p0]!, `/appointments/${first}/cancel`)).statusCode).toBe(200);
    const mine = (await get(f.patientUserIds[p1]!, '/me/waitlist')).json() as Mine;
    expect(mine.items).toHaveLength(1);
    expect(mine.items[0]).toMatchObject({ id: entry1, status: 'offered' });
    expect(Date.parse(mine.items[0]!.offer!.start)).toBe(Date.parse(f.slots[0]!));
    expect(Date.parse(mine.items[0]!.offer!.expiresAt) - clock).toBe(15 * 60_000);
    // Held: nobody else can take it, and the public does not see it free.
    expect((await book(f.patientUserIds[p3]!, f.slots[0]!)).json()).toMatchObject({ code: 'slot_taken' });
    const free = (await app.inject({ method: 'GET', url: `${api}/practitioners/${f.practitionerId}/availability?motiveId=${f.motiveId}&from=${f.slots[0]}&to=${new Date(Date.parse(f.slots[5]!) + 3_600_000).toISOString()}` })).json() as { slots: Array<{ start: string }> };
    expect(free.slots.map((s) => Date.parse(s.start))).not.toContain(Date.parse(f.slots[0]!));
    expect(((await get(f.patientUserIds[p2]!, '/me/waitlist')).json() as Mine).items[0]).toMatchObject({ id: entry2, status: 'waiting', offer: null });
  });

  it("other patients reach no one's entry: real ids and random ids are 404", async () => {
    for (const id of [entry1, randomUUID()]) {
      expect((await post(f.patientUserIds[p2]!, `/waitlist/${id}/accept`)).statusCode).toBe(404);
      expect((await app.inject({ method: 'DELETE', url: `${api}/waitlist/${id}`, headers: as(f.patientUserIds[p3]!) })).statusCode).toBe(404);
    }
  });

  it('accepting confirms the earlier slot, cancels the later one and offers it to the next in line', async () => {
    const res = await post(f.patientUserIds[p1]!, `/waitlist/${entry1}/accept`);
    expect(res.statusCode).toBe(200);
    expect(Date.parse((res.json() as { start: string }).start)).toBe(Date.parse(f.slots[0]!));
    const old = await t.db.owner.selectFrom('appointments').select('status').where('id', '=', later).executeTakeFirstOrThrow();
    expect(old.status).toBe('cancelled');
    const next = ((await get(f.patientUserIds[p2]!, '/me/waitlist')).json() as Mine).items[0]!;
    expect(next.status).toBe('offered');
    expect(Date.parse(next.offer!.start)).toBe(Date.parse(f.slots[5]!));
    expect((await post(f.patientUserIds[p1]!, `/waitlist/${entry1}/accept`)).statusCode).toBe(409);
  });

  it('a lapsed offer can no longer be accepted and the slot is free again for anyone', async () => {
    clock += 16 * 60_000;
    expect(((await get(f.patientUserIds[p2]!, '/me/waitlist')).json() as Mine).items).toEqual([]);
    expect((await post(f.patientUserIds[p2]!, `/waitlist/${entry2}/accept`)).statusCode).toBe(409);
    const taken = await book(f.patientUserIds[p3]!, f.slots[5]!);
    expect(taken.statusCode).toBe(201);
    const entry = await t.db.owner.selectFrom('waitlist_entries').select('status').where('id', '=', entry2).executeTakeFirstOrThrow();
    expect(entry.status).toBe('expired');
  });
});

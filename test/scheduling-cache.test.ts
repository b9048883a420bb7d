// The public cache of search and availability answers is invalidated by the changes that make
// them wrong: a booking, a cancel, a move, in the same process, at once (no waiting for the TTL).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { as, buildSchedulingTestApp } from './helpers/scheduling-auth.js';
import { createMiniAgenda, type MiniAgenda } from './helpers/scheduling-fixture.js';

let t: TestDatabase;
let app: FastifyInstance;
let agenda: MiniAgenda;

beforeAll(async () => {
  t = await createTestDatabase();
  agenda = await createMiniAgenda(t.db, t.vault, { slots: 4, patients: 1 });
  app = await buildSchedulingTestApp(t);
});
afterAll(async () => {
  await app?.close();
  await t?.drop();
});

async function free(): Promise<string[]> {
  const res = await app.inject({ method: 'GET', url: `/api/v1/practitioners/${agenda.practitionerId}/availability?motiveId=${agenda.motiveId}&from=${agenda.slots[0]}&to=${new Date(Date.parse(agenda.slots.at(-1)!) + 3_600_000).toISOString()}` });
  expect(res.statusCode).toBe(200);
  return (res.json() as { slots: Array<{ start: string }> }).slots.map((s) => new Date(s.start).toISOString());
}

async function nextSlotsInSearch(): Promise<string[]> {
  const res = await app.inject({ method: 'GET', url: '/api/v1/search/practitioners?specialty=general_practice&near=75001' });
  expect(res.statusCode).toBe(200);
  const item = (res.json() as { items: Array<{ practitionerId: string; nextSlots: Array<{ start: string }> }> }).items.find((i) => i.practitionerId === agenda.practitionerId)!;
  return item.nextSlots.map((s) => new Date(s.start).toISOString());
}

describe('public cache invalidation', () => {
  it('a booking, a move and a cancel show at once in availability and search', async () => {
    expect(await free()).toEqual(agenda.slots);
    expect(await nextSlotsInSearch()).toEqual(agenda.slots.slice(0, 3));
    // Served from the cache now; the booking must still show.
    const booked = await app.inject({ method: 'POST', url: '/api/v1/appointments', headers: as(agenda.patientUserIds[0]!), payload: { practitionerId: agenda.practitionerId, motiveId: agenda.motiveId, start: agenda.slots[0] } });
    expect(booked.statusCode, booked.body).toBe(201);
    const id = (booked.json() as { id: string }).id;
    expect(await free()).toEqual(agenda.slots.slice(1));
    expect(await nextSlotsInSearch()).toEqual(agenda.slots.slice(1, 4));

    const moved = await app.inject({ method: 'POST', url: `/api/v1/appointments/${id}/reschedule`, headers: as(agenda.patientUserIds[0]!), payload: { start: agenda.slots[3] } });
    expect(moved.statusCode, moved.body).toBe(200);
    expect(await free()).toEqual(agenda.slots.slice(0, 3));

    const cancelled = await app.inject({ method: 'POST', url: `/api/v1/appointments/${id}/cancel`, headers: as(agenda.patientUserIds[0]!) });
    expect(cancelled.statusCode, cancelled.body).toBe(200);
    expect(await free()).toEqual(agenda.slots);
    expect(await nextSlotsInSearch()).toEqual(agenda.slots.slice(0, 3));
  });
});

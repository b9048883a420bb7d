// The public cache of search and availability answers is invalidated by the changes that make
// them wrong: a booking, a cancel, a move, in the same process, at once (no waiting for the TTL),
// and, with Redis, on another instance sharing the database before the booking is answered.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { buildApp } from '../src/app.js';
import { createLogger } from '../src/platform/log.js';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { as, buildSchedulingTestApp, testAuthenticator } from './helpers/scheduling-auth.js';
import { createMiniAgenda, type MiniAgenda } from './helpers/scheduling-fixture.js';
import { REDIS_URL, redisReachable } from './helpers/redis.js';

const hasRedis = await redisReachable();

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

async function free(on: FastifyInstance = app): Promise<string[]> {
  const res = await on.inject({ method: 'GET', url: `/api/v1/practitioners/${agenda.practitionerId}/availability?motiveId=${agenda.motiveId}&from=${agenda.slots[0]}&to=${new Date(Date.parse(agenda.slots.at(-1)!) + 3_600_000).toISOString()}` });
  expect(res.statusCode).toBe(200);
  return (res.json() as { slots: Array<{ start: string }> }).slots.map((s) => new Date(s.start).toISOString());
}

async function nextSlotsInSearch(on: FastifyInstance = app): Promise<string[]> {
  const res = await on.inject({ method: 'GET', url: '/api/v1/search/practitioners?specialty=general_practice&near=75001' });
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

describe.skipIf(!hasRedis)('public cache invalidation across instances (Redis)', () => {
  it('a booking on one instance shows at once in the cached availability and search of another', async () => {
    const connections = [new Redis(REDIS_URL), new Redis(REDIS_URL)];
    const [one, two] = await Promise.all(
      connections.map((redis) =>
        buildApp({ config: t.config, db: t.db, vault: t.vault, logger: createLogger('silent'), authenticate: testAuthenticator(t.db), guard: { redis } }),
      ),
    );
    try {
      await Promise.all([one!.ready(), two!.ready()]);
      // Let both subscriptions settle (the cache's ready()); then fill the second instance's cache.
      await new Promise((resolve) => setTimeout(resolve, 200));
      const before = await free(two);
      expect(before.length).toBeGreaterThan(1);
      const shownInSearch = await nextSlotsInSearch(two);
      expect(await free(two)).toEqual(before);
      const booked = await one!.inject({ method: 'POST', url: '/api/v1/appointments', headers: as(agenda.patientUserIds[0]!), payload: { practitionerId: agenda.practitionerId, motiveId: agenda.motiveId, start: before[0] } });
      expect(booked.statusCode, booked.body).toBe(201);
      // Right after the answer, with no wait: the other instance no longer offers the slot.
      expect(await free(two)).toEqual(before.slice(1));
      expect(await nextSlotsInSearch(two)).not.toContain(shownInSearch[0]);
      const cancelled = await one!.inject({ method: 'POST', url: `/api/v1/appointments/${(booked.json() as { id: string }).id}/cancel`, headers: as(agenda.patientUserIds[0]!) });
      expect(cancelled.statusCode, cancelled.body).toBe(200);
      expect(await free(two)).toEqual(before);
    } finally {
      await one!.close();
      await two!.close();
      for (const c of connections) c.disconnect();
    }
  });
});

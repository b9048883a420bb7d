// Guard counters in Redis (REDIS_URL): two instances, each with its own Redis connection and its
// own gate over one database, contain the same actor at the same line. Skipped, with a message,
// when no Redis answers at 127.0.0.1:6379.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { seedDemo } from '../src/seed/demo.js';
import type { DemoData } from '../src/seed/demo-data.js';
import { connectGuardRedis } from '../src/modules/guard/redis.js';
import { isContained } from '../src/modules/guard/index.js';
import type { Actor } from '../src/platform/http/context.js';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { filesOf, staffActor } from './helpers/actors.js';
import { guardedGate, readThrough, TestClock, withSecondFactor } from './helpers/guard.js';
import { REDIS_URL, redisReachable } from './helpers/redis.js';


const hasRedis = await redisReachable();
if (!hasRedis) console.warn(`[guard Redis tests skipped] no Redis at ${REDIS_URL}`);

describe.skipIf(!hasRedis)('guard counters in Redis', () => {
  let t: TestDatabase;
  let data: DemoData;
  let r1: Redis;
  let r2: Redis;
  beforeAll(async () => {
    t = await createTestDatabase();
    data = (await seedDemo(t.db, undefined, t.vault)).data;
    r1 = await connectGuardRedis(REDIS_URL);
    r2 = await connectGuardRedis(REDIS_URL);
    // Demo ids are deterministic: forget counters left by an earlier run.
    for (const e of data.establishments) {
      const stale = await r1.keys(`hygie:guard:{${e.id}:*`);
      if (stale.length > 0) await r1.del(...stale);
    }
  });
  afterAll(async () => {
    await r1?.quit();
    await r2?.quit();
    await t?.drop();
  });

  it('two instances with their own Redis connections share the windows and contain at the same line', async () => {
    const A = data.establishments[0]!.id;
    const clock = new TestClock(new Date(Date.UTC(2026, 10, 23, 9, 0, 0) + Math.floor(Math.random() * 1000)));
    const one = guardedGate(t.db, { clock, redis: r1 });
    const two = guardedGate(t.db, { clock, redis: r2 });
    expect(one.guard.counterKind).toBe('redis');
    const practitioner = withSecondFactor(staffActor(data, A, 'practitioner', 5), clock.now());
    const files = filesOf(data, A).map((f) => f.id);
    const outcomes: string[] = [];
    for (let i = 0; i < 22; i++) {
      outcomes.push(await readThrough((i % 2 === 0 ? one : two).gate, practitioner, A, [files[i]!]));
      clock.advance(1_000);
    }
    expect(outcomes.slice(0, 20).every((o) => o === 'allowed')).toBe(true);
    expect(outcomes.slice(20)).toEqual(['account_contained', 'account_contained']);
    expect(await t.db.withPlatform((tx) => isContained(tx, (practitioner as Extract<Actor, { kind: 'user' }>).userId))).toBe(true);
    // Nothing about the counters is in PostgreSQL: they are in Redis.
    expect(await t.db.owner.selectFrom('guard_exposures').select('patient_id').execute()).toEqual([]);
    const keys = await r1.keys(`hygie:guard:{${A}:user:${(practitioner as Extract<Actor, { kind: 'user' }>).userId}}:*`);
    expect(keys.length).toBeGreaterThan(0);
  });

  it('windows slide: an hour later the 5-minute window is empty again', async () => {
    const A = data.establishments[1]!.id;
    const clock = new TestClock(new Date('2026-11-24T09:00:00Z'));
    const g = guardedGate(t.db, { clock, redis: r1 });
    const apiKey: Actor = { kind: 'api_key', apiKeyId: randomUUID(), establishmentId: A, scopes: ['patients:read'] };
    const files = filesOf(data, A).map((f) => f.id);
    for (let i = 0; i < 5; i++) expect(await readThrough(g.gate, apiKey, A, [files[i]!])).toBe('allowed');
    expect(await readThrough(g.gate, apiKey, A, [files[5]!])).toBe('step_up_required');
    clock.advance(3600_000 + 1000);
    expect(await readThrough(g.gate, apiKey, A, [files[5]!])).toBe('allowed');
  });
});

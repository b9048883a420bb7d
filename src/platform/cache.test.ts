import { describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { createPublicCache } from './cache.js';
import { REDIS_URL, redisReachable } from '../../test/helpers/redis.js';

const hasRedis = await redisReachable();

describe('public cache', () => {
  it('serves an entry until its TTL, then forgets it', () => {
    let now = 0;
    const cache = createPublicCache({ ttlMs: 1000, now: () => now });
    cache.set('k', 1, ['t'], cache.mark());
    now = 999;
    expect(cache.get('k')).toBe(1);
    now = 1000;
    expect(cache.get('k')).toBeUndefined();
  });

  it('forgets entries of an invalidated tag, and only those', () => {
    const cache = createPublicCache();
    cache.set('a', 'A', ['practitioner:1'], cache.mark());
    cache.set('b', 'B', ['practitioner:2'], cache.mark());
    cache.invalidate('practitioner:1');
    expect(cache.get('a')).toBeUndefined();
    expect(cache.get('b')).toBe('B');
    cache.invalidateAll();
    expect(cache.get('b')).toBeUndefined();
  });

  it('never serves a read that started before an invalidation it did not see', async () => {
    const cache = createPublicCache();
    let release!: () => void;
    const slowRead = cache.through(
      'k',
      () => new Promise<string>((resolve) => (release = () => resolve('before the booking'))),
      () => ['practitioner:1'],
    );
    // The booking commits and invalidates while the read is still in flight.
    cache.invalidate('practitioner:1');
    release();
    expect(await slowRead).toBe('before the booking');
    expect(cache.get('k')).toBeUndefined();
    expect(await cache.through('k', async () => 'after', () => ['practitioner:1'])).toBe('after');
    expect(cache.get('k')).toBe('after');
  });

  it('shares one load between concurrent misses of a key', async () => {
    const cache = createPublicCache();
    let loads = 0;
    let release!: () => void;
    const load = () => {
      loads += 1;
      return new Promise<string>((resolve) => (release = () => resolve(`answer ${loads}`)));
    };
    const first = cache.through('k', load, () => ['practitioner:1']);
    const second = cache.through('k', load, () => ['practitioner:1']);
    release();
    expect(await Promise.all([first, second])).toEqual(['answer 1', 'answer 1']);
    expect(loads).toBe(1);
  });

  it('does not hand a load in flight to a caller who came after a change it may have missed', async () => {
    const cache = createPublicCache();
    const releases: Array<() => void> = [];
    let loads = 0;
    const load = () => {
      loads += 1;
      const n = loads;
      return new Promise<string>((resolve) => releases.push(() => resolve(n === 1 ? 'slot 9:00 free' : 'slot 9:00 taken')));
    };
    const early = cache.through('k', load, () => ['practitioner:1']);
    // A booking commits and invalidates; then a caller arrives while the first load is in flight.
    void cache.invalidate('practitioner:1');
    const late = cache.through('k', load, () => ['practitioner:1']);
    releases[0]!();
    await early;
    await new Promise((resolve) => setTimeout(resolve, 0));
    releases[1]!();
    expect(await late).toBe('slot 9:00 taken');
    expect(loads).toBe(2);
  });

  it('lets a load failure reach only its own caller: the one waiting on it loads itself', async () => {
    const cache = createPublicCache();
    let loads = 0;
    let fail!: () => void;
    const first = cache.through(
      'k',
      () => {
        loads += 1;
        return new Promise<string>((_resolve, reject) => (fail = () => reject(new Error('connection lost'))));
      },
      () => [],
    );
    const second = cache.through(
      'k',
      async () => {
        loads += 1;
        return 'second';
      },
      () => [],
    );
    fail();
    await expect(first).rejects.toThrow('connection lost');
    expect(await second).toBe('second');
    expect(loads).toBe(2);
  });

  it('keeps an entry no longer than the lifetime its loader gives (a slot passing its notice)', async () => {
    let now = 0;
    const cache = createPublicCache({ ttlMs: 60_000, now: () => now });
    await cache.through('k', async () => 'free at 9:00', () => [], undefined, () => 1000);
    now = 999;
    expect(cache.get('k')).toBe('free at 9:00');
    now = 1000;
    expect(cache.get('k')).toBeUndefined();
    await cache.through('never', async () => 'already past', () => [], undefined, () => 0);
    expect(cache.get('never')).toBeUndefined();
  });

  it('keeps at most maxEntries, dropping the least recently used', () => {
    const cache = createPublicCache({ maxEntries: 2 });
    cache.set('a', 1, [], cache.mark());
    cache.set('b', 2, [], cache.mark());
    expect(cache.get('a')).toBe(1);
    cache.set('c', 3, [], cache.mark());
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toBe(1);
    expect(cache.get('c')).toBe(3);
  });

  it('keeps the total weight bounded, whatever the number of keys', () => {
    const cache = createPublicCache({ maxWeight: 100 });
    cache.set('a', 'a', [], cache.mark(), 60);
    cache.set('b', 'b', [], cache.mark(), 30);
    cache.set('c', 'c', [], cache.mark(), 30);
    expect(cache.get('a')).toBeUndefined();
    expect([cache.get('b'), cache.get('c')]).toEqual(['b', 'c']);
    cache.set('huge', 'x', [], cache.mark(), 101);
    expect(cache.get('huge')).toBeUndefined();
  });

  it.skipIf(!hasRedis)('tells the other instances through Redis', async () => {
    const r1 = new Redis(REDIS_URL);
    const r2 = new Redis(REDIS_URL);
    const a = createPublicCache({ redis: r1 });
    const b = createPublicCache({ redis: r2 });
    try {
      await Promise.all([a.ready(), b.ready()]);
      b.set('availability', 'free at 9:00', ['practitioner:42'], b.mark());
      b.set('other', 'kept', ['practitioner:43'], b.mark());
      // invalidate() settles once Redis has handed the message on; the subscriber then applies it.
      await a.invalidate('practitioner:42');
      for (let i = 0; i < 250 && b.get('availability') !== undefined; i++) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(b.get('availability')).toBeUndefined();
      expect(b.get('other')).toBe('kept');
    } finally {
      await a.close();
      await b.close();
      r1.disconnect();
      r2.disconnect();
    }
  });
});

import { describe, expect, it } from 'vitest';
import { createPublicCache } from './cache.js';

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
});

import { describe, expect, it } from 'vitest';
import { DataKeyCache } from './cache.js';

const entry = (scope: string) => ({ key: Buffer.alloc(32, 1), scope, ownerKind: 'patient', ownerId: 'p' });

describe('DataKeyCache', () => {
  it('is bounded: the least recently used key goes first', () => {
    const cache = new DataKeyCache(2, 60_000);
    cache.set('a', entry('e1'));
    cache.set('b', entry('e1'));
    expect(cache.get('a')).toBeDefined(); // a is now the most recent
    cache.set('c', entry('e1'));
    expect(cache.size).toBe(2);
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toBeDefined();
    expect(cache.get('c')).toBeDefined();
  });

  it('forgets keys after the TTL', () => {
    let now = 0;
    const cache = new DataKeyCache(10, 1000, () => now);
    cache.set('a', entry('e1'));
    now = 999;
    expect(cache.get('a')).toBeDefined();
    now = 2000;
    expect(cache.get('a')).toBeUndefined();
  });

  it('evicts one keyspace without touching the others, and caches nothing with a zero TTL', () => {
    const cache = new DataKeyCache(10, 1000);
    cache.set('a', entry('e1'));
    cache.set('b', entry('e2'));
    cache.evictScope('e1');
    expect(cache.get('a')).toBeUndefined();
    expect(cache.get('b')).toBeDefined();
    const off = new DataKeyCache(10, 0);
    off.set('a', entry('e1'));
    expect(off.get('a')).toBeUndefined();
  });
});

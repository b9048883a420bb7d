// A small in-process cache for public, non-personal answers (directory search, availability,
// profiles, agenda rules): bounded (LRU), short-lived (TTL), and invalidated by tags.
//
// Invalidation is exact within a process and safe against the usual race: a reader notes the
// cache's sequence number *before* it reads the database, and an entry is served only if none of
// its tags was invalidated after that number. So a read that started before a booking committed
// and finished after its invalidation is never served as fresh. Writers invalidate *after* their
// transaction commits. Other instances learn of a change through Redis (REDIS_URL, publish and
// subscribe on one channel) when it is configured; without it, their entries age out within the
// TTL — the exclusion constraint, not the cache, is what prevents double booking, so a stale
// free slot costs the patient a 409, never a conflict.
//
// Never put personal data here: entries are shared by every caller.
import type { Redis } from 'ioredis';
import type { Logger } from './log.js';

export interface PublicCache {
  /** The sequence number to pass to set(): take it before reading the database. */
  mark(): number;
  get<T>(key: string): T | undefined;
  /**
   * Stores a value read after mark() returned `readAt`; it depends on these tags. `weight` is its
   * size in the caller's units (slots, items; default 1), counted against maxWeight.
   */
  set<T>(key: string, value: T, tags: readonly string[], readAt: number, weight?: number): void;
  /** get(), or load and set(); `tagsOf` names what the value depends on, `weightOf` its size. */
  through<T>(key: string, load: () => Promise<T>, tagsOf: (value: T) => readonly string[], weightOf?: (value: T) => number): Promise<T>;
  /** Marks the tags changed here and, with Redis, on the other instances. */
  invalidate(...tags: string[]): void;
  /** Everything is stale (a change of directory data that many entries depend on). */
  invalidateAll(): void;
  /** Resolves once other instances' invalidations are received (at once without Redis). */
  ready(): Promise<void>;
  close(): Promise<void>;
}

interface Entry {
  value: unknown;
  expiresAt: number;
  tags: readonly string[];
  readAt: number;
  weight: number;
}

const ALL = '*';
const CHANNEL = 'hygie:public-cache:invalidate';

export interface PublicCacheOptions {
  /** Lifetime of an entry (default 5 s). */
  ttlMs?: number;
  /** Entries kept at most (default 20,000). */
  maxEntries?: number;
  /**
   * Total weight kept at most (default 400,000: about 50 MB of slots): keeps memory bounded when callers can choose
   * what to ask (a 31-day availability weighs its hundreds of slots), whatever the key count.
   */
  maxWeight?: number;
  /** Shares invalidations between instances: a connection for publishing; one is duplicated to subscribe. */
  redis?: Redis;
  logger?: Logger;
  /** Clock for tests. */
  now?: () => number;
}

export function createPublicCache(options: PublicCacheOptions = {}): PublicCache {
  const ttl = options.ttlMs ?? 5000;
  const max = options.maxEntries ?? 20_000;
  const maxWeight = options.maxWeight ?? 400_000;
  let weight = 0;
  const now = options.now ?? Date.now;
  const entries = new Map<string, Entry>();
  const invalidatedAt = new Map<string, number>();
  let seq = 0;

  const bump = (tags: readonly string[]) => {
    seq += 1;
    for (const tag of tags) invalidatedAt.set(tag, seq);
    // The tag map is bounded like the entries; forgetting tags means forgetting every entry too.
    if (invalidatedAt.size > 4 * max) {
      invalidatedAt.clear();
      entries.clear();
      weight = 0;
      invalidatedAt.set(ALL, seq);
    }
  };

  let subscriber: Redis | undefined;
  let subscribed: Promise<void> = Promise.resolve();
  if (options.redis) {
    subscriber = options.redis.duplicate();
    subscriber.on('message', (_channel: string, message: string) => {
      try {
        const tags = JSON.parse(message) as unknown;
        if (Array.isArray(tags) && tags.every((t) => typeof t === 'string')) bump(tags);
      } catch {
        bump([ALL]);
      }
    });
    subscriber.on('error', (error: unknown) => options.logger?.warn({ err: error instanceof Error ? error.message : String(error) }, 'public cache subscriber error'));
    subscribed = subscriber.subscribe(CHANNEL).then(
      () => undefined,
      () => undefined,
    );
  }

  const remove = (key: string) => {
    const e = entries.get(key);
    if (!e) return;
    entries.delete(key);
    weight -= e.weight;
  };

  const fresh = (e: Entry): boolean => {
    if (e.expiresAt <= now()) return false;
    if ((invalidatedAt.get(ALL) ?? 0) > e.readAt) return false;
    for (const tag of e.tags) if ((invalidatedAt.get(tag) ?? 0) > e.readAt) return false;
    return true;
  };

  const cache: PublicCache = {
    mark: () => seq,
    get<T>(key: string): T | undefined {
      const e = entries.get(key);
      if (!e) return undefined;
      if (!fresh(e)) {
        remove(key);
        return undefined;
      }
      // Least recently used goes first: re-insert to move to the end.
      entries.delete(key);
      entries.set(key, e);
      return e.value as T;
    },
    set<T>(key: string, value: T, tags: readonly string[], readAt: number, w = 1) {
      const e: Entry = { value, expiresAt: now() + ttl, tags, readAt, weight: Math.max(1, w) };
      if (!fresh(e) || e.weight > maxWeight) return;
      remove(key);
      entries.set(key, e);
      weight += e.weight;
      while (entries.size > max || weight > maxWeight) remove(entries.keys().next().value!);
    },
    async through<T>(key: string, load: () => Promise<T>, tagsOf: (value: T) => readonly string[], weightOf?: (value: T) => number): Promise<T> {
      const hit = cache.get<T>(key);
      if (hit !== undefined) return hit;
      const readAt = cache.mark();
      const value = await load();
      cache.set(key, value, tagsOf(value), readAt, weightOf?.(value));
      return value;
    },
    invalidate(...tags: string[]) {
      if (tags.length === 0) return;
      bump(tags);
      if (options.redis) void options.redis.publish(CHANNEL, JSON.stringify(tags)).catch(() => undefined);
    },
    invalidateAll() {
      cache.invalidate(ALL);
    },
    ready: () => subscribed,
    async close() {
      entries.clear();
      weight = 0;
      if (subscriber) await subscriber.quit().catch(() => undefined);
    },
  };
  return cache;
}

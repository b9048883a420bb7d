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
   * size in the caller's units (slots, items; default 1), counted against maxWeight. `lifetimeMs`
   * shortens the TTL for a value that the clock alone makes wrong at some point (a free slot
   * passing its minimum notice).
   */
  set<T>(key: string, value: T, tags: readonly string[], readAt: number, weight?: number, lifetimeMs?: number): void;
  /**
   * get(), or load and set(); `tagsOf` names what the value depends on, `weightOf` its size.
   * Concurrent misses of one key share one load (when no tag of it was invalidated since that
   * load began; otherwise the late caller loads afresh).
   */
  through<T>(key: string, load: () => Promise<T>, tagsOf: (value: T) => readonly string[], weightOf?: (value: T) => number, lifetimeOf?: (value: T) => number | undefined): Promise<T>;
  /**
   * Marks the tags changed here and, with Redis, on the other instances. The promise settles once
   * Redis has handed the message to the other instances' subscriptions (at once without Redis;
   * it never rejects): a writer awaits it before answering, so that a client reading next from
   * another instance does not see the old answer.
   */
  invalidate(...tags: string[]): Promise<void>;
  /** Everything is stale (a change of directory data that many entries depend on). */
  invalidateAll(): Promise<void>;
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
/** The change counter: every invalidation published through Redis takes the next number. */
const SEQ_KEY = 'hygie:public-cache:seq';
const PUBLISH_SCRIPT = "local n = redis.call('INCR', KEYS[1]) redis.call('PUBLISH', ARGV[1], cjson.encode({seq = n, tags = cjson.decode(ARGV[2])})) return n";
/** How long a writer or a reader waits for Redis before going on without it (see above). */
const REDIS_WAIT_MS = 200;
/** After this long, a numbered change whose message has not arrived is taken as lost. */
const LOST_MESSAGE_MS = 5_000;

export interface PublicCacheOptions {
  /**
   * Lifetime of an entry (default 5 s). Changes made through this instance invalidate at once
   * whatever the TTL; the TTL bounds what another instance's change can leave stale when Redis
   * does not carry invalidations, and how long a lost Redis message matters.
   */
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
  /** Loads in flight, by key, with the sequence number taken before each began. */
  const loading = new Map<string, { readAt: number; promise: Promise<unknown> }>();
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
  /** The highest change number (Redis counter SEQ_KEY) whose message this instance has applied. */
  let applied = 0;
  /** Readers waiting for the subscription to apply the messages up to a change number. */
  const catchingUp: Array<{ upTo: number; resolve: () => void }> = [];
  const settleCatchingUp = () => {
    for (let i = catchingUp.length - 1; i >= 0; i--) {
      if (catchingUp[i]!.upTo <= applied) catchingUp.splice(i, 1)[0]!.resolve();
    }
  };
  if (options.redis) {
    subscriber = options.redis.duplicate();
    subscriber.on('message', (_channel: string, message: string) => {
      try {
        const parsed = JSON.parse(message) as { seq?: unknown; tags?: unknown };
        const tags = parsed.tags;
        if (Array.isArray(tags) && tags.every((t) => typeof t === 'string')) bump(tags);
        else bump([ALL]);
        if (typeof parsed.seq === 'number' && parsed.seq > applied) applied = parsed.seq;
      } catch {
        bump([ALL]);
      }
      settleCatchingUp();
    });
    // After a lost connection, messages may have been missed: nothing cached is trusted.
    let connectedOnce = false;
    subscriber.on('ready', () => {
      if (connectedOnce) bump([ALL]);
      connectedOnce = true;
    });
    subscriber.on('error', (error: unknown) => options.logger?.warn({ err: error instanceof Error ? error.message : String(error) }, 'public cache subscriber error'));
    // Changes numbered before the subscription concern nothing cached here yet.
    const redis = options.redis;
    subscribed = subscriber
      .subscribe(CHANNEL)
      .then(() => redis.get(SEQ_KEY))
      .then(
        (value) => {
          applied = Math.max(applied, Number(value ?? 0));
          settleCatchingUp();
        },
        () => undefined,
      );
  }

  /**
   * With Redis: resolves to true once this instance has applied every change published before the
   * call (it reads the change counter with a GET sent after the call, then waits for the
   * subscription to reach that number). Callers arriving in one turn of the event loop share one GET. When Redis does
   * not answer within REDIS_WAIT_MS, or the messages have not arrived by then, it resolves to
   * false: those callers read the database instead of the cache (nothing is dropped, so an
   * overloaded instance does not lose its cache as well). A message still missing after
   * LOST_MESSAGE_MS is taken as lost: everything cached is dropped.
   */
  let syncWaiting: Array<(trusted: boolean) => void> = [];
  let syncScheduled = false;
  // One GET per turn of the event loop for the callers that arrived during it; GETs of
  // successive turns overlap (pipelined on one connection), so the Redis round trip adds
  // latency but does not cap throughput.
  const syncRound = () => {
    const batch = syncWaiting;
    syncWaiting = [];
    syncScheduled = false;
    const redis = options.redis!;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), REDIS_WAIT_MS)));
    void Promise.race([
      redis.get(SEQ_KEY).then(
        (value) => Number(value ?? 0),
        () => 'timeout' as const,
      ),
      timeout,
    ])
      .then(async (upTo): Promise<boolean> => {
        if (upTo === 'timeout') return false;
        if (upTo <= applied) return true;
        setTimeout(() => {
          if (applied >= upTo) return;
          bump([ALL]);
          applied = upTo;
          settleCatchingUp();
        }, LOST_MESSAGE_MS).unref();
        return Promise.race([new Promise<boolean>((resolve) => catchingUp.push({ upTo, resolve: () => resolve(true) })), timeout.then(() => false)]);
      })
      .then((trusted) => {
        clearTimeout(timer);
        for (const resolve of batch) resolve(trusted);
      });
  };
  const synced = (): Promise<boolean> | undefined => {
    if (!options.redis) return undefined;
    return new Promise<boolean>((resolve) => {
      syncWaiting.push(resolve);
      if (!syncScheduled) {
        syncScheduled = true;
        setImmediate(syncRound);
      }
    });
  };

  const remove = (key: string) => {
    const e = entries.get(key);
    if (!e) return;
    entries.delete(key);
    weight -= e.weight;
  };

  const unchangedSince = (tags: readonly string[], readAt: number): boolean => {
    if ((invalidatedAt.get(ALL) ?? 0) > readAt) return false;
    for (const tag of tags) if ((invalidatedAt.get(tag) ?? 0) > readAt) return false;
    return true;
  };
  const fresh = (e: Entry): boolean => e.expiresAt > now() && unchangedSince(e.tags, e.readAt);

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
    set<T>(key: string, value: T, tags: readonly string[], readAt: number, w = 1, lifetimeMs = ttl) {
      const e: Entry = { value, expiresAt: now() + Math.min(ttl, lifetimeMs), tags, readAt, weight: Math.max(1, w) };
      if (!fresh(e) || e.weight > maxWeight) return;
      remove(key);
      entries.set(key, e);
      weight += e.weight;
      while (entries.size > max || weight > maxWeight) remove(entries.keys().next().value!);
    },
    async through<T>(key: string, load: () => Promise<T>, tagsOf: (value: T) => readonly string[], weightOf?: (value: T) => number, lifetimeOf?: (value: T) => number | undefined): Promise<T> {
      const sync = synced();
      const trusted = sync ? await sync : true;
      const hit = trusted ? cache.get<T>(key) : undefined;
      if (hit !== undefined) return hit;
      const pending = trusted ? loading.get(key) : undefined;
      if (pending) {
        // Share the load in flight, unless it may have missed a change made since it began (then
        // its answer is not served to this later caller, who loads afresh), or it failed.
        const shared = await pending.promise.then(
          (value) => ({ value: value as T }),
          () => undefined,
        );
        if (shared && unchangedSince(tagsOf(shared.value), pending.readAt)) return shared.value;
      }
      const readAt = cache.mark();
      const promise = load();
      const mine = { readAt, promise };
      if (!pending) loading.set(key, mine);
      try {
        const value = await promise;
        cache.set(key, value, tagsOf(value), readAt, weightOf?.(value), lifetimeOf?.(value));
        return value;
      } finally {
        if (loading.get(key) === mine) loading.delete(key);
      }
    },
    async invalidate(...tags: string[]) {
      if (tags.length === 0) return;
      bump(tags);
      if (!options.redis) return;
      // One round trip numbers the change and publishes it with its number, atomically, so that
      // readers elsewhere know which messages they must have applied (synced()). A Redis outage
      // must not hold writers' answers: wait at most REDIS_WAIT_MS; the other instances then
      // cannot reach Redis either and drop what they cache.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        options.redis.eval(PUBLISH_SCRIPT, 1, SEQ_KEY, CHANNEL, JSON.stringify(tags)).then(
          () => undefined,
          () => undefined,
        ),
        new Promise<void>((resolve) => (timer = setTimeout(resolve, REDIS_WAIT_MS))),
      ]);
      clearTimeout(timer);
    },
    invalidateAll() {
      return cache.invalidate(ALL);
    },
    ready: () => subscribed,
    async close() {
      entries.clear();
      loading.clear();
      weight = 0;
      for (const waiter of catchingUp.splice(0)) waiter.resolve();
      if (subscriber) await subscriber.quit().catch(() => undefined);
    },
  };
  return cache;
}

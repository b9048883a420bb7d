// Throttling of guesses without lock-out abuse (ASVS 6.1.1, 6.3.1). Counters live in memory, or
// in Redis when REDIS_URL is set so that every instance shares them (rate-limiter-flexible, with
// an in-memory insurance limiter if Redis goes away).
//
// The policy (docs/security.md explains it):
// - Failures are counted per bucket; after a bucket's free failures, each further failure blocks
//   the bucket for a growing delay (1, 2, 4, 8 minutes, at most 15), answered 429 + Retry-After
//   before the password is even checked.
// - A login from a device that already completed a login to this account (a device cookie known
//   for it) uses its own bucket for that account and that device only. Guesses from anywhere
//   else fill the account's "unknown devices" bucket and the per-IP bucket, which the victim's
//   usual device never consults: hammering a victim's e-mail cannot keep them out.
// - The account bucket is keyed by the e-mail as typed (normalised), whether or not an account
//   exists, so a 429 reveals nothing.
import { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Config } from '../../config.js';
import { DomainError } from '../../platform/http/errors.js';

export interface BackoffPolicy {
  /** Failures allowed before delays start. */
  free: number;
  /** Window over which failures are counted, in seconds. */
  windowSeconds: number;
  /** First delay, doubling with each further failure. */
  firstDelaySeconds: number;
  maxDelaySeconds: number;
}

export const POLICIES = {
  /** Unknown devices trying one account. */
  account: { free: 5, windowSeconds: 24 * 3600, firstDelaySeconds: 60, maxDelaySeconds: 15 * 60 },
  /** A device known for the account (its owner's, or one stolen along with its cookie). */
  device: { free: 10, windowSeconds: 3600, firstDelaySeconds: 30, maxDelaySeconds: 5 * 60 },
  /** One IP address guessing passwords of any accounts from unknown devices (credential stuffing). */
  ip: { free: 30, windowSeconds: 3600, firstDelaySeconds: 60, maxDelaySeconds: 15 * 60 },
  /** Wrong second-factor codes for one user (who has passed the password). */
  mfa: { free: 5, windowSeconds: 3600, firstDelaySeconds: 60, maxDelaySeconds: 15 * 60 },
  /** Unauthenticated actions that send mail or create rows (sign-up, reset requests) per IP. */
  publicAction: { free: 20, windowSeconds: 600, firstDelaySeconds: 60, maxDelaySeconds: 10 * 60 },
} satisfies Record<string, BackoffPolicy>;

export type Bucket = keyof typeof POLICIES;

export function delayAfterFailures(policy: BackoffPolicy, failures: number): number {
  if (failures < policy.free) return 0;
  return Math.min(policy.maxDelaySeconds, policy.firstDelaySeconds * 2 ** (failures - policy.free));
}

export interface Throttle {
  /** Throws 429 rate_limited (with Retry-After) when any of the buckets is blocked. */
  assertOpen(keys: Array<[Bucket, string]>): Promise<void>;
  /** Counts a failure in each bucket, blocking those past their free failures. */
  fail(keys: Array<[Bucket, string]>): Promise<void>;
  /** Clears buckets after a success (the user proved who they are). */
  reset(keys: Array<[Bucket, string]>): Promise<void>;
  /** Resolves once the shared store (Redis) is connected; at once for the in-memory store. */
  ready(): Promise<void>;
  close(): Promise<void>;
}

type LimiterFactory = (opts: { keyPrefix: string; points: number; duration: number }) => RateLimiterAbstract;

export function createThrottle(config: Pick<Config, 'redisUrl'>): Throttle {
  let redis: Redis | undefined;
  let make: LimiterFactory = (opts) => new RateLimiterMemory(opts);
  if (config.redisUrl) {
    // rate-limiter-flexible's advice for ioredis: fail fast instead of queueing while offline.
    const client = new Redis(config.redisUrl, { enableOfflineQueue: false, lazyConnect: false, maxRetriesPerRequest: 1 });
    client.on('error', () => undefined);
    redis = client;
    make = (opts) => new RateLimiterRedis({ ...opts, storeClient: client, insuranceLimiter: new RateLimiterMemory(opts) });
  }
  const counters = new Map<Bucket, RateLimiterAbstract>();
  const blocks = new Map<Bucket, RateLimiterAbstract>();
  for (const [bucket, policy] of Object.entries(POLICIES) as Array<[Bucket, BackoffPolicy]>) {
    counters.set(bucket, make({ keyPrefix: `hygie:thr:${bucket}`, points: 1_000_000, duration: policy.windowSeconds }));
    blocks.set(bucket, make({ keyPrefix: `hygie:blk:${bucket}`, points: 1, duration: 1 }));
  }

  return {
    async assertOpen(keys) {
      let wait = 0;
      for (const [bucket, key] of keys) {
        const res = await blocks.get(bucket)!.get(key);
        if (res && res.consumedPoints > 1) wait = Math.max(wait, res.msBeforeNext);
      }
      if (wait > 0) throw new DomainError('rate_limited', 'Too many attempts; try again later.', { retryAfterSeconds: Math.ceil(wait / 1000) });
    },
    async fail(keys) {
      for (const [bucket, key] of keys) {
        const res = await counters.get(bucket)!.penalty(key, 1);
        const delay = delayAfterFailures(POLICIES[bucket], res.consumedPoints);
        if (delay > 0) await blocks.get(bucket)!.block(key, delay);
      }
    },
    async reset(keys) {
      for (const [bucket, key] of keys) {
        await counters.get(bucket)!.delete(key);
        await blocks.get(bucket)!.delete(key);
      }
    },
    async ready() {
      const client = redis;
      if (!client || client.status === 'ready') return;
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('Redis did not become ready within 10 s')), 10_000);
        client.once('ready', () => {
          clearTimeout(timer);
          resolve();
        });
      });
    },
    async close() {
      redis?.disconnect();
    },
  };
}

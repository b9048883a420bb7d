// The Redis connection for shared guard counters. A guard that cannot count must not let data
// through: commands fail fast (no offline queue) so the gate's transaction fails and nothing leaves.
import { Redis } from 'ioredis';

export async function connectGuardRedis(url: string): Promise<Redis> {
  const redis = new Redis(url, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 2000 });
  redis.on('error', () => undefined);
  await redis.connect();
  return redis;
}

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { createThrottle, delayAfterFailures, POLICIES } from './throttle.js';

describe('throttle policy', () => {
  it('grows delays after the free failures, up to a cap', () => {
    const p = POLICIES.account;
    expect([1, 4, 5, 6, 7, 8, 9, 20].map((n) => delayAfterFailures(p, n))).toEqual([0, 0, 60, 120, 240, 480, 900, 900]);
  });

  it('blocks a bucket past its free failures and names the wait', async () => {
    const throttle = createThrottle({ redisUrl: undefined });
    const keys = [['account', 'k1']] as Array<['account', string]>;
    for (let i = 0; i < 4; i++) await throttle.fail(keys);
    await expect(throttle.assertOpen(keys)).resolves.toBeUndefined();
    await throttle.fail(keys);
    await expect(throttle.assertOpen(keys)).rejects.toMatchObject({ code: 'rate_limited', extra: { retryAfterSeconds: 60 } });
    // Other buckets and keys are untouched; a success clears the bucket.
    await expect(throttle.assertOpen([['account', 'k2'], ['device', 'k1']])).resolves.toBeUndefined();
    await throttle.reset(keys);
    await expect(throttle.assertOpen(keys)).resolves.toBeUndefined();
  });
});

async function waitForPort(port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => resolve(true));
      socket.on('error', () => resolve(false));
      setTimeout(() => socket.destroy(), 200);
    });
    if (open) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`redis-server did not start on ${port}`);
}

const hasRedis = spawnSync('redis-server', ['--version']).status === 0;

describe.skipIf(!hasRedis)('throttle shared through Redis', () => {
  let server: ChildProcess | undefined;
  afterAll(() => {
    server?.kill();
  });

  it('two instances see the same counters', async () => {
    const port = 20000 + Math.floor(Math.random() * 20000);
    server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    await waitForPort(port);
    const a = createThrottle({ redisUrl: `redis://127.0.0.1:${port}` });
    const b = createThrottle({ redisUrl: `redis://127.0.0.1:${port}` });
    try {
      // The clients connect in the background: count only once both share the store (until then
      // each would count in its own in-memory insurance limiter).
      await Promise.all([a.ready(), b.ready()]);
      const keys = [['ip', `203.0.113.${port % 250}`]] as Array<['ip', string]>;
      for (let i = 0; i < POLICIES.ip.free - 1; i++) await (i % 2 === 0 ? a : b).fail(keys);
      await expect(b.assertOpen(keys)).resolves.toBeUndefined();
      await a.fail(keys);
      await expect(b.assertOpen(keys)).rejects.toMatchObject({ code: 'rate_limited' });
    } finally {
      await a.close();
      await b.close();
    }
  });
});

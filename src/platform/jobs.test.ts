import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { createTestDatabase, type TestDatabase } from '../../test/helpers/db.js';
import { createLogger } from './log.js';
import { createJobRunner, enqueueJob, retryDelaySeconds } from './jobs.js';
import { createMailer, enqueueMail, readOutbox, registerMailJobs } from './mail.js';
import { queueCipher } from '../modules/vault/index.js';

describe('job outbox', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase();
  });
  afterAll(async () => t?.drop());

  const logger = createLogger('silent');

  it('exists only if the transaction that enqueued it commits', async () => {
    const runner = createJobRunner({ db: t.db, logger });
    const seen: unknown[] = [];
    runner.register('test.commit', async (payload) => void seen.push(payload));
    await expect(
      t.db.withPlatform(async (tx) => {
        await enqueueJob(tx, { kind: 'test.commit', payload: { n: 1 } });
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    await t.db.withPlatform((tx) => enqueueJob(tx, { kind: 'test.commit', payload: { n: 2 } }));
    expect(await runner.runOnce()).toBe(1);
    expect(seen).toEqual([{ n: 2 }]);
    expect(await runner.runOnce()).toBe(0);
  });

  it('retries a failing job later with a growing delay, then marks it failed', async () => {
    const runner = createJobRunner({ db: t.db, logger });
    let calls = 0;
    runner.register('test.flaky', async () => {
      calls += 1;
      throw new Error('SMTP down');
    });
    const id = await t.db.withPlatform((tx) => enqueueJob(tx, { kind: 'test.flaky', payload: {}, maxAttempts: 2 }));
    expect(await runner.runOnce()).toBe(1);
    const after1 = await t.db.owner.selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    expect(after1).toMatchObject({ attempts: 1, last_error: 'SMTP down', failed_at: null });
    expect(after1.run_at.getTime()).toBeGreaterThan(Date.now() + 3000);
    // Not due yet.
    expect(await runner.runOnce()).toBe(0);
    await sql`update jobs set run_at = now() where id = ${id}`.execute(t.db.owner);
    expect(await runner.runOnce()).toBe(1);
    const after2 = await t.db.owner.selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    expect(after2.failed_at).not.toBeNull();
    expect(calls).toBe(2);
    expect([1, 2, 3, 10, 20].map(retryDelaySeconds)).toEqual([5, 10, 20, 2560, 3600]);
  });

  it('lets two workers share the queue without running a job twice (SKIP LOCKED)', async () => {
    const a = createJobRunner({ db: t.db, logger });
    const b = createJobRunner({ db: t.db, logger });
    const ran: string[] = [];
    for (const [name, r] of [['a', a], ['b', b]] as const) r.register('test.share', async (p) => void ran.push(`${name}:${String(p['n'])}`));
    await t.db.withPlatform(async (tx) => {
      for (let n = 0; n < 30; n++) await enqueueJob(tx, { kind: 'test.share', payload: { n } });
    });
    await Promise.all([a.runOnce(7), b.runOnce(7), a.runOnce(7), b.runOnce(7), a.runOnce(7)]);
    const numbers = ran.map((r) => Number(r.split(':')[1]));
    expect(new Set(numbers).size).toBe(numbers.length);
    expect(numbers.length).toBe(30);
  });

  it('runs a batch several jobs at a time, each once, and records each outcome apart', async () => {
    const runner = createJobRunner({ db: t.db, logger, concurrency: 3 });
    let inFlight = 0;
    let most = 0;
    const ran: number[] = [];
    runner.register('test.side', async (p) => {
      inFlight += 1;
      most = Math.max(most, inFlight);
      await new Promise((r) => setTimeout(r, 30));
      inFlight -= 1;
      if (p['n'] === 4) throw new Error('refused');
      ran.push(Number(p['n']));
    });
    await t.db.withPlatform(async (tx) => {
      for (let n = 0; n < 8; n++) await enqueueJob(tx, { kind: 'test.side', payload: { n } });
    });
    expect(await runner.runOnce(8)).toBe(8);
    expect(most).toBe(3);
    expect(ran.sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 5, 6, 7]);
    const left = await t.db.owner.selectFrom('jobs').select(['payload', 'last_error']).where('kind', '=', 'test.side').execute();
    expect(left).toEqual([{ payload: { n: 4 }, last_error: 'refused' }]);
  });

  it('deletes the done jobs of a batch together: one claim and one delete for eight sent jobs', async () => {
    let transactions = 0;
    // The runner's database, counting its transactions (each is a BEGIN and a COMMIT).
    const counted = new Proxy(t.db, {
      get(target, prop, receiver) {
        if (prop === 'withPlatform') return (fn: Parameters<typeof t.db.withPlatform>[0]) => ((transactions += 1), target.withPlatform(fn));
        return Reflect.get(target, prop, receiver) as unknown;
      },
    });
    const runner = createJobRunner({ db: counted, logger, concurrency: 4 });
    const sent: number[] = [];
    runner.register('test.batch', async (p) => void sent.push(Number(p['n'])));
    await t.db.withPlatform(async (tx) => {
      for (let n = 0; n < 8; n++) await enqueueJob(tx, { kind: 'test.batch', payload: { n } });
    });
    expect(await runner.runOnce(20)).toBe(8);
    expect(sent.sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(transactions).toBe(2);
    expect(await t.db.owner.selectFrom('jobs').select('id').where('kind', '=', 'test.batch').execute()).toEqual([]);
  });

  it('starts and stops a polling worker', async () => {
    const runner = createJobRunner({ db: t.db, logger });
    let done = 0;
    runner.register('test.poll', async () => void (done += 1));
    runner.start(20);
    await t.db.withPlatform((tx) => enqueueJob(tx, { kind: 'test.poll', payload: {} }));
    for (let i = 0; i < 100 && done === 0; i++) await new Promise((r) => setTimeout(r, 20));
    await runner.stop();
    expect(done).toBe(1);
  });

  it('without SMTP, keeps mail in the outbox and logs no address or text', async () => {
    const lines: string[] = [];
    const capture = createLogger('info', { write: (s: string) => void lines.push(s) });
    const runner = createJobRunner({ db: t.db, logger: capture });
    const config = (await import('../../test/helpers/db.js')).testConfig();
    const cipher = queueCipher(t.vault);
    registerMailJobs(runner, createMailer(config, { db: t.db, logger: capture, cipher }), { db: t.db, cipher });
    await t.db.withPlatform((tx) => enqueueMail(tx, cipher, { to: 'Jeanne.Martin@example.fr', subject: 'Bonjour', text: 'Votre lien secret', template: 'test.hello' }));
    // Queued: the job holds the template and a ciphertext, neither the address nor the text.
    const queued = JSON.stringify(await t.db.owner.selectFrom('jobs').selectAll().where('kind', '=', 'mail.send').execute());
    expect(queued).toContain('test.hello');
    expect(queued).toMatch(/hv1:/);
    expect(queued).not.toMatch(/jeanne|martin|bonjour|secret/i);
    await runner.runOnce();
    expect(await readOutbox(t.db, cipher, 'jeanne.martin@example.fr')).toEqual([expect.objectContaining({ subject: 'Bonjour', text: 'Votre lien secret', template: 'test.hello' })]);
    // Kept: sealed too, found by a keyed index of the address.
    const kept = JSON.stringify(await t.db.owner.selectFrom('mail_outbox').selectAll().execute());
    expect(kept).toMatch(/hv1:/);
    expect(kept).not.toMatch(/jeanne|martin|bonjour|secret/i);
    const log = lines.join('\n');
    expect(log).toContain('test.hello');
    expect(log).not.toMatch(/jeanne|martin|secret/i);
  });

  it('a sealed mail job opens only on its own row', async () => {
    const cipher = queueCipher(t.vault);
    const runner = createJobRunner({ db: t.db, logger: createLogger('silent') });
    const sent: string[] = [];
    registerMailJobs(runner, { send: async (m) => void sent.push(m.to) }, { db: t.db, cipher });
    const [a, b] = await t.db.withPlatform(async (tx) => [
      await enqueueMail(tx, cipher, { to: 'a@example.fr', subject: 'A', text: 'A', template: 'test.a' }),
      await enqueueMail(tx, cipher, { to: 'b@example.fr', subject: 'B', text: 'B', template: 'test.b' }),
    ]);
    // Swap the ciphertexts: neither job sends (each fails authentication on the other's row).
    const rows = await t.db.owner.selectFrom('jobs').select(['id', 'payload']).where('id', 'in', [a!, b!]).execute();
    const byId = new Map(rows.map((r) => [r.id, r.payload]));
    await t.db.owner.updateTable('jobs').set({ payload: JSON.stringify(byId.get(b!)), max_attempts: 1 }).where('id', '=', a!).execute();
    await t.db.owner.updateTable('jobs').set({ payload: JSON.stringify(byId.get(a!)), max_attempts: 1 }).where('id', '=', b!).execute();
    await runner.runOnce();
    expect(sent).toEqual([]);
    const failed = await t.db.owner.selectFrom('jobs').select(['failed_at']).where('id', 'in', [a!, b!]).execute();
    expect(failed.every((f) => f.failed_at !== null)).toBe(true);
    await t.db.owner.deleteFrom('jobs').where('id', 'in', [a!, b!]).execute();
  });
});

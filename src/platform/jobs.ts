// The job outbox. A job is written with enqueueJob() in the caller's transaction, so it exists
// exactly when the work that asked for it was committed (a reset e-mail is never sent for a
// rolled-back reset). Workers claim due jobs with FOR UPDATE SKIP LOCKED, so several instances
// share the queue without taking the same job; a claimed job is leased, not held in a
// transaction, so a slow handler (SMTP) never keeps a connection or a lock busy.
import { sql } from 'kysely';
import { v7 as uuidv7 } from 'uuid';
import type { Database, Tx } from './db/database.js';
import type { Logger } from './log.js';

export interface JobInput {
  /** The job's id when the caller needs it first (a payload sealed to its row); default a new UUIDv7. */
  id?: string;
  kind: string;
  payload: Record<string, unknown>;
  /** Not before this instant (default: now). */
  runAt?: Date;
  /** Attempts before the job is marked failed (default 8). */
  maxAttempts?: number;
  /** What the job is about (an appointment id), for withdrawJobs(); never personal data. */
  subject?: string;
}

export async function enqueueJob(tx: Tx, job: JobInput): Promise<string> {
  return (await enqueueJobs(tx, [job]))[0]!;
}

/** Queues several jobs in one statement (one round trip), in the caller's transaction. */
export async function enqueueJobs(tx: Tx, jobs: readonly JobInput[]): Promise<string[]> {
  if (jobs.length === 0) return [];
  const rows = jobRows(jobs);
  await tx.insertInto('jobs').values(rows).execute();
  return rows.map((r) => r.id);
}

/**
 * The rows of these jobs, for a caller that inserts them in the same statement as the change
 * that asks for them (a data-modifying CTE): the jobs then exist exactly when that statement does.
 */
export function jobRows(jobs: readonly JobInput[]) {
  return jobs.map((job) => ({
    id: job.id ?? uuidv7(),
    kind: job.kind,
    payload: JSON.stringify(job.payload),
    // One multi-row insert needs the same columns on every row: defaults are spelled out.
    run_at: job.runAt ?? sql<Date>`now()`,
    max_attempts: job.maxAttempts ?? 8,
    subject: job.subject ?? null,
  }));
}

/**
 * Withdraws the queued jobs of these kinds about a subject (the reminders of an appointment that
 * was cancelled or moved), in the caller's transaction. A job already claimed by a worker may
 * still run: its handler re-checks that it is still wanted.
 */
export async function withdrawJobs(tx: Tx, subject: string, kinds: readonly string[]): Promise<number> {
  if (kinds.length === 0) return 0;
  const result = await tx.deleteFrom('jobs').where('subject', '=', subject).where('kind', 'in', kinds).where('failed_at', 'is', null).executeTakeFirst();
  return Number(result.numDeletedRows);
}

export interface JobContext {
  jobId: string;
  attempt: number;
}

export type JobHandler = (payload: Record<string, unknown>, ctx: JobContext) => Promise<void>;

export interface JobRunner {
  /** Registers the handler of one kind of job; a kind has exactly one handler. */
  register(kind: string, handler: JobHandler): void;
  /** Claims and runs the due jobs once (at most `limit`); returns how many ran. Tests call this. */
  runOnce(limit?: number): Promise<number>;
  /** Polls every `intervalMs` until stop(). */
  start(intervalMs?: number): void;
  /** Stops polling and waits for the running batch. */
  stop(): Promise<void>;
}

/** Delay before attempt n+1: 5 s, 10 s, 20 s… capped at one hour. */
export function retryDelaySeconds(attempt: number): number {
  return Math.min(3600, 5 * 2 ** Math.max(0, attempt - 1));
}

const LEASE_SECONDS = 300;

/**
 * Jobs of one batch run this many at a time. A notice spends most of its time waiting for the
 * database and the mail server, so one at a time left the worker idle half the time and drained
 * about 90 confirmations a second while bookings came in at 500.
 */
export const DEFAULT_JOB_CONCURRENCY = 4;

export function createJobRunner(deps: { db: Database; logger: Logger; concurrency?: number }): JobRunner {
  const concurrency = Math.max(1, deps.concurrency ?? DEFAULT_JOB_CONCURRENCY);
  const handlers = new Map<string, JobHandler>();
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<number> | undefined;
  let stopped = true;

  const claim = (limit: number) =>
    deps.db.withPlatform(async (tx) => {
      const kinds = [...handlers.keys()];
      if (kinds.length === 0) return [];
      const { rows } = await sql<{ id: string; kind: string; payload: Record<string, unknown>; attempts: number; max_attempts: number }>`
        update jobs set locked_until = now() + make_interval(secs => ${LEASE_SECONDS}), attempts = attempts + 1
        where id in (
          select id from jobs
          where failed_at is null and run_at <= now() and (locked_until is null or locked_until < now())
            and kind = any(${kinds})
          order by run_at
          limit ${limit}
          for update skip locked
        )
        returning id, kind, payload, attempts, max_attempts`.execute(tx);
      return rows;
    });

  type Claimed = Awaited<ReturnType<typeof claim>>[number];

  const runBatch = async (limit: number): Promise<number> => {
    const jobs = await claim(limit);
    // Each claimed job is leased to this runner alone, so they may run side by side; a failure
    // to record one job's outcome is rethrown once the others have finished.
    const done: string[] = [];
    let next = 0;
    const lane = async () => {
      while (next < jobs.length) await runJob(jobs[next++]!, done);
    };
    const settled = await Promise.allSettled(Array.from({ length: Math.min(concurrency, jobs.length) }, lane));
    // Done jobs are deleted, the whole batch's in one statement: their payloads (a sealed e-mail
    // with its link) must not linger. Delivery is at least once: should the process die before
    // this delete, the batch runs again when its lease ends (as it always could between a send
    // and its delete; the window is now one batch).
    if (done.length > 0) await deps.db.withPlatform((tx) => tx.deleteFrom('jobs').where('id', 'in', done).execute());
    const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    return jobs.length;
  };

  const runJob = async (job: Claimed, done: string[]): Promise<void> => {
    const handler = handlers.get(job.kind)!;
    try {
      await handler(job.payload, { jobId: job.id, attempt: job.attempts });
      done.push(job.id);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const last = job.attempts >= job.max_attempts;
      deps.logger.warn({ jobId: job.id, kind: job.kind, attempt: job.attempts, last, err: message }, 'job failed');
      await deps.db.withPlatform((tx) =>
        tx
          .updateTable('jobs')
          .set({
            locked_until: null,
            last_error: message.slice(0, 500),
            ...(last ? { failed_at: new Date() } : { run_at: new Date(Date.now() + retryDelaySeconds(job.attempts) * 1000) }),
          })
          .where('id', '=', job.id)
          .execute(),
      );
    }
  };

  const runOnce = async (limit = 20): Promise<number> => {
    // One batch at a time per runner: runOnce() from a test waits for the poller's batch.
    while (running) await running.catch(() => undefined);
    running = runBatch(limit);
    try {
      return await running;
    } finally {
      running = undefined;
    }
  };

  return {
    register(kind, handler) {
      if (handlers.has(kind)) throw new Error(`job kind ${kind} already has a handler`);
      handlers.set(kind, handler);
    },
    runOnce,
    start(intervalMs = 1000) {
      if (!stopped) return;
      stopped = false;
      const tick = async () => {
        try {
          // Drain while there is work, then sleep.
          while (!stopped && (await runOnce()) > 0);
        } catch (error) {
          deps.logger.error({ err: error }, 'job worker failed');
        }
        if (!stopped) timer = setTimeout(() => void tick(), intervalMs);
      };
      timer = setTimeout(() => void tick(), 0);
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      while (running) await running.catch(() => undefined);
    },
  };
}

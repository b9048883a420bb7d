// The sealer: chains pending events in batches (sequence + hash per stream) and signs a checkpoint
// of each stream it advanced. Runs in the background of every server (start/stop), and step by
// step in tests (sealPending). Appending an event never waits for it: the only lock is the
// sealer's own advisory lock, which request transactions never take.
import { appendFile, chmod, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { v7 as uuidv7 } from 'uuid';
import type { Database } from '../../platform/db/database.js';
import type { Logger } from '../../platform/log.js';
import { chainHash, checkpointMessage, GENESIS_HASH, type ChainableEvent } from './canonical.js';
import type { AuditKeyring } from './keys.js';
import { createAuditStore, establishmentOf, type AuditStore, type ChainLink, type CheckpointRow } from './store.js';

/** A signed checkpoint as exported to a file (one JSON object per line), self-contained. */
export interface CheckpointRecord {
  type: 'checkpoint';
  stream: string;
  establishmentId: string | null;
  seq: string;
  hash: string;
  signedAt: string;
  keyId: string;
  /** Raw Ed25519 public key, base64. */
  publicKey: string;
  /** Ed25519 signature over checkpointMessage(), base64. */
  signature: string;
}

export function toCheckpointRecord(c: CheckpointRow, publicKey: Buffer): CheckpointRecord {
  return {
    type: 'checkpoint',
    stream: c.stream,
    establishmentId: establishmentOf(c.stream),
    seq: c.seq.toString(),
    hash: c.hash.toString('hex'),
    signedAt: c.signedAt.toISOString(),
    keyId: c.keyId,
    publicKey: publicKey.toString('base64'),
    signature: c.signature.toString('base64'),
  };
}

/** Appends checkpoint records as JSON lines to a file kept outside the database (mode 0600). */
export async function appendCheckpointRecords(file: string, records: CheckpointRecord[]): Promise<void> {
  if (records.length === 0) return;
  await mkdir(path.dirname(file), { recursive: true });
  await appendFile(file, records.map((r) => `${JSON.stringify(r)}\n`).join(''), { mode: 0o600 });
  await chmod(file, 0o600);
}

export interface SealOptions {
  /** Events per chaining transaction (default 5000). */
  batchSize?: number;
  /** Stop after this many batches in one run (default: until nothing is pending). */
  maxBatches?: number;
  /** Streams to checkpoint even if this run did not advance them (recovery after a crash). */
  alsoCheckpoint?: string[];
}

export interface SealResult {
  chained: number;
  checkpoints: CheckpointRecord[];
  /** Another instance held the sealer lock; nothing was done. */
  busy: boolean;
  /** Longest time (ms) from an event's transaction start to the commit of its checkpoint, in this run. */
  maxLagMs: number | undefined;
}

function parseUtcMicros(at: string): number {
  return Date.parse(`${at.slice(0, 23)}Z`);
}

function signHead(keyring: AuditKeyring, stream: string, head: { seq: bigint; hash: Buffer }): { row: CheckpointRow; publicKey: Buffer } {
  const key = keyring.signingKey(stream);
  const body = { stream, seq: head.seq, hash: head.hash, signedAt: new Date(), keyId: key.keyId };
  return { row: { ...body, signature: key.sign(checkpointMessage(body)) }, publicKey: key.publicKey };
}

/**
 * Events chained between two returns to the event loop. Chaining is synchronous work (canonical
 * text and SHA-256 per event): a batch of 5,000 held the server's event loop for a quarter of a
 * second, stalling every request of the instance meanwhile.
 */
export const CHAIN_SLICE = 250;

/**
 * Gives each pending event its sequence and hash after its stream's head (`heads` is advanced in
 * place), in order, returning to the event loop (`pause`) every CHAIN_SLICE events.
 */
export async function chainEvents(
  pending: ReadonlyArray<{ stream: string; event: ChainableEvent }>,
  heads: Map<string, { seq: bigint; hash: Buffer }>,
  pause: () => Promise<unknown> = () => yieldToLoop(),
): Promise<{ links: ChainLink[]; oldestAt: number | undefined }> {
  const links: ChainLink[] = [];
  let oldestAt: number | undefined;
  for (let i = 0; i < pending.length; i++) {
    if (i > 0 && i % CHAIN_SLICE === 0) await pause();
    const { stream, event } = pending[i]!;
    const head = heads.get(stream) ?? { seq: 0n, hash: GENESIS_HASH };
    const seq = head.seq + 1n;
    const hash = chainHash(head.hash, seq, event);
    heads.set(stream, { seq, hash });
    links.push({ stream, seq, eventId: event.id, hash });
    const at = parseUtcMicros(event.at);
    if (oldestAt === undefined || at < oldestAt) oldestAt = at;
  }
  return { links, oldestAt };
}

/**
 * One sealing transaction: up to batchSize pending events get their sequence and hash, and each
 * stream they advanced gets a signed checkpoint at its new head, in the same commit (so the lag
 * is one batch, whatever the backlog).
 */
async function sealBatch(
  db: Database,
  store: AuditStore,
  keyring: AuditKeyring,
  batchSize: number,
): Promise<{ busy: boolean; chained: number; checkpoints: CheckpointRecord[]; oldestAt: number | undefined }> {
  return db.owner.transaction().execute(async (tx) => {
    if (!(await store.tryLockSealer(tx))) return { busy: true, chained: 0, checkpoints: [], oldestAt: undefined };
    const pending = await store.claimPending(tx, batchSize);
    if (pending.length === 0) return { busy: false, chained: 0, checkpoints: [], oldestAt: undefined };
    const streams = [...new Set(pending.map((p) => p.stream))];
    const heads = await store.streamHeads(tx, streams);
    const { links, oldestAt } = await chainEvents(pending, heads);
    await store.insertChainLinks(tx, links);
    const checkpoints: CheckpointRecord[] = [];
    for (const stream of streams) {
      // The public key is in the database before the first checkpoint it signs.
      await store.registerKey(tx, keyring.signingKey(stream));
      const { row, publicKey } = signHead(keyring, stream, heads.get(stream)!);
      if (await store.insertCheckpoint(tx, uuidv7(), row)) checkpoints.push(toCheckpointRecord(row, publicKey));
    }
    return { busy: false, chained: links.length, checkpoints, oldestAt };
  });
}

/** Signs a checkpoint at the head of each stream that is ahead of its last checkpoint (recovery). */
export async function signCheckpoints(db: Database, keyring: AuditKeyring, streams: string[], store = createAuditStore()): Promise<CheckpointRecord[]> {
  if (streams.length === 0) return [];
  return db.owner.transaction().execute(async (tx) => {
    if (!(await store.tryLockSealer(tx))) return [];
    const heads = await store.streamHeads(tx, streams);
    const last = await store.lastCheckpointSeqs(tx, streams);
    const out: CheckpointRecord[] = [];
    for (const [stream, head] of heads) {
      if ((last.get(stream) ?? 0n) >= head.seq) continue;
      await store.registerKey(tx, keyring.signingKey(stream));
      const { row, publicKey } = signHead(keyring, stream, head);
      if (await store.insertCheckpoint(tx, uuidv7(), row)) out.push(toCheckpointRecord(row, publicKey));
    }
    return out;
  });
}

/** Seals everything pending, batch by batch; each batch commits its chain links and checkpoints. */
export async function sealPending(db: Database, keyring: AuditKeyring, options: SealOptions = {}): Promise<SealResult> {
  const store = createAuditStore();
  const batchSize = options.batchSize ?? 5000;
  const checkpoints = options.alsoCheckpoint?.length ? await signCheckpoints(db, keyring, options.alsoCheckpoint, store) : [];
  let chained = 0;
  let maxLagMs: number | undefined;
  let busy = false;
  for (let batch = 0; options.maxBatches === undefined || batch < options.maxBatches; batch++) {
    const r = await sealBatch(db, store, keyring, batchSize);
    if (r.busy) {
      busy = true;
      break;
    }
    chained += r.chained;
    checkpoints.push(...r.checkpoints);
    // Sealed means committed under a signed checkpoint: that is now, for this batch.
    if (r.oldestAt !== undefined) maxLagMs = Math.max(maxLagMs ?? 0, Date.now() - r.oldestAt);
    if (r.chained < batchSize) break;
  }
  return { chained, checkpoints, busy, maxLagMs };
}

export interface SealerOptions {
  db: Database;
  keyring: AuditKeyring;
  logger?: Logger | undefined;
  /** Pause between runs (default 500 ms: sealing lag stays well under 2 s). */
  intervalMs?: number;
  batchSize?: number;
  /** File to which every new checkpoint is appended (config.auditCheckpointsFile). */
  checkpointsFile?: string | undefined;
  /** Called after each run (metrics, benches). */
  onRun?: (result: SealResult) => void;
}

export interface AuditSealer {
  start(): Promise<void>;
  /** Stops the loop, then seals what is still pending. */
  stop(): Promise<void>;
  /** One run, now (tests, CLI). */
  runOnce(options?: SealOptions): Promise<SealResult>;
}

export function createAuditSealer(options: SealerOptions): AuditSealer {
  const { db, keyring, logger } = options;
  const intervalMs = options.intervalMs ?? 500;
  let timer: NodeJS.Timeout | undefined;
  let current: Promise<unknown> | undefined;
  let stopped = true;

  const runOnce = async (runOptions: SealOptions = {}): Promise<SealResult> => {
    const result = await sealPending(db, keyring, { batchSize: options.batchSize, ...runOptions });
    if (options.checkpointsFile && result.checkpoints.length > 0) {
      await appendCheckpointRecords(options.checkpointsFile, result.checkpoints).catch((error: unknown) =>
        logger?.error({ err: error }, 'audit checkpoints could not be appended to the checkpoints file'),
      );
    }
    options.onRun?.(result);
    return result;
  };

  const tick = (): void => {
    timer = undefined;
    const run = runOnce()
      .then((r) => {
        if (r.chained > 0) logger?.debug({ chained: r.chained, checkpoints: r.checkpoints.length, lagMs: r.maxLagMs }, 'audit events sealed');
      })
      .catch((error: unknown) => logger?.error({ err: error }, 'audit sealing failed; retrying'))
      .finally(() => {
        if (current === run) current = undefined;
        if (!stopped) {
          timer = setTimeout(tick, intervalMs);
          timer.unref();
        }
      });
    current = run;
  };

  return {
    async start() {
      if (!stopped) return;
      const store = createAuditStore();
      if (!(await store.ownerBypassesRls(db.owner))) {
        // Under forced row-level security a non-bypassing owner would see only the platform
        // stream and leave every establishment's events unsealed without a word.
        throw new Error('The database owner role must be a superuser or have BYPASSRLS to seal the audit log');
      }
      stopped = false;
      // Recovery: a stream chained just before a crash may lack its last checkpoint.
      const known = await store.knownStreams(db.owner);
      current = runOnce({ alsoCheckpoint: known })
        .catch((error: unknown) => logger?.error({ err: error }, 'audit sealing failed; retrying'))
        .finally(() => {
          current = undefined;
          if (!stopped) {
            timer = setTimeout(tick, intervalMs);
            timer.unref();
          }
        });
      await current;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
      while (current) await current;
      await runOnce().catch((error: unknown) => logger?.error({ err: error }, 'final audit sealing failed'));
    },
    runOnce,
  };
}

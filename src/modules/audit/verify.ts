// `hygie audit verify`: recomputes every stream's hash chain from the events, checks each signed
// checkpoint (from the database and, when given, from a file kept elsewhere) against it, and
// names the first bad event. Read-only; runs as the owner connection.
import { readFile } from 'node:fs/promises';
import type { Kysely } from 'kysely';
import type { DB } from '../../platform/db/schema.js';
import { chainHash, checkpointMessage, GENESIS_HASH } from './canonical.js';
import { keyIdOf, verifySignature, type AuditKeyring } from './keys.js';
import type { CheckpointRecord } from './sealer.js';
import { withRawClient } from '../../platform/db/database.js';
import { copyChain } from './chain-copy.js';
import { createAuditStore, establishmentOf, eventFromJson, streamOf, type ChainRow, type CheckpointRow } from './store.js';

export type ProblemKind =
  | 'altered' // the event no longer hashes to its chain link: edited, reordered or inserted
  | 'deleted' // a chain link whose event is gone
  | 'gap' // sequence numbers missing: events and their links deleted
  | 'checkpoint_mismatch' // the chain was rewritten consistently, but a signed checkpoint disagrees
  | 'bad_signature' // a checkpoint whose signature does not verify
  | 'untrusted_key' // a checkpoint signed by a key neither the keyring nor the checkpoints file knows
  | 'truncated' // a signed checkpoint covers events that are no longer there
  | 'orphan'; // an event in no chain and not awaiting sealing: written behind the sealer's back

export interface VerifyProblem {
  kind: ProblemKind;
  /** The first bad event, when it still exists. */
  eventId: string | null;
  seq: string | null;
  message: string;
}

export interface StreamReport {
  stream: string;
  establishmentId: string | null;
  /** Chained events checked. */
  events: number;
  /** Events appended but not chained yet (not an error: sealing is asynchronous). */
  pending: number;
  checkpoints: number;
  /** Highest sequence number covered by a valid signed checkpoint. */
  sealedUpTo: string | null;
  /** Events the binary read (PostgreSQL) handed to the reference path: rows it could not decode exactly, or a mismatch. */
  rereads: number;
  problem: VerifyProblem | null;
}

export interface VerifyReport {
  ok: boolean;
  streams: StreamReport[];
}

export interface VerifyOptions {
  /** Only this establishment's stream (null: the platform stream); all streams when undefined. */
  establishmentId?: string | null | undefined;
  /** The signing keyring, when this machine has it: its public keys are trusted. */
  keyring?: AuditKeyring | undefined;
  /** Checkpoints kept outside the database (exported or appended by the sealer). */
  externalCheckpoints?: CheckpointRecord[] | undefined;
  /** Page size of the reference path (PGlite, or rows the binary COPY hands back). */
  pageSize?: number;
  /** false: read through the reference path only, even on PostgreSQL (tests compare the two). */
  binaryCopy?: boolean;
}

interface ExpectedCheckpoint {
  seq: bigint;
  hash: Buffer;
  signedAt: string;
  source: 'database' | 'file';
}

export class VerifyAccessError extends Error {}

export async function readCheckpointsFile(file: string): Promise<CheckpointRecord[]> {
  const text = await readFile(file, 'utf8');
  const out: CheckpointRecord[] = [];
  for (const [i, line] of text.split('\n').entries()) {
    if (line.trim() === '') continue;
    let r: Partial<CheckpointRecord>;
    try {
      r = JSON.parse(line) as Partial<CheckpointRecord>;
    } catch {
      throw new Error(`${file}:${i + 1}: not a JSON line`);
    }
    if (r.type !== 'checkpoint') continue;
    for (const k of ['stream', 'seq', 'hash', 'signedAt', 'keyId', 'publicKey', 'signature'] as const) {
      if (typeof r[k] !== 'string') throw new Error(`${file}:${i + 1}: checkpoint without ${k}`);
    }
    out.push(r as CheckpointRecord);
  }
  return out;
}

export async function verifyAuditLog(exec: Kysely<DB>, options: VerifyOptions = {}): Promise<VerifyReport> {
  const store = createAuditStore();
  if (!(await store.ownerBypassesRls(exec))) {
    throw new VerifyAccessError('audit verify must run as the database owner (a superuser or a role with BYPASSRLS): it would not see every event');
  }
  const streams = options.establishmentId === undefined ? await store.allStreams(exec) : [streamOf(options.establishmentId)];
  const reports: StreamReport[] = [];
  for (const stream of streams) reports.push(await verifyStream(exec, stream, options));
  const relevant = reports.filter((r) => r.events > 0 || r.pending > 0 || r.checkpoints > 0 || r.problem || options.establishmentId !== undefined);
  return { ok: reports.every((r) => r.problem === null), streams: relevant };
}

async function verifyStream(exec: Kysely<DB>, stream: string, options: VerifyOptions): Promise<StreamReport> {
  const store = createAuditStore();
  const pageSize = options.pageSize ?? 20_000;
  const report: StreamReport = {
    stream,
    establishmentId: establishmentOf(stream),
    events: 0,
    pending: await store.pendingCount(exec, stream),
    checkpoints: 0,
    sealedUpTo: null,
    rereads: 0,
    problem: null,
  };

  // Which public keys to trust: the local keyring's and the file's. The database's own key table
  // is trusted only when neither is available (an owner could have replaced it).
  const dbKeys = await store.keysOf(exec, stream);
  const trusted = new Map<string, Buffer>();
  const local = options.keyring?.existingKey(stream);
  if (local) trusted.set(local.keyId, local.publicKey);
  const fileRecords = (options.externalCheckpoints ?? []).filter((r) => r.stream.toLowerCase() === stream);
  for (const r of fileRecords) trusted.set(r.keyId, Buffer.from(r.publicKey, 'base64'));
  const trustDatabase = trusted.size === 0;

  const expected = new Map<bigint, ExpectedCheckpoint[]>();
  const expect = (c: ExpectedCheckpoint) => expected.set(c.seq, [...(expected.get(c.seq) ?? []), c]);
  let firstProblem: VerifyProblem | null = null;
  const fail = (p: VerifyProblem) => {
    firstProblem ??= p;
  };

  const dbCheckpoints = await store.checkpointsOf(exec, stream);
  report.checkpoints = dbCheckpoints.length;
  for (const c of dbCheckpoints) {
    const key = trustDatabase ? dbKeys.get(c.keyId) : trusted.get(c.keyId);
    if (!key) {
      fail({ kind: 'untrusted_key', eventId: null, seq: c.seq.toString(), message: `checkpoint at seq ${c.seq} is signed by unknown key ${c.keyId}` });
      continue;
    }
    if (!verifySignature(key, checkpointMessage(c), c.signature)) {
      fail({ kind: 'bad_signature', eventId: null, seq: c.seq.toString(), message: `checkpoint at seq ${c.seq} has an invalid signature` });
      continue;
    }
    expect({ seq: c.seq, hash: c.hash, signedAt: c.signedAt.toISOString(), source: 'database' });
  }
  for (const r of fileRecords) {
    const publicKey = Buffer.from(r.publicKey, 'base64');
    const row: CheckpointRow = {
      stream,
      seq: BigInt(r.seq),
      hash: Buffer.from(r.hash, 'hex'),
      signedAt: new Date(r.signedAt),
      keyId: r.keyId,
      signature: Buffer.from(r.signature, 'base64'),
    };
    const dbKey = dbKeys.get(r.keyId);
    if (keyIdOf(publicKey) !== r.keyId || (dbKey && !dbKey.equals(publicKey)) || !verifySignature(publicKey, checkpointMessage(row), row.signature)) {
      fail({ kind: 'bad_signature', eventId: null, seq: r.seq, message: `the file's checkpoint at seq ${r.seq} does not verify` });
      continue;
    }
    expect({ seq: row.seq, hash: row.hash, signedAt: r.signedAt, source: 'file' });
  }
  const maxExpected = [...expected.keys()].reduce((m, s) => (s > m ? s : m), 0n);

  // Walk the chain in order, recomputing every hash. Sequence numbers are plain numbers in this
  // walk (a stream never nears 2^53 events), and the signed checkpoints are met in order, so the
  // per-event work is one decode and one hash.
  let prev = GENESIS_HASH;
  let nextSeq = 1;
  let lastGoodSeal = 0n;
  let firstEventAfterSeal: string | null = null;
  const sealSeqs = [...expected.keys()].filter((s) => s > 0n).sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
  let sealIndex = 0;
  let nextSealSeq = sealSeqs.length > 0 ? Number(sealSeqs[0]) : Infinity;

  /**
   * One chain link, in order: computed is its recomputed hash, null when its event is gone,
   * undefined when the event could not be put in canonical form. False when the walk must stop.
   */
  const accept = (seq: number, eventIdOf: string | (() => string), stored: Buffer, computed: Buffer | null | undefined): boolean => {
    const eventId = (): string => (typeof eventIdOf === 'string' ? eventIdOf : eventIdOf());
    if (seq !== nextSeq) {
      const missing = BigInt(seq) - BigInt(nextSeq);
      fail({
        kind: 'gap',
        eventId: eventId(),
        seq: String(seq),
        message: `event ${eventId()} (seq ${seq}) follows seq ${nextSeq - 1}: ${missing} event(s) before it were deleted`,
      });
      return false;
    }
    if (computed === null) {
      fail({ kind: 'deleted', eventId: eventId(), seq: String(seq), message: `event ${eventId()} (seq ${seq}) was deleted` });
      return false;
    }
    if (computed === undefined || !computed.equals(stored)) {
      fail({
        kind: 'altered',
        eventId: eventId(),
        seq: String(seq),
        message: `event ${eventId()} (seq ${seq}) does not match the chain: edited, reordered or inserted`,
      });
      return false;
    }
    firstEventAfterSeal ??= eventId();
    if (nextSeq === nextSealSeq) {
      const sealSeq = sealSeqs[sealIndex]!;
      for (const c of expected.get(sealSeq)!) {
        if (!c.hash.equals(computed)) {
          fail({
            kind: 'checkpoint_mismatch',
            eventId: firstEventAfterSeal,
            seq: (lastGoodSeal + 1n).toString(),
            message:
              `the chain at seq ${sealSeq} differs from the checkpoint signed at ${c.signedAt} (${c.source}): ` +
              `events between seq ${lastGoodSeal + 1n} and ${sealSeq} were rewritten, the first of them being ${firstEventAfterSeal}`,
          });
          return false;
        }
      }
      lastGoodSeal = sealSeq;
      firstEventAfterSeal = null;
      sealIndex++;
      nextSealSeq = sealIndex < sealSeqs.length ? Number(sealSeqs[sealIndex]) : Infinity;
    }
    prev = computed;
    nextSeq++;
    report.events++;
    return true;
  };

  /** The reference path: a chain row as store.chainRows reads it (JSON text, decoded by eventFromJson). */
  const acceptRow = (link: ChainRow): boolean => {
    let computed: Buffer | null | undefined = null;
    if (link.event !== null) {
      try {
        computed = chainHash(prev, link.seq, eventFromJson(link.event));
      } catch {
        computed = undefined; // a row of a shape the canonical form does not know: altered
      }
    }
    return accept(Number(link.seq), link.eventId, link.hash, computed);
  };

  // On PostgreSQL, one binary COPY of the whole chain (chain-copy.ts). A row it cannot decode, or
  // whose hash does not match, is read again through the reference path before any conclusion;
  // the COPY then resumes after it. After three such rows, the rest is read the reference way.
  let fallbacks = 0;
  let read: 'copy' | 'pages' | 'done' = options.binaryCopy === false ? 'pages' : 'copy';
  while (read === 'copy' && firstProblem === null) {
    let recheck: number | undefined;
    const copied = await withRawClient(exec, (client) =>
      copyChain(client, stream, nextSeq - 1, prev, (link) => {
        if (link.seq === nextSeq && link.computed !== null && (link.computed === undefined || !link.computed.equals(link.hash))) {
          recheck = link.seq;
          return false;
        }
        return accept(link.seq, link.eventId, link.hash, link.computed);
      }),
    );
    if (copied === undefined) read = 'pages'; // not PostgreSQL
    if (copied === undefined || recheck === undefined) break;
    fallbacks++;
    const rows = await store.chainRows(exec, stream, BigInt(recheck - 1), BigInt(recheck));
    for (const row of rows) if (!acceptRow(row)) break;
    if (fallbacks >= 3) read = 'pages';
  }
  if (read === 'copy') read = 'done';
  report.rereads = fallbacks;

  // Elsewhere (PGlite), or after too many fallbacks: pages of JSON rows. The next pages are fetched
  // while this one is hashed (on PostgreSQL over separate connections, so the server works on them
  // at once).
  if (read === 'pages' && firstProblem === null) {
    const maxSeq = await store.maxSeq(exec, stream);
    const step = BigInt(pageSize);
    const fetchFrom = (after: bigint) => (after < maxSeq ? store.chainRows(exec, stream, after, after + step) : Promise.resolve(null));
    const ahead = 3;
    const first = BigInt(nextSeq - 1);
    const inFlight = Array.from({ length: ahead }, (_, i) => fetchFrom(first + BigInt(i) * step));
    walk: for (let from = first; ; from += step) {
      const page = await inFlight.shift()!;
      if (page === null) break;
      inFlight.push(fetchFrom(from + BigInt(ahead) * step));
      for (const link of page) if (!acceptRow(link)) break walk;
    }
    // Let prefetches still in flight settle before the caller's transaction moves on.
    await Promise.all(inFlight.map((p) => p.catch(() => null)));
  }
  if (!firstProblem && maxExpected >= BigInt(nextSeq)) {
    fail({
      kind: 'truncated',
      eventId: null,
      seq: nextSeq.toString(),
      message: `the log ends at seq ${nextSeq - 1} but a signed checkpoint covers seq ${maxExpected}: events from seq ${nextSeq} on were deleted`,
    });
  }
  // Every event of the stream is either chained (and just checked) or queued; only if the counts
  // disagree is the slower search for the culprit run.
  const counts = firstProblem ? undefined : await store.eventCounts(exec, stream);
  if (counts && counts.events !== report.events + counts.pending) {
    const orphans = await store.orphanEvents(exec, stream, 1);
    const o = orphans[0];
    if (o) fail({ kind: 'orphan', eventId: o.id, seq: null, message: `event ${o.id} is in no chain and not awaiting sealing: inserted behind the sealer` });
  }
  report.sealedUpTo = lastGoodSeal > 0n ? lastGoodSeal.toString() : null;
  report.problem = firstProblem;
  return report;
}

/** One line per stream, for the CLI. */
export function formatVerifyReport(report: VerifyReport): string[] {
  const lines: string[] = [];
  for (const s of report.streams) {
    const name = s.establishmentId === null ? 'platform stream' : `establishment ${s.establishmentId}`;
    if (s.problem) {
      lines.push(`TAMPERED ${name}: ${s.problem.message}`);
    } else {
      const unsealed = s.sealedUpTo === null ? s.events : s.events - Number(s.sealedUpTo);
      lines.push(
        `ok ${name}: ${s.events} event(s) chained, sealed up to seq ${s.sealedUpTo ?? 0}` +
          (unsealed > 0 ? `, ${unsealed} chained but not yet under a signed checkpoint` : '') +
          (s.pending > 0 ? `, ${s.pending} awaiting sealing` : ''),
      );
    }
  }
  if (report.streams.length === 0) lines.push('ok: the audit log is empty');
  return lines;
}

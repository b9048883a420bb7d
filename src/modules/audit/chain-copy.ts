// The verifier's fast read of a chain on PostgreSQL: one `COPY … TO STDOUT (FORMAT binary)` of the
// chain links joined to their events, every column in PostgreSQL's binary form, decoded here
// straight into the ChainableEvent that canonical.ts hashes. Compared with paged selects of a JSON
// text per event, the server skips building and printing JSON (most of its time) and Node skips
// the driver's row objects, the JSON parse and the hex decoding of hashes.
//
// What is hashed is unchanged: the same canonicalEvent() over the same column values. Where the
// binary decoding cannot give exactly what the JSON path would (a NULL inside an array, a
// multi-dimensional array, an instant outside years 1–9999), the row is reported as undecodable
// and the verifier re-reads that event through the reference path (store.chainRows) before
// concluding anything; so is any event whose hash does not match.
import type pg from 'pg';
import { copyOut } from '../../platform/db/copy.js';
import { chainHash, type ChainableEvent } from './canonical.js';

const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');
const FIELDS = 20;
const PG_EPOCH_MS = Date.UTC(2000, 0, 1);
const TWO_32 = 4294967296;

// The stream and the starting point reach the COPY as session settings, set by a parameterised
// statement: COPY itself takes no parameters, and no value is ever spliced into SQL text.
const COPY_SQL = `copy (
  select c.seq, c.event_id, c.hash, e.id, e.establishment_id, e.at, e.actor_kind, e.actor_user_id, e.actor_role,
         e.session_id, e.api_key_id, e.ip::text, e.action, e.resource_kind, e.resource_ids, e.patient_ids,
         e.categories, e.purpose, e.reason, e.outcome
  from audit_chain c
  left join lateral (
    select e.id, e.establishment_id, e.at, e.actor_kind, e.actor_user_id, e.actor_role, e.session_id, e.api_key_id,
           e.ip, e.action, e.resource_kind, e.resource_ids, e.patient_ids, e.categories, e.purpose, e.reason, e.outcome
    from audit_events e where e.id = c.event_id limit 1) e on true
  where c.stream = current_setting('hygie.verify_stream')::uuid
    and c.seq > current_setting('hygie.verify_after')::bigint
  order by c.seq
) to stdout with (format binary)`;

/** One chain link as the walk sees it. */
export interface CopiedLink {
  seq: number;
  eventId: string;
  hash: Buffer;
  /** The recomputed hash; null when the event is gone; undefined when the row needs the reference path. */
  computed: Buffer | null | undefined;
}

export class Undecodable extends Error {}

function uuidAt(b: Buffer, p: number): string {
  const h = b.toString('hex', p, p + 16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

// Events come in time order, many within the same second: the text of the last second is kept.
let lastSecond = NaN;
let lastSecondText = '';

/** The instant as to_char(at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') prints it. */
export function instantText(micros: number): string {
  if (!Number.isSafeInteger(micros)) throw new Undecodable();
  const second = Math.floor(micros / 1_000_000);
  if (second !== lastSecond) {
    const date = new Date(PG_EPOCH_MS + second * 1000);
    if (Number.isNaN(date.getTime())) throw new Undecodable();
    const iso = date.toISOString();
    // Years 1–9999 only (toISOString writes others with a sign, to_char otherwise).
    if (iso.length !== 24 || iso.startsWith('0000')) throw new Undecodable();
    lastSecond = second;
    lastSecondText = `${iso.slice(0, 19)}.`;
  }
  return lastSecondText + String(micros - second * 1_000_000).padStart(6, '0');
}

function instantAt(b: Buffer, p: number): string {
  return instantText(b.readInt32BE(p) * TWO_32 + b.readUInt32BE(p + 4));
}

/**
 * A tuple decoder over one buffer. Fields are read in order; an array or instant it cannot render
 * exactly as the reference path would throws Undecodable.
 */
class Reader {
  b: Buffer = Buffer.alloc(0);
  p = 0;

  /** Length of the next field (-1 for NULL), positioned on its data. */
  private len(): number {
    const n = this.b.readInt32BE(this.p);
    this.p += 4;
    return n;
  }
  skip(): void {
    const n = this.len();
    if (n > 0) this.p += n;
  }
  uuid(): string | null {
    const n = this.len();
    if (n < 0) return null;
    if (n !== 16) throw new Undecodable();
    const s = uuidAt(this.b, this.p);
    this.p += 16;
    return s;
  }
  text(): string | null {
    const n = this.len();
    if (n < 0) return null;
    const s = this.b.toString('utf8', this.p, this.p + n);
    this.p += n;
    return s;
  }
  bytes(): Buffer | null {
    const n = this.len();
    if (n < 0) return null;
    const s = this.b.subarray(this.p, this.p + n);
    this.p += n;
    return s;
  }
  int8(): number | null {
    const n = this.len();
    if (n < 0) return null;
    const v = this.b.readInt32BE(this.p) * TWO_32 + this.b.readUInt32BE(this.p + 4);
    this.p += 8;
    return v;
  }
  instant(): string | null {
    const n = this.len();
    if (n < 0) return null;
    const s = instantAt(this.b, this.p);
    this.p += 8;
    return s;
  }
  /** A one-dimensional array without NULL elements (ndim 0 is the empty array). */
  array(element: 'uuid' | 'text'): string[] | null {
    const n = this.len();
    if (n < 0) return null;
    const end = this.p + n;
    const b = this.b;
    const ndim = b.readInt32BE(this.p);
    this.p += 12; // ndim, has-null flag, element type
    const out: string[] = [];
    if (ndim === 0) {
      this.p = end;
      return out;
    }
    if (ndim !== 1) throw new Undecodable();
    const count = b.readInt32BE(this.p);
    this.p += 8; // dimension, lower bound
    for (let i = 0; i < count; i++) {
      const v = element === 'uuid' ? this.uuid() : this.text();
      if (v === null) throw new Undecodable();
      out.push(v);
    }
    if (this.p !== end) throw new Undecodable();
    return out;
  }
}

function required<T>(v: T | null): T {
  if (v === null) throw new Undecodable();
  return v;
}

/**
 * Streams a stream's chain links after afterSeq, in order, each with its recomputed hash (chained
 * on the previous link's stored hash, which the walk has just checked), to onLink; onLink returns
 * false to stop looking at further rows (the COPY is still read to its end).
 */
export async function copyChain(
  client: pg.ClientBase,
  stream: string,
  afterSeq: number,
  previousHash: Buffer,
  onLink: (link: CopiedLink) => boolean,
): Promise<void> {
  await client.query(`select set_config('hygie.verify_stream', $1, false), set_config('hygie.verify_after', $2, false)`, [stream, String(afterSeq)]);
  const r = new Reader();
  let pending: Buffer | null = null;
  let headerDone = false;
  let stopped = false;
  // The driver reuses its read buffer once a message has been handled: whatever must outlive the
  // callback (the previous link's hash, a partial row) is copied out of it.
  let prev = Buffer.from(previousHash);
  const onData = (chunk: Buffer): void => {
    if (stopped) return;
    const b: Buffer = pending ? Buffer.concat([pending, chunk]) : chunk;
    pending = null;
    r.b = b;
    r.p = 0;
    if (!headerDone) {
      if (b.length < 19) {
        pending = Buffer.from(b);
        return;
      }
      if (!b.subarray(0, 11).equals(SIGNATURE)) throw new Error('COPY: not a binary COPY stream');
      r.p = 19 + b.readInt32BE(15);
      headerDone = true;
    }
    while (r.p + 2 <= b.length) {
      const start = r.p;
      const fields = b.readInt16BE(start);
      if (fields === -1) return; // trailer
      if (fields !== FIELDS) throw new Error(`COPY: ${fields} fields in a row, expected ${FIELDS}`);
      // A row split over two messages: keep the start for the next one.
      const end = rowEnd(b, start);
      if (end === -1) {
        pending = Buffer.from(b.subarray(start));
        return;
      }
      r.p = start + 2;
      const seq = required(r.int8());
      const linkEventId = required(r.uuid());
      const hash = required(r.bytes());
      let link: CopiedLink;
      const id = r.uuid();
      if (id === null) {
        link = { seq, eventId: linkEventId, hash, computed: null };
        for (let i = 4; i < FIELDS; i++) r.skip();
      } else {
        let computed: Buffer | undefined;
        try {
          const event: ChainableEvent = {
            id,
            establishmentId: r.uuid(),
            at: required(r.instant()),
            actorKind: required(r.text()),
            actorUserId: r.uuid(),
            actorRole: r.text(),
            sessionId: r.uuid(),
            apiKeyId: r.uuid(),
            ip: r.text(),
            action: required(r.text()),
            resourceKind: r.text(),
            resourceIds: required(r.array('uuid')),
            patientIds: required(r.array('uuid')),
            categories: required(r.array('text')),
            purpose: r.text(),
            reason: r.text(),
            outcome: required(r.text()),
          };
          computed = chainHash(prev, String(seq), event);
        } catch (e) {
          if (!(e instanceof Undecodable)) throw e;
          computed = undefined;
        }
        link = { seq, eventId: id, hash, computed };
      }
      r.p = end;
      // The next link is chained on this one's stored hash: if it differs from the computed one,
      // onLink stops the walk here anyway.
      prev = Buffer.from(hash);
      if (!onLink(link)) {
        stopped = true;
        return;
      }
    }
    if (r.p < b.length) pending = Buffer.from(b.subarray(r.p));
  };
  try {
    await copyOut(client, COPY_SQL, onData);
  } finally {
    await client.query(`select set_config('hygie.verify_stream', '', false), set_config('hygie.verify_after', '', false)`);
  }
}

/** Offset just past the row starting at start, or -1 if the buffer ends before it does. */
function rowEnd(b: Buffer, start: number): number {
  let p = start + 2;
  for (let i = 0; i < FIELDS; i++) {
    if (p + 4 > b.length) return -1;
    const n = b.readInt32BE(p);
    p += 4 + (n > 0 ? n : 0);
    if (p > b.length) return -1;
  }
  return p;
}

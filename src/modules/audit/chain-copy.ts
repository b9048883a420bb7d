// The verifier's fast read of a chain on PostgreSQL: one `COPY … TO STDOUT (FORMAT binary)` of the
// chain links joined to their events, every column in PostgreSQL's binary form, from which the
// canonical text of canonical.ts is written byte by byte and hashed. Compared with paged selects of
// a JSON text per event, the server skips building and printing JSON (most of its time), and Node
// skips the driver's row objects, JSON.parse, the hex decoding of hashes and a string per value.
//
// What is hashed is unchanged: canonicalEvent()'s bytes for the same column values. Where this
// decoding cannot give exactly what the reference path would (a NULL inside an array, an instant
// outside years 1–9999, a value of an unexpected size), the row is reported as undecodable and
// the verifier re-reads that event through the reference path (store.chainRows) before
// concluding anything; so is any event whose hash does not match.
import type pg from 'pg';
import { copyOut } from '../../platform/db/copy.js';
import { hash as oneShotHash } from 'node:crypto';
import { CANONICAL_VERSION } from './canonical.js';

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
  /** The event's id; a function when it is to be read from the row only if needed (during onLink only). */
  eventId: string | (() => string);
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
  uuid(): string | null {
    const n = this.len();
    if (n < 0) return null;
    if (n !== 16) throw new Undecodable();
    const s = uuidAt(this.b, this.p);
    this.p += 16;
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
}

// The canonical text (canonical.ts), written as UTF-8 bytes straight from the binary columns, with
// no JavaScript string per value: the same bytes canonicalEvent() would give for the decoded event
// (uuids in lowercase hex; a text with no byte that JSON escapes copied as it is, any other
// through JSON.stringify). test/audit-verify-copy.test.ts holds the two to each other.
const HEX_DIGITS = Buffer.from('0123456789abcdef', 'latin1');
const QUOTE = 0x22;
const COMMA = 0x2c;
const NULL_TEXT = Buffer.from('null', 'latin1');
const PREFIX_TEXT = `[${JSON.stringify(CANONICAL_VERSION)},"`;

class CanonicalWriter {
  buf: Buffer = Buffer.allocUnsafe(64 * 1024);
  /** Bytes written; the first 32 hold the previous hash. */
  n = 32;

  ensure(extra: number): void {
    if (this.n + extra <= this.buf.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.n + extra));
    this.buf.copy(grown, 0, 0, this.n);
    this.buf = grown;
  }
  byte(c: number): void {
    this.ensure(1);
    this.buf[this.n++] = c;
  }
  ascii(s: string): void {
    this.ensure(s.length);
    this.n += this.buf.write(s, this.n, 'latin1');
  }
  nul(): void {
    this.ensure(4);
    NULL_TEXT.copy(this.buf, this.n);
    this.n += 4;
  }
  uuid(b: Buffer, p: number): void {
    this.ensure(38);
    const out = this.buf;
    let n = this.n;
    out[n++] = QUOTE;
    for (let i = 0; i < 16; i++) {
      if (i === 4 || i === 6 || i === 8 || i === 10) out[n++] = 0x2d;
      const v = b[p + i]!;
      out[n++] = HEX_DIGITS[v >> 4]!;
      out[n++] = HEX_DIGITS[v & 15]!;
    }
    out[n++] = QUOTE;
    this.n = n;
  }
  text(b: Buffer, p: number, len: number): void {
    for (let i = p; i < p + len; i++) {
      const c = b[i]!;
      if (c < 0x20 || c === QUOTE || c === 0x5c) {
        const json = JSON.stringify(b.toString('utf8', p, p + len));
        this.ensure(json.length * 3);
        this.n += this.buf.write(json, this.n, 'utf8');
        return;
      }
    }
    this.ensure(len + 2);
    this.buf[this.n++] = QUOTE;
    b.copy(this.buf, this.n, p, p + len);
    this.n += len;
    this.buf[this.n++] = QUOTE;
  }
}

/** Field readers writing the canonical JSON of each value; Undecodable where the reference path must decide. */
function writeUuid(r: Reader, w: CanonicalWriter, nullable: boolean): void {
  const n = r.b.readInt32BE(r.p);
  r.p += 4;
  if (n < 0) {
    if (!nullable) throw new Undecodable();
    w.nul();
    return;
  }
  if (n !== 16) throw new Undecodable();
  w.uuid(r.b, r.p);
  r.p += 16;
}
function writeText(r: Reader, w: CanonicalWriter, nullable: boolean): void {
  const n = r.b.readInt32BE(r.p);
  r.p += 4;
  if (n < 0) {
    if (!nullable) throw new Undecodable();
    w.nul();
    return;
  }
  w.text(r.b, r.p, n);
  r.p += n;
}
function writeInstant(r: Reader, w: CanonicalWriter): void {
  const n = r.b.readInt32BE(r.p);
  r.p += 4;
  if (n !== 8) throw new Undecodable();
  w.byte(QUOTE);
  w.ascii(instantAt(r.b, r.p));
  w.byte(QUOTE);
  r.p += 8;
}
function writeArray(r: Reader, w: CanonicalWriter, element: 'uuid' | 'text'): void {
  const n = r.b.readInt32BE(r.p);
  r.p += 4;
  if (n < 0) throw new Undecodable();
  const end = r.p + n;
  const ndim = r.b.readInt32BE(r.p);
  r.p += 12; // ndim, has-null flag, element type
  w.byte(0x5b);
  if (ndim !== 0) {
    if (ndim !== 1) throw new Undecodable();
    const count = r.b.readInt32BE(r.p);
    r.p += 8; // dimension, lower bound
    for (let i = 0; i < count; i++) {
      if (i > 0) w.byte(COMMA);
      // A NULL element: the reference path decides (it throws for ids, writes null for text).
      if (element === 'uuid') writeUuid(r, w, false);
      else writeText(r, w, false);
    }
  }
  if (r.p !== end) throw new Undecodable();
  w.byte(0x5d);
}

/** The canonical bytes of the event whose e.id field the reader is on, after prev; returns the chain hash. */
function hashEvent(r: Reader, w: CanonicalWriter, prev: Buffer, seq: number): Buffer {
  w.n = 0;
  w.ensure(32);
  prev.copy(w.buf, 0, 0, 32);
  w.n = 32;
  w.ascii(PREFIX_TEXT);
  w.ascii(String(seq));
  w.ascii('",');
  writeUuid(r, w, false); // id
  w.byte(COMMA);
  writeUuid(r, w, true); // establishment_id
  w.byte(COMMA);
  writeInstant(r, w); // at
  w.byte(COMMA);
  writeText(r, w, false); // actor_kind
  w.byte(COMMA);
  writeUuid(r, w, true); // actor_user_id
  w.byte(COMMA);
  writeText(r, w, true); // actor_role
  w.byte(COMMA);
  writeUuid(r, w, true); // session_id
  w.byte(COMMA);
  writeUuid(r, w, true); // api_key_id
  w.byte(COMMA);
  writeText(r, w, true); // ip
  w.byte(COMMA);
  writeText(r, w, false); // action
  w.byte(COMMA);
  writeText(r, w, true); // resource_kind
  w.byte(COMMA);
  writeArray(r, w, 'uuid'); // resource_ids
  w.byte(COMMA);
  writeArray(r, w, 'uuid'); // patient_ids
  w.byte(COMMA);
  writeArray(r, w, 'text'); // categories
  w.byte(COMMA);
  writeText(r, w, true); // purpose
  w.byte(COMMA);
  writeText(r, w, true); // reason
  w.byte(COMMA);
  writeText(r, w, false); // outcome
  w.byte(0x5d);
  return oneShotHash('sha256', w.buf.subarray(0, w.n), 'buffer');
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
  const w = new CanonicalWriter();
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
      const idAt = r.p + 4;
      if (b.readInt32BE(r.p) < 0) {
        link = { seq, eventId: linkEventId, hash, computed: null };
      } else {
        let computed: Buffer | undefined;
        try {
          computed = hashEvent(r, w, prev, seq);
        } catch (e) {
          if (!(e instanceof Undecodable)) throw e;
          computed = undefined;
        }
        link = { seq, eventId: () => uuidAt(b, idAt), hash, computed };
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

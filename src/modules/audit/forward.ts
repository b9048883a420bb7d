// The forwarding hook: sealed events of one stream after a given sequence number, in order, for
// shipping to a separate system (syslog, a SIEM webhook: ASVS 16.4.3). A forwarder remembers the
// last seq it shipped and resumes from there; each yielded event carries its chain hash, so the
// receiving side can keep verifying the chain on its own.
import type { Database } from '../../platform/db/database.js';
import type { ChainableEvent } from './canonical.js';
import { createAuditStore, streamOf } from './store.js';

export interface SealedEvent {
  stream: string;
  seq: bigint;
  /** hex SHA-256 chain hash of this event. */
  hash: string;
  event: ChainableEvent;
}

/**
 * Yields the events of one stream with seq > afterSeq that are covered by a signed checkpoint,
 * oldest first, reading in pages (no transaction is held between pages). Stops at the last
 * checkpoint present when the iteration reached it; call again later to continue.
 */
export async function* sealedEventsSince(
  db: Database,
  options: { establishmentId: string | null; afterSeq?: bigint; pageSize?: number },
): AsyncGenerator<SealedEvent> {
  const store = createAuditStore();
  const stream = streamOf(options.establishmentId);
  const pageSize = options.pageSize ?? 1000;
  let after = options.afterSeq ?? 0n;
  const lastSeal = (await store.checkpointsOf(db.owner, stream, after)).at(-1)?.seq ?? after;
  while (after < lastSeal) {
    const upto = after + BigInt(pageSize) < lastSeal ? after + BigInt(pageSize) : lastSeal;
    for (const link of await store.chainPage(db.owner, stream, after, upto)) {
      // A deleted event cannot be forwarded; the verifier reports it.
      if (link.event) yield { stream, seq: link.seq, hash: link.hash.toString('hex'), event: link.event };
    }
    after = upto;
  }
}

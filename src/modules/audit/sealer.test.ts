// The sealer's chaining step: the same links as chaining one event after the other, and the
// event loop gets a turn between slices (a 5,000-event batch used to hold it a quarter of a second).
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { chainHash, GENESIS_HASH, type ChainableEvent } from './canonical.js';
import { CHAIN_SLICE, chainEvents } from './sealer.js';

const streams = [randomUUID(), randomUUID()];

function pendingEvents(n: number): Array<{ stream: string; event: ChainableEvent }> {
  return Array.from({ length: n }, (_, i) => ({
    stream: streams[i % 3 === 0 ? 1 : 0]!,
    event: {
      id: randomUUID(),
      establishmentId: null,
      at: `2026-11-22T10:00:${String(59 - (i % 60)).padStart(2, '0')}.000123`,
      actorKind: 'system',
      actorUserId: null,
      actorRole: null,
      sessionId: null,
      apiKeyId: null,
      ip: null,
      action: `test.${i}`,
      resourceKind: null,
      resourceIds: [],
      patientIds: [],
      categories: [],
      purpose: null,
      reason: null,
      outcome: 'allowed',
    },
  }));
}

describe('chainEvents', () => {
  it('links each stream in order after its head, exactly as one event after the other', async () => {
    const pending = pendingEvents(2 * CHAIN_SLICE + 100);
    const start = { seq: 41n, hash: chainHash(GENESIS_HASH, 41n, pending[0]!.event) };
    const heads = new Map([[streams[1]!, start]]);
    let pauses = 0;
    const { links, oldestAt } = await chainEvents(pending, heads, async () => void (pauses += 1));

    const expected = new Map<string, { seq: bigint; hash: Buffer }>([[streams[1]!, start]]);
    for (const [i, { stream, event }] of pending.entries()) {
      const head = expected.get(stream) ?? { seq: 0n, hash: GENESIS_HASH };
      const next = { seq: head.seq + 1n, hash: chainHash(head.hash, head.seq + 1n, event) };
      expected.set(stream, next);
      expect(links[i]).toEqual({ stream, seq: next.seq, eventId: event.id, hash: next.hash });
    }
    expect(heads).toEqual(expected);
    expect(heads.get(streams[1]!)!.seq).toBe(41n + BigInt(Math.ceil(pending.length / 3)));
    expect(pauses).toBe(2);
    expect(oldestAt).toBe(Date.parse('2026-11-22T10:00:00.000Z'));
  });

  it('lets the event loop run between slices', async () => {
    let ticked = false;
    setImmediate(() => void (ticked = true));
    const tickedBeforeTheEnd = await chainEvents(pendingEvents(CHAIN_SLICE + 1), new Map()).then(() => ticked);
    expect(tickedBeforeTheEnd).toBe(true);
  });
});

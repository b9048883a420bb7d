import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { canonicalEvent, canonicalEventReference, chainHash, checkpointMessage, GENESIS_HASH, type ChainableEvent } from './canonical.js';

const uuid = fc.uuid();
const nullable = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: null });
const event: fc.Arbitrary<ChainableEvent> = fc.record({
  id: uuid,
  establishmentId: nullable(uuid),
  at: fc.date({ min: new Date('2000-01-01'), max: new Date('2100-01-01'), noInvalidDate: true }).map((d) => `${d.toISOString().slice(0, 23)}123`),
  actorKind: fc.constantFrom('user', 'api_key', 'system', 'anonymous'),
  actorUserId: nullable(uuid),
  actorRole: nullable(fc.constantFrom('practitioner', 'secretary')),
  sessionId: nullable(uuid),
  apiKeyId: nullable(uuid),
  ip: nullable(fc.ipV4()),
  action: fc.string({ minLength: 1 }),
  resourceKind: nullable(fc.string()),
  resourceIds: fc.array(uuid, { maxLength: 3 }),
  patientIds: fc.array(uuid, { maxLength: 3 }),
  categories: fc.array(fc.constantFrom('identity', 'clinical', 'genetic'), { maxLength: 3 }),
  purpose: nullable(fc.string()),
  reason: nullable(fc.string()),
  outcome: fc.constantFrom('allowed', 'denied', 'contained', 'failed'),
});

describe('canonical audit events and the chain hash', () => {
  it('builds exactly the text of its definition (JSON.stringify of the array), for any values', () => {
    const anyText = fc.string({ unit: 'binary' });
    const anyEvent = event.chain((e) =>
      fc.record({ action: anyText, resourceKind: nullable(anyText), purpose: nullable(anyText), reason: nullable(anyText), ip: nullable(anyText), categories: fc.array(anyText, { maxLength: 3 }), outcome: anyText, actorRole: nullable(anyText) }).map((t) => ({ ...e, ...t })),
    );
    fc.assert(
      fc.property(anyEvent, fc.bigInt({ min: 1n, max: 2n ** 62n }), (e, seq) => {
        expect(canonicalEvent(seq, e)).toBe(canonicalEventReference(seq, e));
        expect(canonicalEvent(seq.toString(), e)).toBe(canonicalEventReference(seq, e));
      }),
    );
    // Categories may hold a NULL element as PostgreSQL gives it; ids may not (both forms throw).
    const e = { id: '0190A000-0000-7000-8000-000000000001', establishmentId: null, at: '2026-01-01T00:00:00.000000', actorKind: 'system', actorUserId: null, actorRole: null, sessionId: null, apiKeyId: null, ip: null, action: 'a"\\\u2028', resourceKind: null, resourceIds: [], patientIds: [], categories: [null as unknown as string, 'x'], purpose: null, reason: null, outcome: 'allowed' };
    expect(canonicalEvent(1n, e)).toBe(canonicalEventReference(1n, e));
    expect(canonicalEvent(1n, e)).toBe(
      '["hygie-audit-v1","1","0190a000-0000-7000-8000-000000000001",null,"2026-01-01T00:00:00.000000","system",null,null,null,null,null,"a\\"\\\\\u2028",null,[],[],[null,"x"],null,null,"allowed"]',
    );
    expect(() => canonicalEvent(1n, { ...e, patientIds: [null as unknown as string] })).toThrow();
    expect(() => canonicalEventReference(1n, { ...e, patientIds: [null as unknown as string] })).toThrow();
  });

  it('is deterministic and covers every field: changing any one field changes the hash', () => {
    fc.assert(
      fc.property(event, event, fc.bigInt({ min: 1n, max: 1n << 40n }), (e, other, seq) => {
        const h = chainHash(GENESIS_HASH, seq, e);
        expect(chainHash(GENESIS_HASH, seq, { ...e })).toEqual(h);
        for (const key of Object.keys(e) as Array<keyof ChainableEvent>) {
          if (JSON.stringify(e[key]) === JSON.stringify(other[key])) continue;
          const changed = { ...e, [key]: other[key] } as ChainableEvent;
          expect(chainHash(GENESIS_HASH, seq, changed).equals(h)).toBe(false);
        }
      }),
    );
  });

  it('binds the position and the past: another sequence number or previous hash gives another hash', () => {
    fc.assert(
      fc.property(event, fc.bigInt({ min: 1n, max: 1n << 40n }), fc.uint8Array({ minLength: 32, maxLength: 32 }), (e, seq, prev) => {
        const h = chainHash(GENESIS_HASH, seq, e);
        expect(chainHash(GENESIS_HASH, seq + 1n, e).equals(h)).toBe(false);
        if (!Buffer.from(prev).equals(GENESIS_HASH)) expect(chainHash(Buffer.from(prev), seq, e).equals(h)).toBe(false);
      }),
    );
  });

  it('does not let a value spill into the next field (JSON array, not concatenation)', () => {
    const base = { ...fc.sample(event, 1)[0]!, purpose: 'a', reason: 'bc' };
    expect(canonicalEvent(1n, base)).not.toEqual(canonicalEvent(1n, { ...base, purpose: 'ab', reason: 'c' }));
    expect(canonicalEvent(1n, { ...base, reason: null })).not.toEqual(canonicalEvent(1n, { ...base, reason: 'null' }));
  });

  it('normalises the case of ids only', () => {
    const e = fc.sample(event, 1)[0]!;
    expect(canonicalEvent(3n, { ...e, id: e.id.toUpperCase() })).toEqual(canonicalEvent(3n, e));
    expect(canonicalEvent(3n, { ...e, action: e.action.toUpperCase() + 'x' })).not.toEqual(canonicalEvent(3n, e));
  });

  it('hashes exactly SHA-256(previous ‖ UTF-8 canonical form), whether seq comes as a number or its text, however long the event', () => {
    const reference = (prev: Buffer, seq: bigint, e: ChainableEvent) => createHash('sha256').update(prev).update(canonicalEvent(seq, e), 'utf8').digest();
    fc.assert(
      fc.property(event, fc.bigInt({ min: 1n, max: 1n << 60n }), fc.uint8Array({ minLength: 32, maxLength: 32 }), (e, seq, prevBytes) => {
        const prev = Buffer.from(prevBytes);
        const h = reference(prev, seq, e);
        expect(chainHash(prev, seq, e)).toEqual(h);
        expect(chainHash(prev, seq.toString(), e)).toEqual(h);
      }),
    );
    // Past the reused buffer's size (and with multi-byte characters), the streaming path.
    const e = { ...fc.sample(event, 1)[0]!, reason: 'é🩺'.repeat(40_000) };
    expect(chainHash(GENESIS_HASH, 7n, e)).toEqual(reference(GENESIS_HASH, 7n, e));
  });

  it('signs checkpoints over every field', () => {
    const body = { stream: '0190a000-0000-7000-8000-000000000001', seq: 12n, hash: Buffer.alloc(32, 3), signedAt: new Date('2026-01-01T00:00:00Z'), keyId: 'k1' };
    const m = checkpointMessage(body);
    expect(checkpointMessage({ ...body, seq: 13n })).not.toEqual(m);
    expect(checkpointMessage({ ...body, hash: Buffer.alloc(32, 4) })).not.toEqual(m);
    expect(checkpointMessage({ ...body, stream: '0190a000-0000-7000-8000-000000000002' })).not.toEqual(m);
    expect(checkpointMessage({ ...body, signedAt: new Date('2026-01-01T00:00:01Z') })).not.toEqual(m);
    expect(checkpointMessage({ ...body, keyId: 'k2' })).not.toEqual(m);
  });
});

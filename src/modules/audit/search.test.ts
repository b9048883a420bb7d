// The pure part of the audit search's integrity status: an event against its chain link and the
// newest checkpoint (the database part is test/audit-search.test.ts).
import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { chainHash, checkpointMessage, GENESIS_HASH, type ChainableEvent } from './canonical.js';
import { derivedKeyring } from './keys.js';
import { checkCheckpoint, integrityOf } from './search.js';
import type { LatestCheckpointRow } from './store.js';

const stream = '0190aaaa-0000-7000-8000-000000000001';
const event: ChainableEvent = {
  id: '0190aaaa-0000-7000-8000-0000000000e1',
  establishmentId: stream,
  at: '2026-11-20T13:02:00.123456',
  actorKind: 'user',
  actorUserId: '0190aaaa-0000-7000-8000-0000000000a1',
  actorRole: 'practitioner',
  sessionId: null,
  apiKeyId: null,
  ip: null,
  action: 'patient.read',
  resourceKind: 'patient',
  resourceIds: [],
  patientIds: ['0190aaaa-0000-7000-8000-0000000000f1'],
  categories: ['identity'],
  purpose: null,
  reason: null,
  outcome: 'allowed',
};
const asJson = (e: ChainableEvent) =>
  JSON.stringify([e.id, e.establishmentId, e.at, e.actorKind, e.actorUserId, e.actorRole, e.sessionId, e.apiKeyId, e.ip, e.action, e.resourceKind, e.resourceIds, e.patientIds, e.categories, e.purpose, e.reason, e.outcome]);
const prev = randomBytes(32);
const hash = chainHash(prev, '7', event);
const link = { event_id: event.id, seq: '7', hash, prev_hash: prev, pending: false };

function checkpoint(seq: string, signedWith = derivedKeyring(Buffer.alloc(32, 1)), chainHashAt: Buffer = hash): LatestCheckpointRow {
  const key = signedWith.signingKey(stream);
  const body = { stream, seq: BigInt(seq), hash: chainHashAt, signedAt: new Date('2026-11-20T13:02:01Z'), keyId: key.keyId };
  return { seq, hash: chainHashAt, signed_at: body.signedAt, key_id: key.keyId, signature: key.sign(checkpointMessage(body)), public_key: key.publicKey, chain_hash: chainHashAt };
}

describe('integrity status of one event', () => {
  const trusted = derivedKeyring(Buffer.alloc(32, 1));
  it('pending when queued, orphan when neither chained nor queued', () => {
    expect(integrityOf(asJson(event), { ...link, seq: null, hash: null, prev_hash: null, pending: true }, null).status).toBe('pending');
    expect(integrityOf(asJson(event), undefined, null).status).toBe('orphan');
  });
  it('chained when it matches its link and no checkpoint covers it', () => {
    expect(integrityOf(asJson(event), link, null)).toEqual({ status: 'chained', seq: '7', sealedAt: null });
    expect(integrityOf(asJson(event), link, checkCheckpoint(checkpoint('6'), stream, trusted)).status).toBe('chained');
  });
  it('sealed under a valid checkpoint at or after its sequence number', () => {
    expect(integrityOf(asJson(event), link, checkCheckpoint(checkpoint('7'), stream, trusted))).toEqual({ status: 'sealed', seq: '7', sealedAt: '2026-11-20T13:02:01.000Z' });
    // With no local key, the database's public key is trusted (as `hygie audit verify` does).
    expect(integrityOf(asJson(event), link, checkCheckpoint(checkpoint('7'), stream, undefined)).status).toBe('sealed');
  });
  it('altered when any value changed, or the first event is not chained to the genesis hash', () => {
    expect(integrityOf(asJson({ ...event, action: 'agenda.list' }), link, null).status).toBe('altered');
    expect(integrityOf(asJson({ ...event, patientIds: [] }), link, null).status).toBe('altered');
    expect(integrityOf(asJson(event), { ...link, seq: '1' }, null).status).toBe('altered');
    expect(integrityOf(asJson(event), { ...link, seq: '1', hash: chainHash(GENESIS_HASH, '1', event) }, null).status).toBe('chained');
    expect(integrityOf('not json', link, null).status).toBe('altered');
  });
  it('checkpoint_invalid when the checkpoint is signed by another key, forged, or the chain under it was rewritten', () => {
    const other = checkCheckpoint(checkpoint('9', derivedKeyring(Buffer.alloc(32, 2))), stream, trusted);
    expect(integrityOf(asJson(event), link, other)).toEqual({ status: 'checkpoint_invalid', seq: '7', sealedAt: null });
    const forged = { ...checkpoint('9'), signature: Buffer.alloc(64) };
    expect(checkCheckpoint(forged, stream, trusted)!.valid).toBe(false);
    const rewritten = { ...checkpoint('9'), chain_hash: randomBytes(32) };
    expect(checkCheckpoint(rewritten, stream, trusted)!.valid).toBe(false);
    expect(checkCheckpoint(checkpoint('9'), stream, trusted)!.valid).toBe(true);
    expect(checkCheckpoint(undefined, stream, trusted)).toBeNull();
  });
});

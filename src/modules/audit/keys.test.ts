import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { derivedKeyring, fileKeyring, keyIdOf, keyringFromConfig, verifySignature } from './keys.js';

const S1 = '0190a000-0000-7000-8000-000000000001';
const S2 = '0190a000-0000-7000-8000-000000000002';

describe('audit signing keys', () => {
  it('file keyring: creates one 0600 key per stream in a 0700 directory, reuses it, and signs verifiably', () => {
    const dir = path.join(mkdtempSync(path.join(tmpdir(), 'hygie-keys-')), 'audit-keys');
    const ring = fileKeyring(dir);
    expect(ring.existingKey(S1)).toBeUndefined();
    const k1 = ring.signingKey(S1);
    expect(statSync(path.join(dir, `${S1}.pem`)).mode & 0o777).toBe(0o600);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(readFileSync(path.join(dir, `${S1}.pem`), 'utf8')).toContain('BEGIN PRIVATE KEY');
    // Another process (a fresh keyring) finds the same key.
    const again = fileKeyring(dir).existingKey(S1)!;
    expect(again.keyId).toBe(k1.keyId);
    expect(k1.keyId).toBe(keyIdOf(k1.publicKey));
    expect(ring.signingKey(S2).keyId).not.toBe(k1.keyId);
    const msg = Buffer.from('checkpoint');
    const sig = k1.sign(msg);
    expect(verifySignature(k1.publicKey, msg, sig)).toBe(true);
    expect(verifySignature(k1.publicKey, Buffer.from('checkpoinT'), sig)).toBe(false);
    expect(verifySignature(ring.signingKey(S2).publicKey, msg, sig)).toBe(false);
    expect(verifySignature(k1.publicKey, msg, Buffer.alloc(64))).toBe(false);
  });

  it('refuses stream ids that are not UUIDs (they become file names)', () => {
    const ring = fileKeyring(mkdtempSync(path.join(tmpdir(), 'hygie-keys-')));
    expect(() => ring.signingKey('../../etc/passwd')).toThrow(TypeError);
    expect(() => derivedKeyring(randomBytes(32)).signingKey('x')).toThrow(TypeError);
  });

  it('a corrupted key file is an error, not a silently regenerated key', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'hygie-keys-'));
    writeFileSync(path.join(dir, `${S1}.pem`), 'garbage', { mode: 0o600 });
    expect(() => fileKeyring(dir).signingKey(S1)).toThrow();
  });

  it('derived keyring: the same seed gives the same keys, another seed other keys, each stream its own', () => {
    const seed = randomBytes(32);
    const a = derivedKeyring(seed).signingKey(S1);
    expect(derivedKeyring(Buffer.from(seed)).signingKey(S1).publicKey).toEqual(a.publicKey);
    expect(derivedKeyring(randomBytes(32)).signingKey(S1).publicKey).not.toEqual(a.publicKey);
    expect(derivedKeyring(seed).signingKey(S2).publicKey).not.toEqual(a.publicKey);
    expect(() => derivedKeyring(randomBytes(16))).toThrow(RangeError);
  });

  it('the configuration chooses: the seed when given, otherwise files under the data directory', () => {
    expect(keyringFromConfig({ dataDir: '/x', auditKeySeed: randomBytes(32) }).kind).toBe('derived');
    expect(keyringFromConfig({ dataDir: '/x', auditKeySeed: undefined }).kind).toBe('file');
  });
});

describe('audit key configuration', () => {
  it('reads HYGIE_AUDIT_KEY_SEED and HYGIE_AUDIT_CHECKPOINTS_FILE, refusing a short or malformed seed', async () => {
    const { loadConfig, ConfigError } = await import('../../config.js');
    const seed = randomBytes(32);
    const c = loadConfig({ HYGIE_AUDIT_KEY_SEED: seed.toString('base64'), HYGIE_AUDIT_CHECKPOINTS_FILE: 'seals/cp.jsonl' }, '/srv');
    expect(c.auditKeySeed).toEqual(seed);
    expect(c.auditCheckpointsFile).toBe('/srv/seals/cp.jsonl');
    expect(loadConfig({}, '/srv')).toMatchObject({ auditKeySeed: undefined, auditCheckpointsFile: undefined });
    expect(() => loadConfig({ HYGIE_AUDIT_KEY_SEED: randomBytes(16).toString('base64') })).toThrow(ConfigError);
    expect(() => loadConfig({ HYGIE_AUDIT_KEY_SEED: 'not base64 at all!' })).toThrow(/HYGIE_AUDIT_KEY_SEED/);
  });
});

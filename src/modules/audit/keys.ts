// Ed25519 signing keys for checkpoints, one per stream (establishment, or the platform stream).
// Private keys never enter the database: either one file per stream under the data directory
// (mode 0600, created on first use), or derived from a secret seed given in the environment
// (HKDF-SHA-256, so no key material is written anywhere). Public keys are stored in the database
// and, with every exported checkpoint, outside it.
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, hkdfSync, sign, verify, type KeyObject } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import path from 'node:path';

export interface SigningKey {
  keyId: string;
  stream: string;
  /** Raw 32-byte Ed25519 public key. */
  publicKey: Buffer;
  sign(message: Buffer): Buffer;
}

export interface AuditKeyring {
  readonly kind: 'file' | 'derived';
  /** The key a stream's checkpoints are signed with, created on first use. */
  signingKey(stream: string): SigningKey;
  /** The key of a stream if the keyring already holds one (never creates one): for verification. */
  existingKey(stream: string): SigningKey | undefined;
}

// PKCS#8 wrapping of a raw 32-byte Ed25519 seed (RFC 8410).
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const STREAM_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function keyIdOf(publicKey: Buffer): string {
  return createHash('sha256').update(publicKey).digest('hex').slice(0, 32);
}

export function rawPublicKey(key: KeyObject): Buffer {
  const jwk = createPublicKey(key).export({ format: 'jwk' });
  return Buffer.from(jwk.x as string, 'base64url');
}

export function publicKeyFromRaw(raw: Buffer): KeyObject {
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') }, format: 'jwk' });
}

export function verifySignature(publicKey: Buffer, message: Buffer, signature: Buffer): boolean {
  try {
    return verify(null, message, publicKeyFromRaw(publicKey), signature);
  } catch {
    return false;
  }
}

function toSigningKey(stream: string, privateKey: KeyObject): SigningKey {
  const publicKey = rawPublicKey(privateKey);
  return { keyId: keyIdOf(publicKey), stream, publicKey, sign: (message) => sign(null, message, privateKey) };
}

function checkStream(stream: string): string {
  const s = stream.toLowerCase();
  // The stream id becomes a file name: refuse anything that is not a UUID.
  if (!STREAM_RE.test(s)) throw new TypeError('an audit stream id is a UUID');
  return s;
}

/** One PKCS#8 PEM file per stream in dir (0700), each 0600, created on first use. */
export function fileKeyring(dir: string): AuditKeyring {
  const cache = new Map<string, SigningKey>();
  const load = (stream: string, create: boolean): SigningKey | undefined => {
    const s = checkStream(stream);
    const cached = cache.get(s);
    if (cached) return cached;
    const file = path.join(dir, `${s}.pem`);
    let pem: string | undefined;
    try {
      pem = readFileSync(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    if (pem === undefined) {
      if (!create) return undefined;
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      const { privateKey } = generateKeyPairSync('ed25519');
      const out = privateKey.export({ format: 'pem', type: 'pkcs8' }) as string;
      try {
        // 'wx': never overwrite a key another process created meanwhile.
        writeFileSync(file, out, { mode: 0o600, flag: 'wx' });
        chmodSync(file, 0o600);
        pem = out;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        pem = readFileSync(file, 'utf8');
      }
    }
    const key = toSigningKey(s, createPrivateKey(pem));
    cache.set(s, key);
    return key;
  };
  return {
    kind: 'file',
    signingKey: (stream) => load(stream, true)!,
    existingKey: (stream) => load(stream, false),
  };
}

/** Keys derived from one secret seed (HYGIE_AUDIT_KEY_SEED): nothing is written to disk. */
export function derivedKeyring(seed: Buffer): AuditKeyring {
  if (seed.length < 32) throw new RangeError('the audit key seed needs at least 32 bytes');
  const cache = new Map<string, SigningKey>();
  const derive = (stream: string): SigningKey => {
    const s = checkStream(stream);
    let key = cache.get(s);
    if (!key) {
      const raw = Buffer.from(hkdfSync('sha256', seed, 'hygie-audit-checkpoints', `stream:${s}`, 32));
      key = toSigningKey(s, createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, raw]), format: 'der', type: 'pkcs8' }));
      cache.set(s, key);
    }
    return key;
  };
  return { kind: 'derived', signingKey: derive, existingKey: derive };
}

/** The keyring the configuration asks for: the seed when given, otherwise files under dataDir. */
export function keyringFromConfig(config: { dataDir: string; auditKeySeed?: Buffer | undefined }): AuditKeyring {
  return config.auditKeySeed ? derivedKeyring(config.auditKeySeed) : fileKeyring(path.join(config.dataDir, 'audit-keys'));
}

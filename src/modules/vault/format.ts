// The vault's wire formats and AES-256-GCM primitives (pure, no I/O).
//
// A field ciphertext is, in binary:
//   [1 byte format version = 1][16 bytes data key id (a UUID)][12 bytes IV][ciphertext][16 bytes GCM tag]
// and in text columns "hv1:" + base64url of that. The associated data binds it to its keyspace
// (establishment), table, column and row, and repeats the version and key id, so a ciphertext
// copied to another row, column, table or establishment fails authentication.
import { createCipheriv, createDecipheriv, randomBytes, randomFillSync } from 'node:crypto';

export const FORMAT_VERSION = 1;
export const TEXT_PREFIX = 'hv1:';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;
const HEADER_BYTES = 1 + 16 + IV_BYTES;

export type VaultErrorCode =
  | 'decryption_failed'
  | 'malformed_ciphertext'
  | 'key_not_found'
  | 'key_shredded'
  | 'key_retired'
  | 'unknown_root_key'
  | 'invalid_context';

/**
 * A vault failure. Messages carry ids and codes only, never key material or plaintext; a request
 * that meets one answers 500 unless the caller maps it (records maps key_shredded to "gone").
 */
export class VaultError extends Error {
  constructor(
    readonly code: VaultErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'VaultError';
  }
}

/** Where a value lives: the associated data of its ciphertext. */
export interface FieldBinding {
  /** The establishment id, or 'platform' for the platform keyspace. */
  scope: string;
  table: string;
  column: string;
  rowId: string;
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function uuidToBytes(id: string): Buffer {
  if (!UUID_RE.test(id)) throw new VaultError('invalid_context', 'not a UUID');
  return Buffer.from(id.replaceAll('-', ''), 'hex');
}

export function bytesToUuid(bytes: Buffer): string {
  const h = bytes.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** Unambiguous concatenation: each part is prefixed by its length, so ("ab","c") ≠ ("a","bc"). */
export function encodeParts(parts: ReadonlyArray<string | Buffer>): Buffer {
  // One allocation, written in place (this runs for every field sealed or opened).
  let size = 0;
  for (const part of parts) size += 4 + (typeof part === 'string' ? Buffer.byteLength(part, 'utf8') : part.length);
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  for (const part of parts) {
    const n = typeof part === 'string' ? out.write(part, at + 4, 'utf8') : part.copy(out, at + 4);
    out.writeUInt32BE(n, at);
    at += 4 + n;
  }
  return out;
}

function nonEmpty(name: string, value: unknown): void {
  if (typeof value !== 'string' || value === '') throw new VaultError('invalid_context', `binding ${name} is empty`);
}

export function fieldAad(version: number, keyId: string, binding: FieldBinding): Buffer {
  const { scope, table, column, rowId } = binding;
  nonEmpty('scope', scope);
  nonEmpty('table', table);
  nonEmpty('column', column);
  nonEmpty('rowId', rowId);
  return encodeParts(['hygie/field', String(version), keyId, scope, table, column, rowId]);
}

/** The associated data of a wrapped data key: it cannot be moved to another owner or keyspace. */
export function wrapAad(scope: string, ownerKind: string, ownerId: string, dataKeyId: string): Buffer {
  return encodeParts(['hygie/wrap', scope, ownerKind, ownerId, dataKeyId]);
}

export function newDataKey(): Buffer {
  return randomBytes(KEY_BYTES);
}

/**
 * A fresh random IV. IVs are cut from a buffer of CSPRNG bytes refilled 4 KiB at a time: one call
 * to the generator per 341 IVs instead of one each (a first booking seals a dozen fields). Each
 * byte is handed out once; IVs are public (stored with the ciphertext), so holding the next ones
 * in memory reveals nothing.
 */
export function freshIv(): Buffer {
  if (ivOffset + IV_BYTES > ivPool.length) {
    randomFillSync(ivPool);
    ivOffset = 0;
  }
  const iv = Buffer.from(ivPool.subarray(ivOffset, ivOffset + IV_BYTES));
  ivOffset += IV_BYTES;
  return iv;
}
const ivPool = Buffer.alloc(4096);
let ivOffset = ivPool.length;

/** AES-256-GCM: returns iv ‖ ciphertext ‖ tag. */
export function seal(key: Buffer, plaintext: Buffer, aad: Buffer): Buffer {
  if (key.length !== KEY_BYTES) throw new VaultError('invalid_context', 'key must be 32 bytes');
  const iv = freshIv();
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(aad);
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([iv, body, cipher.getAuthTag()]);
}

/** Inverse of seal; any change to key, AAD or bytes throws VaultError('decryption_failed'). */
export function open(key: Buffer, sealed: Buffer, aad: Buffer): Buffer {
  if (sealed.length < IV_BYTES + TAG_BYTES) throw new VaultError('malformed_ciphertext', 'ciphertext too short');
  const iv = sealed.subarray(0, IV_BYTES);
  const tag = sealed.subarray(sealed.length - TAG_BYTES);
  const body = sealed.subarray(IV_BYTES, sealed.length - TAG_BYTES);
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(aad);
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(body), decipher.final()]);
  } catch {
    throw new VaultError('decryption_failed', 'authentication failed: wrong key, wrong binding or altered ciphertext');
  }
}

export interface ParsedCiphertext {
  version: number;
  keyId: string;
  sealed: Buffer;
}

export function packCiphertext(keyId: string, sealed: Buffer): Buffer {
  return Buffer.concat([Buffer.from([FORMAT_VERSION]), uuidToBytes(keyId), sealed]);
}

export function parseCiphertext(bytes: Buffer): ParsedCiphertext {
  if (bytes.length < HEADER_BYTES + TAG_BYTES) throw new VaultError('malformed_ciphertext', 'ciphertext too short');
  const version = bytes[0]!;
  if (version !== FORMAT_VERSION) throw new VaultError('malformed_ciphertext', `unknown ciphertext format ${version}`);
  return { version, keyId: bytesToUuid(bytes.subarray(1, 17)), sealed: bytes.subarray(17) };
}

export function toText(bytes: Buffer): string {
  return TEXT_PREFIX + bytes.toString('base64url');
}

export function fromText(text: string): Buffer {
  if (!text.startsWith(TEXT_PREFIX)) throw new VaultError('malformed_ciphertext', 'not a vault ciphertext');
  const body = text.slice(TEXT_PREFIX.length);
  if (!/^[A-Za-z0-9_-]+$/.test(body)) throw new VaultError('malformed_ciphertext', 'not a vault ciphertext');
  return Buffer.from(body, 'base64url');
}

/** True when a stored text value is a vault ciphertext (for migrations of plaintext columns). */
export function isCiphertextText(value: string): boolean {
  return value.startsWith(TEXT_PREFIX);
}

/** Reads the key id of a ciphertext without decrypting it (batch decryption groups by key). */
export function keyIdOf(ciphertext: string | Buffer): string {
  return parseCiphertext(typeof ciphertext === 'string' ? fromText(ciphertext) : ciphertext).keyId;
}

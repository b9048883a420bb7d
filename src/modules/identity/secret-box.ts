// TOTP secrets must be usable by the server but useless in a database dump: they are sealed with
// AES-256-GCM under a key kept outside the database, and bound to their row and column (the
// associated data), so a sealed value copied to another user does not open.
//
// The key lives in a file under the data directory, created 0600 on first start. The vault issue
// moves it behind its key provider: loadIdentityKey() is the one place to change.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../../config.js';

export interface SecretBox {
  seal(plain: string, associatedData: string): string;
  /** Throws when the value was not sealed by this key for this associated data. */
  open(sealed: string, associatedData: string): string;
}

const VERSION = 'v1';

export function isSealed(value: string): boolean {
  return value.startsWith(`${VERSION}:`);
}

export function createSecretBox(key: Buffer): SecretBox {
  if (key.length !== 32) throw new RangeError('the identity key has 32 bytes');
  return {
    seal(plain, associatedData) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      cipher.setAAD(Buffer.from(associatedData, 'utf8'));
      const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
      return [VERSION, iv.toString('base64url'), body.toString('base64url'), cipher.getAuthTag().toString('base64url')].join(':');
    },
    open(sealed, associatedData) {
      const [version, iv, body, tag, ...rest] = sealed.split(':');
      if (version !== VERSION || !iv || !body || !tag || rest.length > 0) throw new Error('not a sealed secret');
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
      decipher.setAAD(Buffer.from(associatedData, 'utf8'));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
    },
  };
}

/** A box whose key is loaded on first use: an instance that never touches a TOTP secret never reads (or creates) the key file. */
export interface LazySecretBox {
  seal(plain: string, associatedData: string): Promise<string>;
  open(sealed: string, associatedData: string): Promise<string>;
}

export function lazySecretBox(loadKey: () => Promise<Buffer>): LazySecretBox {
  let box: Promise<SecretBox> | undefined;
  const get = () => (box ??= loadKey().then(createSecretBox));
  return {
    seal: async (plain, associatedData) => (await get()).seal(plain, associatedData),
    open: async (sealed, associatedData) => (await get()).open(sealed, associatedData),
  };
}

export function identityKeyPath(config: Config): string {
  return path.join(config.dataDir, 'keys', 'identity.key');
}

/** Reads the identity key, creating it (0600, in a 0700 directory) on first start. */
export async function loadIdentityKey(config: Config): Promise<Buffer> {
  const file = identityKeyPath(config);
  try {
    return decodeKey(await readFile(file, 'utf8'), file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  try {
    // 'wx': two processes starting at once must not both write a key.
    await writeFile(file, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
    await chmod(file, 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  return decodeKey(await readFile(file, 'utf8'), file);
}

function decodeKey(text: string, file: string): Buffer {
  const key = Buffer.from(text.trim(), 'base64');
  if (key.length !== 32) throw new Error(`${file} does not hold a 32-byte base64 key`);
  return key;
}

/** The associated data of a user's TOTP secret, enrolled or pending (confirming moves it as is). */
export const totpSecretContext = (userId: string): string => `users.totp_secret:${userId}`;

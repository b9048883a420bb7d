// Key providers: where the establishments' key-encryption keys (KEKs) live. The database stores
// only a provider's opaque key reference; wrapping and unwrapping happen inside the provider, so an
// HSM or a cloud KMS can implement this interface without the key ever reaching Hygie's memory.
//
// The two built-in providers hold a keyring of 256-bit root keys (a file, or an environment
// variable) and derive each KEK with HKDF-SHA-256 from a root key, the establishment (or platform)
// and a random key id made at creation. Rotation thus gives a fresh, unrelated KEK; destroying a
// root key destroys every KEK derived from it (see docs/security.md, "Key providers").
import { createHash, hkdfSync, randomBytes } from 'node:crypto';
import { chmod, link, mkdir, open as openFile, readFile, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { inspect } from 'node:util';
import { VaultError, open, seal } from './format.js';

export interface KeyProvider {
  /** Stored beside each key version ('local', 'env', 'kms:…'). */
  readonly name: string;
  /** Makes a new KEK for a keyspace (an establishment id, or 'platform'); returns its reference. */
  createKey(scope: string): Promise<string>;
  wrap(keyRef: string, scope: string, dataKey: Buffer, aad: Buffer): Promise<Buffer>;
  unwrap(keyRef: string, scope: string, wrapped: Buffer, aad: Buffer): Promise<Buffer>;
  /** Called when a version is retired (nothing references it). A KMS would schedule deletion. */
  retireKey(keyRef: string): Promise<void>;
  /** True when this provider can unwrap under keyRef (start-up check against the database). */
  hasKey(keyRef: string): Promise<boolean>;
}

/** 256-bit root keys; never printed, serialised or logged. */
export class RootKeyring {
  readonly #keys: ReadonlyMap<string, Buffer>;
  readonly currentId: string;
  constructor(keys: readonly Buffer[]) {
    if (keys.length === 0) throw new RangeError('a keyring needs at least one key');
    const map = new Map<string, Buffer>();
    for (const key of keys) {
      if (key.length !== 32) throw new RangeError('root keys are 32 bytes');
      map.set(rootKeyId(key), Buffer.from(key));
    }
    this.#keys = map;
    this.currentId = rootKeyId(keys[0]!);
  }
  get(id: string): Buffer | undefined {
    return this.#keys.get(id);
  }
  ids(): string[] {
    return [...this.#keys.keys()];
  }
  toJSON(): string {
    return '[keyring]';
  }
  [inspect.custom](): string {
    return `RootKeyring(${this.ids().join(', ')})`;
  }
}

/** A public identifier of a root key: a hash that reveals nothing of the key. */
export function rootKeyId(key: Buffer): string {
  return createHash('sha256').update('hygie/root-key-id/v1').update(key).digest('hex').slice(0, 16);
}

const KEY_REF_RE = /^([0-9a-f]{16})\/([0-9a-f]{32})$/;

/** The built-in provider over a keyring: KEK = HKDF(root, scope, random key id). */
export function createKeyringProvider(name: string, loadKeyring: () => Promise<RootKeyring>): KeyProvider & { load(): Promise<void> } {
  const keks = new Map<string, Buffer>();
  let keyring: RootKeyring | undefined;
  const ring = async (): Promise<RootKeyring> => (keyring ??= await loadKeyring());

  const kek = async (keyRef: string, scope: string): Promise<Buffer> => {
    const cacheKey = `${scope}|${keyRef}`;
    const cached = keks.get(cacheKey);
    if (cached) return cached;
    const m = KEY_REF_RE.exec(keyRef);
    if (!m) throw new VaultError('unknown_root_key', 'malformed key reference');
    let root = (await ring()).get(m[1]!);
    if (!root && name === 'local') {
      // Another process (hygie keys rotate) may have changed the file: read it once more.
      keyring = await loadKeyring();
      root = keyring.get(m[1]!);
    }
    if (!root) throw new VaultError('unknown_root_key', `root key ${m[1]} is not in this instance's keyring (${name})`);
    const derived = Buffer.from(hkdfSync('sha256', root, Buffer.from(m[2]!, 'hex'), `hygie/kek/v1/${scope}`, 32));
    keks.set(cacheKey, derived);
    return derived;
  };

  return {
    name,
    async createKey() {
      return `${(await ring()).currentId}/${randomBytes(16).toString('hex')}`;
    },
    async wrap(keyRef, scope, dataKey, aad) {
      return Buffer.concat([Buffer.from([1]), seal(await kek(keyRef, scope), dataKey, aad)]);
    },
    async unwrap(keyRef, scope, wrapped, aad) {
      if (wrapped[0] !== 1) throw new VaultError('malformed_ciphertext', 'unknown wrapped key format');
      return open(await kek(keyRef, scope), wrapped.subarray(1), aad);
    },
    async retireKey(keyRef) {
      for (const k of keks.keys()) if (k.endsWith(`|${keyRef}`)) keks.delete(k);
    },
    async load() {
      await ring();
    },
    async hasKey(keyRef) {
      const m = KEY_REF_RE.exec(keyRef);
      return m !== null && (await ring()).get(m[1]!) !== undefined;
    },
  };
}

/** `env`: root keys given by the operator (HYGIE_MASTER_KEY), validated by config.ts. */
export function createEnvKeyProvider(keys: readonly Buffer[]): KeyProvider {
  const keyring = new RootKeyring(keys);
  return createKeyringProvider('env', async () => keyring);
}

export const KEY_FILE_NAME = 'vault-keyring.json';

interface KeyFile {
  format: 'hygie-keyring-1';
  /** Newest first: the first key derives new KEKs, the others still unwrap. */
  keys: Array<{ id: string; key: string; createdAt: string }>;
}

/**
 * `local`: a keyring file under the data directory, created on first use with mode 0600 (and the
 * directory 0700). A file readable by group or others is refused, as ssh refuses a loose key.
 */
export interface LocalKeyProvider extends KeyProvider {
  readonly file: string;
  /** Loads the keyring, creating the file if it does not exist yet. */
  ensure(): Promise<void>;
  /** True when the key file exists (checked before trusting a database that already has keys). */
  exists(): Promise<boolean>;
}

export function createLocalKeyProvider(dataDir: string): LocalKeyProvider {
  const file = path.join(dataDir, KEY_FILE_NAME);
  const provider = createKeyringProvider('local', () => loadOrCreateKeyFile(file));
  return {
    ...provider,
    file,
    async ensure() {
      await provider.load();
    },
    async exists() {
      return stat(file).then(
        () => true,
        () => false,
      );
    },
  };
}

export async function loadOrCreateKeyFile(file: string): Promise<RootKeyring> {
  let text: string;
  try {
    const info = await stat(file);
    if ((info.mode & 0o077) !== 0) {
      throw new VaultError('unknown_root_key', `${file} is readable by other users (mode ${(info.mode & 0o777).toString(8)}): chmod 600 it`);
    }
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    await createKeyFile(file);
    text = await readFile(file, 'utf8');
  }
  let parsed: KeyFile;
  try {
    parsed = JSON.parse(text) as KeyFile;
  } catch {
    throw new VaultError('unknown_root_key', `${file} is not a Hygie keyring`);
  }
  if (parsed.format !== 'hygie-keyring-1' || !Array.isArray(parsed.keys) || parsed.keys.length === 0) {
    throw new VaultError('unknown_root_key', `${file} is not a Hygie keyring`);
  }
  return new RootKeyring(parsed.keys.map((k) => Buffer.from(k.key, 'base64')));
}

async function createKeyFile(file: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const key = randomBytes(32);
  const body: KeyFile = { format: 'hygie-keyring-1', keys: [{ id: rootKeyId(key), key: key.toString('base64'), createdAt: new Date().toISOString() }] };
  const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  // 'wx': never overwrite; mode 0600 from creation, so the key is never readable by others.
  const handle = await openFile(tmp, 'wx', 0o600);
  try {
    await handle.writeFile(`${JSON.stringify(body, null, 2)}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await chmod(tmp, 0o600);
  try {
    // link() fails if another process created the file meanwhile: theirs wins, ours is dropped.
    await link(tmp, file).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'EEXIST') throw error;
    });
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
}

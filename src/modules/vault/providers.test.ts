import { afterEach, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { inspect } from 'node:util';
import { v7 as uuidv7 } from 'uuid';
import { KEY_FILE_NAME, RootKeyring, createEnvKeyProvider, createLocalKeyProvider } from './providers.js';
import { wrapAad } from './format.js';

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const d = await mkdtemp(path.join(tmpdir(), 'hygie-vault-'));
  dirs.push(d);
  return d;
}
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

const scope = uuidv7();
const aad = wrapAad(scope, 'patient', uuidv7(), uuidv7());

describe('local key provider', () => {
  it('creates the keyring file on first use with mode 0600, and reuses it', async () => {
    const dir = path.join(await tempDir(), 'data');
    const provider = createLocalKeyProvider(dir);
    await provider.ensure();
    const info = await stat(path.join(dir, KEY_FILE_NAME));
    expect(info.mode & 0o777).toBe(0o600);
    const dataKey = randomBytes(32);
    const ref = await provider.createKey(scope);
    const wrapped = await provider.wrap(ref, scope, dataKey, aad);
    expect(wrapped.includes(dataKey)).toBe(false);
    // A second process reading the same file unwraps it.
    const again = createLocalKeyProvider(dir);
    expect((await again.unwrap(ref, scope, wrapped, aad)).equals(dataKey)).toBe(true);
    expect(await again.hasKey(ref)).toBe(true);
  });

  it('two processes starting at once agree on one key file', async () => {
    const dir = await tempDir();
    const [x, y] = [createLocalKeyProvider(dir), createLocalKeyProvider(dir)];
    await Promise.all([x.ensure(), y.ensure()]);
    const ref = await x.createKey(scope);
    expect(await y.hasKey(ref)).toBe(true);
    const dataKey = randomBytes(32);
    expect((await y.unwrap(ref, scope, await x.wrap(ref, scope, dataKey, aad), aad)).equals(dataKey)).toBe(true);
  });

  it('refuses a key file readable by others', async () => {
    const dir = await tempDir();
    const provider = createLocalKeyProvider(dir);
    await provider.ensure();
    await chmod(path.join(dir, KEY_FILE_NAME), 0o644);
    await expect(createLocalKeyProvider(dir).ensure()).rejects.toThrow(/readable by other users/);
  });

  it('cannot unwrap with another keyring, another keyspace or another binding', async () => {
    const a = createLocalKeyProvider(await tempDir());
    const b = createLocalKeyProvider(await tempDir());
    const dataKey = randomBytes(32);
    const ref = await a.createKey(scope);
    const wrapped = await a.wrap(ref, scope, dataKey, aad);
    await expect(b.unwrap(ref, scope, wrapped, aad)).rejects.toThrow(/not in this instance's keyring/);
    expect(await b.hasKey(ref)).toBe(false);
    await expect(a.unwrap(ref, uuidv7(), wrapped, aad)).rejects.toThrow(/authentication failed/);
    await expect(a.unwrap(ref, scope, wrapped, wrapAad(scope, 'patient', uuidv7(), uuidv7()))).rejects.toThrow(/authentication failed/);
  });

  it('refuses a file that is not a keyring', async () => {
    const dir = await tempDir();
    await writeFile(path.join(dir, KEY_FILE_NAME), '{"hello":1}', { mode: 0o600 });
    await expect(createLocalKeyProvider(dir).ensure()).rejects.toThrow(/not a Hygie keyring/);
  });
});

describe('env key provider', () => {
  it('derives a different key per version; older root keys still unwrap', async () => {
    const oldRoot = randomBytes(32);
    const before = createEnvKeyProvider([oldRoot]);
    const ref1 = await before.createKey(scope);
    const ref2 = await before.createKey(scope);
    expect(ref1).not.toBe(ref2);
    const dataKey = randomBytes(32);
    const w1 = await before.wrap(ref1, scope, dataKey, aad);
    await expect(before.unwrap(ref2, scope, w1, aad)).rejects.toThrow(/authentication failed/);

    const after = createEnvKeyProvider([randomBytes(32), oldRoot]);
    expect((await after.unwrap(ref1, scope, w1, aad)).equals(dataKey)).toBe(true);
    const ref3 = await after.createKey(scope);
    expect(ref3.split('/')[0]).not.toBe(ref1.split('/')[0]);
  });

  it('never prints its keys', async () => {
    const root = randomBytes(32);
    const ring = new RootKeyring([root]);
    const shown = `${JSON.stringify({ ring })} ${inspect(ring)} ${inspect(createEnvKeyProvider([root]), { depth: 5 })}`;
    expect(shown).not.toContain(root.toString('base64'));
    expect(shown).not.toContain(root.toString('hex'));
  });
});

// The vault's public face: envelope encryption of personal fields and secrets, blind indexes for
// exact search, crypto-shredding, key providers and rotation. Other modules import only this file.
import type { Config } from '../../config.js';
import type { Database } from '../../platform/db/database.js';
import { VaultError } from './format.js';
import { createEnvKeyProvider, createLocalKeyProvider, type KeyProvider, type LocalKeyProvider } from './providers.js';
import { createVault, type Vault, type VaultOptions } from './service.js';
import { createVaultStore } from './store.js';

export { createVault, normalisePart, PLATFORM_BLIND_INDEX_OWNER, PLATFORM_QUEUE_OWNER } from './service.js';
export { queueCipher } from './queue-cipher.js';
export type { DecryptOptions, FieldContext, PatientFieldContext, PreparedKey, RowContext, SecretFieldContext, SearchPart, Vault, VaultOptions } from './service.js';
export { VaultError, isCiphertextText, keyIdOf, type VaultErrorCode } from './format.js';
export { normaliseName, normaliseDate, normaliseEmail, normaliseIdentifier } from './blind-index.js';
export { createEnvKeyProvider, createLocalKeyProvider, KEY_FILE_NAME, type KeyProvider, type LocalKeyProvider } from './providers.js';
export { rotateAllKeys, rotateKeys, type RotationOptions, type RotationResult } from './rotation.js';

/** The key provider the configuration names. */
export function openKeyProvider(config: Config): KeyProvider | LocalKeyProvider {
  if (config.keyProvider === 'env') {
    if (!config.masterKeys) throw new VaultError('unknown_root_key', 'HYGIE_MASTER_KEY is not set');
    return createEnvKeyProvider(config.masterKeys.keys);
  }
  return createLocalKeyProvider(config.dataDir);
}

/**
 * Opens the vault for a server or a command: the configured provider, checked against the keys the
 * database already depends on, so an instance started with the wrong (or a fresh) keyring refuses
 * to start instead of writing data no other instance can read.
 */
export async function openVault(config: Config, db: Database, options: Omit<VaultOptions, 'provider'> = {}): Promise<Vault> {
  const provider = openKeyProvider(config);
  await assertKeyringCovers(db, provider);
  // The embedded database creates its key file on the first start, beside pgdata/. With
  // PostgreSQL the local file is created when the first key is needed, not by a mere start.
  if ('ensure' in provider && db.kind === 'pglite') await provider.ensure();
  return createVault({ ...options, provider });
}

export class KeyringMismatchError extends Error {
  constructor(
    readonly missing: number,
    fileMissing = false,
  ) {
    super(
      `${missing} key version(s) in the database need root keys that this instance's key provider does not hold` +
        `${fileMissing ? ' (the key file is missing)' : ''}. ` +
        'Start with the keyring the data was written with (HYGIE_MASTER_KEY, or the vault-keyring.json file in HYGIE_DATA_DIR).',
    );
    this.name = 'KeyringMismatchError';
  }
}

async function assertKeyringCovers(db: Database, provider: KeyProvider | LocalKeyProvider): Promise<void> {
  const store = createVaultStore();
  const refs = [...(await db.withPlatform((tx) => store.platformKeyRefs(tx)))];
  const establishments = await db.withPlatform((tx) => store.establishmentIds(tx));
  for (const id of establishments) refs.push(...(await db.withTenant(id, (tx) => store.establishmentKeyRefs(tx, id))));
  if (refs.length === 0) return;
  // Never create a fresh key file for a database that already depends on another one.
  if ('exists' in provider && !(await provider.exists())) throw new KeyringMismatchError(refs.length, true);
  let missing = 0;
  for (const ref of refs) if (!(await provider.hasKey(ref))) missing += 1;
  if (missing > 0) throw new KeyringMismatchError(missing);
}

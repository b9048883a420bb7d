// The vault's public face: envelope encryption of personal fields and secrets, blind indexes for
// exact search, crypto-shredding, key providers and rotation. Other modules import only this file.
import type { Config } from '../../config.js';
import type { Database } from '../../platform/db/database.js';
import { VaultError } from './format.js';
import { createEnvKeyProvider, createLocalKeyProvider, type KeyProvider } from './providers.js';
import { createVault, type Vault, type VaultOptions } from './service.js';
import { createVaultStore } from './store.js';

export { createVault, normalisePart } from './service.js';
export type { FieldContext, PatientFieldContext, SecretFieldContext, SearchPart, Vault, VaultOptions } from './service.js';
export { VaultError, isCiphertextText, keyIdOf, type VaultErrorCode } from './format.js';
export { normaliseName, normaliseDate, normaliseIdentifier } from './blind-index.js';
export { createEnvKeyProvider, createLocalKeyProvider, KEY_FILE_NAME, type KeyProvider } from './providers.js';
export { rotateKeys, type RotationOptions, type RotationResult } from './rotation.js';

/** The key provider the configuration names (the local key file is created here if missing). */
export async function openKeyProvider(config: Config): Promise<KeyProvider> {
  if (config.keyProvider === 'env') {
    if (!config.masterKeys) throw new VaultError('unknown_root_key', 'HYGIE_MASTER_KEY is not set');
    return createEnvKeyProvider(config.masterKeys.keys);
  }
  const local = createLocalKeyProvider(config.dataDir);
  await local.ensure();
  return local;
}

/**
 * Opens the vault for a server or a command: the configured provider, checked against the keys the
 * database already depends on, so an instance started with the wrong (or a fresh) keyring refuses
 * to start instead of writing data no other instance can read.
 */
export async function openVault(config: Config, db: Database, options: Omit<VaultOptions, 'provider'> = {}): Promise<Vault> {
  const provider = await openKeyProvider(config);
  await assertKeyringCovers(db, provider);
  return createVault({ ...options, provider });
}

export class KeyringMismatchError extends Error {
  constructor(readonly missing: number) {
    super(
      `${missing} key version(s) in the database need root keys that this instance's key provider does not hold. ` +
        'Start with the keyring the data was written with (HYGIE_MASTER_KEY, or the vault-keyring.json file in HYGIE_DATA_DIR).',
    );
    this.name = 'KeyringMismatchError';
  }
}

async function assertKeyringCovers(db: Database, provider: KeyProvider): Promise<void> {
  const store = createVaultStore();
  const refs = [...(await db.withPlatform((tx) => store.platformKeyRefs(tx)))];
  const establishments = await db.withPlatform((tx) => store.establishmentIds(tx));
  for (const id of establishments) refs.push(...(await db.withTenant(id, (tx) => store.establishmentKeyRefs(tx, id))));
  let missing = 0;
  for (const ref of refs) if (!(await provider.hasKey(ref))) missing += 1;
  if (missing > 0) throw new KeyringMismatchError(missing);
}

// Patient files seen from scheduling: an account gets a minimal file at an establishment on its
// first booking or waiting-list entry there, written (encrypted) by the records module.
import type { Insertable } from 'kysely';
import { v7 as uuidv7 } from 'uuid';
import type { Exec, Tx } from '../../platform/db/database.js';
import type { PatientsTable } from '../../platform/db/schema.js';
import { DomainError } from '../../platform/http/errors.js';
import type { UserActor } from './access.js';
import type { SchedulingStore } from './store.js';
import type { PreparedKey, Vault } from '../vault/index.js';
import { insertPatientFile, newPatientFileRow } from '../records/index.js';
import { accountProfiles, openSealedProfile, type AccountProfile } from '../identity/index.js';

/** The unique key of `patients` that gives an account one file per establishment. */
const ONE_FILE_PER_ACCOUNT = 'patients_establishment_id_account_user_id_key';

/**
 * Runs `attempt` (a booking or a waiting-list entry that may make the account's file here), and
 * once more when another request of the same account (another tab) made the file first: the
 * file's unique key refused this attempt, which wrote nothing, and done again it finds the file.
 */
export function onceMoreIfFileMadeMeanwhile<T>(attempt: () => Promise<T>): Promise<T> {
  return attempt().catch((error: unknown) => {
    const e = error as { code?: unknown; constraint?: unknown } | null;
    if (typeof e === 'object' && e !== null && e.code === '23505' && e.constraint === ONE_FILE_PER_ACCOUNT) return attempt();
    throw error;
  });
}

/** The patient file of an account at an establishment, created on its first booking or waiting-list entry there. */
export async function patientFileForAccount(store: SchedulingStore, vault: Vault, tx: Tx, establishmentId: string, actor: UserActor): Promise<string> {
  const existing = await store.findPatientFileOfAccount(tx, actor.userId);
  if (existing) return existing.id;
  const profile = (await accountProfiles(tx, vault, [actor.userId])).get(actor.userId);
  return insertPatientFile(tx, vault, fileFromAccount(profile, establishmentId, actor));
}

/**
 * The sealed row of a new file for an account that has none at this establishment (the caller has
 * just checked), and its data key prepared by the vault: the booking that needs the file inserts
 * all three in one statement (Vault.preparedKeyInsert), so none exists without the others.
 */
export async function newPatientFileForAccount(
  vault: Vault,
  exec: Exec,
  establishmentId: string,
  actor: UserActor,
  options: { inTransaction?: boolean; sealedProfile?: unknown } = {},
): Promise<{ id: string; row: Insertable<PatientsTable>; key: PreparedKey }> {
  // The profile read with the booking's context (identity's sealedProfileColumn), else read here.
  const profile = (await openSealedProfile(exec, vault, actor.userId, options.sealedProfile)) ?? (await accountProfiles(exec, vault, [actor.userId])).get(actor.userId);
  const input = fileFromAccount(profile, establishmentId, actor);
  const id = uuidv7();
  // In a transaction the key version is read and locked, so the insert cannot find it switched.
  const key = await vault.preparePatientKey(exec, { establishmentId, patientId: id }, { readVersion: options.inTransaction === true });
  const { row } = await newPatientFileRow(exec, vault, { ...input, id, key });
  return { id, row, key };
}

function fileFromAccount(account: AccountProfile | undefined, establishmentId: string, actor: UserActor) {
  if (!account || account.birthDate === null) throw new DomainError('forbidden', 'Add your birth date to your account before booking');
  // Identity as the account holder declared it: provisional until staff check it (INS rules).
  return {
    establishmentId,
    accountUserId: actor.userId,
    file: {
      birthName: account.lastName.toUpperCase(),
      firstNames: account.firstName,
      sex: 'X' as const,
      birthDate: account.birthDate,
      email: account.email,
      phone: account.phone,
    },
  };
}

// Patient files seen from scheduling: an account gets a minimal file at an establishment on its
// first booking or waiting-list entry there, written (encrypted) by the records module.
import type { Insertable } from 'kysely';
import type { Tx } from '../../platform/db/database.js';
import type { PatientsTable } from '../../platform/db/schema.js';
import { DomainError } from '../../platform/http/errors.js';
import type { UserActor } from './access.js';
import type { SchedulingStore } from './store.js';
import type { Vault } from '../vault/index.js';
import { insertPatientFile, newPatientFileRow } from '../records/index.js';
import { accountProfiles } from '../identity/index.js';

/** The patient file of an account at an establishment, created on its first booking or waiting-list entry there. */
export async function patientFileForAccount(store: SchedulingStore, vault: Vault, tx: Tx, establishmentId: string, actor: UserActor): Promise<string> {
  const existing = await store.findPatientFileOfAccount(tx, actor.userId);
  if (existing) return existing.id;
  return insertPatientFile(tx, vault, await fileFromAccount(tx, vault, establishmentId, actor));
}

/**
 * The sealed row of a new file for an account that has none at this establishment (the caller
 * has just checked, in this transaction), to be inserted with the booking that needs it.
 */
export async function newPatientFileForAccount(vault: Vault, tx: Tx, establishmentId: string, actor: UserActor): Promise<{ id: string; row: Insertable<PatientsTable> }> {
  return newPatientFileRow(tx, vault, await fileFromAccount(tx, vault, establishmentId, actor));
}

async function fileFromAccount(tx: Tx, vault: Vault, establishmentId: string, actor: UserActor) {
  const account = (await accountProfiles(tx, vault, [actor.userId])).get(actor.userId);
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

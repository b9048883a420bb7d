// Patient files seen from scheduling: an account gets a minimal file at an establishment on its
// first booking or waiting-list entry there, written (encrypted) by the records module.
import type { Tx } from '../../platform/db/database.js';
import { DomainError } from '../../platform/http/errors.js';
import type { UserActor } from './access.js';
import type { SchedulingStore } from './store.js';
import type { Vault } from '../vault/index.js';
import { insertPatientFile } from '../records/index.js';
import { accountProfiles } from '../identity/index.js';

/** The patient file of an account at an establishment, created on its first booking or waiting-list entry there. */
export async function patientFileForAccount(store: SchedulingStore, vault: Vault, tx: Tx, establishmentId: string, actor: UserActor): Promise<string> {
  const existing = await store.findPatientFileOfAccount(tx, actor.userId);
  if (existing) return existing.id;
  const account = (await accountProfiles(tx, vault, [actor.userId])).get(actor.userId);
  if (!account || account.birthDate === null) throw new DomainError('forbidden', 'Add your birth date to your account before booking');
  // Identity as the account holder declared it: provisional until staff check it (INS rules).
  return insertPatientFile(tx, vault, {
    establishmentId,
    accountUserId: actor.userId,
    file: {
      birthName: account.lastName.toUpperCase(),
      firstNames: account.firstName,
      sex: 'X',
      birthDate: account.birthDate,
      email: account.email,
      phone: account.phone,
    },
  });
}

// Patient files seen from scheduling: an account gets a minimal file at an establishment on its
// first booking or waiting-list entry there. The records module owns patient files and should
// take this over when it encrypts them.
import { v7 as uuidv7 } from 'uuid';
import type { Tx } from '../../platform/db/database.js';
import { DomainError } from '../../platform/http/errors.js';
import type { UserActor } from './access.js';
import type { SchedulingStore } from './store.js';

/** The patient file of an account at an establishment, created on its first booking or waiting-list entry there. */
export async function patientFileForAccount(store: SchedulingStore, tx: Tx, establishmentId: string, actor: UserActor): Promise<string> {
  const existing = await store.findPatientFileOfAccount(tx, actor.userId);
  if (existing) return existing.id;
  const account = await store.findAccount(tx, actor.userId);
  if (!account || account.birth_date === null) throw new DomainError('forbidden', 'Add your birth date to your account before booking');
  const id = uuidv7();
  await store.insertPatientFileForAccount(tx, {
    id,
    establishmentId,
    userId: actor.userId,
    lastName: account.last_name,
    firstName: account.first_name,
    birthDate: account.birth_date,
    email: account.email,
    phone: account.phone,
  });
  return id;
}

// What other modules read from scheduling's (and the directory's) tables, through scheduling:
// an appointment's parties, times and whether its motive is a video one (teleconsultation), the
// establishments where an account holds patient files, and practitioner accounts of an
// establishment (teleconsultation guests, recipients of end-to-end documents). Patient names are
// read separately, inside the caller's access-gate call.
import type { Database, Tx } from '../../platform/db/database.js';
import type { Actor } from '../../platform/http/context.js';
import type { Vault } from '../vault/index.js';
import { patientDisplayNames } from '../records/index.js';

export interface TeleconsultAppointment {
  id: string;
  establishmentId: string;
  practitionerId: string;
  /** The practitioner's account, null when the practitioner has none (cannot host a call). */
  practitionerUserId: string | null;
  patientId: string;
  /** The patient file's account, null for a patient without an online account. */
  patientAccountUserId: string | null;
  startsAt: Date;
  endsAt: Date;
  status: string;
  teleconsult: boolean;
  timeZone: string;
}

async function findIn(tx: Tx, appointmentId: string): Promise<TeleconsultAppointment | undefined> {
  const row = await tx
    .selectFrom('appointments as a')
    .innerJoin('visit_motives as m', 'm.id', 'a.motive_id')
    .innerJoin('practitioners as p', 'p.id', 'a.practitioner_id')
    .innerJoin('patients as pa', 'pa.id', 'a.patient_id')
    .innerJoin('establishments as e', 'e.id', 'a.establishment_id')
    .select([
      'a.id',
      'a.establishment_id',
      'a.practitioner_id',
      'p.user_id as practitioner_user_id',
      'a.patient_id',
      'pa.account_user_id',
      'a.starts_at',
      'a.ends_at',
      'a.status',
      'm.teleconsult',
      'e.time_zone',
    ])
    .where('a.id', '=', appointmentId)
    .executeTakeFirst();
  if (!row) return undefined;
  return {
    id: row.id,
    establishmentId: row.establishment_id,
    practitionerId: row.practitioner_id,
    practitionerUserId: row.practitioner_user_id,
    patientId: row.patient_id,
    patientAccountUserId: row.account_user_id,
    startsAt: row.starts_at,
    endsAt: row.ends_at,
    status: row.status,
    teleconsult: row.teleconsult,
    timeZone: row.time_zone,
  };
}

/**
 * Finds an appointment in the establishments where the user holds a patient file or a staff
 * membership (row-level security hides every other one). Who may do what with it is the caller's
 * decision; nothing here says whether the user is a party to it.
 */
export async function findAppointmentForTeleconsult(db: Database, actor: Actor, appointmentId: string): Promise<TeleconsultAppointment | undefined> {
  if (actor.kind !== 'user') return undefined;
  const linked = await establishmentsOfAccount(db, actor.userId);
  const establishments = new Set([...linked, ...actor.memberships.map((m) => m.establishmentId)]);
  for (const establishmentId of establishments) {
    const found = await db.withTenant(establishmentId, (tx) => findIn(tx, appointmentId));
    if (found) return found;
  }
  return undefined;
}

/** Display names of the call's parties, read inside the caller's gate transaction. */
export async function teleconsultPartyNames(tx: Tx, vault: Vault, appointmentId: string): Promise<{ patient: string; practitioner: string } | undefined> {
  const row = await tx
    .selectFrom('appointments as a')
    .innerJoin('practitioners as p', 'p.id', 'a.practitioner_id')
    .select(['a.patient_id', 'p.first_name', 'p.last_name'])
    .where('a.id', '=', appointmentId)
    .executeTakeFirst();
  if (!row) return undefined;
  // The patient's name is encrypted: records opens it.
  const names = await patientDisplayNames(tx, vault, [row.patient_id]);
  return { patient: names.get(row.patient_id) ?? '', practitioner: `${row.first_name} ${row.last_name}` };
}

/**
 * The account of a practitioner practising in the transaction's establishment (an invited
 * colleague), with their display name; undefined when there is none.
 */
export async function practitionerAccountHere(tx: Tx, establishmentId: string, practitionerId: string): Promise<{ userId: string; name: string } | undefined> {
  const row = await tx
    .selectFrom('practitioner_establishments as pe')
    .innerJoin('practitioners as p', 'p.id', 'pe.practitioner_id')
    .innerJoin('memberships as mb', (j) => j.onRef('mb.user_id', '=', 'p.user_id').onRef('mb.establishment_id', '=', 'pe.establishment_id'))
    .select(['p.user_id', 'p.first_name', 'p.last_name'])
    .where('pe.establishment_id', '=', establishmentId)
    .where('pe.practitioner_id', '=', practitionerId)
    .where('mb.role', '=', 'practitioner')
    .executeTakeFirst();
  return row?.user_id ? { userId: row.user_id, name: `${row.first_name} ${row.last_name}` } : undefined;
}

/** Display name of a practitioner account (a guest in a call). */
export async function practitionerNameOfUser(tx: Tx, userId: string): Promise<string | undefined> {
  const row = await tx.selectFrom('practitioners').select(['first_name', 'last_name']).where('user_id', '=', userId).executeTakeFirst();
  return row ? `${row.first_name} ${row.last_name}` : undefined;
}

/** The establishments where an account holds a patient file. */
export async function establishmentsOfAccount(db: Database, userId: string): Promise<string[]> {
  const rows = await db.withPlatform((tx) => tx.selectFrom('account_establishments').select('linked_establishment_id').where('user_id', '=', userId).execute());
  return rows.map((r) => r.linked_establishment_id);
}

/** Which of these users are practitioners (with a practitioner membership) of the transaction's establishment. */
export async function practitionerUsersHere(tx: Tx, establishmentId: string, userIds: string[]): Promise<Set<string>> {
  if (userIds.length === 0) return new Set();
  const rows = await tx
    .selectFrom('memberships')
    .select('user_id')
    .where('establishment_id', '=', establishmentId)
    .where('role', '=', 'practitioner')
    .where('user_id', 'in', userIds)
    .execute();
  return new Set(rows.map((r) => r.user_id));
}

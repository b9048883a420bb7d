import type { Tx } from '../../platform/db/database.js';

export function createDirectoryStore() {
  return {
    listSpecialties(tx: Tx) {
      return tx.selectFrom('specialties').select(['code', 'label_fr', 'label_en']).execute();
    },

    specialtyExists(tx: Tx, code: string) {
      return tx.selectFrom('specialties').select('code').where('code', '=', code).executeTakeFirst();
    },

    findPractitionerByRpps(tx: Tx, rpps: string) {
      return tx.selectFrom('practitioners').select('id').where('rpps', '=', rpps).executeTakeFirst();
    },

    findPractitioner(tx: Tx, id: string) {
      return tx
        .selectFrom('practitioners')
        .select(['id', 'user_id', 'first_name', 'last_name', 'rpps', 'specialty_code', 'languages', 'teleconsult'])
        .where('id', '=', id)
        .executeTakeFirst();
    },

    insertPractitioner(tx: Tx, row: { id: string; userId: string | null; firstName: string; lastName: string; rpps: string; specialty: string; languages: string[]; teleconsult: boolean }) {
      return tx
        .insertInto('practitioners')
        .values({ id: row.id, user_id: row.userId, first_name: row.firstName, last_name: row.lastName, rpps: row.rpps, specialty_code: row.specialty, languages: row.languages, teleconsult: row.teleconsult })
        .execute();
    },

    updatePractitioner(tx: Tx, id: string, patch: { specialty_code?: string; languages?: string[]; teleconsult?: boolean }) {
      return tx.updateTable('practitioners').set(patch).where('id', '=', id).execute();
    },

    linkPractitioner(tx: Tx, establishmentId: string, practitionerId: string) {
      return tx.insertInto('practitioner_establishments').values({ establishment_id: establishmentId, practitioner_id: practitionerId }).execute();
    },

    practisesIn(tx: Tx, establishmentId: string, practitionerId: string) {
      return tx
        .selectFrom('practitioner_establishments')
        .select('practitioner_id')
        .where('establishment_id', '=', establishmentId)
        .where('practitioner_id', '=', practitionerId)
        .executeTakeFirst();
    },

    findEstablishment(tx: Tx, id: string) {
      return tx.selectFrom('establishments').select(['id', 'name', 'city', 'postal_code', 'time_zone', 'reminder_offsets_hours']).where('id', '=', id).executeTakeFirst();
    },

    /** The practitioners of the establishment in the transaction's tenant, by name. */
    listPractitionersOf(tx: Tx, establishmentId: string) {
      return tx
        .selectFrom('practitioner_establishments as pe')
        .innerJoin('practitioners as p', 'p.id', 'pe.practitioner_id')
        .select(['p.id', 'p.user_id', 'p.first_name', 'p.last_name', 'p.specialty_code'])
        .where('pe.establishment_id', '=', establishmentId)
        .orderBy('p.last_name')
        .orderBy('p.first_name')
        .execute();
    },

    updateEstablishment(tx: Tx, id: string, patch: { time_zone?: string; reminder_offsets_hours?: number[] }) {
      return tx.updateTable('establishments').set(patch).where('id', '=', id).execute();
    },
  };
}
export type DirectoryStore = ReturnType<typeof createDirectoryStore>;

// An appointment's references, checked as a whole. The five single-column foreign keys of 0005
// (establishment, agenda, practitioner, motive, patient) let through a row whose establishment is
// not its agenda's owner, whose practitioner is not its agenda's, whose motive belongs to another
// agenda, or whose patient file belongs to another establishment: a link across the tenant wall
// that row-level security (which walls by establishment_id) would not see. Three composite keys
// refuse all four, and cost three key-share row locks per booking instead of five: the agenda
// already references its establishment and practitioner, so those two links stay implied.
//
// The referenced column sets get unique constraints (supersets of the primary keys, which the
// foreign keys need). ON DELETE stays the default (no action), as before. An existing
// inconsistent appointment makes this migration fail, naming its key: such a row is a bug to look
// at, not one to keep behind a weaker constraint.
import { sql, type Kysely } from 'kysely';

export function up() {
  return async (db: Kysely<unknown>): Promise<void> => {
    await sql`alter table agendas add constraint agendas_id_practitioner_owner_key unique (id, practitioner_id, owner_establishment_id)`.execute(db);
    await sql`alter table visit_motives add constraint visit_motives_id_agenda_key unique (id, agenda_id)`.execute(db);
    await sql`alter table patients add constraint patients_id_establishment_key unique (id, establishment_id)`.execute(db);
    await sql`
      alter table appointments
        drop constraint appointments_establishment_id_fkey,
        drop constraint appointments_agenda_id_fkey,
        drop constraint appointments_practitioner_id_fkey,
        drop constraint appointments_motive_id_fkey,
        drop constraint appointments_patient_id_fkey,
        add constraint appointments_agenda_fkey foreign key (agenda_id, practitioner_id, establishment_id)
          references agendas (id, practitioner_id, owner_establishment_id),
        add constraint appointments_motive_fkey foreign key (motive_id, agenda_id)
          references visit_motives (id, agenda_id),
        add constraint appointments_patient_fkey foreign key (patient_id, establishment_id)
          references patients (id, establishment_id)`.execute(db);
  };
}

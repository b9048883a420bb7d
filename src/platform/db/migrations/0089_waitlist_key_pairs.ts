// A waiting-list entry's references, checked as a whole, for the reason 0088 gave for
// appointments: row-level security walls by establishment_id only, and a single-column foreign
// key is checked across it. The keys of 0009 let through an entry whose establishment is not its
// agenda's owner, whose motive belongs to another agenda, whose patient file belongs to another
// establishment, or whose current or offered appointment is another establishment's: a link
// across the tenant wall that a tenant could make from inside its own establishment.
//
// The agenda key implies the establishment (the agenda references its owner), so the entry's own
// establishment key goes, as in 0088. The two appointment references stay nullable: a composite
// key with a NULL column is not checked (MATCH SIMPLE), which is what "no appointment" means.
// Two unique constraints are added for the keys to reference (supersets of the primary keys).
// ON DELETE stays the default (no action), as before. An existing inconsistent entry makes this
// migration fail, naming its key.
import { sql, type Kysely } from 'kysely';

export function up() {
  return async (db: Kysely<unknown>): Promise<void> => {
    await sql`alter table agendas add constraint agendas_id_owner_key unique (id, owner_establishment_id)`.execute(db);
    await sql`alter table appointments add constraint appointments_id_establishment_key unique (id, establishment_id)`.execute(db);
    await sql`
      alter table waitlist_entries
        drop constraint waitlist_entries_establishment_id_fkey,
        drop constraint waitlist_entries_agenda_id_fkey,
        drop constraint waitlist_entries_motive_id_fkey,
        drop constraint waitlist_entries_patient_id_fkey,
        drop constraint waitlist_entries_current_appointment_id_fkey,
        drop constraint waitlist_entries_offered_appointment_id_fkey,
        add constraint waitlist_entries_agenda_fkey foreign key (agenda_id, establishment_id)
          references agendas (id, owner_establishment_id),
        add constraint waitlist_entries_motive_fkey foreign key (motive_id, agenda_id)
          references visit_motives (id, agenda_id),
        add constraint waitlist_entries_patient_fkey foreign key (patient_id, establishment_id)
          references patients (id, establishment_id),
        add constraint waitlist_entries_current_appointment_fkey foreign key (current_appointment_id, establishment_id)
          references appointments (id, establishment_id),
        add constraint waitlist_entries_offered_appointment_fkey foreign key (offered_appointment_id, establishment_id)
          references appointments (id, establishment_id)`.execute(db);
  };
}

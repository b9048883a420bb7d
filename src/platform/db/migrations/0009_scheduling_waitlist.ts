// Waiting list: a patient asks to be offered an earlier slot with a practitioner and motive; when
// an appointment of that motive is cancelled, the first in line gets the freed slot held for
// them for 15 minutes (an appointment with status 'held', which the exclusion constraint counts).
import { sql, type Kysely } from 'kysely';
import type { MigrationContext } from './index.js';
import { enableTenantIsolation } from './rls.js';

export function up(ctx: MigrationContext) {
  return async (db: Kysely<unknown>): Promise<void> => {
    await sql`alter table appointments drop constraint appointments_status_check`.execute(db);
    await sql`alter table appointments add constraint appointments_status_check check (status in ('confirmed', 'cancelled', 'no_show', 'held'))`.execute(db);
    await sql`alter table appointments add column hold_expires_at timestamptz`.execute(db);
    await sql`alter table appointments add constraint appointments_hold_check check ((status = 'held') = (hold_expires_at is not null))`.execute(db);

    // Public availability ignores holds that have expired, before anyone cleans them up.
    await sql`alter table practitioner_busy add column expires_at timestamptz`.execute(db);
    await sql`
      create or replace function scheduling_sync_busy() returns trigger
      language plpgsql security definer set search_path = public, pg_temp as $$
      begin
        if tg_op in ('UPDATE', 'DELETE') then
          delete from practitioner_busy where appointment_id = old.id;
        end if;
        if tg_op in ('INSERT', 'UPDATE') and new.status <> 'cancelled' then
          insert into practitioner_busy (appointment_id, practitioner_id, period, expires_at)
          values (new.id, new.practitioner_id, new.period, new.hold_expires_at);
        end if;
        return null;
      end $$`.execute(db);

    // When reminders go out, per establishment (hours before the start); read by the reminder job.
    await sql`alter table establishments add column reminder_offsets_hours integer[] not null default '{168,24}'
      check (array_length(reminder_offsets_hours, 1) <= 5 and 0 < all(reminder_offsets_hours) and 720 >= all(reminder_offsets_hours))`.execute(db);

    await sql`
      create table waitlist_entries (
        id uuid primary key,
        establishment_id uuid not null references establishments(id),
        agenda_id uuid not null references agendas(id),
        motive_id uuid not null references visit_motives(id),
        patient_id uuid not null references patients(id),
        -- The appointment the patient would move from, if any; an offer must start before it.
        current_appointment_id uuid references appointments(id),
        wanted_before timestamptz not null,
        status text not null default 'waiting' check (status in ('waiting', 'offered', 'accepted', 'withdrawn', 'expired')),
        offered_appointment_id uuid references appointments(id),
        offer_expires_at timestamptz,
        created_at timestamptz not null default now(),
        check ((status = 'offered') = (offered_appointment_id is not null and offer_expires_at is not null) or status in ('accepted', 'expired'))
      )`.execute(db);
    await sql`
      create unique index waitlist_entries_one_active on waitlist_entries (patient_id, motive_id)
      where status in ('waiting', 'offered')`.execute(db);
    await sql`create index waitlist_entries_queue on waitlist_entries (motive_id, created_at) where status = 'waiting'`.execute(db);
    await enableTenantIsolation(db, ctx, 'waitlist_entries', ['select', 'insert', 'update']);
  };
}

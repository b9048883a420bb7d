// Scheduling: agendas, visit motives, absences and extra openings, appointments.
//
// Two kinds of tables here, on purpose:
// - `appointments` is establishment-owned and walled like every such table (establishment_id,
//   RLS enabled and forced, one tenant policy): it is the only one that names a patient.
// - The public agenda tables (`agendas`, `visit_motives`, `agenda_exceptions`) are directory data
//   that anonymous visitors must read across establishments (search, availability). They carry
//   `owner_establishment_id`, not `establishment_id`: RLS lets everyone SELECT them and lets a
//   transaction INSERT/UPDATE/DELETE only the rows of its own establishment. They hold no patient
//   reference and no free text about anyone but the practitioner's public offer.
// - `practitioner_busy` is a projection of the active appointments' time ranges with neither
//   patient nor establishment, kept by a trigger, so public availability never reads appointments.
import { sql, type Kysely } from 'kysely';
import type { MigrationContext } from './index.js';
import { enableTenantIsolation, grantApp } from './rls.js';

async function publicReadTenantWrite(db: Kysely<unknown>, ctx: MigrationContext, table: string, privileges: Array<'insert' | 'update' | 'delete'>) {
  const t = sql.table(table);
  const mine = sql`owner_establishment_id = hygie_current_establishment()`;
  await sql`alter table ${t} enable row level security`.execute(db);
  await sql`alter table ${t} force row level security`.execute(db);
  await sql`create policy public_read on ${t} for select using (true)`.execute(db);
  await sql`create policy tenant_insert on ${t} for insert with check (${mine})`.execute(db);
  await sql`create policy tenant_update on ${t} for update using (${mine}) with check (${mine})`.execute(db);
  await sql`create policy tenant_delete on ${t} for delete using (${mine})`.execute(db);
  await grantApp(db, ctx, table, ['select', ...privileges]);
}

export function up(ctx: MigrationContext) {
  return async (db: Kysely<unknown>): Promise<void> => {
    // An establishment's admin sets its time zone (agendas are defined in it); nothing else.
    await sql`grant update (time_zone) on establishments to ${sql.id(ctx.appRole)}`.execute(db);
    // Public search filters establishments by postal code, department or city.
    await sql`create index establishments_postal_code_idx on establishments (postal_code text_pattern_ops)`.execute(db);
    await sql`create index establishments_city_idx on establishments (lower(city))`.execute(db);

    await sql`
      create table agendas (
        id uuid primary key,
        owner_establishment_id uuid not null references establishments(id),
        practitioner_id uuid not null references practitioners(id),
        -- { "1": [[510, 720], [840, 1080]], … }: ISO weekday -> [start, end) in local minutes
        weekly_hours jsonb not null default '{}',
        published boolean not null default true,
        updated_at timestamptz not null default now(),
        unique (practitioner_id, owner_establishment_id),
        -- An agenda exists only where the practitioner practises (checked across the wall by the FK).
        foreign key (owner_establishment_id, practitioner_id)
          references practitioner_establishments (establishment_id, practitioner_id)
      )`.execute(db);
    await sql`create index agendas_owner_idx on agendas (owner_establishment_id)`.execute(db);
    await publicReadTenantWrite(db, ctx, 'agendas', ['insert', 'update']);

    await sql`
      create table visit_motives (
        id uuid primary key,
        owner_establishment_id uuid not null references establishments(id),
        agenda_id uuid not null references agendas(id),
        label text not null check (length(label) between 1 and 120),
        duration_minutes integer not null check (duration_minutes between 5 and 480),
        buffer_minutes integer not null default 0 check (buffer_minutes between 0 and 120),
        patient_kind text not null default 'all' check (patient_kind in ('all', 'new_only', 'known_only')),
        teleconsult boolean not null default false,
        min_notice_minutes integer not null default 0 check (min_notice_minutes between 0 and 43200),
        horizon_days integer not null default 60 check (horizon_days between 1 and 366),
        cancel_cutoff_hours integer not null default 24 check (cancel_cutoff_hours between 0 and 720),
        active boolean not null default true,
        created_at timestamptz not null default now()
      )`.execute(db);
    await sql`create index visit_motives_agenda_idx on visit_motives (agenda_id)`.execute(db);
    await publicReadTenantWrite(db, ctx, 'visit_motives', ['insert', 'update']);

    await sql`
      create table agenda_exceptions (
        id uuid primary key,
        owner_establishment_id uuid not null references establishments(id),
        agenda_id uuid not null references agendas(id),
        kind text not null check (kind in ('absence', 'opening')),
        period tstzrange not null check (not isempty(period) and lower_inc(period) and not upper_inc(period)
          and not lower_inf(period) and not upper_inf(period)),
        created_at timestamptz not null default now()
      )`.execute(db);
    // btree, not gist: reads ask for many agendas at once (= any), which gist serves poorly.
    await sql`create index agenda_exceptions_agenda_idx on agenda_exceptions (agenda_id, upper(period))`.execute(db);
    await publicReadTenantWrite(db, ctx, 'agenda_exceptions', ['insert', 'delete']);

    await sql`
      create table appointments (
        id uuid primary key,
        establishment_id uuid not null references establishments(id),
        agenda_id uuid not null references agendas(id),
        practitioner_id uuid not null references practitioners(id),
        motive_id uuid not null references visit_motives(id),
        patient_id uuid not null references patients(id),
        starts_at timestamptz not null,
        ends_at timestamptz not null,
        -- The time the practitioner is taken: [start, end + the motive's buffer).
        period tstzrange not null,
        status text not null default 'confirmed' check (status in ('confirmed', 'cancelled', 'no_show')),
        booked_by_user_id uuid,
        booked_by text not null check (booked_by in ('patient', 'staff')),
        cancelled_at timestamptz,
        cancelled_by text check (cancelled_by in ('patient', 'staff')),
        idempotency_key text,
        idempotency_fingerprint text,
        idempotency_response jsonb,
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now(),
        check (ends_at > starts_at),
        check (lower(period) = starts_at and upper(period) >= ends_at and lower_inc(period) and not upper_inc(period)),
        -- Double booking is impossible by construction (ASVS 2.3.4): no two active appointments
        -- of one practitioner overlap, whichever establishment they belong to.
        constraint appointments_no_overlap exclude using gist (practitioner_id with =, period with &&)
          where (status <> 'cancelled'),
        unique (establishment_id, booked_by_user_id, idempotency_key)
      )`.execute(db);
    await sql`create index appointments_practitioner_idx on appointments (establishment_id, practitioner_id, starts_at)`.execute(db);
    await sql`create index appointments_patient_idx on appointments (patient_id, starts_at)`.execute(db);
    await enableTenantIsolation(db, ctx, 'appointments', ['select', 'insert', 'update']);

    await sql`
      create table practitioner_busy (
        appointment_id uuid primary key,
        practitioner_id uuid not null,
        period tstzrange not null
      )`.execute(db);
    await sql`create index practitioner_busy_idx on practitioner_busy (practitioner_id, upper(period))`.execute(db);
    await grantApp(db, ctx, 'practitioner_busy', ['select']);
    // SECURITY DEFINER: the application role reads the projection but cannot write it.
    await sql`
      create function scheduling_sync_busy() returns trigger
      language plpgsql security definer set search_path = public, pg_temp as $$
      begin
        if tg_op in ('UPDATE', 'DELETE') then
          delete from practitioner_busy where appointment_id = old.id;
        end if;
        if tg_op in ('INSERT', 'UPDATE') and new.status <> 'cancelled' then
          insert into practitioner_busy (appointment_id, practitioner_id, period)
          values (new.id, new.practitioner_id, new.period);
        end if;
        return null;
      end $$`.execute(db);
    await sql`revoke all on function scheduling_sync_busy() from public`.execute(db);
    await sql`
      create trigger appointments_sync_busy after insert or update or delete on appointments
      for each row execute function scheduling_sync_busy()`.execute(db);

    // Where an account holds patient files, so that "my appointments" knows which tenants to open
    // without reading patients across the wall. Kept by a trigger on patients.
    await sql`
      create table account_establishments (
        user_id uuid not null references users(id),
        linked_establishment_id uuid not null references establishments(id),
        primary key (user_id, linked_establishment_id)
      )`.execute(db);
    await grantApp(db, ctx, 'account_establishments', ['select']);
    await sql`
      create function scheduling_link_account() returns trigger
      language plpgsql security definer set search_path = public, pg_temp as $$
      begin
        if new.account_user_id is not null then
          insert into account_establishments (user_id, linked_establishment_id)
          values (new.account_user_id, new.establishment_id) on conflict do nothing;
        end if;
        return null;
      end $$`.execute(db);
    await sql`revoke all on function scheduling_link_account() from public`.execute(db);
    await sql`
      create trigger patients_link_account after insert or update of account_user_id on patients
      for each row execute function scheduling_link_account()`.execute(db);
    await sql`
      insert into account_establishments (user_id, linked_establishment_id)
      select distinct account_user_id, establishment_id from patients where account_user_id is not null
      on conflict do nothing`.execute(db);
  };
}

// Foundation: the application role, reference and directory tables, accounts, memberships and
// patient files, with row-level security on every establishment-owned table.
import { sql, type Kysely } from 'kysely';
import type { MigrationContext } from './index.js';
import { enableTenantIsolation, grantApp } from './rls.js';

export function up(ctx: MigrationContext) {
  return async (db: Kysely<unknown>): Promise<void> => {
    const role = sql.id(ctx.appRole);
    // Roles are cluster-wide: several databases (tests, staging) may race to create it.
    await sql`
      do $$
      begin
        if not exists (select 1 from pg_roles where rolname = ${sql.lit(ctx.appRole)}) then
          create role ${role} nologin nosuperuser nobypassrls noinherit;
        end if;
      exception when duplicate_object or unique_violation then null;
      end
      $$`.execute(db);
    await sql`grant usage on schema public to ${role}`.execute(db);
    await sql`create extension if not exists btree_gist`.execute(db);

    // The tenant of the current transaction, set by withTenant(); NULL when none is set, which
    // makes every tenant policy false: a forgotten withTenant reads nothing.
    await sql`
      create function hygie_current_establishment() returns uuid
      language sql stable parallel safe
      as $$ select nullif(current_setting('hygie.establishment_id', true), '')::uuid $$`.execute(db);
    await sql`grant execute on function hygie_current_establishment() to ${role}`.execute(db);

    await sql`
      create table platform_settings (
        key text primary key,
        value jsonb not null,
        updated_at timestamptz not null default now()
      )`.execute(db);

    await sql`
      create table specialties (
        code text primary key check (code ~ '^[a-z_]{2,40}$'),
        label_fr text not null,
        label_en text not null
      )`.execute(db);
    await grantApp(db, ctx, 'specialties', ['select']);

    await sql`
      create table establishments (
        id uuid primary key,
        name text not null,
        address_line text not null,
        city text not null,
        postal_code text not null check (postal_code ~ '^[0-9]{5}$'),
        time_zone text not null default 'Europe/Paris',
        created_at timestamptz not null default now()
      )`.execute(db);
    await grantApp(db, ctx, 'establishments', ['select']);

    await sql`
      create table users (
        id uuid primary key,
        email text not null unique check (email = lower(email)),
        email_verified_at timestamptz,
        password_hash text,
        first_name text not null,
        last_name text not null,
        birth_date date,
        phone text,
        totp_secret text,
        created_at timestamptz not null default now(),
        disabled_at timestamptz
      )`.execute(db);
    await grantApp(db, ctx, 'users', ['select', 'insert', 'update']);

    await sql`
      create table memberships (
        id uuid primary key,
        establishment_id uuid not null references establishments(id),
        user_id uuid not null references users(id),
        role text not null check (role in ('practitioner', 'secretary', 'admin', 'security_officer')),
        created_at timestamptz not null default now(),
        unique (establishment_id, user_id)
      )`.execute(db);
    await sql`create index memberships_user_idx on memberships (user_id)`.execute(db);
    await enableTenantIsolation(db, ctx, 'memberships', ['select', 'insert', 'update', 'delete']);

    await sql`
      create table practitioners (
        id uuid primary key,
        user_id uuid unique references users(id),
        first_name text not null,
        last_name text not null,
        rpps char(11) not null unique check (rpps ~ '^[0-9]{11}$'),
        specialty_code text not null references specialties(code),
        languages text[] not null default '{fr}',
        teleconsult boolean not null default false,
        created_at timestamptz not null default now()
      )`.execute(db);
    await sql`create index practitioners_specialty_idx on practitioners (specialty_code)`.execute(db);
    await grantApp(db, ctx, 'practitioners', ['select', 'insert', 'update']);

    await sql`
      create table practitioner_establishments (
        establishment_id uuid not null references establishments(id),
        practitioner_id uuid not null references practitioners(id),
        primary key (establishment_id, practitioner_id)
      )`.execute(db);
    await sql`create index practitioner_establishments_practitioner_idx on practitioner_establishments (practitioner_id)`.execute(db);
    await enableTenantIsolation(db, ctx, 'practitioner_establishments', ['select', 'insert', 'delete']);

    await sql`
      create table patients (
        id uuid primary key,
        establishment_id uuid not null references establishments(id),
        account_user_id uuid references users(id),
        birth_name text not null,
        first_names text not null,
        used_name text,
        sex text not null check (sex in ('F', 'M', 'X')),
        birth_date date not null,
        birth_place_insee text,
        email text,
        phone text,
        address_line1 text,
        postal_code text,
        city text,
        created_at timestamptz not null default now(),
        unique (establishment_id, account_user_id)
      )`.execute(db);
    await sql`create index patients_account_idx on patients (account_user_id) where account_user_id is not null`.execute(db);
    await enableTenantIsolation(db, ctx, 'patients', ['select', 'insert', 'update']);
  };
}

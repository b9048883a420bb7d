// Identity: sessions, second factors, one-time tokens, staff invitations, two-person approvals and
// API keys; plus the platform's job outbox and mail outbox, which identity is the first to need.
import { sql, type Kysely } from 'kysely';
import type { MigrationContext } from './index.js';
import { enableTenantIsolation, grantApp } from './rls.js';

export function up(ctx: MigrationContext) {
  return async (db: Kysely<unknown>): Promise<void> => {
    const role = sql.id(ctx.appRole);

    // users.totp_secret now holds an AES-256-GCM sealed secret (see identity/secret-box.ts); a
    // pending secret waits for its first code before it replaces the enrolled one.
    await sql`
      alter table users
        add column password_changed_at timestamptz,
        add column totp_pending_secret text,
        add column totp_enrolled_at timestamptz,
        add column totp_last_step bigint`.execute(db);

    await sql`
      create table user_devices (
        id uuid primary key,
        user_id uuid not null references users(id),
        device_hash bytea not null,
        first_seen_at timestamptz not null,
        last_seen_at timestamptz not null,
        unique (user_id, device_hash)
      )`.execute(db);
    await grantApp(db, ctx, 'user_devices', ['select', 'insert', 'update']);

    await sql`
      create table sessions (
        id uuid primary key,
        user_id uuid not null references users(id),
        token_hash bytea not null unique,
        mfa_state text not null check (mfa_state in ('complete', 'not_required', 'enrolment_required')),
        created_at timestamptz not null,
        last_seen_at timestamptz not null,
        expires_at timestamptz not null,
        second_factor_at timestamptz,
        ip inet,
        user_agent text,
        device_hash bytea,
        new_device boolean not null default false,
        new_ip boolean not null default false,
        revoked_at timestamptz,
        revoked_reason text
      )`.execute(db);
    await sql`create index sessions_user_idx on sessions (user_id, created_at)`.execute(db);
    await grantApp(db, ctx, 'sessions', ['select', 'insert', 'update']);

    await sql`
      create table auth_challenges (
        id uuid primary key,
        kind text not null check (kind in ('login', 'webauthn_login', 'webauthn_register', 'step_up')),
        user_id uuid references users(id),
        session_id uuid references sessions(id),
        webauthn_challenge text,
        device_hash bytea,
        attempts integer not null default 0,
        created_at timestamptz not null,
        expires_at timestamptz not null,
        used_at timestamptz
      )`.execute(db);
    await grantApp(db, ctx, 'auth_challenges', ['select', 'insert', 'update']);

    await sql`
      create table recovery_codes (
        id uuid primary key,
        user_id uuid not null references users(id),
        code_hash bytea not null,
        created_at timestamptz not null,
        used_at timestamptz,
        unique (user_id, code_hash)
      )`.execute(db);
    await grantApp(db, ctx, 'recovery_codes', ['select', 'insert', 'update', 'delete']);

    await sql`
      create table webauthn_credentials (
        id uuid primary key,
        user_id uuid not null references users(id),
        credential_id text not null unique,
        public_key bytea not null,
        counter bigint not null,
        transports text[] not null default '{}',
        device_type text not null,
        backed_up boolean not null,
        name text not null,
        created_at timestamptz not null,
        last_used_at timestamptz
      )`.execute(db);
    await sql`create index webauthn_credentials_user_idx on webauthn_credentials (user_id)`.execute(db);
    await grantApp(db, ctx, 'webauthn_credentials', ['select', 'insert', 'update', 'delete']);

    // E-mail verification and password reset tokens: only their SHA-256 is stored.
    await sql`
      create table auth_tokens (
        id uuid primary key,
        kind text not null check (kind in ('email_verification', 'password_reset')),
        user_id uuid not null references users(id),
        token_hash bytea not null unique,
        created_at timestamptz not null,
        expires_at timestamptz not null,
        used_at timestamptz
      )`.execute(db);
    await sql`create index auth_tokens_user_idx on auth_tokens (user_id, kind)`.execute(db);
    await grantApp(db, ctx, 'auth_tokens', ['select', 'insert', 'update']);

    await sql`
      create table invitations (
        id uuid primary key,
        establishment_id uuid not null references establishments(id),
        email text not null check (email = lower(email)),
        first_name text not null,
        last_name text not null,
        role text not null check (role in ('practitioner', 'secretary', 'admin', 'security_officer')),
        token_hash bytea unique,
        invited_by uuid references users(id),
        status text not null check (status in ('pending_approval', 'sent', 'accepted', 'revoked')),
        created_at timestamptz not null,
        expires_at timestamptz not null,
        accepted_at timestamptz,
        accepted_user_id uuid references users(id)
      )`.execute(db);
    await enableTenantIsolation(db, ctx, 'invitations', ['select', 'insert', 'update']);

    await sql`
      create table approval_requests (
        id uuid primary key,
        establishment_id uuid not null references establishments(id),
        kind text not null check (kind in ('grant_role', 'reset_mfa', 'invite')),
        target_user_id uuid references users(id),
        invitation_id uuid references invitations(id),
        role text check (role in ('practitioner', 'secretary', 'admin', 'security_officer')),
        requested_by uuid not null references users(id),
        status text not null check (status in ('pending', 'approved', 'rejected')),
        created_at timestamptz not null,
        expires_at timestamptz not null,
        decided_by uuid references users(id),
        decided_at timestamptz,
        check (decided_by is null or decided_by <> requested_by)
      )`.execute(db);
    await enableTenantIsolation(db, ctx, 'approval_requests', ['select', 'insert', 'update']);

    await sql`
      create table api_keys (
        id uuid primary key,
        establishment_id uuid not null references establishments(id),
        name text not null,
        key_hash bytea not null unique,
        prefix text not null,
        scopes jsonb not null,
        allowed_ips cidr[] not null default '{}',
        expires_at timestamptz,
        created_by uuid references users(id),
        created_at timestamptz not null,
        last_used_at timestamptz,
        last_used_ip inet,
        revoked_at timestamptz
      )`.execute(db);
    await enableTenantIsolation(db, ctx, 'api_keys', ['select', 'insert', 'update']);

    // Three lookups must find a row before its establishment is known: a user's memberships (at
    // every request), an API key by its hash and an invitation by its token hash. Each is a
    // narrow SECURITY DEFINER function returning ids only; the caller then opens the tenant.
    // The policies let the functions' owner (the migrating role) read through FORCEd RLS when it
    // is not a superuser; the application role gains nothing from them.
    const owner = sql.id((await sql<{ u: string }>`select current_user as u`.execute(db)).rows[0]!.u);
    for (const table of ['memberships', 'api_keys', 'invitations']) {
      await sql`create policy definer_lookup on ${sql.table(table)} for select to ${owner} using (true)`.execute(db);
    }
    await sql`
      create function hygie_user_memberships(p_user uuid) returns table (establishment_id uuid, role text)
      language sql stable security definer set search_path = public
      as $$ select m.establishment_id, m.role from memberships m where m.user_id = p_user order by m.created_at $$`.execute(db);
    await sql`
      create function hygie_api_key_lookup(p_hash bytea) returns table (id uuid, establishment_id uuid)
      language sql stable security definer set search_path = public
      as $$ select k.id, k.establishment_id from api_keys k where k.key_hash = p_hash $$`.execute(db);
    await sql`
      create function hygie_invitation_lookup(p_hash bytea) returns table (id uuid, establishment_id uuid)
      language sql stable security definer set search_path = public
      as $$ select i.id, i.establishment_id from invitations i where i.token_hash = p_hash $$`.execute(db);
    for (const fn of ['hygie_user_memberships(uuid)', 'hygie_api_key_lookup(bytea)', 'hygie_invitation_lookup(bytea)']) {
      await sql`revoke all on function ${sql.raw(fn)} from public`.execute(db);
      await sql`grant execute on function ${sql.raw(fn)} to ${role}`.execute(db);
    }

    // The job outbox (platform/jobs.ts): written in the caller's transaction, claimed with
    // FOR UPDATE SKIP LOCKED by any number of workers.
    await sql`
      create table jobs (
        id uuid primary key,
        kind text not null,
        payload jsonb not null,
        run_at timestamptz not null default now(),
        attempts integer not null default 0,
        max_attempts integer not null default 8,
        locked_until timestamptz,
        last_error text,
        failed_at timestamptz,
        created_at timestamptz not null default now()
      )`.execute(db);
    await sql`create index jobs_due_idx on jobs (run_at) where failed_at is null`.execute(db);
    await grantApp(db, ctx, 'jobs', ['select', 'insert', 'update', 'delete']);

    // Mail written by the development transport (no SMTP_URL), for tests and the demo to read.
    await sql`
      create table mail_outbox (
        id uuid primary key,
        to_address text not null,
        subject text not null,
        text text not null,
        created_at timestamptz not null default now()
      )`.execute(db);
    await grantApp(db, ctx, 'mail_outbox', ['select', 'insert']);
  };
}

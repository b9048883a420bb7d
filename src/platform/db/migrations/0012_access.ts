// The access gate's own data: care relationships (care team, explicit grants; appointment-based
// relationships come from scheduling), break-the-glass grants, and security alerts.
import { sql, type Kysely } from 'kysely';
import type { MigrationContext } from './index.js';
import { enableTenantIsolation } from './rls.js';

export function up(ctx: MigrationContext) {
  return async (db: Kysely<unknown>): Promise<void> => {
    await sql`
      create table care_relationships (
        id uuid primary key,
        establishment_id uuid not null references establishments(id),
        patient_id uuid not null references patients(id),
        practitioner_user_id uuid not null references users(id),
        kind text not null check (kind in ('care_team', 'grant')),
        granted_by_user_id uuid references users(id),
        valid_from timestamptz not null default now(),
        valid_until timestamptz,
        revoked_at timestamptz,
        created_at timestamptz not null default now()
      )`.execute(db);
    await sql`create index care_relationships_lookup_idx on care_relationships (establishment_id, practitioner_user_id, patient_id)`.execute(db);
    await enableTenantIsolation(db, ctx, 'care_relationships', ['select', 'insert', 'update']);

    await sql`
      create table break_glass_grants (
        id uuid primary key,
        establishment_id uuid not null references establishments(id),
        patient_id uuid not null references patients(id),
        user_id uuid not null references users(id),
        reason text not null check (char_length(reason) >= 20),
        created_at timestamptz not null default now(),
        expires_at timestamptz not null
      )`.execute(db);
    await sql`create index break_glass_lookup_idx on break_glass_grants (establishment_id, user_id, patient_id, expires_at)`.execute(db);
    await enableTenantIsolation(db, ctx, 'break_glass_grants', ['select', 'insert']);

    await sql`
      create table security_alerts (
        id uuid primary key,
        establishment_id uuid not null references establishments(id),
        kind text not null,
        severity text not null check (severity in ('info', 'warning', 'critical')),
        actor_user_id uuid references users(id),
        patient_ids uuid[] not null default '{}',
        -- ids and counts only: alerts are read by security officers, who see no patient content
        details jsonb not null default '{}',
        created_at timestamptz not null default now(),
        resolved_at timestamptz,
        resolved_by_user_id uuid references users(id)
      )`.execute(db);
    await sql`create index security_alerts_open_idx on security_alerts (establishment_id, created_at) where resolved_at is null`.execute(db);
    await enableTenantIsolation(db, ctx, 'security_alerts', ['select', 'insert', 'update']);
  };
}

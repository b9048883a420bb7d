// A first, minimal audit table so that every module can record events from day one through
// appendAuditEvent(); the audit issue adds the hash chain, seals and verification on top.
import { sql, type Kysely } from 'kysely';
import type { MigrationContext } from './index.js';

export function up(ctx: MigrationContext) {
  return async (db: Kysely<unknown>): Promise<void> => {
    const role = sql.id(ctx.appRole);
    await sql`
      create table audit_events (
        id uuid primary key,
        -- NULL: the platform-level stream (patient accounts, sign-up, login before a tenant is known)
        establishment_id uuid references establishments(id),
        at timestamptz not null default now(),
        actor_kind text not null check (actor_kind in ('user', 'api_key', 'system', 'anonymous')),
        actor_user_id uuid,
        actor_role text,
        session_id uuid,
        api_key_id uuid,
        ip inet,
        action text not null,
        resource_kind text,
        resource_ids uuid[] not null default '{}',
        patient_ids uuid[] not null default '{}',
        categories text[] not null default '{}',
        purpose text,
        reason text,
        outcome text not null check (outcome in ('allowed', 'denied', 'contained', 'failed'))
      )`.execute(db);
    await sql`create index audit_events_establishment_at_idx on audit_events (establishment_id, at)`.execute(db);
    await sql`create index audit_events_patients_idx on audit_events using gin (patient_ids)`.execute(db);
    await sql`create index audit_events_actor_idx on audit_events (actor_user_id, at)`.execute(db);
    await sql`alter table audit_events enable row level security`.execute(db);
    await sql`alter table audit_events force row level security`.execute(db);
    // Tenant transactions see and write their establishment's events; platform transactions
    // (no tenant) the platform stream only.
    await sql`
      create policy tenant_isolation on audit_events
        using (establishment_id is not distinct from hygie_current_establishment())
        with check (establishment_id is not distinct from hygie_current_establishment())`.execute(db);
    // Append-only: no UPDATE or DELETE grant for the application, and a trigger that refuses
    // them for every role (tamper tests disable it on purpose, as a database owner could).
    await sql`grant select, insert on audit_events to ${role}`.execute(db);
    await sql`
      create function audit_events_append_only() returns trigger language plpgsql as $$
      begin
        raise exception 'audit_events is append-only' using errcode = 'insufficient_privilege';
      end $$`.execute(db);
    await sql`
      create trigger audit_events_no_update_delete before update or delete on audit_events
      for each row execute function audit_events_append_only()`.execute(db);
  };
}

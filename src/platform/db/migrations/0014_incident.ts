// Incidents: the impact report computed from the audit log (patient ids and counts only), and the
// incident's own timeline against the GDPR 72-hour clock.
import { sql, type Kysely } from 'kysely';
import type { MigrationContext } from './index.js';
import { enableTenantIsolation } from './rls.js';

export function up(ctx: MigrationContext) {
  return async (db: Kysely<unknown>): Promise<void> => {
    await sql`
      create table incidents (
        id uuid primary key,
        establishment_id uuid not null references establishments(id),
        actor_kind text not null check (actor_kind in ('user', 'api_key')),
        actor_user_id uuid references users(id),
        api_key_id uuid,
        window_from timestamptz not null,
        window_to timestamptz not null check (window_to > window_from),
        detected_at timestamptz not null,
        -- ids, categories and counts only (see modules/incident/impact.ts)
        report jsonb not null,
        created_by_user_id uuid references users(id),
        created_at timestamptz not null default now()
      )`.execute(db);
    await sql`create index incidents_establishment_idx on incidents (establishment_id, created_at)`.execute(db);
    await enableTenantIsolation(db, ctx, 'incidents', ['select', 'insert']);

    await sql`
      create table incident_events (
        id uuid primary key,
        establishment_id uuid not null references establishments(id),
        incident_id uuid not null references incidents(id),
        kind text not null check (kind in ('cnil_notified', 'complaint_filed', 'patients_notified', 'note')),
        at timestamptz not null,
        reference text check (char_length(reference) <= 200),
        recorded_by_user_id uuid references users(id),
        created_at timestamptz not null default now()
      )`.execute(db);
    await sql`create index incident_events_incident_idx on incident_events (incident_id, at)`.execute(db);
    await enableTenantIsolation(db, ctx, 'incident_events', ['select', 'insert']);
  };
}

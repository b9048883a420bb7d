// Teleconsultation: the colleagues a practitioner invites into a video appointment. Calls
// themselves leave no row (their start and end are audit events; their content never reaches the
// server), so this is the only table: establishment-owned, walled like every such table.
import { sql, type Kysely } from 'kysely';
import type { MigrationContext } from './index.js';
import { enableTenantIsolation } from './rls.js';

export function up(ctx: MigrationContext) {
  return async (db: Kysely<unknown>): Promise<void> => {
    await sql`
      create table teleconsult_guests (
        id uuid primary key,
        establishment_id uuid not null references establishments(id),
        appointment_id uuid not null references appointments(id),
        guest_user_id uuid not null references users(id),
        invited_by_user_id uuid not null references users(id),
        created_at timestamptz not null default now(),
        unique (appointment_id, guest_user_id),
        check (guest_user_id <> invited_by_user_id)
      )`.execute(db);
    await enableTenantIsolation(db, ctx, 'teleconsult_guests', ['select', 'insert', 'delete']);
  };
}

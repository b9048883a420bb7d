// Decoy patient files (optional per establishment): no legitimate workflow reaches them (no
// appointment, no care relationship, unlikely identities), so touching one alerts and contains.
import { sql, type Kysely } from 'kysely';
import type { MigrationContext } from './index.js';
import { enableTenantIsolation } from './rls.js';

export function up(ctx: MigrationContext) {
  return async (db: Kysely<unknown>): Promise<void> => {
    await sql`
      create table guard_decoys (
        establishment_id uuid not null references establishments(id),
        patient_id uuid not null references patients(id),
        created_at timestamptz not null default now(),
        primary key (establishment_id, patient_id)
      )`.execute(db);
    await enableTenantIsolation(db, ctx, 'guard_decoys', ['select', 'insert']);
  };
}

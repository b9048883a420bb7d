// Two-person bulk exports (ASVS 2.3.5): a request with a stated purpose, decided by a second
// person — never the requester, which the CHECK below enforces whatever the code does — and
// downloaded once, by the requester, before it expires. The file itself is never stored: it is
// produced through the access gate at the moment of the single download.
import { sql, type Kysely } from 'kysely';
import type { MigrationContext } from './index.js';
import { enableTenantIsolation } from './rls.js';

export function up(ctx: MigrationContext) {
  return async (db: Kysely<unknown>): Promise<void> => {
    await sql`
      create table guard_exports (
        id uuid primary key,
        establishment_id uuid not null references establishments(id),
        -- the provider that produces the file ('appointments', later 'patients', …)
        kind text not null check (kind ~ '^[a-z][a-z_]{0,39}$'),
        params jsonb not null default '{}',
        purpose text not null check (char_length(purpose) between 20 and 500),
        requested_by uuid not null references users(id),
        requested_at timestamptz not null,
        status text not null check (status in ('pending', 'approved', 'rejected', 'downloaded')),
        decided_by uuid references users(id),
        decided_at timestamptz,
        -- pending: last moment to decide; approved: last moment to download
        expires_at timestamptz not null,
        downloaded_at timestamptz,
        patient_count integer,
        check (decided_by is null or decided_by <> requested_by),
        check ((status = 'pending') = (decided_by is null)),
        check ((status = 'downloaded') = (downloaded_at is not null))
      )`.execute(db);
    await sql`create index guard_exports_establishment_idx on guard_exports (establishment_id, requested_at)`.execute(db);
    // No DELETE: the register of exports is part of the evidence.
    await enableTenantIsolation(db, ctx, 'guard_exports', ['select', 'insert', 'update']);
  };
}

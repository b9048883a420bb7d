// Helpers that every migration uses to give the application role exactly what it needs and to
// wall establishment-owned tables by row-level security.
import { sql, type Kysely } from 'kysely';
import type { MigrationContext } from './index.js';

type Privilege = 'select' | 'insert' | 'update' | 'delete';

export async function grantApp(db: Kysely<unknown>, ctx: MigrationContext, table: string, privileges: Privilege[]): Promise<void> {
  const list = sql.raw(privileges.join(', '));
  await sql`grant ${list} on ${sql.table(table)} to ${sql.id(ctx.appRole)}`.execute(db);
}

/**
 * Enables and forces row-level security on a table that has an establishment_id column, with one
 * policy that limits every command to the transaction's establishment (hygie_current_establishment()).
 * FORCE makes the policy apply to the table owner too; only superusers bypass it, and the
 * application never runs as one.
 */
export async function enableTenantIsolation(
  db: Kysely<unknown>,
  ctx: MigrationContext,
  table: string,
  privileges: Privilege[],
): Promise<void> {
  const t = sql.table(table);
  await sql`alter table ${t} enable row level security`.execute(db);
  await sql`alter table ${t} force row level security`.execute(db);
  await sql`
    create policy tenant_isolation on ${t}
      using (establishment_id = hygie_current_establishment())
      with check (establishment_id = hygie_current_establishment())`.execute(db);
  await grantApp(db, ctx, table, privileges);
}

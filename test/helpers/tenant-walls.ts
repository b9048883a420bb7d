// Checks the tenant walls of every establishment-owned table (one with an establishment_id
// column), both in the catalogue and by behaviour, and returns the violations found.
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { Database } from '../../src/platform/db/database.js';

export async function establishmentOwnedTables(db: Database): Promise<string[]> {
  const { rows } = await sql<{ table_name: string }>`
    select c.table_name from information_schema.columns c
    join information_schema.tables t on t.table_schema = c.table_schema and t.table_name = c.table_name
    where c.table_schema = 'public' and c.column_name = 'establishment_id' and t.table_type = 'BASE TABLE'
    order by c.table_name`.execute(db.owner);
  return rows.map((r) => r.table_name);
}

function isRefusal(error: unknown): boolean {
  const message = error instanceof Error ? error.message : String(error);
  return /row-level security|permission denied/.test(message);
}

/**
 * Runs a write that the walls must stop. A refusal counts as 0 rows written; any other database
 * error (a unique or foreign-key conflict) means the walls let the write through to the table.
 */
async function attempt(fn: () => Promise<number>): Promise<number> {
  try {
    return await fn();
  } catch (error) {
    if (isRefusal(error)) return 0;
    if ((error as { code?: string }).code?.startsWith('23')) return 1;
    throw error;
  }
}

/**
 * For each establishment-owned table: RLS enabled and forced with a policy; nothing readable
 * without a tenant; inside tenant A only A's rows are readable; B's rows can be neither updated
 * nor deleted; a row for B cannot be inserted, and an A row cannot be moved to B.
 * Needs at least one row of A and of B in every such table.
 */
export async function tenantWallViolations(db: Database, a: string, b: string): Promise<string[]> {
  const violations: string[] = [];
  const tables = await establishmentOwnedTables(db);
  if (tables.length === 0) return ['no establishment-owned table found'];
  for (const table of tables) {
    const t = sql.table(table);
    const { rows: meta } = await sql<{ rls: boolean; force: boolean; policies: string }>`
      select c.relrowsecurity as rls, c.relforcerowsecurity as force,
        (select count(*) from pg_policies p where p.schemaname = 'public' and p.tablename = c.relname) as policies
      from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = 'public' and c.relname = ${table}`.execute(db.owner);
    const m = meta[0];
    if (!m?.rls) violations.push(`${table}: row-level security not enabled`);
    if (!m?.force) violations.push(`${table}: row-level security not forced`);
    if (Number(m?.policies ?? 0) === 0) violations.push(`${table}: no policy`);

    const count = async (establishment: string) =>
      Number(
        (await sql<{ n: string }>`select count(*) as n from ${t} where establishment_id = ${establishment}`.execute(db.owner)).rows[0]?.n,
      );
    const ownerA = await count(a);
    const ownerB = await count(b);
    if (ownerA === 0 || ownerB === 0) {
      violations.push(`${table}: test data missing (A=${ownerA}, B=${ownerB})`);
      continue;
    }

    const withoutTenant = await db.withPlatform(async (tx) => (await sql<{ n: string }>`select count(*) as n from ${t}`.execute(tx)).rows[0]?.n);
    if (Number(withoutTenant) !== 0) violations.push(`${table}: ${withoutTenant} rows readable without a tenant`);

    const seen = await db.withTenant(a, async (tx) =>
      (await sql<{ establishment_id: string }>`select establishment_id from ${t}`.execute(tx)).rows,
    );
    if (seen.length !== ownerA) violations.push(`${table}: tenant A sees ${seen.length} rows, owns ${ownerA}`);
    if (seen.some((r) => r.establishment_id !== a)) violations.push(`${table}: tenant A reads rows of another establishment`);

    const updated = await attempt(() =>
      db.withTenant(a, async (tx) => Number((await sql`update ${t} set establishment_id = establishment_id where establishment_id = ${b}`.execute(tx)).numAffectedRows ?? 0)),
    );
    if (updated !== 0) violations.push(`${table}: tenant A updated ${updated} rows of B`);

    const deleted = await attempt(() =>
      db.withTenant(a, async (tx) => Number((await sql`delete from ${t} where establishment_id = ${b}`.execute(tx)).numAffectedRows ?? 0)),
    );
    if (deleted !== 0) violations.push(`${table}: tenant A deleted ${deleted} rows of B`);

    // Insert a copy of one of B's rows (with a fresh id where the table has one) from inside A.
    const { rows: sample } = await sql<{ row: Record<string, unknown> }>`select to_jsonb(x) as row from ${t} x where establishment_id = ${b} limit 1`.execute(db.owner);
    const copy = { ...sample[0]!.row };
    if ('id' in copy) copy['id'] = randomUUID();
    const inserted = await attempt(() =>
      db.withTenant(a, async (tx) => {
        await sql`insert into ${t} select * from jsonb_populate_record(null::${t}, ${JSON.stringify(copy)}::jsonb)`.execute(tx);
        return 1;
      }),
    );
    if (inserted !== 0) violations.push(`${table}: tenant A inserted a row for B`);

    const moved = await attempt(() =>
      db.withTenant(a, async (tx) => {
        const r = await sql`update ${t} set establishment_id = ${b} where establishment_id = ${a}`.execute(tx);
        return Number(r.numAffectedRows ?? 0);
      }),
    );
    if (moved !== 0) violations.push(`${table}: tenant A moved ${moved} rows to B`);
  }
  return violations;
}

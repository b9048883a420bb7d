// The explicit exception to the tenant-wall checker: the public agenda tables carry
// owner_establishment_id (not establishment_id) because anonymous search must read them across
// establishments. Reading them is open; writing them is walled by RLS exactly like any
// establishment-owned table. They and the busy projection carry no patient reference.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { createMiniAgenda, type MiniAgenda } from './helpers/scheduling-fixture.js';

const PUBLIC_TABLES = ['agendas', 'visit_motives', 'agenda_exceptions'] as const;

let t: TestDatabase;
let a: MiniAgenda;
let b: MiniAgenda;

function isRefusal(error: unknown): boolean {
  return /row-level security|permission denied/.test(error instanceof Error ? error.message : String(error));
}

beforeAll(async () => {
  t = await createTestDatabase();
  a = await createMiniAgenda(t.db, t.vault, { slots: 4, patients: 0 });
  b = await createMiniAgenda(t.db, t.vault, { slots: 4, patients: 0 });
});
afterAll(async () => t?.drop());

describe('public agenda tables', () => {
  it('have RLS enabled and forced, and hold no patient column', async () => {
    for (const table of [...PUBLIC_TABLES, 'practitioner_busy']) {
      const { rows } = await sql<{ rls: boolean; force: boolean }>`
        select relrowsecurity as rls, relforcerowsecurity as force from pg_class where relname = ${table}`.execute(t.db.owner);
      if (table !== 'practitioner_busy') expect(rows[0], table).toEqual({ rls: true, force: true });
      const { rows: cols } = await sql<{ column_name: string }>`
        select column_name from information_schema.columns where table_schema = 'public' and table_name = ${table}`.execute(t.db.owner);
      expect(cols.map((c) => c.column_name).filter((c) => /^patient_id$|account|user_id$|^establishment_id$/.test(c)), table).toEqual([]);
    }
  });

  it('are readable without a tenant (public search) and from any tenant', async () => {
    for (const table of PUBLIC_TABLES) {
      const n = await t.db.withPlatform(async (tx) => Number((await sql<{ n: string }>`select count(*) as n from ${sql.table(table)}`.execute(tx)).rows[0]!.n));
      expect(n, table).toBeGreaterThanOrEqual(2);
    }
  });

  it('cannot be written for another establishment: no insert, update, delete or move', async () => {
    for (const table of PUBLIC_TABLES) {
      const tt = sql.table(table);
      const updated = await t.db
        .withTenant(a.establishmentId, async (tx) =>
          Number((await sql`update ${tt} set owner_establishment_id = owner_establishment_id where owner_establishment_id = ${b.establishmentId}`.execute(tx)).numAffectedRows),
        )
        .catch((e: unknown) => (isRefusal(e) ? 0 : Promise.reject(e)));
      expect(updated, `${table} update`).toBe(0);
      const deleted = await t.db
        .withTenant(a.establishmentId, async (tx) => Number((await sql`delete from ${tt} where owner_establishment_id = ${b.establishmentId}`.execute(tx)).numAffectedRows))
        .catch((e: unknown) => (isRefusal(e) ? 0 : Promise.reject(e)));
      expect(deleted, `${table} delete`).toBe(0);
      const { rows } = await sql<{ row: Record<string, unknown> }>`select to_jsonb(x) as row from ${tt} x where owner_establishment_id = ${b.establishmentId} limit 1`.execute(t.db.owner);
      const copy = { ...rows[0]!.row, id: randomUUID() };
      const insert = t.db.withTenant(a.establishmentId, (tx) => sql`insert into ${tt} select * from jsonb_populate_record(null::${tt}, ${JSON.stringify(copy)}::jsonb)`.execute(tx));
      await expect(insert, `${table} insert`).rejects.toThrow(/row-level security|permission denied/);
      const move = t.db.withTenant(a.establishmentId, (tx) => sql`update ${tt} set owner_establishment_id = ${b.establishmentId} where owner_establishment_id = ${a.establishmentId}`.execute(tx));
      await expect(move, `${table} move`).rejects.toThrow(/row-level security|permission denied/);
    }
    const intact = await t.db.owner.selectFrom('agendas').select('id').where('owner_establishment_id', '=', b.establishmentId).execute();
    expect(intact).toHaveLength(1);
  });

  it('the busy projection and the account links are read-only for the application', async () => {
    await expect(
      t.db.withPlatform((tx) => sql`insert into practitioner_busy values (${randomUUID()}, ${a.practitionerId}, '[2030-01-01,2030-01-02)')`.execute(tx)),
    ).rejects.toThrow(/permission denied/);
    await expect(t.db.withPlatform((tx) => sql`delete from practitioner_busy`.execute(tx))).rejects.toThrow(/permission denied/);
    await expect(t.db.withPlatform((tx) => sql`delete from account_establishments`.execute(tx))).rejects.toThrow(/permission denied/);
  });
});

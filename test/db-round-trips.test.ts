// The database layer's round trips on PostgreSQL, and that saving them keeps the walls: BEGIN goes
// with the role and tenant settings in one query, statements the application repeats are prepared
// once per connection, and neither lets a tenant or the application role outlive its transaction.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import pg from 'pg';
import { createTestDatabase, onPostgres, type TestDatabase } from './helpers/db.js';
import { seedDemo } from '../src/seed/demo.js';
import { appendAuditEvent } from '../src/modules/audit/index.js';

let t: TestDatabase;
let a: string;
let b: string;

beforeAll(async () => {
  t = await createTestDatabase();
  const { data } = await seedDemo(t.db, undefined, t.vault);
  a = data.establishments[0]!.id;
  b = data.establishments[1]!.id;
  for (const establishmentId of [a, b]) {
    await t.db.withTenant(establishmentId, (tx) => appendAuditEvent(tx, { establishmentId, action: 'test.round_trips', outcome: 'allowed', actor: { kind: 'system', name: 'test' } }));
  }
});
afterAll(async () => {
  await t?.drop();
});

/** The queries pg sends while fn runs (each one a round trip). */
async function queriesDuring(fn: () => Promise<unknown>): Promise<string[]> {
  const sent: string[] = [];
  const original = pg.Client.prototype.query;
  pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
    const first = args[0] as string | { text?: string };
    sent.push(typeof first === 'string' ? first : (first.text ?? ''));
    return (original as (...a: unknown[]) => unknown).apply(this, args);
  } as typeof original;
  try {
    await fn();
  } finally {
    pg.Client.prototype.query = original;
  }
  return sent;
}

describe('app transactions', () => {
  it('cost BEGIN with the role and tenant in one round trip on PostgreSQL, then the statements, then COMMIT', async () => {
    const sent = await queriesDuring(() => t.db.withTenant(a, (tx) => sql`select 1`.execute(tx)));
    if (onPostgres()) {
      expect(sent).toHaveLength(3);
      expect(sent[0]).toMatch(/^begin; select set_config\('role', 'hygie_app', true\), set_config\('hygie\.establishment_id', '[0-9a-f-]{36}', true\)$/);
      expect(sent[2]).toBe('commit');
    } else {
      // PGlite runs in process: BEGIN, the settings, the statement, COMMIT.
      expect(sent).toHaveLength(4);
    }
  });

  it('still run as the application role walled to the tenant, roll back on error, and leave nothing set on the connection', async () => {
    const inside = await t.db.withTenant(a, async (tx) => {
      const { rows } = await sql<{ role: string; tenant: string; pid: number }>`
        select current_user as role, current_setting('hygie.establishment_id') as tenant, pg_backend_pid() as pid`.execute(tx);
      return rows[0]!;
    });
    expect(inside.role).toBe('hygie_app');
    expect(inside.tenant).toBe(a);

    await expect(
      t.db.withTenant(a, async (tx) => {
        await appendAuditEvent(tx, { establishmentId: a, action: 'test.rolled_back', outcome: 'allowed', actor: { kind: 'system', name: 'test' } });
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    const kept = await t.db.owner.selectFrom('audit_events').select('id').where('action', '=', 'test.rolled_back').execute();
    expect(kept).toHaveLength(0);

    // The pool hands back the connection just released: neither the role nor the tenant is left on it.
    const after = await sql<{ role: string; tenant: string | null; pid: number }>`
      select current_user as role, current_setting('hygie.establishment_id', true) as tenant, pg_backend_pid() as pid`.execute(t.db.owner);
    if (onPostgres()) expect(after.rows[0]!.pid).toBe(inside.pid);
    expect(after.rows[0]!.role).not.toBe('hygie_app');
    expect(after.rows[0]!.tenant ?? '').toBe('');
  });

  it('a transaction that runs nothing costs nothing on PostgreSQL, and a platform transaction sees no tenant', async () => {
    const sent = await queriesDuring(() => t.db.owner.transaction().execute(async () => undefined));
    if (onPostgres()) expect(sent).toHaveLength(0);
    const tenant = await t.db.withPlatform(async (tx) => (await sql<{ tenant: string }>`select current_setting('hygie.establishment_id') as tenant`.execute(tx)).rows[0]!.tenant);
    expect(tenant).toBe('');
  });
});

describe('prepared statements', () => {
  it('one statement repeated across tenants is prepared once per connection and still returns only each tenant’s rows', async () => {
    for (let i = 0; i < 12; i++) {
      const tenant = i % 2 === 0 ? a : b;
      const rows = await t.db.withTenant(tenant, (tx) => tx.selectFrom('audit_events').select('establishment_id').where('action', '=', 'test.round_trips').execute());
      expect(rows.map((r) => r.establishment_id)).toEqual([tenant]);
    }
    const none = await t.db.withPlatform((tx) => tx.selectFrom('audit_events').select('establishment_id').where('action', '=', 'test.round_trips').execute());
    expect(none).toHaveLength(0);
    if (onPostgres()) {
      const prepared = await t.db.withTenant(a, async (tx) => {
        const { rows } = await sql<{ statement: string }>`select statement from pg_prepared_statements`.execute(tx);
        return rows.map((r) => r.statement);
      });
      expect(prepared.some((s) => s.includes('"test.round_trips"') || s.includes('from "audit_events"'))).toBe(true);
    }
  });

  it.runIf(onPostgres())('a statement whose columns a migration changed fails once, then runs unnamed', async () => {
    await sql`create table round_trip_probe (id int primary key)`.execute(t.db.owner);
    await sql`insert into round_trip_probe values (1)`.execute(t.db.owner);
    const probe = () => sql<Record<string, unknown>>`select * from round_trip_probe where id >= ${0}`.execute(t.db.owner);
    for (let i = 0; i < 4; i++) expect((await probe()).rows).toEqual([{ id: 1 }]);
    await sql`alter table round_trip_probe add column label text not null default 'x'`.execute(t.db.owner);
    // Another instance's migration, as PostgreSQL reports it to a connection holding the old plan.
    const first = await probe().then(
      () => 'ran',
      (error: { code?: string }) => error.code,
    );
    expect(['ran', '0A000']).toContain(first);
    expect((await probe()).rows).toEqual([{ id: 1, label: 'x' }]);
    expect((await probe()).rows).toEqual([{ id: 1, label: 'x' }]);
  });
});

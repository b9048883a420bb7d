// The database layer's round trips on PostgreSQL, and that saving them keeps the walls: BEGIN and
// the role and tenant settings go in the round trip of the transaction's first statement, an
// autocommit statement takes the settings in its own round trip, statements the application
// repeats are prepared once per connection, and none of it lets a tenant or the application role
// outlive its transaction, or a statement run when its settings failed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import pg from 'pg';
import { createTestDatabase, onPostgres, testConfig, type TestDatabase } from './helpers/db.js';
import { openDatabase, withRawClient } from '../src/platform/db/database.js';
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

/**
 * The queries pg sends while fn runs, one per round trip: a statement sent with others ahead of it
 * in its round trip reads "begin + context + <statement>".
 */
async function queriesDuring(fn: () => Promise<unknown>): Promise<string[]> {
  const sent: string[] = [];
  const original = pg.Client.prototype.query;
  pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
    const first = args[0] as string | { text?: string; preludes?: ReadonlyArray<{ text: string }> };
    const text = typeof first === 'string' ? first : (first.text ?? '');
    const preludes = typeof first === 'string' ? [] : (first.preludes ?? []).map((p) => (p.text === 'begin' ? 'begin' : p.text.includes('set_config') ? 'context' : p.text));
    sent.push([...preludes, text].join(' + '));
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
  it('cost BEGIN with the role and tenant in the first statement’s round trip on PostgreSQL, then COMMIT', async () => {
    const sent = await queriesDuring(() => t.db.withTenant(a, async (tx) => {
      await sql`select ${1}::int as one`.execute(tx);
      await sql`select ${2}::int as two`.execute(tx);
    }));
    if (onPostgres()) {
      expect(sent).toEqual(['begin + context + select $1::int as one', 'select $1::int as two', 'commit']);
    } else {
      // PGlite runs in process: BEGIN, the settings, the statements, COMMIT, one call each.
      expect(sent).toHaveLength(5);
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

describe('autocommit app statements', () => {
  const probe = (exec: Parameters<Parameters<TestDatabase['db']['withTenantAutocommit']>[1]>[0]) =>
    sql<{ role: string; tenant: string; txid: string }>`
      select current_user as role, current_setting('hygie.establishment_id') as tenant, txid_current()::text as txid where ${1}::int = 1`.execute(exec).then((r) => r.rows[0]!);

  it('run each statement as the application role walled to the tenant, in its own transaction and one round trip on PostgreSQL', async () => {
    let seen: Array<Awaited<ReturnType<typeof probe>>> = [];
    const sent = await queriesDuring(() =>
      t.db.withTenantAutocommit(a, async (exec) => {
        seen = [await probe(exec), await probe(exec)];
      }),
    );
    for (const row of seen) expect(row).toMatchObject({ role: 'hygie_app', tenant: a });
    // Two transactions, not one.
    expect(seen[0]!.txid).not.toBe(seen[1]!.txid);
    if (onPostgres()) expect(sent.map((q) => q.split(' + ').slice(0, -1).join(' + '))).toEqual(['context', 'context']);
    const platform = await t.db.withPlatformAutocommit((exec) => probe(exec));
    expect(platform).toMatchObject({ role: 'hygie_app', tenant: '' });
    // A statement without parameters (the simple protocol) is walled the same way.
    const bare = await t.db.withTenantAutocommit(a, async (exec) => (await sql<{ role: string; tenant: string }>`select current_user as role, current_setting('hygie.establishment_id') as tenant`.execute(exec)).rows[0]);
    expect(bare).toEqual({ role: 'hygie_app', tenant: a });
    // The raw client (owner maintenance) is refused there: its queries would run unwalled.
    if (onPostgres()) await expect(t.db.withTenantAutocommit(a, (exec) => withRawClient(exec, (client) => client.query('select 1')))).rejects.toThrow(/not available in autocommit/);
  });

  it('see only the tenant’s rows, and write only its rows', async () => {
    const rows = await t.db.withTenantAutocommit(a, (exec) => exec.selectFrom('audit_events').select('establishment_id').where('action', '=', 'test.round_trips').execute());
    expect(rows.map((r) => r.establishment_id)).toEqual([a]);
    const none = await t.db.withPlatformAutocommit((exec) => exec.selectFrom('audit_events').select('establishment_id').where('action', '=', 'test.round_trips').execute());
    expect(none).toHaveLength(0);
    await expect(
      t.db.withTenantAutocommit(a, (exec) => appendAuditEvent(exec, { establishmentId: b, action: 'test.cross_tenant', outcome: 'allowed', actor: { kind: 'system', name: 'test' } })),
    ).rejects.toThrow(/row-level security/);
    expect(await t.db.owner.selectFrom('audit_events').select('id').where('action', '=', 'test.cross_tenant').execute()).toHaveLength(0);
  });

  it('keep a statement that succeeded when a later one fails, and a transaction opened on the connection is atomic and walled', async () => {
    const event = (action: string) => ({ establishmentId: a, action, outcome: 'allowed' as const, actor: { kind: 'system' as const, name: 'test' } });
    await expect(
      t.db.withTenantAutocommit(a, async (exec) => {
        await appendAuditEvent(exec, event('test.autocommit_kept'));
        await sql`select 1 / ${0}::int`.execute(exec);
      }),
    ).rejects.toThrow(/division by zero/);
    expect(await t.db.owner.selectFrom('audit_events').select('id').where('action', '=', 'test.autocommit_kept').execute()).toHaveLength(1);

    let inside: Awaited<ReturnType<typeof probe>> | undefined;
    await expect(
      t.db.withTenantAutocommit(a, (exec) =>
        exec.transaction().execute(async (tx) => {
          inside = await probe(tx);
          await appendAuditEvent(tx, event('test.autocommit_rolled_back'));
          throw new Error('abort');
        }),
      ),
    ).rejects.toThrow('abort');
    expect(inside).toMatchObject({ role: 'hygie_app', tenant: a });
    expect(await t.db.owner.selectFrom('audit_events').select('id').where('action', '=', 'test.autocommit_rolled_back').execute()).toHaveLength(0);

    // Nothing is left on the connection for the next user.
    const after = await sql<{ role: string; tenant: string | null }>`select current_user as role, current_setting('hygie.establishment_id', true) as tenant`.execute(t.db.owner);
    expect(after.rows[0]!.role).not.toBe('hygie_app');
    expect(after.rows[0]!.tenant ?? '').toBe('');
  });

  it('never run a statement whose settings failed (it would run as the connection’s owner)', async () => {
    // An application role that does not exist: setting it fails, in the statement's round trip.
    const broken = await openDatabase(testConfig({ HYGIE_DB_APP_ROLE: 'hygie_no_such_role' }), t.url ? { databaseUrl: t.url, poolSize: 2 } : { databaseUrl: undefined, pgliteDataDir: 'memory://' });
    try {
      if (!t.url) await sql`create table audit_probe (id int)`.execute(broken.owner);
      const target = t.url ? 'audit_events' : 'audit_probe';
      await expect(
        broken.withPlatformAutocommit(async (exec) => {
          if (t.url) await appendAuditEvent(exec, { establishmentId: null, action: 'test.unwalled', outcome: 'allowed', actor: { kind: 'system', name: 'test' } });
          else await sql`insert into audit_probe values (${1})`.execute(exec);
        }),
      ).rejects.toThrow(/hygie_no_such_role/);
      await expect(broken.withTenant(a, (tx) => sql`select ${1}::int`.execute(tx))).rejects.toThrow(/hygie_no_such_role/);
      const rows = t.url
        ? await broken.owner.selectFrom('audit_events').select('id').where('action', '=', 'test.unwalled').execute()
        : (await sql`select * from audit_probe`.execute(broken.owner)).rows;
      expect(rows, target).toHaveLength(0);
    } finally {
      await broken.close();
    }
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

  it.runIf(onPostgres())('a statement whose first prepared run failed to parse is parsed again on the same connection', async () => {
    // One connection, so that every try lands on it; the statement is named from its third use.
    const one = await openDatabase(testConfig(), { databaseUrl: t.url, poolSize: 1 });
    try {
      const read = () => one.withTenant(a, (tx) => sql<{ id: number }>`select id from round_trip_later where id >= ${0}`.execute(tx));
      for (let i = 0; i < 4; i++) await expect(read()).rejects.toThrow(/round_trip_later/);
      await sql`create table round_trip_later (id int primary key)`.execute(t.db.owner);
      await sql`grant select on round_trip_later to hygie_app`.execute(t.db.owner);
      await sql`insert into round_trip_later values (7)`.execute(t.db.owner);
      // Before the fix, the failed Parse had been taken for a success: "prepared statement … does not exist".
      expect((await read()).rows).toEqual([{ id: 7 }]);
      expect((await read()).rows).toEqual([{ id: 7 }]);
    } finally {
      await one.close();
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

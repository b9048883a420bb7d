// The file read's path to the database, on both engines: four round trips (BEGIN with the tenant
// set-up, the access facts, the audit append folded with the select, COMMIT), hot statements
// prepared, and what must not move with it: the tenant wall under prepared plans, the audit event
// in the very statement that reads the row, refusals that never reach the select.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { sql } from 'kysely';
import { createAccessModule, type AccessGate } from '../src/modules/access/index.js';
import { passThroughMeter } from '../src/modules/guard/index.js';
import { createRecordsModule, type RecordsModule } from '../src/modules/records/index.js';
import { openDatabase, PREPARED, type Database } from '../src/platform/db/database.js';
import { DomainError } from '../src/platform/http/errors.js';
import { seedDemo } from '../src/seed/demo.js';
import type { DemoData } from '../src/seed/demo-data.js';
import { filesOf, staffActor } from './helpers/actors.js';
import { createTestDatabase, onPostgres, type TestDatabase } from './helpers/db.js';

let t: TestDatabase;
let data: DemoData;
let gate: AccessGate;
let records: RecordsModule;
let A: string;
let B: string;

beforeAll(async () => {
  t = await createTestDatabase();
  data = (await seedDemo(t.db, undefined, t.vault)).data;
  gate = createAccessModule({ db: t.db, meter: passThroughMeter }).gate;
  records = createRecordsModule({ db: t.db, vault: t.vault, gate });
  A = data.establishments[0]!.id;
  B = data.establishments[1]!.id;
});
afterAll(async () => t?.drop());

interface Sent {
  text: string;
  name: string | undefined;
  /** Statements sent ahead of this one in its round trip (BEGIN, the role and tenant settings). */
  preludes: string[];
}

/** Every round trip the pg clients make while fn runs (texts and prepared-statement names). */
async function statementsOf(fn: () => Promise<unknown>): Promise<Sent[]> {
  const sent: Sent[] = [];
  const original = pg.Client.prototype.query as (...args: unknown[]) => unknown;
  pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
    const q = args[0];
    if (typeof q === 'string') sent.push({ text: q, name: undefined, preludes: [] });
    else if (typeof q === 'object' && q !== null) {
      const { text, name, preludes } = q as { text?: string; name?: string; preludes?: ReadonlyArray<{ text: string }> };
      sent.push({ text: String(text), name, preludes: (preludes ?? []).map((p) => p.text) });
    }
    return original.apply(this, args);
  } as typeof pg.Client.prototype.query;
  try {
    await fn();
  } finally {
    pg.Client.prototype.query = original as typeof pg.Client.prototype.query;
  }
  return sent;
}

async function auditEventsOf(patientId: string) {
  return t.db.owner
    .selectFrom('audit_events')
    .select(['action', 'outcome', 'actor_role', 'categories'])
    .where('establishment_id', '=', A)
    .where(sql<boolean>`patient_ids @> array[${patientId}]::uuid[]`)
    .orderBy('at')
    .execute();
}

describe('a file read on the wire', () => {
  // On the wire only: PGlite runs in process, where a round trip costs no network and statements are not named.
  it.skipIf(!onPostgres())('is three round trips: BEGIN with the tenant and the access facts, the audit append with the select, COMMIT', async () => {
    const secretary = staffActor(data, A, 'secretary');
    const file = filesOf(data, A)[0]!;
    await records.patients.read(secretary, A, file.id, null); // data key unwrapped and cached
    const before = (await auditEventsOf(file.id)).length;
    const sent = await statementsOf(() => records.patients.read(secretary, A, file.id, '192.0.2.7'));
    expect(sent).toHaveLength(3);
    expect(sent[0]!.preludes).toEqual(['begin', "select set_config('role', $1, true), set_config('hygie.establishment_id', $2, true)"]);
    expect(sent[0]!.text).toContain('from memberships');
    expect(sent[1]!.text).toMatch(/with hygie_audit as \(insert into audit_events .*\) select .* from patients where id = any/s);
    expect(sent[2]!.text).toBe('commit');
    // The two parameterised statements run prepared: parsed and planned once per connection.
    expect(sent[0]!.name).toMatch(/^hygie_/);
    expect(sent[1]!.name).toMatch(/^hygie_/);
    const events = await auditEventsOf(file.id);
    expect(events).toHaveLength(before + 1);
    expect(events.at(-1)).toMatchObject({ action: 'patient.read', outcome: 'allowed', actor_role: 'secretary' });
  });

  it('a refused read never reaches the select, and the refusal is recorded', async () => {
    const admin = staffActor(data, A, 'admin');
    const file = filesOf(data, A)[1]!;
    let built = false;
    let opened = false;
    const read = gate.read(
      { actor: admin, establishmentId: A, action: 'read', resourceKind: 'patient', categories: ['identity'], patientIds: [file.id] },
      (ids) => {
        built = true;
        return sql<{ id: string }>`select id from patients where id = any(${ids}::uuid[])`;
      },
      async (_tx, rows) => {
        opened = true;
        return rows;
      },
    );
    await expect(read).rejects.toMatchObject({ code: 'not_found' });
    expect([built, opened]).toEqual([false, false]);
    expect((await auditEventsOf(file.id)).at(-1)).toMatchObject({ outcome: 'denied', actor_role: 'admin' });
  });

  it('if the audit append fails, no row is read: the read fails and open never runs', async () => {
    const secretary = staffActor(data, A, 'secretary');
    const file = filesOf(data, A)[2]!;
    let opened = false;
    await sql`revoke insert on audit_events from ${sql.id(t.config.dbAppRole)}`.execute(t.db.owner);
    try {
      await expect(
        gate.read(
          { actor: secretary, establishmentId: A, action: 'read', resourceKind: 'patient', categories: ['identity'], patientIds: [file.id] },
          (ids) => sql<{ id: string }>`select id from patients where id = any(${ids}::uuid[])`,
          async (_tx, rows) => {
            opened = true;
            return rows;
          },
        ),
      ).rejects.toThrow(/permission denied/);
    } finally {
      await sql`grant insert on audit_events to ${sql.id(t.config.dbAppRole)}`.execute(t.db.owner);
    }
    expect(opened).toBe(false);
  });

  it('another establishment’s file is not found through the folded read either', async () => {
    const secretary = staffActor(data, A, 'secretary');
    const other = filesOf(data, B)[0]!;
    await expect(records.patients.read(secretary, A, other.id, null)).rejects.toBeInstanceOf(DomainError);
  });
});

describe('prepared statements and the walls', () => {
  // One connection, so that the second run reuses the plan the first one prepared.
  let one: Database;
  beforeAll(async () => {
    one = onPostgres() ? await openDatabase(t.config, { databaseUrl: t.url, poolSize: 1 }) : t.db;
  });
  afterAll(async () => {
    if (one !== t.db) await one.close();
  });

  const both = () => [filesOf(data, A)[3]!.id, filesOf(data, B)[3]!.id];
  const select = (ids: string[]) => sql<{ id: string }>`${PREPARED}select id from patients where id = any(${ids}::uuid[]) order by id`;

  it('the same prepared select sees only the tenant of each transaction', async () => {
    const [a, b] = both();
    const inA = await one.withTenant(A, async (tx) => {
      const { rows } = await select([a!, b!]).execute(tx);
      const prepared = await sql<{ n: number }>`select count(*)::int as n from pg_prepared_statements where name like 'hygie_%'`.execute(tx);
      return { ids: rows.map((r) => r.id), prepared: prepared.rows[0]!.n };
    });
    expect(inA.ids).toEqual([a]);
    if (onPostgres()) expect(inA.prepared).toBeGreaterThan(0);
    const inB = await one.withTenant(B, async (tx) => (await select([a!, b!]).execute(tx)).rows.map((r) => r.id));
    expect(inB).toEqual([b]);
    const inPlatform = await one.withPlatform(async (tx) => (await select([a!, b!]).execute(tx)).rows.map((r) => r.id));
    expect(inPlatform).toEqual([]);
  });

  it('a plan prepared by the owner (who bypasses row security) is not reused by the application role', async () => {
    const [a, b] = both();
    const asOwner = (await select([a!, b!]).execute(one.owner)).rows.map((r) => r.id);
    expect(asOwner.sort()).toEqual([a, b].sort());
    const inA = await one.withTenant(A, async (tx) => (await select([a!, b!]).execute(tx)).rows.map((r) => r.id));
    expect(inA).toEqual([a]);
  });

  it('a transaction that runs nothing, or throws before its first statement, ends cleanly', async () => {
    expect(await one.owner.transaction().execute(async () => 1)).toBe(1);
    await expect(
      one.owner.transaction().execute(async () => {
        throw new Error('before any statement');
      }),
    ).rejects.toThrow('before any statement');
    const r = await one.withTenant(A, async (tx) => (await sql<{ e: string }>`select current_setting('hygie.establishment_id') as e`.execute(tx)).rows[0]!.e);
    expect(r).toBe(A);
    // The settings are transaction-local: nothing carries over to the next transaction.
    const after = await one.owner.transaction().execute(async (tx) => (await sql<{ e: string | null }>`select current_setting('hygie.establishment_id', true) as e`.execute(tx)).rows[0]!.e);
    expect(after ?? '').toBe('');
  });
});

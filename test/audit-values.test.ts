// The sealer and `verify` read each event as one JSON text (store.ts, EVENT_JSON) rather than as
// seventeen columns. These tests pin down that the hashed form did not change with it: events with
// awkward values (quotes, backslashes, new lines, non-ASCII, commas and NULLs in arrays, empty
// arrays) hash exactly as the column-by-column read hashed them, so logs sealed before still
// verify; and that a change of one character in such a value is still caught. PGlite and PostgreSQL.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { insertEstablishments, sampleEvent, testKeyring, withTampering } from './helpers/audit.js';
import { appendAuditEvents, sealPending, verifyAuditLog, type AuditEventInput, type AuditKeyring } from '../src/modules/audit/index.js';
import { chainHash, GENESIS_HASH, type ChainableEvent } from '../src/modules/audit/canonical.js';

const awkward = ['a "quoted" reason', 'back\\slash and\nnew line\tand tab', 'accentué – 患者 – 🩺', '{not,an,array}', 'NULL', ''];

describe('audit values in the hashed form', () => {
  let t: TestDatabase;
  let keyring: AuditKeyring;
  let a: string;
  let ids: string[];

  beforeAll(async () => {
    t = await createTestDatabase();
    keyring = testKeyring();
    [a] = (await insertEstablishments(t.db, 1)) as [string];
    const events = awkward.map((text, i) =>
      sampleEvent(a, i, {
        purpose: text,
        reason: i % 2 === 0 ? text : null,
        resourceKind: i === 0 ? null : text,
        resourceIds: i % 3 === 0 ? [] : ['0190a000-0000-7000-8000-00000000000a', '0190a000-0000-7000-8000-00000000000b'],
        // Categories are free text to the database: quoted and comma-holding elements included.
        categories: (i === 1 ? ['identity', 'a,b', '"x"', 'NULL'] : i === 2 ? [] : ['clinical']) as AuditEventInput['categories'],
        ip: i === 3 ? '2001:db8::1' : '192.0.2.1',
      }),
    );
    ids = await t.db.withTenant(a, (tx) => appendAuditEvents(tx, events));
    // And a NULL element, which only the owner can write (the application's API has none).
    await withNullCategory(t, ids[4]!);
    await sealPending(t.db, keyring);
  });
  afterAll(async () => t?.drop());

  async function withNullCategory(db: TestDatabase, id: string): Promise<void> {
    await db.db.owner.transaction().execute(async (tx) => {
      await sql`alter table audit_events disable trigger audit_events_no_update_delete`.execute(tx);
      await sql`update audit_events set categories = array['identity', null] where id = ${id}`.execute(tx);
      await sql`alter table audit_events enable trigger audit_events_no_update_delete`.execute(tx);
    });
  }

  it('hashes every event exactly as a column-by-column read of the row does', async () => {
    // The reference: each column read on its own, arrays decoded by the driver's array parser, as
    // the sealer did before the JSON read.
    const { rows } = await sql<{ seq: string; hash: Buffer } & Record<string, string | string[] | null>>`
      select c.seq::text as seq, c.hash, e.id, e.establishment_id, to_char(e.at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') as at,
             e.actor_kind, e.actor_user_id, e.actor_role, e.session_id, e.api_key_id, e.ip::text as ip, e.action,
             e.resource_kind, e.resource_ids::text[] as resource_ids, e.patient_ids::text[] as patient_ids,
             e.categories::text[] as categories, e.purpose, e.reason, e.outcome
      from audit_chain c join audit_events e on e.id = c.event_id
      where c.stream = ${a} order by c.seq`.execute(t.db.owner);
    expect(rows.map((r) => r['id'])).toEqual(ids);
    let prev = GENESIS_HASH;
    for (const r of rows) {
      const e = {
        id: r['id'],
        establishmentId: r['establishment_id'],
        at: r['at'],
        actorKind: r['actor_kind'],
        actorUserId: r['actor_user_id'],
        actorRole: r['actor_role'],
        sessionId: r['session_id'],
        apiKeyId: r['api_key_id'],
        ip: r['ip'],
        action: r['action'],
        resourceKind: r['resource_kind'],
        resourceIds: r['resource_ids'],
        patientIds: r['patient_ids'],
        categories: r['categories'],
        purpose: r['purpose'],
        reason: r['reason'],
        outcome: r['outcome'],
      } as ChainableEvent;
      const hash = chainHash(prev, BigInt(r.seq), e);
      expect(hash.toString('hex')).toBe(r.hash.toString('hex'));
      prev = hash;
    }
    expect(rows.find((r) => r['id'] === ids[4])!['categories']).toEqual(['identity', null]);
    expect((await verifyAuditLog(t.db.owner, { keyring, establishmentId: a })).ok).toBe(true);
  });

  it('catches a one-character change inside an awkward value or an array', async () => {
    const cases = [
      sql`update audit_events set reason = 'a \\"quoted\\" reason' where id = ${ids[0]}`,
      sql`update audit_events set categories = array['identity', 'a', 'b', '"x"', 'NULL'] where id = ${ids[1]}`,
      sql`update audit_events set categories = array['identity', 'NULL'] where id = ${ids[4]}`,
      sql`update audit_events set categories = array['identity'] where id = ${ids[4]}`,
      sql`update audit_events set resource_ids = '{}' where id = ${ids[5]}`,
      sql`update audit_events set purpose = 'accentue – 患者 – 🩺' where id = ${ids[2]}`,
    ];
    for (const statement of cases) {
      const report = await withTampering(t.db, async (tx) => {
        await statement.execute(tx);
        return verifyAuditLog(tx, { keyring, establishmentId: a });
      });
      expect(report.ok).toBe(false);
      expect(report.streams[0]!.problem).toMatchObject({ kind: 'altered' });
    }
  });
});

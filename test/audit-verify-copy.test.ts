// `audit verify` reads the chain on PostgreSQL through a binary COPY decoded in Node (chain-copy.ts)
// and elsewhere through paged JSON rows: both must reach the same verdict on events with awkward
// values, and the binary decoding must be exact (no event handed back to the reference path) for
// every value the application writes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { insertEstablishments, testKeyring, withTampering } from './helpers/audit.js';
import { sealPending, verifyAuditLog, type AuditKeyring } from '../src/modules/audit/index.js';

describe('audit verify: binary read and reference read agree', () => {
  let t: TestDatabase;
  let keyring: AuditKeyring;
  let a: string;
  const ids = [
    '01900000-0000-7000-8000-00000000000a',
    '01900000-0000-7000-8000-00000000000b',
    '01900000-0000-7000-8000-00000000000c',
    '01900000-0000-7000-8000-00000000000d',
  ];
  const odd = 'Zoë "quoted" \\ back\u0001slash\ttab\nline \u2028 😀 — فارسی';

  beforeAll(async () => {
    t = await createTestDatabase();
    keyring = testKeyring();
    [a] = (await insertEstablishments(t.db, 1)) as [string];
    // Written as the owner, to reach values the application's types would not produce: text
    // with quotes, controls and astral characters, IPv6, empty and long id lists, an instant
    // before 2000 with microseconds, and NULL where a column allows it.
    await sql`
      insert into audit_events (id, establishment_id, at, actor_kind, actor_user_id, actor_role, session_id, api_key_id, ip, action,
                                resource_kind, resource_ids, patient_ids, categories, purpose, reason, outcome)
      values
        (${ids[0]}, ${a}, '1999-12-31 23:59:59.999999+00', 'user', gen_random_uuid(), ${odd}, gen_random_uuid(), null, '2001:db8::1',
         ${odd}, ${odd}, '{}', array[gen_random_uuid(), gen_random_uuid(), gen_random_uuid()], array[${odd}, ''], ${odd}, ${odd}, 'allowed'),
        (${ids[1]}, ${a}, '2026-03-01 12:00:00.000001+00', 'api_key', null, null, null, gen_random_uuid(), '10.0.0.0/8',
         'x', null, array[gen_random_uuid()], '{}', '{}', null, null, 'denied'),
        (${ids[2]}, ${a}, '2026-03-01 12:00:00.5+01', 'system', null, null, null, null, null,
         'y', 'patient', '{}', '{}', array['identity'], 'care', '', 'contained'),
        (${ids[3]}, ${a}, now(), 'anonymous', null, null, null, null, '192.0.2.1',
         'z', null, '{}', '{}', array['clinical', null], null, null, 'failed')`.execute(t.db.owner);
    await sealPending(t.db, keyring);
  });
  afterAll(async () => t?.drop());

  it('verifies awkward events both ways; only a NULL inside an array needs the reference path', async () => {
    const binary = await verifyAuditLog(t.db.owner, { keyring, establishmentId: a });
    const reference = await verifyAuditLog(t.db.owner, { keyring, establishmentId: a, binaryCopy: false });
    expect(binary.ok).toBe(true);
    expect(reference.ok).toBe(true);
    expect(binary.streams[0]).toMatchObject({ events: 4, problem: null, rereads: t.db.kind === 'postgres' ? 1 : 0 });
    expect(reference.streams[0]).toMatchObject({ events: 4, problem: null, rereads: 0 });
  });

  it('catches an edit of an awkward value, or of the event the binary read cannot decode, either way', async () => {
    for (const [id, change] of [
      [ids[0]!, sql`reason = ${`${odd} `}`],
      [ids[0]!, sql`at = at + interval '1 microsecond'`],
      [ids[1]!, sql`ip = '10.0.0.0/9'`],
      [ids[2]!, sql`reason = null`],
      [ids[3]!, sql`categories = array['clinical', null, null]`],
    ] as const) {
      for (const binaryCopy of [true, false]) {
        const report = await withTampering(t.db, async (tx) => {
          await sql`update audit_events set ${change} where id = ${id}`.execute(tx);
          return verifyAuditLog(tx, { keyring, establishmentId: a, binaryCopy });
        });
        expect(report.ok).toBe(false);
        expect(report.streams[0]!.problem).toMatchObject({ kind: 'altered', eventId: id, seq: String(ids.indexOf(id) + 1) });
      }
    }
    expect((await verifyAuditLog(t.db.owner, { keyring, establishmentId: a })).ok).toBe(true);
  });
});

// The tamper-evident audit trail (ASVS 16.4.2): the chain, the seals, and `verify` catching each
// kind of tampering by a database owner, on PGlite and PostgreSQL.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { appendMany, insertEstablishments, rehashChain, sampleEvent, testKeyring, withTampering } from './helpers/audit.js';
import {
  appendAuditEvent,
  derivedKeyring,
  exportCheckpoints,
  PLATFORM_STREAM,
  sealPending,
  verifyAuditLog,
  type AuditKeyring,
} from '../src/modules/audit/index.js';
import { CANONICAL_COLUMNS, checkpointMessage } from '../src/modules/audit/canonical.js';

describe('audit chain and seals', () => {
  let t: TestDatabase;
  let keyring: AuditKeyring;
  let a: string;
  let b: string;
  let idsA: string[];
  let idsB: string[];
  let idsP: string[];

  beforeAll(async () => {
    t = await createTestDatabase();
    keyring = testKeyring();
    [a, b] = (await insertEstablishments(t.db)) as [string, string];
    // Two sealing rounds, the second in batches of 4: each batch signs the heads it advanced,
    // so A has checkpoints at seq 6, 10 and 12.
    idsA = await appendMany(t.db, a, 6, 3);
    await sealPending(t.db, keyring);
    idsA.push(...(await appendMany(t.db, a, 6, 4)));
    idsB = await appendMany(t.db, b, 5, 5);
    idsP = await appendMany(t.db, null, 3, 1);
    await sealPending(t.db, keyring, { batchSize: 4 });
  });
  afterAll(async () => t?.drop());

  it('gives each stream its own gapless sequence in append order, and a signed checkpoint at its head', async () => {
    const chain = await t.db.owner
      .selectFrom('audit_chain')
      .select(['stream', 'event_id', sql<string>`seq::text`.as('seq')])
      .orderBy('stream')
      .orderBy(sql`audit_chain.seq`)
      .execute();
    const of = (s: string) => chain.filter((c) => c.stream === s);
    expect(of(a).map((c) => c.event_id)).toEqual(idsA);
    expect(of(a).map((c) => c.seq)).toEqual(idsA.map((_, i) => String(i + 1)));
    expect(of(b).map((c) => c.event_id)).toEqual(idsB);
    expect(of(PLATFORM_STREAM).map((c) => c.event_id)).toEqual(idsP);
    const checkpoints = await t.db.owner.selectFrom('audit_checkpoints').select(['stream', sql<string>`seq::text`.as('seq')]).orderBy(sql`audit_checkpoints.seq`).execute();
    expect(checkpoints.filter((c) => c.stream === a).map((c) => c.seq)).toEqual(['6', '10', '12']);
    expect(checkpoints.filter((c) => c.stream === b).map((c) => c.seq)).toEqual(['2', '5']);
    expect(checkpoints.filter((c) => c.stream === PLATFORM_STREAM).map((c) => c.seq)).toEqual(['1', '3']);
    expect(await t.db.owner.selectFrom('audit_pending').select('event_id').execute()).toEqual([]);
  });

  it('verifies an intact log', async () => {
    const report = await verifyAuditLog(t.db.owner, { keyring });
    expect(report.ok).toBe(true);
    const byStream = Object.fromEntries(report.streams.map((s) => [s.stream, s]));
    expect(byStream[a]).toMatchObject({ events: 12, sealedUpTo: '12', problem: null });
    expect(byStream[b]).toMatchObject({ events: 5, sealedUpTo: '5', problem: null });
    expect(byStream[PLATFORM_STREAM]).toMatchObject({ events: 3, sealedUpTo: '3', problem: null });
    const onlyB = await verifyAuditLog(t.db.owner, { keyring, establishmentId: b });
    expect(onlyB.streams.map((s) => s.stream)).toEqual([b]);
  });

  it('covers every column of audit_events in the hashed form', async () => {
    const { rows } = await sql<{ column_name: string }>`
      select column_name from information_schema.columns where table_schema = 'public' and table_name = 'audit_events'`.execute(t.db.owner);
    expect(rows.map((r) => r.column_name).sort()).toEqual([...CANONICAL_COLUMNS].sort());
  });

  it('the application role can neither alter audit rows nor reach the chain, the seals, the keys or the queue', async () => {
    const refused = async (statement: ReturnType<typeof sql>) => {
      await expect(t.db.withTenant(a, (tx) => statement.execute(tx))).rejects.toThrow(/permission denied/);
    };
    await refused(sql`update audit_events set action = 'x'`);
    await refused(sql`delete from audit_events`);
    await refused(sql`truncate audit_events`);
    for (const table of ['audit_chain', 'audit_checkpoints', 'audit_signing_keys', 'audit_pending']) {
      await refused(sql`select * from ${sql.table(table)}`);
      await refused(sql`delete from ${sql.table(table)}`);
    }
    await refused(sql`insert into audit_pending (event_id, stream) values (${idsA[0]}, ${a})`);
    // Even the owner meets the append-only triggers.
    await expect(sql`update audit_chain set hash = hash`.execute(t.db.owner)).rejects.toThrow(/append-only/);
    await expect(sql`delete from audit_checkpoints`.execute(t.db.owner)).rejects.toThrow(/append-only/);
    await expect(sql`update audit_signing_keys set stream = stream`.execute(t.db.owner)).rejects.toThrow(/append-only/);
    await expect(sql`truncate audit_events cascade`.execute(t.db.owner)).rejects.toThrow(/append-only/);
    // Appending still works for the application, and queues the event for sealing.
    const id = await t.db.withTenant(a, (tx) => appendAuditEvent(tx, sampleEvent(a, 0)));
    const queued = await t.db.owner.selectFrom('audit_pending').select(['event_id', 'stream']).execute();
    expect(queued).toEqual([{ event_id: id, stream: a }]);
    await sealPending(t.db, keyring);
    idsA.push(id);
  });

  const firstProblem = async (tx: Parameters<typeof verifyAuditLog>[0], options: Parameters<typeof verifyAuditLog>[1] = {}) => {
    const report = await verifyAuditLog(tx, { keyring, ...options });
    expect(report.ok).toBe(false);
    const bad = report.streams.filter((s) => s.problem);
    expect(bad).toHaveLength(1);
    return { stream: bad[0]!.stream, ...bad[0]!.problem! };
  };

  it('catches an edited event and names it', async () => {
    const p = await withTampering(t.db, async (tx) => {
      await sql`update audit_events set action = 'agenda.list' where id = ${idsA[4]}`.execute(tx);
      return firstProblem(tx);
    });
    expect(p).toMatchObject({ stream: a, kind: 'altered', eventId: idsA[4], seq: '5' });
    expect(p.message).toContain(idsA[4]);
  });

  it('catches a patient id removed from an event, or the event moved to another establishment', async () => {
    const p1 = await withTampering(t.db, async (tx) => {
      await sql`update audit_events set ip = '198.51.100.7' where id = ${idsB[2]}`.execute(tx);
      return firstProblem(tx);
    });
    expect(p1).toMatchObject({ stream: b, kind: 'altered', eventId: idsB[2] });
    const p2 = await withTampering(t.db, async (tx) => {
      await sql`update audit_events set establishment_id = ${b} where id = ${idsA[0]}`.execute(tx);
      return firstProblem(tx);
    });
    expect(p2).toMatchObject({ stream: a, kind: 'altered', eventId: idsA[0], seq: '1' });
  });

  it('catches a deleted event (event and chain link), naming the event after the hole', async () => {
    const p = await withTampering(t.db, async (tx) => {
      await sql`delete from audit_chain where event_id = ${idsA[7]}`.execute(tx);
      await sql`delete from audit_events where id = ${idsA[7]}`.execute(tx);
      return firstProblem(tx);
    });
    expect(p).toMatchObject({ stream: a, kind: 'gap', eventId: idsA[8], seq: '9' });
    expect(p.message).toMatch(/1 event\(s\) before it were deleted/);
  });

  it('catches a deleted event whose chain link was kept', async () => {
    const p = await withTampering(t.db, async (tx) => {
      await sql`alter table audit_chain drop constraint audit_chain_event_id_fkey`.execute(tx);
      await sql`delete from audit_events where id = ${idsB[1]}`.execute(tx);
      return firstProblem(tx);
    });
    expect(p).toMatchObject({ stream: b, kind: 'deleted', eventId: idsB[1], seq: '2' });
  });

  it('reads in pages without hiding a hole at a page boundary', async () => {
    expect((await verifyAuditLog(t.db.owner, { keyring, pageSize: 4 })).ok).toBe(true);
    const p = await withTampering(t.db, async (tx) => {
      await sql`delete from audit_chain where event_id = ${idsA[7]}`.execute(tx);
      await sql`delete from audit_events where id = ${idsA[7]}`.execute(tx);
      return firstProblem(tx, { pageSize: 4 });
    });
    expect(p).toMatchObject({ stream: a, kind: 'gap', eventId: idsA[8], seq: '9' });
  });

  it('catches reordered events', async () => {
    const p = await withTampering(t.db, async (tx) => {
      await sql`update audit_chain set seq = 1000 where event_id = ${idsA[2]}`.execute(tx);
      await sql`update audit_chain set seq = 3 where event_id = ${idsA[3]}`.execute(tx);
      await sql`update audit_chain set seq = 4 where event_id = ${idsA[2]}`.execute(tx);
      return firstProblem(tx);
    });
    expect(p).toMatchObject({ stream: a, kind: 'altered', eventId: idsA[3], seq: '3' });
  });

  it('catches an event inserted into the chain, even with every later hash recomputed, and names it', async () => {
    const forged = '01900000-0000-7000-8000-0000000000aa';
    const p = await withTampering(t.db, async (tx) => {
      await sql`
        insert into audit_events (id, establishment_id, at, actor_kind, action, outcome)
        values (${forged}, ${a}, now() - interval '1 day', 'system', 'patient.read', 'allowed')`.execute(tx);
      // Make room at seq 7 (the first event after A's first checkpoint) and relink.
      await sql`update audit_chain set seq = seq + 1000000 where stream = ${a} and seq >= 7`.execute(tx);
      await sql`update audit_chain set seq = seq - 999999 where stream = ${a} and seq > 1000000`.execute(tx);
      await sql`insert into audit_chain (stream, seq, event_id, hash) values (${a}, 7, ${forged}, ${Buffer.alloc(32)})`.execute(tx);
      await rehashChain(tx, a);
      return firstProblem(tx);
    });
    expect(p).toMatchObject({ stream: a, kind: 'checkpoint_mismatch', eventId: forged, seq: '7' });
  });

  it('catches an edit hidden by recomputing every later hash, through the signed checkpoint', async () => {
    const p = await withTampering(t.db, async (tx) => {
      await sql`update audit_events set reason = 'covering tracks' where id = ${idsA[9]}`.execute(tx);
      await rehashChain(tx, a);
      return firstProblem(tx);
    });
    // The edit (seq 10) sits between the checkpoints at seq 6 and 10: the first event of that range is named.
    expect(p).toMatchObject({ stream: a, kind: 'checkpoint_mismatch', eventId: idsA[6], seq: '7' });
  });

  it('catches an event slipped into the table behind the sealer (no chain link, not queued)', async () => {
    const forged = '01900000-0000-7000-8000-0000000000bb';
    const p = await withTampering(t.db, async (tx) => {
      await sql`alter table audit_events disable trigger audit_events_enqueue`.execute(tx);
      await sql`
        insert into audit_events (id, establishment_id, actor_kind, action, outcome)
        values (${forged}, ${b}, 'system', 'patient.read', 'allowed')`.execute(tx);
      return firstProblem(tx);
    });
    expect(p).toMatchObject({ stream: b, kind: 'orphan', eventId: forged });
  });

  it('catches the newest events deleted with their links, while their checkpoint remains', async () => {
    const p = await withTampering(t.db, async (tx) => {
      for (const id of idsB.slice(3)) {
        await sql`delete from audit_chain where event_id = ${id}`.execute(tx);
        await sql`delete from audit_events where id = ${id}`.execute(tx);
      }
      return firstProblem(tx);
    });
    expect(p).toMatchObject({ stream: b, kind: 'truncated', seq: '4' });
  });

  it('catches a truncation that also removed the checkpoints, given the checkpoints kept outside the database', async () => {
    const outside = await exportCheckpoints(t.db.owner);
    const { withoutFile, withFile } = await withTampering(t.db, async (tx) => {
      for (const id of idsB.slice(3)) {
        await sql`delete from audit_chain where event_id = ${id}`.execute(tx);
        await sql`delete from audit_events where id = ${id}`.execute(tx);
      }
      await sql`delete from audit_checkpoints where stream = ${b}`.execute(tx);
      return {
        withoutFile: await verifyAuditLog(tx, { keyring }),
        withFile: await firstProblem(tx, { externalCheckpoints: outside }),
      };
    });
    // What verify cannot prove without an outside copy: the tail is gone with its seals.
    expect(withoutFile.ok).toBe(true);
    expect(withFile).toMatchObject({ stream: b, kind: 'truncated', seq: '4' });
  });

  it('catches checkpoints re-signed with a key of the attacker, and a forged signature', async () => {
    const attacker = derivedKeyring(Buffer.alloc(32, 7)).signingKey(a);
    const p1 = await withTampering(t.db, async (tx) => {
      await sql`update audit_events set action = 'agenda.list' where id = ${idsA[1]}`.execute(tx);
      await rehashChain(tx, a);
      await sql`delete from audit_checkpoints where stream = ${a}`.execute(tx);
      await sql`delete from audit_signing_keys where stream = ${a}`.execute(tx);
      // Re-seal the head with the attacker's own key, registered as the stream's key.
      const head = (await sql<{ seq: string; hash: Buffer }>`select seq::text as seq, hash from audit_chain where stream = ${a} order by seq desc limit 1`.execute(tx)).rows[0]!;
      const body = { stream: a, seq: BigInt(head.seq), hash: head.hash, signedAt: new Date(), keyId: attacker.keyId };
      await sql`insert into audit_signing_keys (key_id, stream, public_key) values (${attacker.keyId}, ${a}, ${attacker.publicKey})`.execute(tx);
      await sql`
        insert into audit_checkpoints (id, stream, seq, hash, signed_at, key_id, signature)
        values (gen_random_uuid(), ${a}, ${head.seq}, ${head.hash}, ${body.signedAt}, ${attacker.keyId}, ${attacker.sign(checkpointMessage(body))})`.execute(tx);
      return {
        trustingLocalKey: await firstProblem(tx),
        trustingOnlyTheDatabase: await verifyAuditLog(tx, {}),
      };
    });
    expect(p1.trustingLocalKey).toMatchObject({ stream: a, kind: 'untrusted_key' });
    // Without the keyring or an outside copy of the checkpoints, the rewrite is not detectable.
    expect(p1.trustingOnlyTheDatabase.ok).toBe(true);

    const p2 = await withTampering(t.db, async (tx) => {
      await sql`update audit_checkpoints set hash = ${Buffer.alloc(32, 1)} where stream = ${b}`.execute(tx);
      return firstProblem(tx);
    });
    expect(p2).toMatchObject({ stream: b, kind: 'bad_signature', seq: '2' });
  });

  it('the tampering above was rolled back: the log verifies again', async () => {
    expect((await verifyAuditLog(t.db.owner, { keyring })).ok).toBe(true);
  });
});

// Double booking is impossible by construction: many clients race through the HTTP API for few
// slots; exactly one wins each slot, the others get 409 slot_taken, and no slot holds two active
// appointments. 200 clients for 50 slots on PostgreSQL; 40 for 10 on the embedded database,
// whose single connection serialises transactions anyway.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { createTestDatabase, onPostgres, type TestDatabase } from './helpers/db.js';
import { as, buildSchedulingTestApp } from './helpers/scheduling-auth.js';
import { createMiniAgenda, type MiniAgenda } from './helpers/scheduling-fixture.js';

const CLIENTS = onPostgres() ? 200 : 40;
const SLOTS = onPostgres() ? 50 : 10;

let t: TestDatabase;
let app: FastifyInstance;
let base: string;
let fixture: MiniAgenda;

beforeAll(async () => {
  t = await createTestDatabase();
  fixture = await createMiniAgenda(t.db, t.vault, { slots: SLOTS, patients: CLIENTS });
  app = await buildSchedulingTestApp(t);
  base = await app.listen({ port: 0, host: '127.0.0.1' });
});
afterAll(async () => {
  await app?.close();
  await t?.drop();
});

describe(`${CLIENTS} clients race for ${SLOTS} slots over HTTP`, () => {
  it('exactly one booking per slot succeeds, every other client gets 409 slot_taken', async () => {
    const results = await Promise.all(
      fixture.patientUserIds.map(async (userId, i) => {
        const res = await fetch(`${base}/api/v1/appointments`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...as(userId) },
          body: JSON.stringify({ practitionerId: fixture.practitionerId, motiveId: fixture.motiveId, start: fixture.slots[i % SLOTS] }),
        });
        return { userId, status: res.status, body: (await res.json()) as { code?: string; start?: string } };
      }),
    );
    const won = results.filter((r) => r.status === 201);
    const lost = results.filter((r) => r.status !== 201);
    expect(won).toHaveLength(SLOTS);
    expect(lost).toHaveLength(CLIENTS - SLOTS);
    expect(lost.every((r) => r.status === 409 && r.body.code === 'slot_taken')).toBe(true);
    expect(new Set(won.map((r) => Date.parse(r.body.start!))).size).toBe(SLOTS);

    const { rows } = await sql<{ n: string }>`
      select count(*) as n from appointments a join appointments b
        on a.practitioner_id = b.practitioner_id and a.id < b.id and a.period && b.period
      where a.status <> 'cancelled' and b.status <> 'cancelled'`.execute(t.db.owner);
    expect(Number(rows[0]!.n)).toBe(0);
    const active = await t.db.owner.selectFrom('appointments').select('id').where('practitioner_id', '=', fixture.practitionerId).where('status', '=', 'confirmed').execute();
    expect(active).toHaveLength(SLOTS);

    // Each winner's first booking here created its patient file and the file's data key in the
    // booking's statement; the losers (refused by the check or by the exclusion constraint)
    // left neither behind.
    const files = await t.db.owner
      .selectFrom('patients')
      .select(['id', 'account_user_id'])
      .where('establishment_id', '=', fixture.establishmentId)
      .where('account_user_id', 'is not', null)
      .execute();
    expect(new Set(files.map((f) => f.account_user_id))).toEqual(new Set(won.map((r) => r.userId)));
    const keys = await t.db.owner.selectFrom('vault_data_keys').select('owner_id').where('establishment_id', '=', fixture.establishmentId).where('owner_kind', '=', 'patient').execute();
    expect(new Set(keys.map((k) => k.owner_id))).toEqual(new Set(files.map((f) => f.id)));
  });

  it('the same Idempotency-Key sent by concurrent retries yields one appointment and one answer', async () => {
    // Free one slot by cancelling its appointment, then let ten retries of one request race for it.
    const victim = await t.db.owner.selectFrom('appointments').select(['id', 'starts_at']).where('practitioner_id', '=', fixture.practitionerId).limit(1).executeTakeFirstOrThrow();
    await t.db.withTenant(fixture.establishmentId, (tx) => tx.updateTable('appointments').set({ status: 'cancelled' }).where('id', '=', victim.id).execute());
    const userId = fixture.patientUserIds[0]!;
    const results = await Promise.all(
      Array.from({ length: 10 }, async () => {
        const res = await fetch(`${base}/api/v1/appointments`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'idempotency-key': 'retry-race-1', ...as(userId) },
          body: JSON.stringify({ practitionerId: fixture.practitionerId, motiveId: fixture.motiveId, start: victim.starts_at.toISOString() }),
        });
        return { status: res.status, body: (await res.json()) as { id?: string } };
      }),
    );
    expect(results.map((r) => r.status)).toEqual(Array(10).fill(201));
    expect(new Set(results.map((r) => r.body.id)).size).toBe(1);
    const rows = await t.db.owner.selectFrom('appointments').select('id').where('idempotency_key', '=', 'retry-race-1').execute();
    expect(rows).toHaveLength(1);
  });

  it('the database itself refuses an overlapping active appointment, whatever the application does', async () => {
    const taken = await t.db.owner.selectFrom('appointments').selectAll().where('practitioner_id', '=', fixture.practitionerId).where('status', '=', 'confirmed').limit(1).executeTakeFirstOrThrow();
    const shifted = new Date(taken.starts_at.getTime() + 5 * 60_000);
    await expect(
      t.db.withTenant(fixture.establishmentId, (tx) =>
        tx
          .insertInto('appointments')
          .values({
            ...taken,
            id: crypto.randomUUID(),
            starts_at: shifted,
            ends_at: new Date(shifted.getTime() + 10 * 60_000),
            period: `[${shifted.toISOString()},${new Date(shifted.getTime() + 10 * 60_000).toISOString()})`,
            idempotency_key: null,
            idempotency_response: null,
          })
          .execute(),
      ),
    ).rejects.toThrow(/appointments_no_overlap/);
  });
});

// What a booking costs the database, pinned so that a change that adds round trips shows: a
// returning patient's booking is two round trips, one read and one write, each its own
// transaction with the role and tenant in its round trip; an account's first booking at an
// establishment costs the same two: its account's profile comes with the read, the file and its
// data key go in the write.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import { createTestDatabase, onPostgres, type TestDatabase } from './helpers/db.js';
import { as, buildSchedulingTestApp } from './helpers/scheduling-auth.js';
import { createMiniAgenda, type MiniAgenda } from './helpers/scheduling-fixture.js';

let t: TestDatabase;
let app: FastifyInstance;
let fixture: MiniAgenda;

beforeAll(async () => {
  t = await createTestDatabase();
  fixture = await createMiniAgenda(t.db, t.vault, { slots: 6, patients: 3, slotMinutes: 30 });
  app = await buildSchedulingTestApp(t);
});
afterAll(async () => {
  await app?.close();
  await t?.drop();
});

async function book(userId: string, slot: number): Promise<{ status: number; queries: string[] }> {
  const queries: string[] = [];
  const original = pg.Client.prototype.query;
  pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
    const first = args[0] as string | { text?: string };
    const preludes = typeof first === 'string' ? [] : ((first as { preludes?: ReadonlyArray<{ text: string }> }).preludes ?? []).map((p) => p.text);
    queries.push([...preludes, typeof first === 'string' ? first : (first.text ?? '')].join(' + ').replace(/\s+/g, ' ').trim());
    return (original as (...a: unknown[]) => unknown).apply(this, args);
  } as typeof original;
  try {
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/appointments',
      headers: { 'content-type': 'application/json', ...as(userId) },
      payload: { practitionerId: fixture.practitionerId, motiveId: fixture.motiveId, start: fixture.slots[slot] },
    });
    return { status: res.statusCode, queries };
  } finally {
    pg.Client.prototype.query = original;
  }
}

// The tests' stand-in authenticator reads the user and the memberships: two statements outside the booking.
const AUTH = 2;
// PGlite (in process) sends BEGIN, the role and tenant settings and COMMIT apart around each
// statement; on PostgreSQL the settings go in the statement's round trip.

describe('booking cost in statements', () => {
  it('first booking of an account: its file and its data key go in the booking write, with no transaction', async () => {
    // Warm the motive cache and the keyspace's active key version (read by the first booking, then
    // remembered) with other accounts' first bookings.
    expect((await book(fixture.patientUserIds[0]!, 0)).status).toBe(201);
    expect((await book(fixture.patientUserIds[1]!, 1)).status).toBe(201);
    const { status, queries } = await book(fixture.patientUserIds[2]!, 2);
    expect(status).toBe(201);
    const booking = queries.slice(AUTH);
    // As a returning patient's, each its own transaction with the settings ahead: the context,
    // which brings the account's sealed profile and its data key since there is no file; then one
    // write holding the file's data key (with its key version's check), the file, the
    // appointment, notices, audit.
    const statements = onPostgres() ? booking : booking.filter((q) => q !== 'begin' && q !== 'commit' && !q.startsWith('select set_config'));
    expect(statements).toHaveLength(2);
    if (onPostgres()) {
      for (const q of booking) expect(q).toMatch(/^select set_config\('role', \$1, true\), set_config\('hygie\.establishment_id', \$2, true\) \+ /);
    } else {
      expect(booking).toHaveLength(8);
    }
    expect(statements[0]).toMatch(/from users u where u\.id = /);
    expect(statements[0]).toMatch(/from "vault_platform_data_keys" d/);
    expect(booking.some((q) => /^begin \+/.test(q))).toBe(false);
    const writes = statements.filter((q) => /insert into/.test(q));
    expect(writes).toHaveLength(1);
    expect(writes[0]).toMatch(/^(select set_config.* \+ )?with "keyed" as \(\s*insert into "vault_data_keys" .* "filed" as \(insert into "patients"/);
    expect(booking.filter((q) => /from "patients" where "account_user_id"/.test(q))).toHaveLength(0);
  });

  it('returning patient: one read and one write, each its own transaction with the settings in its round trip', async () => {
    const { status, queries } = await book(fixture.patientUserIds[2]!, 4);
    expect(status).toBe(201);
    const booking = queries.slice(AUTH);
    if (onPostgres()) {
      expect(booking).toHaveLength(2);
      for (const q of booking) expect(q).toMatch(/^select set_config\('role', \$1, true\), set_config\('hygie\.establishment_id', \$2, true\) \+ /);
      expect(booking[1]).toMatch(/with "booked" as \(insert into "appointments"/);
    } else {
      // PGlite: each statement in BEGIN, the settings, itself, COMMIT.
      expect(booking).toHaveLength(8);
    }
    expect(booking.some((q) => q === 'commit')).toBe(!onPostgres());
  });
});

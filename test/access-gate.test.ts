// The gate against a real database (PGlite, or PostgreSQL with DATABASE_URL): the policy table
// with real memberships, care relationships and break-the-glass; refusals answered as not_found
// and recorded; audit in the same transaction; the guard's verdicts; lists filtered before they leave.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { sql } from 'kysely';
import { createAccessModule, addCareRelationship, type AccessGate } from '../src/modules/access/index.js';
import { passThroughMeter, type AccessMeter, type Exposure } from '../src/modules/guard/index.js';
import { DomainError } from '../src/platform/http/errors.js';
import type { Actor } from '../src/platform/http/context.js';
import type { DataCategory } from '../src/modules/audit/index.js';
import { seedDemo } from '../src/seed/demo.js';
import type { DemoData } from '../src/seed/demo-data.js';
import { buildApp } from '../src/app.js';
import { createLogger } from '../src/platform/log.js';
import { createTestDatabase, testConfig, type TestDatabase } from './helpers/db.js';
import { filesOf, patientActor, staffActor } from './helpers/actors.js';

let t: TestDatabase;
let data: DemoData;
let gate: AccessGate;
let A: string;
let B: string;

beforeAll(async () => {
  t = await createTestDatabase();
  data = (await seedDemo(t.db, undefined, t.vault)).data;
  gate = createAccessModule({ db: t.db, meter: passThroughMeter }).gate;
  A = data.establishments[0]!.id;
  B = data.establishments[1]!.id;
});
afterAll(async () => t?.drop());

async function read(actor: Actor, establishmentId: string, patientIds: string[], categories: DataCategory[], g: AccessGate = gate) {
  return g.access({ actor, establishmentId, action: 'read', resourceKind: 'patient', categories, patientIds, ip: '192.0.2.10' }, async (tx, allowed) =>
    tx.selectFrom('patients').select(['id', 'establishment_id']).where('id', 'in', allowed).execute(),
  );
}

async function refusal(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'allowed';
  } catch (error) {
    if (error instanceof DomainError) return error.code;
    throw error;
  }
}

async function eventsFor(establishmentId: string, patientId: string) {
  return t.db.owner
    .selectFrom('audit_events')
    .select(['action', 'outcome', 'actor_user_id', 'actor_role', 'categories', 'purpose', 'reason', 'ip', 'patient_ids'])
    .where('establishment_id', '=', establishmentId)
    .where(sql<boolean>`patient_ids @> array[${patientId}]::uuid[]`)
    .orderBy('at')
    .execute();
}

describe('staff roles', () => {
  it('a secretary reads the administrative file, and the read is audited with actor, role, categories and ip', async () => {
    const secretary = staffActor(data, A, 'secretary');
    const patient = filesOf(data, A)[0]!;
    const r = await read(secretary, A, [patient.id], ['identity', 'contact']);
    expect(r.value).toEqual([{ id: patient.id, establishment_id: A }]);
    const events = await eventsFor(A, patient.id);
    expect(events.at(-1)).toMatchObject({
      action: 'patient.read',
      outcome: 'allowed',
      actor_user_id: (secretary as { userId: string }).userId,
      actor_role: 'secretary',
      categories: ['identity', 'contact'],
      ip: '192.0.2.10',
    });
  });

  it('a secretary is refused clinical content (not_found), and the refusal is recorded', async () => {
    const patient = filesOf(data, A)[1]!;
    expect(await refusal(read(staffActor(data, A, 'secretary'), A, [patient.id], ['clinical']))).toBe('not_found');
    expect((await eventsFor(A, patient.id)).at(-1)).toMatchObject({ outcome: 'denied', actor_role: 'secretary' });
  });

  it('an admin and a security officer read no patient data at all', async () => {
    const patient = filesOf(data, A)[2]!;
    expect(await refusal(read(staffActor(data, A, 'admin'), A, [patient.id], ['identity']))).toBe('not_found');
    expect(await refusal(read(staffActor(data, A, 'security_officer'), A, [patient.id], ['identity']))).toBe('not_found');
  });

  it('a practitioner reads clinical content only in a care relationship, and a revocation applies at once', async () => {
    const practitioner = staffActor(data, A, 'practitioner') as Extract<Actor, { kind: 'user' }>;
    const patient = filesOf(data, A)[3]!;
    expect(await refusal(read(practitioner, A, [patient.id], ['clinical']))).toBe('not_found');
    const relationshipId = await t.db.withTenant(A, (tx) =>
      addCareRelationship(tx, { establishmentId: A, patientId: patient.id, practitionerUserId: practitioner.userId, kind: 'care_team' }),
    );
    expect((await read(practitioner, A, [patient.id], ['clinical'])).allowed).toEqual([patient.id]);
    await t.db.withTenant(A, (tx) => tx.updateTable('care_relationships').set({ revoked_at: new Date() }).where('id', '=', relationshipId).execute());
    expect(await refusal(read(practitioner, A, [patient.id], ['clinical']))).toBe('not_found');
  });

  it('a removed membership stops working on the next request', async () => {
    const secretary = staffActor(data, A, 'secretary') as Extract<Actor, { kind: 'user' }>;
    const patient = filesOf(data, A)[4]!;
    expect((await read(secretary, A, [patient.id], ['identity'])).allowed).toEqual([patient.id]);
    const membership = await t.db.owner.selectFrom('memberships').selectAll().where('user_id', '=', secretary.userId).where('establishment_id', '=', A).executeTakeFirstOrThrow();
    await t.db.withTenant(A, (tx) => tx.deleteFrom('memberships').where('id', '=', membership.id).execute());
    try {
      // The session still carries the old membership; the gate does not trust it.
      expect(await refusal(read(secretary, A, [patient.id], ['identity']))).toBe('not_found');
    } finally {
      await t.db.withTenant(A, (tx) => tx.insertInto('memberships').values(membership).execute());
    }
  });

  it("decides on the role read now, never on the session's copy of it, either way", async () => {
    const practitioner = staffActor(data, A, 'practitioner', 2) as Extract<Actor, { kind: 'user' }>;
    const patient = filesOf(data, A)[6]!;
    await t.db.withTenant(A, (tx) =>
      addCareRelationship(tx, { establishmentId: A, patientId: patient.id, practitionerUserId: practitioner.userId, kind: 'care_team' }),
    );
    // A session that says secretary (or nothing) for a practitioner in a care relationship: the
    // gate still finds the relationship.
    const staleSecretary: Actor = { ...practitioner, memberships: practitioner.memberships.map((m) => ({ ...m, role: 'secretary' as const })) };
    expect((await read(staleSecretary, A, [patient.id], ['clinical'])).allowed).toEqual([patient.id]);
    expect((await read({ ...practitioner, memberships: [] }, A, [patient.id], ['clinical'])).allowed).toEqual([patient.id]);
    // A practitioner made secretary since the session began: no clinical content, whatever the session says.
    const membership = await t.db.owner.selectFrom('memberships').selectAll().where('user_id', '=', practitioner.userId).where('establishment_id', '=', A).executeTakeFirstOrThrow();
    await t.db.withTenant(A, (tx) => tx.updateTable('memberships').set({ role: 'secretary' }).where('id', '=', membership.id).execute());
    try {
      expect(await refusal(read(practitioner, A, [patient.id], ['clinical']))).toBe('not_found');
      expect((await read(practitioner, A, [patient.id], ['identity'])).allowed).toEqual([patient.id]);
    } finally {
      await t.db.withTenant(A, (tx) => tx.updateTable('memberships').set({ role: membership.role }).where('id', '=', membership.id).execute());
    }
  });

  it('a batch returns only the allowed patients and records the others as denied', async () => {
    const secretary = staffActor(data, A, 'secretary');
    const ours = filesOf(data, A).slice(5, 7).map((f) => f.id);
    const theirs = filesOf(data, B)[0]!.id;
    const random = randomUUID();
    const r = await read(secretary, A, [...ours, theirs, random], ['identity']);
    expect(r.value.map((p) => p.id).sort()).toEqual([...ours].sort());
    expect(r.denied.sort()).toEqual([theirs, random].sort());
  });
});

describe('patients', () => {
  it('a patient reads their own file and never another patient, whatever id they send', async () => {
    const own = data.patientFiles.find((f) => f.establishmentId === A && f.accountIndex !== null)!;
    const patient = patientActor(data, own.accountIndex!);
    expect((await read(patient, A, [own.id], ['identity', 'clinical'])).allowed).toEqual([own.id]);
    const neighbour = filesOf(data, A).find((f) => f.accountIndex !== own.accountIndex)!;
    expect(await refusal(read(patient, A, [neighbour.id], ['identity']))).toBe('not_found');
    expect(await refusal(read(patient, A, [randomUUID()], ['identity']))).toBe('not_found');
    const elsewhere = filesOf(data, B).find((f) => f.accountIndex !== own.accountIndex)!;
    expect(await refusal(read(patient, B, [elsewhere.id], ['identity']))).toBe('not_found');
  });
});

describe('API keys', () => {
  it('work only within their scopes and their establishment', async () => {
    const key: Actor = { kind: 'api_key', apiKeyId: randomUUID(), establishmentId: A, scopes: ['agenda:read'] };
    const patient = filesOf(data, A)[8]!;
    expect((await read(key, A, [patient.id], ['administrative'])).allowed).toEqual([patient.id]);
    expect(await refusal(read(key, A, [patient.id], ['insurance']))).toBe('not_found');
    expect(await refusal(read(key, A, [patient.id], ['clinical']))).toBe('not_found');
    expect(await refusal(read(key, B, [filesOf(data, B)[0]!.id], ['administrative']))).toBe('not_found');
  });
});

describe('tenant walls at the gate: any two establishments, any role, any patient', () => {
  it('never returns a patient of another establishment', async () => {
    const roles = ['practitioner', 'secretary', 'admin', 'security_officer'] as const;
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 2 }),
        fc.integer({ min: 1, max: 2 }),
        fc.constantFrom(...roles),
        fc.nat(),
        fc.subarray(['identity', 'contact', 'insurance', 'administrative', 'clinical'] as DataCategory[], { minLength: 1 }),
        async (i, shift, role, pick, categories) => {
          const here = data.establishments[i]!.id;
          const there = data.establishments[(i + shift) % 3]!.id;
          const foreign = filesOf(data, there).filter((f) => !filesOf(data, here).some((g) => g.id === f.id));
          const target = foreign[pick % foreign.length]!;
          const outcome = await refusal(read(staffActor(data, here, role), here, [target.id], categories));
          expect(outcome).toBe('not_found');
        },
      ),
      { numRuns: 25 },
    );
  });
});

describe('break-the-glass over HTTP', () => {
  const practitionerOf = (secondFactorAt: Date | null) => staffActor(data, A, 'practitioner', 1, secondFactorAt);

  async function appAs(actor: Actor | undefined) {
    return buildApp({
      config: testConfig(),
      db: t.db,
      vault: t.vault,
      logger: createLogger('silent'),
      authenticate: async (request) => {
        if (!actor) throw new DomainError('unauthenticated');
        request.actor = actor;
      },
    });
  }

  it('needs a fresh second factor, a practitioner, a real patient here and a 20-character reason', async () => {
    const patient = filesOf(data, A)[10]!;
    const url = `/api/v1/establishments/${A}/patients/${patient.id}/break-glass`;
    const reason = 'Patient inconscient aux urgences, antécédents nécessaires';

    const stale = await appAs(practitionerOf(new Date(Date.now() - 10 * 60_000)));
    expect((await stale.inject({ method: 'POST', url, payload: { reason } })).json().code).toBe('step_up_required');

    const fresh = await appAs(practitionerOf(new Date()));
    const short = await fresh.inject({ method: 'POST', url, payload: { reason: 'urgence' } });
    expect(short.statusCode).toBe(400);
    const unknown = await fresh.inject({ method: 'POST', url: `/api/v1/establishments/${A}/patients/${randomUUID()}/break-glass`, payload: { reason } });
    expect(unknown.statusCode).toBe(404);
    const foreign = await fresh.inject({ method: 'POST', url: `/api/v1/establishments/${A}/patients/${filesOf(data, B)[0]!.id}/break-glass`, payload: { reason } });
    expect(foreign.statusCode).toBe(404);

    const secretary = await appAs(staffActor(data, A, 'secretary', 0, new Date()));
    expect((await secretary.inject({ method: 'POST', url, payload: { reason } })).statusCode).toBe(403);

    const anonymous = await appAs(undefined);
    expect((await anonymous.inject({ method: 'POST', url, payload: { reason } })).statusCode).toBe(401);

    await Promise.all([stale.close(), fresh.close(), secretary.close(), anonymous.close()]);
  });

  it('opens four hours of clinical access, alerts the security officers, and the reason reaches the audit trail', async () => {
    const actor = practitionerOf(new Date()) as Extract<Actor, { kind: 'user' }>;
    const patient = filesOf(data, A)[11]!;
    expect(await refusal(read(actor, A, [patient.id], ['clinical']))).toBe('not_found');
    const app = await appAs(actor);
    const reason = 'Patient inconscient aux urgences, antécédents nécessaires';
    const res = await app.inject({ method: 'POST', url: `/api/v1/establishments/${A}/patients/${patient.id}/break-glass`, payload: { reason } });
    expect(res.statusCode).toBe(201);
    const expiresIn = new Date(res.json().expiresAt).getTime() - Date.now();
    expect(expiresIn).toBeGreaterThan(3.9 * 3600_000);
    expect(expiresIn).toBeLessThanOrEqual(4 * 3600_000);
    await app.close();

    const alerts = await t.db.owner.selectFrom('security_alerts').selectAll().where('establishment_id', '=', A).where('kind', '=', 'break_glass').execute();
    expect(alerts.some((a) => a.actor_user_id === actor.userId && a.patient_ids.includes(patient.id))).toBe(true);

    expect((await read(actor, A, [patient.id], ['clinical'])).allowed).toEqual([patient.id]);
    const last = (await eventsFor(A, patient.id)).at(-1)!;
    expect(last).toMatchObject({ outcome: 'allowed', purpose: 'break_glass', reason, actor_user_id: actor.userId });

    // The grant is for that patient only, and it ends.
    expect(await refusal(read(actor, A, [filesOf(data, A)[12]!.id], ['clinical']))).toBe('not_found');
    await t.db.withTenant(A, (tx) =>
      sql`update break_glass_grants set expires_at = now() - interval '1 second' where user_id = ${actor.userId}`.execute(tx),
    ).catch(async () => {
      // The app role may not update grants; expire it as the owner.
      await sql`update break_glass_grants set expires_at = now() - interval '1 second' where user_id = ${actor.userId}`.execute(t.db.owner);
    });
    expect(await refusal(read(actor, A, [patient.id], ['clinical']))).toBe('not_found');
  });
});

describe('audit and guard inside the transaction', () => {
  it('if the audit append fails, the access fails and its writes are undone', async () => {
    const secretary = staffActor(data, A, 'secretary');
    const patient = filesOf(data, A)[13]!;
    await sql`revoke insert on audit_events from ${sql.id(t.config.dbAppRole)}`.execute(t.db.owner);
    try {
      await expect(
        gate.access({ actor: secretary, establishmentId: A, action: 'write', resourceKind: 'patient', categories: ['contact'], patientIds: [patient.id] }, async (tx, allowed) =>
          tx.updateTable('patients').set({ erased_at: new Date() }).where('id', 'in', allowed).execute(),
        ),
      ).rejects.toThrow(/permission denied/);
    } finally {
      await sql`grant insert on audit_events to ${sql.id(t.config.dbAppRole)}`.execute(t.db.owner);
    }
    const row = await t.db.owner.selectFrom('patients').select('erased_at').where('id', '=', patient.id).executeTakeFirstOrThrow();
    expect(row.erased_at).toBeNull();
  });

  it('the meter sees every exposure, explained or not, and its refusals stop the data and are recorded', async () => {
    const seen: Exposure[] = [];
    let verdict: 'allow' | 'step_up' | 'contain' = 'allow';
    const meter: AccessMeter = {
      async meter(_tx, exposure) {
        seen.push(exposure);
        if (verdict === 'step_up') throw new DomainError('step_up_required');
        if (verdict === 'contain') throw new DomainError('account_contained');
      },
    };
    const metered = createAccessModule({ db: t.db, meter }).gate;
    const practitioner = staffActor(data, A, 'practitioner', 2) as Extract<Actor, { kind: 'user' }>;
    const [p1, p2] = filesOf(data, A).slice(14, 16);
    await t.db.withTenant(A, (tx) => addCareRelationship(tx, { establishmentId: A, patientId: p1!.id, practitionerUserId: practitioner.userId, kind: 'grant' }));
    await read(practitioner, A, [p1!.id, p2!.id], ['identity'], metered);
    expect(seen[0]).toMatchObject({ role: 'practitioner', patientIds: [p1!.id, p2!.id], explainedPatientIds: [p1!.id] });

    let called = false;
    verdict = 'contain';
    await expect(
      metered.access({ actor: practitioner, establishmentId: A, action: 'read', resourceKind: 'patient', categories: ['identity'], patientIds: [p2!.id] }, async () => {
        called = true;
      }),
    ).rejects.toMatchObject({ code: 'account_contained' });
    expect(called).toBe(false);
    expect((await eventsFor(A, p2!.id)).at(-1)).toMatchObject({ outcome: 'contained' });
    verdict = 'step_up';
    expect(await refusal(read(practitioner, A, [p2!.id], ['identity'], metered))).toBe('step_up_required');
    expect((await eventsFor(A, p2!.id)).at(-1)).toMatchObject({ outcome: 'denied' });
  });

  it('lists drop rows of patients the actor may not see and audit those shown, before returning', async () => {
    const all = filesOf(data, A).slice(0, 30).map((f) => f.id);
    const fetch = (tx: Parameters<Parameters<AccessGate['list']>[1]>[0]) =>
      tx.selectFrom('patients').select(['id']).where('id', 'in', all).execute();
    const secretary = staffActor(data, A, 'secretary');
    const rows = await gate.list({ actor: secretary, establishmentId: A, action: 'read', resourceKind: 'agenda', categories: ['administrative', 'identity'] }, fetch, (r) => r.id);
    expect(rows.map((r) => r.id).sort()).toEqual([...all].sort());
    const event = await t.db.owner
      .selectFrom('audit_events')
      .select(['patient_ids'])
      .where('action', '=', 'agenda.read')
      .where('actor_user_id', '=', (secretary as { userId: string }).userId)
      .orderBy('at', 'desc')
      .executeTakeFirstOrThrow();
    expect([...event.patient_ids].sort()).toEqual([...all].sort());
    const admin = await gate.list({ actor: staffActor(data, A, 'admin'), establishmentId: A, action: 'read', resourceKind: 'agenda', categories: ['administrative'] }, fetch, (r) => r.id);
    expect(admin).toEqual([]);
  });
});

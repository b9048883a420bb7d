// Patients read who accessed their data (GET /api/v1/me/access-log): across establishments, for
// their own patient files only, newest first, without their own actions (ASVS 8.2.2, 16.3.x).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { v7 as uuidv7 } from 'uuid';
import type { FastifyInstance } from 'fastify';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { insertEstablishments, patientActor, testAuthenticator } from './helpers/audit.js';
import { appendAuditEvent, createAccessLogService, type AuditEventInput } from '../src/modules/audit/index.js';
import { createAuditStore } from '../src/modules/audit/store.js';
import { buildApp } from '../src/app.js';
import { createLogger } from '../src/platform/log.js';
import type { Actor } from '../src/platform/http/context.js';
import type { Database } from '../src/platform/db/database.js';
import { insertPatientFile as insertRecordsFile } from '../src/modules/records/index.js';
import { createEnvKeyProvider, createVault } from '../src/modules/vault/index.js';
import { randomBytes } from 'node:crypto';
import { insertAccounts } from './helpers/accounts.js';
import { accountDisplayNames } from '../src/modules/identity/index.js';

async function insertUser(db: Database, firstName: string, lastName: string): Promise<string> {
  const id = uuidv7();
  await insertAccounts(db, vault, [{ id, email: `${id}@example.test`, firstName, lastName }]);
  return id;
}

// Patient files are encrypted (records); this test reads none of their fields back.
const vault = createVault({ provider: createEnvKeyProvider([randomBytes(32)]) });

async function insertPatientFile(db: Database, establishmentId: string, accountUserId: string | null): Promise<string> {
  return db.withTenant(establishmentId, (tx) =>
    insertRecordsFile(tx, vault, { establishmentId, accountUserId, file: { birthName: 'MARTIN', firstNames: 'Anne', sex: 'F', birthDate: '1980-01-02' } }),
  );
}

function staff(userId: string, establishmentId: string, role: 'practitioner' | 'secretary'): Actor {
  return { kind: 'user', userId, sessionId: uuidv7(), memberships: [{ establishmentId, role }], secondFactorAt: null };
}

async function record(db: Database, event: AuditEventInput): Promise<string> {
  return event.establishmentId === null
    ? db.withPlatform((tx) => appendAuditEvent(tx, event))
    : db.withTenant(event.establishmentId, (tx) => appendAuditEvent(tx, event));
}

describe('patients access log', () => {
  let t: TestDatabase;
  let a: string;
  let b: string;
  let c: string;
  let p1: string; // patient account with files in A and B
  let p2: string; // patient account with a file in A
  let p1InA: string;
  let p1InB: string;
  let p2InA: string;
  let drHouse: string;
  let secretary: string;
  let service: ReturnType<typeof createAccessLogService>;

  beforeAll(async () => {
    t = await createTestDatabase();
    [a, b, c] = (await insertEstablishments(t.db, 3)) as [string, string, string];
    p1 = await insertUser(t.db, 'Anne', 'Martin');
    p2 = await insertUser(t.db, 'Paul', 'Durand');
    drHouse = await insertUser(t.db, 'Gregory', 'House');
    secretary = await insertUser(t.db, 'Lisa', 'Cuddy');
    p1InA = await insertPatientFile(t.db, a, p1);
    p1InB = await insertPatientFile(t.db, b, p1);
    p2InA = await insertPatientFile(t.db, a, p2);
    service = createAccessLogService({ db: t.db, store: createAuditStore(), actorNames: (tx, ids) => accountDisplayNames(tx, vault, ids) });

    const base = { resourceKind: 'patient', outcome: 'allowed' as const };
    await record(t.db, { ...base, establishmentId: a, actor: staff(drHouse, a, 'practitioner'), actorRole: 'practitioner', action: 'entries.read', patientIds: [p1InA], categories: ['clinical'] });
    await record(t.db, { ...base, establishmentId: a, actor: staff(drHouse, a, 'practitioner'), actorRole: 'practitioner', action: 'entries.read', patientIds: [p2InA], categories: ['clinical'] });
    await record(t.db, { ...base, establishmentId: a, actor: patientActor(p1), action: 'patient.read', patientIds: [p1InA], categories: ['identity'] });
    await record(t.db, { ...base, establishmentId: a, actor: staff(drHouse, a, 'practitioner'), actorRole: 'practitioner', action: 'entries.read', patientIds: [p1InA], categories: ['clinical'], outcome: 'denied' });
    await record(t.db, { ...base, establishmentId: a, actor: staff(secretary, a, 'secretary'), actorRole: 'secretary', action: 'agenda.list', patientIds: [p1InA, p2InA], categories: ['identity'] });
    await record(t.db, {
      ...base,
      establishmentId: b,
      actor: staff(drHouse, b, 'practitioner'),
      actorRole: 'practitioner',
      action: 'break_glass.read',
      patientIds: [p1InB],
      categories: ['clinical', 'genetic'],
      purpose: 'break_glass',
      reason: 'Patient unconscious in the emergency room, history needed',
    });
    await record(t.db, { ...base, establishmentId: null, actor: { kind: 'system', name: 'reminders' }, action: 'reminder.sent', patientIds: [p1InA] });
  });
  afterAll(async () => t?.drop());

  it('lists, newest first, who accessed my files in every establishment, with names, roles and the break-glass reason', async () => {
    const { items, nextCursor } = await service.listAccessLogForPatientAccount(p1, { limit: 50 });
    expect(nextCursor).toBeNull();
    expect(items.map((i) => [i.actor.name, i.actor.role, i.establishment, i.action])).toEqual([
      ['Hygie (traitement automatique)', 'system', null, 'reminder.sent'],
      ['Gregory House', 'practitioner', 'Clinique 2', 'break_glass.read'],
      ['Lisa Cuddy', 'secretary', 'Clinique 1', 'agenda.list'],
      ['Gregory House', 'practitioner', 'Clinique 1', 'entries.read'],
    ]);
    expect(items[1]).toMatchObject({ reason: 'Patient unconscious in the emergency room, history needed', categories: ['clinical', 'genetic'] });
    expect(items[2]).not.toHaveProperty('reason');
    const times = items.map((i) => Date.parse(i.at));
    expect([...times].sort((x, y) => y - x)).toEqual(times);
  });

  it('never shows another patient’s accesses, nor my own actions, nor refused attempts', async () => {
    const mine = await service.listAccessLogForPatientAccount(p2, {});
    expect(mine.items.map((i) => [i.actor.name, i.action])).toEqual([
      ['Lisa Cuddy', 'agenda.list'],
      ['Gregory House', 'entries.read'],
    ]);
    // An account with no patient file sees nothing, whatever happened elsewhere.
    expect((await service.listAccessLogForPatientAccount(drHouse, {})).items).toEqual([]);
    expect((await service.listAccessLogForPatientAccount(uuidv7(), {})).items).toEqual([]);
  });

  it('pages with a cursor, without duplicates or gaps', async () => {
    const all = (await service.listAccessLogForPatientAccount(p1, { limit: 50 })).items;
    const seen: unknown[] = [];
    let cursor: string | undefined;
    do {
      const page = await service.listAccessLogForPatientAccount(p1, { limit: 1, cursor });
      expect(page.items.length).toBeLessThanOrEqual(1);
      seen.push(...page.items);
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    expect(seen).toEqual(all);
    await expect(service.listAccessLogForPatientAccount(p1, { cursor: 'bm90LWEtY3Vyc29y' })).rejects.toMatchObject({ code: 'invalid_request' });
  });

  it('property: any patient sees exactly the allowed accesses of others to their own files, in any establishment', async () => {
    const establishments = [a, b, c];
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            establishment: fc.integer({ min: 0, max: 2 }),
            patients: fc.uniqueArray(fc.integer({ min: 0, max: 2 }), { minLength: 1, maxLength: 3 }),
            actor: fc.integer({ min: 0, max: 2 }), // 0: staff, 1: patient X themself, 2: patient Y
            outcome: fc.constantFrom('allowed' as const, 'denied' as const),
          }),
          { minLength: 1, maxLength: 8 },
        ),
        async (events) => {
          // Fresh accounts per run: X has files in every establishment, Y in two of them.
          const x = await insertUser(t.db, 'X', 'Patient');
          const y = await insertUser(t.db, 'Y', 'Patient');
          const doc = await insertUser(t.db, 'Doc', 'Staff');
          const files = [
            await Promise.all(establishments.map((e) => insertPatientFile(t.db, e, x))),
            [await insertPatientFile(t.db, a, y), null, await insertPatientFile(t.db, c, y)],
            await Promise.all(establishments.map((e) => insertPatientFile(t.db, e, null))),
          ];
          const expected = { x: [] as string[], y: [] as string[] };
          for (const [i, e] of events.entries()) {
            const est = establishments[e.establishment]!;
            const patientIds = e.patients.map((p) => files[p]![e.establishment]).filter((id): id is string => !!id);
            const actorId = [doc, x, y][e.actor]!;
            const action = `test.${i}`;
            await record(t.db, {
              establishmentId: est,
              actor: e.actor === 0 ? staff(doc, est, 'practitioner') : patientActor(actorId),
              actorRole: e.actor === 0 ? 'practitioner' : null,
              action,
              patientIds,
              outcome: e.outcome,
            });
            if (e.outcome !== 'allowed') continue;
            if (patientIds.some((id) => files[0]!.includes(id)) && actorId !== x) expected.x.push(action);
            if (patientIds.some((id) => files[1]!.includes(id)) && actorId !== y) expected.y.push(action);
          }
          const seen = async (account: string) => (await service.listAccessLogForPatientAccount(account, { limit: 50 })).items.map((i) => i.action);
          expect((await seen(x)).sort()).toEqual(expected.x.sort());
          expect((await seen(y)).sort()).toEqual(expected.y.sort());
        },
      ),
      { numRuns: 15 },
    );
  });

  describe('over HTTP', () => {
    let app: FastifyInstance;
    beforeAll(async () => {
      const actors = new Map<string, Actor>([
        ['p1', patientActor(p1)],
        ['p2', patientActor(p2)],
        ['key', { kind: 'api_key', apiKeyId: uuidv7(), establishmentId: a, scopes: ['*'] }],
      ]);
      app = await buildApp({ config: t.config, db: t.db, vault, logger: createLogger('silent'), authenticate: testAuthenticator(actors) });
    });
    afterAll(async () => app?.close());

    it('answers the session’s own log, with names and no internal ids, and not for the browser cache', async () => {
      const res = await app.inject({ method: 'GET', url: '/api/v1/me/access-log', headers: { 'x-test-actor': 'p1' } });
      expect(res.statusCode).toBe(200);
      expect(res.headers['cache-control']).toBe('no-store');
      const body = res.json() as { items: Array<{ actor: { name: string } }>; nextCursor: string | null };
      expect(body.items.map((i) => i.actor.name)).toContain('Lisa Cuddy');
      for (const id of [drHouse, secretary, p1, p1InA, p1InB, p2InA]) expect(res.body).not.toContain(id);
      const other = await app.inject({ method: 'GET', url: '/api/v1/me/access-log', headers: { 'x-test-actor': 'p2' } });
      expect((other.json() as { items: unknown[] }).items).toHaveLength(2);
    });

    it('refuses without a session, with an integration key, and with an oversized page or a forged cursor', async () => {
      const anonymous = await app.inject({ method: 'GET', url: '/api/v1/me/access-log' });
      expect(anonymous.statusCode).toBe(401);
      expect(anonymous.json()).toMatchObject({ code: 'unauthenticated' });
      const key = await app.inject({ method: 'GET', url: '/api/v1/me/access-log', headers: { 'x-test-actor': 'key' } });
      expect(key.statusCode).toBe(403);
      const big = await app.inject({ method: 'GET', url: '/api/v1/me/access-log?limit=100000', headers: { 'x-test-actor': 'p1' } });
      expect(big.statusCode).toBe(400);
      expect(big.json()).toMatchObject({ code: 'invalid_request' });
      const forged = await app.inject({ method: 'GET', url: '/api/v1/me/access-log?cursor=AAAA', headers: { 'x-test-actor': 'p1' } });
      expect(forged.statusCode).toBe(400);
      // No parameter can name another account: an unknown one is a validation error, not a lookup.
      const sneaky = await app.inject({ method: 'GET', url: `/api/v1/me/access-log?userId=${p2}`, headers: { 'x-test-actor': 'p1' } });
      expect(sneaky.statusCode).toBe(400);
    });

    it('pages over HTTP with nextCursor', async () => {
      const first = await app.inject({ method: 'GET', url: '/api/v1/me/access-log?limit=3', headers: { 'x-test-actor': 'p1' } });
      const body = first.json() as { items: unknown[]; nextCursor: string };
      expect(body.items).toHaveLength(3);
      const second = await app.inject({ method: 'GET', url: `/api/v1/me/access-log?limit=3&cursor=${body.nextCursor}`, headers: { 'x-test-actor': 'p1' } });
      expect(second.json()).toMatchObject({ nextCursor: null });
      expect((second.json() as { items: unknown[] }).items).toHaveLength(1);
    });
  });

  it('the application role reaches other establishments’ events only through the scoped function', async () => {
    const direct = await t.db.withTenant(a, (tx) => tx.selectFrom('audit_events').select('establishment_id').execute());
    expect(new Set(direct.map((r) => r.establishment_id))).toEqual(new Set([a]));
    const none = await t.db.withPlatform((tx) => tx.selectFrom('audit_events').select('id').where('establishment_id', 'is not', null).execute());
    expect(none).toEqual([]);
  });
});

// The security officer's API under /api/v1/establishments/:eid/security: alerts, resolve, release
// (step-up), thresholds (step-up to change). Only a security officer of that establishment; every
// other role, a patient, an API key, an officer of another establishment and an anonymous caller
// are refused.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { seedDemo } from '../src/seed/demo.js';
import type { DemoData } from '../src/seed/demo-data.js';
import { buildApp } from '../src/app.js';
import { createLogger } from '../src/platform/log.js';
import { DomainError } from '../src/platform/http/errors.js';
import type { Actor } from '../src/platform/http/context.js';
import { isContained, raiseAlert } from '../src/modules/guard/index.js';
import { createTestDatabase, testConfig, type TestDatabase } from './helpers/db.js';
import { filesOf, patientActor, staffActor } from './helpers/actors.js';
import { guardedGate, readThrough, TestClock, withSecondFactor } from './helpers/guard.js';

let t: TestDatabase;
let data: DemoData;
let A: string;
let B: string;
let current: Actor | undefined;
let app: FastifyInstance;

beforeAll(async () => {
  t = await createTestDatabase();
  data = (await seedDemo(t.db, undefined, t.vault)).data;
  A = data.establishments[0]!.id;
  B = data.establishments[1]!.id;
  app = await buildApp({
    config: testConfig(),
    db: t.db,
    vault: t.vault,
    logger: createLogger('silent'),
    authenticate: async (request) => {
      if (!current) throw new DomainError('unauthenticated');
      request.actor = current;
    },
  });
});
afterAll(async () => {
  await app?.close();
  await t?.drop();
});

const officer = (fresh = true) => staffActor(data, A, 'security_officer', 0, fresh ? new Date() : null);
const userIdOf = (a: Actor) => (a as Extract<Actor, { kind: 'user' }>).userId;
async function call(actor: Actor | undefined, method: 'GET' | 'POST' | 'PUT', url: string, payload?: unknown) {
  current = actor;
  const res = await app.inject({ method, url: `/api/v1/establishments/${url}`, ...(payload !== undefined ? { payload: payload as object } : {}) });
  return { status: res.statusCode, body: res.json() };
}

async function containSecretary(): Promise<Actor> {
  const clock = new TestClock();
  const g = guardedGate(t.db, { clock });
  const secretary = withSecondFactor(staffActor(data, A, 'secretary'), clock.now());
  const files = filesOf(data, A).map((f) => f.id);
  for (let i = 0; i < 30; i++) if ((await readThrough(g.gate, secretary, A, [files[i]!])) === 'account_contained') return secretary;
  throw new Error('not contained');
}

describe('who may use the security API', () => {
  const others = (): Array<[string, Actor | undefined]> => [
    ['practitioner', staffActor(data, A, 'practitioner', 0, new Date())],
    ['secretary', staffActor(data, A, 'secretary', 0, new Date())],
    ['admin', staffActor(data, A, 'admin', 0, new Date())],
    ['officer of another establishment', staffActor(data, B, 'security_officer', 0, new Date())],
    ['patient', patientActor(data, 0)],
    ['API key', { kind: 'api_key', apiKeyId: randomUUID(), establishmentId: A, scopes: ['agenda:read', 'patients:read'] }],
  ];

  it('refuses every other role, with 403 forbidden, on every endpoint, and records the refusal', async () => {
    const alertId = await t.db.withTenant(A, (tx) => raiseAlert(tx, { establishmentId: A, kind: 'test', severity: 'info', actorUserId: null }));
    const uid = userIdOf(staffActor(data, A, 'secretary'));
    for (const [name, actor] of others()) {
      const results = [
        await call(actor, 'GET', `${A}/security/alerts`),
        await call(actor, 'POST', `${A}/security/alerts/${alertId}/resolve`),
        await call(actor, 'POST', `${A}/security/users/${uid}/release`),
        await call(actor, 'GET', `${A}/security/thresholds`),
        await call(actor, 'PUT', `${A}/security/thresholds`, { misses5m: { stepUp: 1, contain: 2 } }),
        await call(actor, 'POST', `${A}/security/decoys`, { count: 2 }),
      ];
      expect(results.map((r) => `${name}:${r.status}:${r.body.code}`)).toEqual(Array(6).fill(`${name}:403:forbidden`));
    }
    const denied = await t.db.owner.selectFrom('audit_events').select('action').where('establishment_id', '=', A).where('action', 'like', 'security.%').where('outcome', '=', 'denied').execute();
    expect(denied.length).toBeGreaterThanOrEqual(4 * 5);
    // The alert is still open, the thresholds untouched.
    expect((await call(officer(), 'GET', `${A}/security/thresholds`)).body.overrides).toEqual({});
  });

  it('answers 401 to an anonymous caller', async () => {
    expect((await call(undefined, 'GET', `${A}/security/alerts`)).status).toBe(401);
  });
});

describe('alerts', () => {
  it('lists the establishment\'s open alerts only, pages them, and resolves one once', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push(await t.db.withTenant(A, (tx) => raiseAlert(tx, { establishmentId: A, kind: 'paging', severity: 'warning', actorUserId: null, details: { n: i } })));
    await t.db.withTenant(B, (tx) => raiseAlert(tx, { establishmentId: B, kind: 'elsewhere', severity: 'critical', actorUserId: null }));
    const page1 = await call(officer(), 'GET', `${A}/security/alerts?limit=2`);
    expect(page1.status).toBe(200);
    expect(page1.body.items).toHaveLength(2);
    expect(page1.body.nextCursor).not.toBeNull();
    const all = await call(officer(), 'GET', `${A}/security/alerts?limit=50`);
    expect(all.body.items.some((a: { kind: string }) => a.kind === 'elsewhere')).toBe(false);
    expect(all.body.items.map((a: { id: string }) => a.id)).toEqual(expect.arrayContaining(ids));

    const resolved = await call(officer(false), 'POST', `${A}/security/alerts/${ids[0]}/resolve`);
    expect(resolved.status).toBe(200);
    expect((await call(officer(), 'POST', `${A}/security/alerts/${ids[0]}/resolve`)).body.code).toBe('conflict');
    expect((await call(officer(), 'POST', `${A}/security/alerts/${randomUUID()}/resolve`)).status).toBe(404);
    // Another establishment's alert id is "not found" here.
    const theirs = await t.db.owner.selectFrom('security_alerts').select('id').where('establishment_id', '=', B).executeTakeFirstOrThrow();
    expect((await call(officer(), 'POST', `${A}/security/alerts/${theirs.id}/resolve`)).status).toBe(404);
    const open = await call(officer(), 'GET', `${A}/security/alerts?limit=50`);
    expect(open.body.items.map((a: { id: string }) => a.id)).not.toContain(ids[0]);
    expect((await call(officer(), 'GET', `${A}/security/alerts?limit=500`)).status).toBe(400);
  });
});

describe('release', () => {
  it('needs a fresh second factor, releases a contained account, and 404s for one that is not contained', async () => {
    const secretary = await containSecretary();
    const uid = userIdOf(secretary);
    const stale = await call(officer(false), 'POST', `${A}/security/users/${uid}/release`);
    expect(stale).toMatchObject({ status: 401, body: { code: 'step_up_required' } });
    expect(await t.db.withPlatform((tx) => isContained(tx, uid))).toBe(true);
    // An officer of another establishment cannot release it either.
    expect((await call(staffActor(data, B, 'security_officer', 0, new Date()), 'POST', `${A}/security/users/${uid}/release`)).status).toBe(403);
    const ok = await call(officer(), 'POST', `${A}/security/users/${uid}/release`);
    expect(ok).toMatchObject({ status: 200, body: { userId: uid, released: 1 } });
    expect(await t.db.withPlatform((tx) => isContained(tx, uid))).toBe(false);
    expect((await call(officer(), 'POST', `${A}/security/users/${uid}/release`)).status).toBe(404);
    const audit = await t.db.owner.selectFrom('audit_events').select(['outcome', 'resource_ids']).where('action', '=', 'security.user.release').where('outcome', '=', 'allowed').execute();
    expect(audit).toEqual([{ outcome: 'allowed', resource_ids: [uid] }]);
  });
});

describe('decoys', () => {
  it('a security officer plants decoys with a fresh second factor; the answer carries no ids', async () => {
    expect((await call(officer(false), 'POST', `${A}/security/decoys`, { count: 2 })).body.code).toBe('step_up_required');
    expect((await call(officer(), 'POST', `${A}/security/decoys`, { count: 51 })).status).toBe(400);
    const res = await call(officer(), 'POST', `${A}/security/decoys`, { count: 2 });
    expect(res).toEqual({ status: 201, body: { planted: 2 } });
    expect(await t.db.owner.selectFrom('guard_decoys').select('patient_id').where('establishment_id', '=', A).execute()).toHaveLength(2);
  });
});

describe('thresholds', () => {
  it('reads defaults, changes need a step-up and consistent lines, and the meter applies the change at once', async () => {
    const read = await call(officer(false), 'GET', `${A}/security/thresholds`);
    expect(read.body.effective.roles.secretary.unexplained['5m']).toEqual({ stepUp: 12, contain: 25 });
    const body = { roles: { practitioner: { unexplained: { '5m': { stepUp: 2 } } } } };
    expect((await call(officer(false), 'PUT', `${A}/security/thresholds`, body)).body.code).toBe('step_up_required');
    expect((await call(officer(), 'PUT', `${A}/security/thresholds`, { roles: { practitioner: { unexplained: { '5m': { stepUp: 30 } } } } })).status).toBe(400);
    expect((await call(officer(), 'PUT', `${A}/security/thresholds`, { roles: { nurse: {} } })).status).toBe(400);
    const put = await call(officer(), 'PUT', `${A}/security/thresholds`, body);
    expect(put.status).toBe(200);
    expect(put.body.effective.roles.practitioner.unexplained['5m']).toEqual({ stepUp: 2, contain: 20 });
    const changed = await t.db.owner.selectFrom('security_alerts').select('kind').where('establishment_id', '=', A).where('kind', '=', 'guard_thresholds_changed').execute();
    expect(changed).toHaveLength(1);

    const g = guardedGate(t.db, { clock: new TestClock() });
    const practitioner = staffActor(data, A, 'practitioner', 6);
    const files = filesOf(data, A).map((f) => f.id);
    expect([await readThrough(g.gate, practitioner, A, [files[0]!]), await readThrough(g.gate, practitioner, A, [files[1]!]), await readThrough(g.gate, practitioner, A, [files[2]!])]).toEqual([
      'allowed',
      'allowed',
      'step_up_required',
    ]);
    // Establishment B keeps the defaults.
    expect((await call(staffActor(data, B, 'security_officer'), 'GET', `${B}/security/thresholds`)).body.overrides).toEqual({});
  });
});

// The security officer's audit search, GET /api/v1/establishments/:eid/security/audit: events by
// actor or by patient file with their integrity status, paged, walled to the establishment,
// metadata only (no patient names), itself audited; every other role refused.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { FastifyInstance } from 'fastify';
import { seedDemo } from '../src/seed/demo.js';
import type { DemoData } from '../src/seed/demo-data.js';
import { buildApp } from '../src/app.js';
import { createLogger } from '../src/platform/log.js';
import { DomainError } from '../src/platform/http/errors.js';
import type { Actor } from '../src/platform/http/context.js';
import { appendAuditEvents, sealPending, type AuditEventInput } from '../src/modules/audit/index.js';
import { createTestDatabase, testConfig, type TestDatabase } from './helpers/db.js';
import { filesOf, patientActor, staffActor } from './helpers/actors.js';
import { testKeyring } from './helpers/audit.js';

let t: TestDatabase;
let data: DemoData;
let A: string;
let B: string;
let current: Actor | undefined;
let app: FastifyInstance;
const keyring = testKeyring();

const userIdOf = (a: Actor) => (a as Extract<Actor, { kind: 'user' }>).userId;
const officer = () => staffActor(data, A, 'security_officer');
const doctor = () => staffActor(data, A, 'practitioner');

interface Item {
  id: string;
  at: string;
  actor: { kind: string; userId: string | null; name: string | null; role: string | null };
  action: string;
  resourceKind: string | null;
  resourceCount: number;
  patientIds: string[];
  categories: string[];
  purpose: string | null;
  reason: string | null;
  outcome: string;
  integrity: { status: string; seq: string | null; sealedAt: string | null };
}

async function search(actor: Actor | undefined, query: string, eid = A) {
  current = actor;
  const res = await app.inject({ method: 'GET', url: `/api/v1/establishments/${eid}/security/audit?${query}` });
  return { status: res.statusCode, body: res.json() as { items: Item[]; nextCursor: string | null; code?: string } };
}

let since: string;
let fileA1: string;
let fileA2: string;
let accountIndexA1: number;
let doctorEvents: string[];

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
    auditKeyring: keyring,
    authenticate: async (request) => {
      if (!current) throw new DomainError('unauthenticated');
      request.actor = current;
    },
  });
  // Seeding may have queued events: seal them so that only this file's events are pending below.
  await sealPending(t.db, keyring);
  const withAccount = filesOf(data, A, true);
  fileA1 = withAccount[0]!.id;
  accountIndexA1 = withAccount[0]!.accountIndex!;
  fileA2 = withAccount[1]!.id;
  since = new Date(Date.now() - 1000).toISOString();
  const d = doctor();
  const ev = (extra: Partial<AuditEventInput>): AuditEventInput => ({ establishmentId: A, actor: d, actorRole: 'practitioner', action: 'patient.read', resourceKind: 'patient', outcome: 'allowed', ...extra });
  doctorEvents = await t.db.withTenant(A, (tx) =>
    appendAuditEvents(tx, [
      ev({ resourceIds: [fileA1], patientIds: [fileA1], categories: ['identity'] }),
      ev({ action: 'records.entry.read', resourceKind: 'entry', resourceIds: [randomUUID(), randomUUID()], patientIds: [fileA1], categories: ['clinical'], reason: 'Urgence vitale, patient inconscient aux urgences', purpose: 'break_glass' }),
      ev({ resourceIds: [fileA2], patientIds: [fileA2], categories: ['identity', 'contact'] }),
      ev({ action: 'patient.read', patientIds: [fileA2], outcome: 'denied' }),
      ev({ action: 'agenda.list', resourceKind: 'agenda', patientIds: [fileA1, fileA2], categories: ['administrative'] }),
    ]),
  );
  // The same actor and patient id in another establishment's stream: never shown in A's search.
  await t.db.withTenant(B, (tx) => appendAuditEvents(tx, [{ establishmentId: B, actor: d, actorRole: 'practitioner', action: 'elsewhere.read', patientIds: [fileA1], outcome: 'allowed' }]));
  // The patient themselves acting on their file in A: their name is never shown to the officer.
  await t.db.withTenant(A, (tx) =>
    appendAuditEvents(tx, [{ establishmentId: A, actor: patientActor(data, accountIndexA1), actorRole: 'patient', action: 'appointment.book', patientIds: [fileA1], outcome: 'allowed' }]),
  );
}, 120_000);
afterAll(async () => {
  await app?.close();
  await t?.drop();
});

describe('who may search the audit log', () => {
  it('refuses practitioners, secretaries, admins, patients, API keys and officers of another establishment with 403, and records the refusal', async () => {
    const others: Array<[string, Actor]> = [
      ['practitioner', doctor()],
      ['secretary', staffActor(data, A, 'secretary')],
      ['admin', staffActor(data, A, 'admin')],
      ['patient', patientActor(data, accountIndexA1)],
      ['API key', { kind: 'api_key', apiKeyId: randomUUID(), establishmentId: A, scopes: ['agenda:read', 'patients:read'] }],
      ['officer of B', staffActor(data, B, 'security_officer')],
    ];
    for (const [name, actor] of others) {
      const r = await search(actor, `patientId=${fileA1}`);
      expect(`${name}:${r.status}:${r.body.code}`).toBe(`${name}:403:forbidden`);
      expect(r.body.items).toBeUndefined();
    }
    const denied = await t.db.owner
      .selectFrom('audit_events')
      .select(['actor_user_id', 'patient_ids'])
      .where('action', '=', 'security.audit.search')
      .where('outcome', '=', 'denied')
      .execute();
    expect(denied.map((d) => d.actor_user_id)).toEqual(expect.arrayContaining([userIdOf(doctor()), userIdOf(staffActor(data, A, 'secretary'))]));
    expect(denied.every((d) => d.patient_ids.includes(fileA1))).toBe(true);
  });

  it('answers 401 without a session', async () => {
    expect((await search(undefined, `patientId=${fileA1}`)).status).toBe(401);
  });

  it('answers 400 to a search without actor or patient, a bad id, a limit above 50, a forged cursor or from after to', async () => {
    for (const q of ['', 'patientId=nope', `patientId=${fileA1}&limit=51`, `patientId=${fileA1}&cursor=Zm9vYmFy`, `patientId=${fileA1}&from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z`, `patientId=${fileA1}&extra=1`]) {
      const r = await search(officer(), q);
      expect(`${q}:${r.status}:${r.body.code}`).toBe(`${q}:400:invalid_request`);
    }
  });
});

describe('searching', () => {
  it('by actor: newest first, who, role, action, resource kind and count, categories, purpose, break-the-glass reason, outcome; only this establishment', async () => {
    const r = await search(officer(), `actorUserId=${userIdOf(doctor())}&from=${encodeURIComponent(since)}`);
    expect(r.status).toBe(200);
    // The practitioner's own refused search (above) is theirs too.
    expect(r.body.items.filter((i) => i.action !== 'security.audit.search').map((i) => i.id).sort()).toEqual([...doctorEvents].sort());
    expect(r.body.items.find((i) => i.action === 'security.audit.search')).toMatchObject({ outcome: 'denied' });
    expect(r.body.items.some((i) => i.action === 'elsewhere.read')).toBe(false);
    const at = r.body.items.map((i) => i.at);
    expect([...at].sort().reverse()).toEqual(at);
    const doc = data.staff.find((s) => s.userId === userIdOf(doctor()))!;
    const bg = r.body.items.find((i) => i.action === 'records.entry.read')!;
    expect(bg).toMatchObject({
      actor: { kind: 'user', userId: doc.userId, name: `${doc.firstName} ${doc.lastName}`, role: 'practitioner' },
      resourceKind: 'entry',
      resourceCount: 2,
      patientIds: [fileA1],
      categories: ['clinical'],
      purpose: 'break_glass',
      reason: 'Urgence vitale, patient inconscient aux urgences',
      outcome: 'allowed',
    });
    expect(r.body.items.find((i) => i.outcome === 'denied' && i.action === 'patient.read')).toMatchObject({ patientIds: [fileA2], categories: [] });
  });

  it("by patient: only events touching that file, the patient's own actions without their name", async () => {
    const r = await search(officer(), `patientId=${fileA1}&from=${encodeURIComponent(since)}`);
    expect(r.status).toBe(200);
    expect(r.body.items.every((i) => i.patientIds.includes(fileA1))).toBe(true);
    const actions = r.body.items.map((i) => i.action).filter((a) => a !== 'security.audit.search');
    expect(actions.sort()).toEqual(['agenda.list', 'appointment.book', 'patient.read', 'records.entry.read']);
    const own = r.body.items.find((i) => i.action === 'appointment.book')!;
    expect(own.actor).toEqual({ kind: 'user', userId: data.patientAccounts[accountIndexA1]!.userId, name: null, role: 'patient' });
    const account = data.patientAccounts[accountIndexA1]!;
    expect(JSON.stringify(r.body)).not.toContain(account.lastName);
  });

  it('pages with limit and nextCursor, without overlap or loss', async () => {
    // Each search appends its own event: a fixed window keeps the pages comparable. The window
    // ends before the first search starts (`to` is cut to the millisecond: on a fast machine the
    // first search's own event could otherwise fall in that same millisecond, inside the window).
    const window = `from=${encodeURIComponent(since)}&to=${encodeURIComponent(new Date().toISOString())}`;
    await new Promise((resolve) => setTimeout(resolve, 5));
    const all = await search(officer(), `patientId=${fileA1}&${window}&limit=50`);
    expect(all.body.items.length).toBeGreaterThanOrEqual(4);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: Awaited<ReturnType<typeof search>> = await search(officer(), `patientId=${fileA1}&${window}&limit=1${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.body.items.length).toBeLessThanOrEqual(1);
      seen.push(...page.body.items.map((i) => i.id));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual(all.body.items.map((i) => i.id));
    expect(new Set(seen).size).toBe(seen.length);
  });

  it('is itself audited: the officer finds their searches, and the patient sees the search in their access log', async () => {
    const r = await search(officer(), `actorUserId=${userIdOf(officer())}&from=${encodeURIComponent(since)}`);
    const mine = r.body.items.filter((i) => i.action === 'security.audit.search' && i.outcome === 'allowed');
    expect(mine.length).toBeGreaterThanOrEqual(3);
    expect(mine.find((i) => i.patientIds.includes(fileA1))).toMatchObject({ resourceKind: 'patient', purpose: 'security_review', actor: { role: 'security_officer' } });
    expect(mine.find((i) => i.resourceKind === 'user')).toMatchObject({ resourceCount: 1, patientIds: [] });

    current = patientActor(data, accountIndexA1);
    const log = (await app.inject({ method: 'GET', url: '/api/v1/me/access-log?limit=50' })).json() as { items: Array<{ action: string; actor: { role: string } }> };
    expect(log.items.find((i) => i.action === 'security.audit.search')).toMatchObject({ actor: { role: 'security_officer' } });
  });
});

describe('integrity status', () => {
  it('pending before the sealer, sealed (with its sequence number and signing time) after it', async () => {
    const before = await search(officer(), `actorUserId=${userIdOf(doctor())}&from=${encodeURIComponent(since)}`);
    expect(new Set(before.body.items.map((i) => i.integrity.status))).toEqual(new Set(['pending']));
    await sealPending(t.db, keyring);
    const after = await search(officer(), `actorUserId=${userIdOf(doctor())}&from=${encodeURIComponent(since)}`);
    for (const i of after.body.items) {
      expect(i.integrity.status).toBe('sealed');
      expect(i.integrity.seq).toMatch(/^\d+$/);
      expect(Date.parse(i.integrity.sealedAt!)).not.toBeNaN();
    }
  });

  it('a newly sealed event is "sealed"; one edited behind the log\'s back is "altered"', async () => {
    const [extra] = await t.db.withTenant(A, (tx) => appendAuditEvents(tx, [{ establishmentId: A, actor: doctor(), actorRole: 'practitioner', action: 'patient.read', patientIds: [fileA2], outcome: 'allowed' }]));
    await sealPending(t.db, keyring);
    const sealed = await search(officer(), `patientId=${fileA2}&from=${encodeURIComponent(since)}`);
    expect(sealed.body.items.find((i) => i.id === extra)!.integrity.status).toBe('sealed');

    // The owner edits an event (triggers disabled, as an attacker with owner rights would).
    const victim = doctorEvents[0]!;
    await t.db.owner.transaction().execute(async (tx) => {
      await sql`alter table audit_events disable trigger user`.execute(tx);
      await sql`update audit_events set action = 'agenda.list' where id = ${victim}::uuid`.execute(tx);
      await sql`alter table audit_events enable trigger user`.execute(tx);
    });
    const r = await search(officer(), `actorUserId=${userIdOf(doctor())}&from=${encodeURIComponent(since)}`);
    expect(r.body.items.find((i) => i.id === victim)!.integrity.status).toBe('altered');
    expect(r.body.items.filter((i) => i.id !== victim && doctorEvents.includes(i.id)).every((i) => i.integrity.status === 'sealed')).toBe(true);
  });

  it('a checkpoint signed by a key this server does not trust makes the events it covers "checkpoint_invalid"', async () => {
    const other = await buildApp({
      config: testConfig(),
      db: t.db,
      vault: t.vault,
      logger: createLogger('silent'),
      auditKeyring: testKeyring(),
      authenticate: async (request) => {
        request.actor = officer();
      },
    });
    try {
      const res = await other.inject({ method: 'GET', url: `/api/v1/establishments/${A}/security/audit?patientId=${fileA2}&from=${encodeURIComponent(since)}` });
      const items = (res.json() as { items: Item[] }).items.filter((i) => i.integrity.status !== 'pending');
      expect(items.length).toBeGreaterThan(0);
      expect(new Set(items.map((i) => i.integrity.status))).toEqual(new Set(['checkpoint_invalid']));
    } finally {
      await other.close();
    }
  });
});

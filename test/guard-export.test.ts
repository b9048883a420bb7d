// Two-person bulk export (ASVS 2.3.5): requested with a purpose (step-up), approved by a security
// officer who is not the requester (step-up; a CHECK constraint refuses it too), downloaded once by
// the requester within 24 hours (step-up), produced through the access gate: policy, guard and
// audit naming every exported patient; security officers alerted at every step. Each rule has its
// negative case.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { seedDemo } from '../src/seed/demo.js';
import { queueCipher } from '../src/modules/vault/index.js';
import type { DemoData } from '../src/seed/demo-data.js';
import { buildApp } from '../src/app.js';
import { createLogger } from '../src/platform/log.js';
import { DomainError } from '../src/platform/http/errors.js';
import type { Actor } from '../src/platform/http/context.js';
import { createTestDatabase, testConfig, type TestDatabase } from './helpers/db.js';
import { patientActor, staffActor } from './helpers/actors.js';

let t: TestDatabase;
let data: DemoData;
let A: string;
let B: string;
let app: FastifyInstance;
let current: Actor | undefined;
let clock = new Date();
const notified: Array<{ kind: string }> = [];

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
    guard: {
      now: () => clock,
      notifier: {
        async alertRaised(_tx, alert) {
          notified.push({ kind: alert.kind });
        },
      },
    },
  });
});
afterAll(async () => {
  await app?.close();
  await t?.drop();
});

const fresh = (a: Actor): Actor => (a.kind === 'user' ? { ...a, secondFactorAt: clock } : a);
const secretary = (stepUp = true) => staffActor(data, A, 'secretary', 0, stepUp ? clock : null);
const practitioner = (i = 0, stepUp = true) => staffActor(data, A, 'practitioner', i, stepUp ? clock : null);
const officer = (stepUp = true) => staffActor(data, A, 'security_officer', 0, stepUp ? clock : null);
const uid = (a: Actor) => (a as Extract<Actor, { kind: 'user' }>).userId;
const day = (offsetDays: number) => new Date(clock.getTime() + offsetDays * 86_400_000).toISOString().slice(0, 10);
const body = (params: Record<string, string> = { from: day(-7), to: day(7) }) => ({ kind: 'appointments', purpose: 'Transfer of the agenda to the new billing software (ticket 4521)', params });

async function call(actor: Actor | undefined, method: 'GET' | 'POST', url: string, payload?: object) {
  current = actor;
  const res = await app.inject({ method, url: `/api/v1/establishments/${A}/security/exports${url}`, ...(payload ? { payload } : {}) });
  return { status: res.statusCode, body: String(res.headers['content-type'] ?? '').startsWith('text/csv') ? res.body : res.json(), headers: res.headers };
}
async function requestApproved(requester: Actor = secretary()): Promise<string> {
  const r = await call(requester, 'POST', '', body());
  expect(r.status).toBe(201);
  expect((await call(officer(), 'POST', `/${r.body.id}/approve`)).status).toBe(200);
  return r.body.id as string;
}
async function auditOf(action: string, exportId: string) {
  return t.db.owner
    .selectFrom('audit_events')
    .select(['outcome', 'patient_ids', 'purpose', 'actor_user_id'])
    .where('action', '=', action)
    .where(sql<boolean>`${exportId} = any(resource_ids)`)
    .execute();
}
async function cleanOpen() {
  // Each test starts with no open request (the per-person cap is tested on its own).
  await t.db.owner.updateTable('guard_exports').set({ expires_at: new Date(0) }).where('status', 'in', ['pending', 'approved']).execute();
}

describe('two-person bulk export', () => {
  it('request, approval by a security officer, one download through the gate: CSV, audit naming every patient, alerts, no counting against the guard windows', async () => {
    await cleanOpen();
    const requested = await call(secretary(), 'POST', '', body());
    expect(requested.status).toBe(201);
    expect(requested.body).toMatchObject({ kind: 'appointments', status: 'pending', requestedBy: uid(secretary()), decidedBy: null, params: { from: day(-7), to: day(7) } });
    const id = requested.body.id as string;

    const approved = await call(officer(), 'POST', `/${id}/approve`);
    expect(approved.status).toBe(200);
    expect(approved.body).toMatchObject({ status: 'approved', decidedBy: uid(officer()) });
    expect(new Date(approved.body.expiresAt).getTime() - clock.getTime()).toBe(24 * 3600_000);

    const file = await call(secretary(), 'GET', `/${id}/download`);
    expect(file.status).toBe(200);
    expect(file.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(file.headers['content-disposition']).toMatch(/^attachment; filename="hygie-export-appointments-/);
    expect(file.headers['cache-control']).toBe('no-store');
    const lines = (file.body as string).trim().split('\r\n');
    expect(lines[0]).toBe('appointment_id,start,end,status,motive_id,practitioner_id,practitioner_name,patient_id,patient_name');
    // Exactly the establishment's appointments of the range.
    const expected = await t.db.withTenant(A, (tx) =>
      tx
        .selectFrom('appointments')
        .select(['id', 'patient_id'])
        .where('starts_at', '>=', new Date(`${day(-7)}T00:00:00Z`))
        .where('starts_at', '<', new Date(new Date(`${day(7)}T00:00:00Z`).getTime() + 86_400_000))
        .execute(),
    );
    expect(expected.length).toBeGreaterThan(50);
    expect(lines.slice(1).map((l) => l.split(',')[0]).sort()).toEqual(expected.map((e) => e.id).sort());
    const patients = [...new Set(expected.map((e) => e.patient_id))].sort();

    // Audited with every exported patient (each sees it in their access log).
    const audit = (await auditOf('security.export.download', id)).filter((e) => e.outcome === 'allowed');
    expect(audit).toHaveLength(1);
    expect([...audit[0]!.patient_ids].sort()).toEqual(patients);
    expect(audit[0]!.purpose).toBe('bulk_export');

    // Once only.
    const again = await call(secretary(), 'GET', `/${id}/download`);
    expect(again.status).toBe(409);
    const listed = await call(officer(), 'GET', '');
    expect(listed.body.items.find((e: { id: string }) => e.id === id)).toMatchObject({ status: 'downloaded', patientCount: patients.length });

    // Officers alerted at each step (console and notifier).
    const alerts = await t.db.withTenant(A, (tx) => tx.selectFrom('security_alerts').select(['kind', 'details']).where(sql<boolean>`details->>'exportId' = ${id}`).execute());
    expect(alerts.map((a) => a.kind).sort()).toEqual(['export_approved', 'export_downloaded', 'export_requested']);
    expect(notified.map((n) => n.kind)).toEqual(expect.arrayContaining(['export_requested', 'export_approved', 'export_downloaded']));
    // …and by e-mail, to the establishment's security officers only, with no patient data.
    const officerEmail = data.staff.find((s) => s.userId === uid(officer()))!.email;
    // Queued mail is sealed under the platform queue key: opened here as the worker does.
    const jobs = await t.db.owner.selectFrom('jobs').select(['id', 'payload']).where('kind', '=', 'mail.send').execute();
    const cipher = queueCipher(t.vault);
    const mails = await t.db.withPlatform(async (tx) => {
      const out: Array<{ to: string; subject: string; text: string }> = [];
      for (const j of jobs) out.push(JSON.parse(await cipher.open(tx, { table: 'jobs', column: 'payload', rowId: j.id }, (j.payload as { message: string }).message)) as { to: string; subject: string; text: string });
      return out;
    });
    const alertMails = mails.filter((m) => m.subject.startsWith('[Hygie] Alerte de sécurité'));
    expect(alertMails.length).toBeGreaterThanOrEqual(3);
    expect(new Set(alertMails.map((m) => m.to))).toEqual(new Set([officerEmail]));
    for (const m of alertMails) for (const p of patients) expect(m.text).not.toContain(p);

    // The approved export does not count in the secretary's sliding windows.
    const counted = await t.db.withTenant(A, (tx) => tx.selectFrom('guard_exposures').select('patient_id').where('actor_key', '=', `user:${uid(secretary())}`).execute());
    expect(counted).toHaveLength(0);
  });

  it('asks a fresh second factor of the requester (request and download) and of the approver, and records each refusal', async () => {
    await cleanOpen();
    expect((await call(secretary(false), 'POST', '', body())).body.code).toBe('step_up_required');
    const id = (await call(secretary(), 'POST', '', body())).body.id as string;
    expect((await call(officer(false), 'POST', `/${id}/approve`)).body.code).toBe('step_up_required');
    expect((await call(officer(), 'POST', `/${id}/approve`)).status).toBe(200);
    expect((await call(secretary(false), 'GET', `/${id}/download`)).body.code).toBe('step_up_required');
    expect((await auditOf('security.export.approve', id)).map((e) => e.outcome).sort()).toEqual(['allowed', 'denied']);
    expect((await auditOf('security.export.download', id)).map((e) => e.outcome)).toEqual(['denied']);
    expect((await call(secretary(), 'GET', `/${id}/download`)).status).toBe(200);
  });

  it('only roles the provider names may request: admins, security officers, patients, API keys and outsiders are refused', async () => {
    await cleanOpen();
    const refused: Array<[string, Actor]> = [
      ['admin', staffActor(data, A, 'admin', 0, clock)],
      ['security officer', officer()],
      ['patient', fresh(patientActor(data, 0))],
      ['API key', { kind: 'api_key', apiKeyId: randomUUID(), establishmentId: A, scopes: ['agenda:read', 'patients:read'] }],
      ['secretary of another establishment', staffActor(data, B, 'secretary', 0, clock)],
    ];
    for (const [who, actor] of refused) expect([who, (await call(actor, 'POST', '', body())).status]).toEqual([who, 403]);
    const byPractitioner = await call(practitioner(), 'POST', '', body({ from: day(-1), to: day(1) }));
    expect(byPractitioner.status).toBe(201);
  });

  it('only a security officer of the establishment approves or rejects; never the requester (code and CHECK constraint)', async () => {
    await cleanOpen();
    const id = (await call(secretary(), 'POST', '', body())).body.id as string;
    for (const actor of [secretary(), practitioner(), staffActor(data, A, 'admin', 0, clock), staffActor(data, B, 'security_officer', 0, clock)]) {
      expect((await call(actor, 'POST', `/${id}/approve`)).status).toBe(403);
      expect((await call(actor, 'POST', `/${id}/reject`)).status).toBe(403);
    }
    expect((await call(officer(), 'POST', `/${randomUUID()}/approve`)).status).toBe(404);

    // The requester promoted to security officer still cannot decide their own request.
    const sec = data.staff.find((s) => s.userId === uid(secretary()))!;
    const membershipId = sec.memberships[0]!.membershipId;
    await t.db.owner.updateTable('memberships').set({ role: 'security_officer' }).where('id', '=', membershipId).execute();
    try {
      const own = await call(fresh(secretary()), 'POST', `/${id}/approve`);
      expect(own.status).toBe(403);
    } finally {
      await t.db.owner.updateTable('memberships').set({ role: 'secretary' }).where('id', '=', membershipId).execute();
    }
    // And the database refuses it whatever the code does.
    await expect(
      t.db.withTenant(A, (tx) => tx.updateTable('guard_exports').set({ status: 'approved', decided_by: uid(secretary()), decided_at: new Date() }).where('id', '=', id).execute()),
    ).rejects.toThrow(/check constraint/);

    // Rejected: cannot be approved afterwards, nor downloaded.
    expect((await call(officer(false), 'POST', `/${id}/reject`)).body.status).toBe('rejected');
    expect((await call(officer(), 'POST', `/${id}/approve`)).status).toBe(409);
    expect((await call(secretary(), 'GET', `/${id}/download`)).status).toBe(409);
  });

  it('downloads only by the requester, only once approved, only within 24 hours', async () => {
    await cleanOpen();
    const pending = (await call(secretary(), 'POST', '', body())).body.id as string;
    expect((await call(secretary(), 'GET', `/${pending}/download`)).status).toBe(409);
    const id = await requestApproved();
    // Anyone else, the approver included, gets "not found", as for an export that does not exist.
    for (const actor of [practitioner(), officer(), staffActor(data, B, 'secretary', 0, clock)]) expect((await call(actor, 'GET', `/${id}/download`)).status).toBe(404);
    expect((await call(secretary(), 'GET', `/${randomUUID()}/download`)).status).toBe(404);
    const saved = clock;
    try {
      clock = new Date(saved.getTime() + 24 * 3600_000 + 1000);
      const late = await call(secretary(), 'GET', `/${id}/download`);
      expect(late.status).toBe(409);
      expect(late.body.detail).toContain('expired');
      // A pending request expires too after 72 hours.
      clock = new Date(saved.getTime() + 73 * 3600_000);
      expect((await call(officer(), 'POST', `/${pending}/approve`)).status).toBe(409);
    } finally {
      clock = saved;
    }
  });

  it('a contained requester cannot download; other people see only their own requests', async () => {
    await cleanOpen();
    const id = await requestApproved(practitioner(1));
    const practitionerOwn = await call(practitioner(1), 'GET', '');
    expect(practitionerOwn.body.items.every((e: { requestedBy: string }) => e.requestedBy === uid(practitioner(1)))).toBe(true);
    expect((await call(secretary(), 'GET', '')).body.items.some((e: { id: string }) => e.id === id)).toBe(false);
    await t.db.withTenant(A, (tx) =>
      tx
        .insertInto('contained_actors')
        .values({ id: randomUUID(), establishment_id: A, actor_key: `user:${uid(practitioner(1))}`, user_id: uid(practitioner(1)), api_key_id: null, alert_id: null, contained_at: new Date(), released_at: null, released_by_user_id: null })
        .execute(),
    );
    const res = await call(practitioner(1), 'GET', `/${id}/download`);
    expect(res.status).toBe(423);
    expect(res.body.code).toBe('account_contained');
  });

  it('refuses malformed requests and caps open requests per person', async () => {
    await cleanOpen();
    const bad: object[] = [
      { ...body(), kind: 'everything' },
      { ...body(), purpose: 'because' },
      body({ from: day(-400), to: day(1) }),
      body({ from: day(3), to: day(1) }),
      body({ from: '2026-02-30', to: day(1) }),
      body({ from: day(-1), to: day(1), practitionerId: 'not-a-uuid' }),
      body({ from: day(-1), to: day(1), limit: '5' }),
      { ...body(), requestedBy: uid(officer()) },
    ];
    for (const b of bad) expect([b, (await call(secretary(), 'POST', '', b)).status]).toEqual([b, 400]);
    for (let i = 0; i < 3; i++) expect((await call(secretary(), 'POST', '', body())).status).toBe(201);
    expect((await call(secretary(), 'POST', '', body())).status).toBe(409);
  });
});

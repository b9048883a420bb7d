// The keys to the kingdom (ASVS 2.3.5, 7.5.3): an admin alone cannot grant admin or
// security_officer nor reset someone's second factors; sensitive actions need a fresh second
// factor; API keys work only within their scopes and allow-list.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { actorOf } from '../src/platform/http/context.js';
import { randomBytes } from 'node:crypto';
import { inviteFromCli, requireApiScope } from '../src/modules/identity/index.js';
import { createLogger } from '../src/platform/log.js';
import { testConfig } from './helpers/db.js';
import { createTestApp, staffOf, type TestApp, type TestClient } from './helpers/app.js';

/** A stand-in for another module's route that integrations may call (agenda read). */
function agendaProbe(app: FastifyInstance) {
  app.get<{ Params: { eid: string }; Querystring: { practitionerId: string } }>(
    '/api/v1/establishments/:eid/probe-agenda',
    { config: { auth: 'session_or_api_key' }, schema: { hide: true } },
    async (request) => {
      requireApiScope(actorOf(request), 'agenda:read', { establishmentId: request.params.eid, practitionerId: request.query.practitionerId });
      return { ok: true };
    },
  );
}

describe('staff administration', () => {
  let h: TestApp;
  let admin: ReturnType<typeof staffOf>;
  let officer: ReturnType<typeof staffOf>;
  let eid: string;
  let adminClient: TestClient;
  let officerClient: TestClient;
  const base = () => `/api/v1/establishments/${eid}`;

  beforeAll(async () => {
    h = await createTestApp({}, { routes: agendaProbe });
    admin = staffOf(h.data, 'admin');
    officer = staffOf(h.data, 'security_officer');
    eid = admin.establishmentId;
    adminClient = h.client('198.51.100.40');
    officerClient = h.client('198.51.100.41');
    expect((await adminClient.loginStaff(admin.email, admin.password, admin.totpSecret)).statusCode).toBe(200);
    expect((await officerClient.loginStaff(officer.email, officer.password, officer.totpSecret)).statusCode).toBe(200);
  });
  afterAll(async () => h?.close());

  const roleOf = async (userId: string) =>
    (await h.t.db.owner.selectFrom('memberships').select('role').where('user_id', '=', userId).where('establishment_id', '=', eid).executeTakeFirst())?.role;

  it('requires a fresh second factor for role changes: 401 step_up_required after five minutes', async () => {
    const doctor = staffOf(h.data, 'practitioner');
    h.clock.advance(6 * 60_000);
    const stale = await adminClient.put(`${base()}/members/${doctor.userId}/role`, { role: 'secretary' });
    expect(stale.statusCode).toBe(401);
    expect(stale.json().code).toBe('step_up_required');
    expect((await adminClient.stepUp(admin.totpSecret)).statusCode).toBe(200);
    const fresh = await adminClient.put(`${base()}/members/${doctor.userId}/role`, { role: 'practitioner' });
    expect(fresh.statusCode).toBe(200);
  });

  it('an admin alone cannot grant admin: the grant waits for a second person, and the requester cannot approve it', async () => {
    const doctor = staffOf(h.data, 'practitioner');
    await adminClient.stepUp(admin.totpSecret);
    const request = await adminClient.put(`${base()}/members/${doctor.userId}/role`, { role: 'admin' });
    expect(request.statusCode).toBe(202);
    expect(request.json().status).toBe('pending_approval');
    const approvalId = request.json().approvalId as string;
    expect(await roleOf(doctor.userId)).toBe('practitioner');

    const self = await adminClient.post(`${base()}/approvals/${approvalId}/approve`);
    expect(self.statusCode).toBe(403);
    expect(await roleOf(doctor.userId)).toBe('practitioner');

    // Even the database refuses a decision by the requester.
    await expect(
      h.t.db.withTenant(eid, (tx) => tx.updateTable('approval_requests').set({ status: 'approved', decided_by: admin.userId, decided_at: new Date() }).where('id', '=', approvalId).execute()),
    ).rejects.toThrow(/check constraint/);

    const pending = await officerClient.get(`${base()}/approvals`);
    expect(pending.json().items.map((i: { id: string }) => i.id)).toContain(approvalId);
    await officerClient.stepUp(officer.totpSecret);
    const approved = await officerClient.post(`${base()}/approvals/${approvalId}/approve`);
    expect(approved.statusCode).toBe(200);
    expect(await roleOf(doctor.userId)).toBe('admin');
    // Permission changes take effect at once (ASVS 8.3.2): demote back, immediately.
    await adminClient.stepUp(admin.totpSecret);
    expect((await adminClient.put(`${base()}/members/${doctor.userId}/role`, { role: 'practitioner' })).statusCode).toBe(200);
    expect(await roleOf(doctor.userId)).toBe('practitioner');
  });

  it('an admin alone cannot reset a second factor; once a security officer approves, the user must enrol again', async () => {
    const secretary = staffOf(h.data, 'secretary');
    const victim = h.client('198.51.100.42');
    await victim.loginStaff(secretary.email, secretary.password, secretary.totpSecret);

    await adminClient.stepUp(admin.totpSecret);
    const request = await adminClient.post(`${base()}/members/${secretary.userId}/mfa-reset`);
    expect(request.statusCode).toBe(202);
    const approvalId = request.json().approvalId as string;
    expect((await adminClient.post(`${base()}/approvals/${approvalId}/approve`)).statusCode).toBe(403);
    // Nothing happened: the factor works and the session lives.
    expect((await victim.get('/api/v1/auth/sessions')).statusCode).toBe(200);
    const still = await h.t.db.owner.selectFrom('users').select('totp_secret').where('id', '=', secretary.userId).executeTakeFirstOrThrow();
    expect(still.totp_secret).not.toBeNull();

    await officerClient.stepUp(officer.totpSecret);
    expect((await officerClient.post(`${base()}/approvals/${approvalId}/approve`)).statusCode).toBe(200);
    expect((await victim.get('/api/v1/auth/sessions')).statusCode).toBe(401);

    // Next login: a session that can only enrol a second factor.
    const again = h.client('198.51.100.43');
    const login = await again.post('/api/v1/auth/login', { email: secretary.email, password: secretary.password });
    expect(login.json()).toEqual({ status: 'mfa_enrolment_required' });
    await again.me();
    const blocked = await again.get('/api/v1/auth/sessions');
    expect(blocked.statusCode).toBe(403);
    expect(blocked.json().code).toBe('mfa_enrolment_required');
    const setup = await again.post('/api/v1/auth/mfa/totp/setup');
    expect((await again.post('/api/v1/auth/mfa/totp/confirm', { code: await again.nextCode(setup.json().secret) })).statusCode).toBe(200);
    expect((await again.get('/api/v1/auth/sessions')).statusCode).toBe(200);
  });

  it('another establishment cannot see or decide these requests (404)', async () => {
    const otherAdmin = staffOf(h.data, 'admin', 1);
    const c = h.client('198.51.100.44');
    await c.loginStaff(otherAdmin.email, otherAdmin.password, otherAdmin.totpSecret);
    expect((await c.get(`${base()}/approvals`)).statusCode).toBe(404);
    expect((await c.get(`${base()}/members`)).statusCode).toBe(404);
    const doctor = staffOf(h.data, 'practitioner');
    expect((await c.put(`${base()}/members/${doctor.userId}/role`, { role: 'secretary' })).statusCode).toBe(404);
    // A practitioner of the establishment is a member, without the right.
    const c2 = h.client('198.51.100.45');
    await c2.loginStaff(doctor.email, doctor.password, doctor.totpSecret);
    expect((await c2.get(`${base()}/approvals`)).statusCode).toBe(403);
  });

  it('invites staff by e-mail; an invited admin waits for a second approver before any e-mail leaves', async () => {
    await adminClient.stepUp(admin.totpSecret);
    const invited = await adminClient.post(`${base()}/invitations`, { email: 'nouvelle.secretaire@demo.hygie.example', firstName: 'Inès', lastName: 'Morel', role: 'secretary' });
    expect(invited.statusCode).toBe(201);
    expect(invited.json().status).toBe('sent');
    const mail = await h.lastMail('nouvelle.secretaire@demo.hygie.example');
    const token = /#token=([A-Za-z0-9_-]+)/.exec(mail!.text)![1]!;

    const newcomer = h.client('198.51.100.46');
    const weak = await newcomer.post('/api/v1/auth/invitations/accept', { token, password: 'ines.morel2026' });
    expect(weak.statusCode).toBe(400);
    const accepted = await newcomer.post('/api/v1/auth/invitations/accept', { token, password: 'glycine lumineuse au printemps' });
    expect(accepted.statusCode).toBe(200);
    expect(accepted.json()).toMatchObject({ role: 'secretary', newAccount: true, establishmentId: eid });
    expect((await newcomer.post('/api/v1/auth/invitations/accept', { token, password: 'glycine lumineuse au printemps' })).statusCode).toBe(400);
    const login = await newcomer.post('/api/v1/auth/login', { email: 'nouvelle.secretaire@demo.hygie.example', password: 'glycine lumineuse au printemps' });
    expect(login.json().status).toBe('mfa_enrolment_required');

    await adminClient.stepUp(admin.totpSecret);
    const privileged = await adminClient.post(`${base()}/invitations`, { email: 'futur.admin@demo.hygie.example', firstName: 'Paul', lastName: 'Roux', role: 'admin' });
    expect(privileged.json().status).toBe('pending_approval');
    expect(await h.lastMail('futur.admin@demo.hygie.example')).toBeUndefined();
    await officerClient.stepUp(officer.totpSecret);
    expect((await officerClient.post(`${base()}/approvals/${privileged.json().approvalId}/approve`)).statusCode).toBe(200);
    expect((await h.lastMail('futur.admin@demo.hygie.example'))?.subject).toMatch(/^Invitation/);
  });

  it('`hygie user create` invites at once, even an admin (the operator bootstraps an establishment), and prints a working link', async () => {
    const { link } = await inviteFromCli({ config: testConfig({ HYGIE_PUBLIC_URL: 'http://localhost:3000' }), db: h.t.db, vault: h.t.vault, logger: createLogger('silent'), identityKey: randomBytes(32) }, eid, {
      email: 'premier.admin@demo.hygie.example',
      firstName: 'Alix',
      lastName: 'Bernard',
      role: 'admin',
    });
    expect(link).toMatch(/^http:\/\/localhost:3000\/invitation#token=[A-Za-z0-9_-]{43}$/);
    const token = link.split('#token=')[1]!;
    const accepted = await h.client('198.51.100.48').post('/api/v1/auth/invitations/accept', { token, password: 'orage violet sur la lande' });
    expect(accepted.json()).toMatchObject({ role: 'admin', newAccount: true });
    const unknown = inviteFromCli({ config: testConfig(), db: h.t.db, vault: h.t.vault, logger: createLogger('silent'), identityKey: randomBytes(32) }, '019b76da-a801-76bb-bd8d-000000000000', {
      email: 'x@example.fr',
      firstName: 'X',
      lastName: 'Y',
      role: 'admin',
    });
    await expect(unknown).rejects.toThrow(/No such establishment/);
  });

  it('removing a member or ending their sessions takes effect at once (ASVS 7.4.2, 7.4.5)', async () => {
    const doctor = staffOf(h.data, 'practitioner');
    const d = h.client('198.51.100.47');
    await d.loginStaff(doctor.email, doctor.password, doctor.totpSecret);
    const ended = await officerClient.post(`${base()}/members/${doctor.userId}/sessions/revoke`);
    expect(ended.statusCode).toBe(200);
    expect(ended.json().revoked).toBeGreaterThanOrEqual(1);
    expect((await d.get('/api/v1/auth/me')).statusCode).toBe(401);
  });

  describe('API keys', () => {
    let key: string;
    let keyId: string;
    const doctorA = () => staffOf(h.data, 'practitioner').practitioner!.id;
    const doctorB = () => h.data.staff.filter((s) => s.practitioner && s.memberships.some((m) => m.establishmentId === eid))[1]!.practitioner!.id;

    it('creates a key (step-up), shows it once and stores only its hash', async () => {
      h.clock.advance(6 * 60_000);
      const body = { name: 'Agenda sync', scopes: [{ scope: 'agenda:read', practitionerIds: [doctorA()] }], allowedIps: ['198.51.100.0/24'] };
      expect((await adminClient.post(`${base()}/api-keys`, body)).json().code).toBe('step_up_required');
      await adminClient.stepUp(admin.totpSecret);
      const created = await adminClient.post(`${base()}/api-keys`, body);
      expect(created.statusCode).toBe(201);
      key = created.json().key;
      keyId = created.json().id;
      expect(key).toMatch(/^hyg_[A-Za-z0-9_-]{43}$/);
      const listed = await adminClient.get(`${base()}/api-keys`);
      expect(JSON.stringify(listed.json())).not.toContain(key);
      const row = await h.t.db.owner.selectFrom('api_keys').selectAll().where('id', '=', keyId).executeTakeFirstOrThrow();
      expect(row.key_hash.toString('hex')).not.toContain(Buffer.from(key).toString('hex'));
      expect(JSON.stringify(row)).not.toContain(key.slice(8));
      expect((await adminClient.post(`${base()}/api-keys`, { name: 'x', scopes: [{ scope: 'patients:export' }] })).statusCode).toBe(400);
    });

    const call = (ip: string, practitionerId: string, establishmentId = eid, k = key) =>
      h.app.inject({ method: 'GET', url: `/api/v1/establishments/${establishmentId}/probe-agenda?practitionerId=${practitionerId}`, remoteAddress: ip, headers: { authorization: `Bearer ${k}` } });

    it('works only within its scope (named practitioners) and establishment', async () => {
      expect((await call('198.51.100.60', doctorA())).statusCode).toBe(200);
      expect((await call('198.51.100.60', doctorB())).statusCode).toBe(403);
      expect((await call('198.51.100.60', doctorA(), h.data.establishments[1]!.id)).statusCode).toBe(404);
      const whoami = await h.app.inject({ method: 'GET', url: '/api/v1/auth/api-key', remoteAddress: '198.51.100.60', headers: { authorization: `Bearer ${key}` } });
      expect(whoami.json()).toEqual({ id: keyId, establishmentId: eid, scopes: ['agenda:read', `agenda:read@${doctorA()}`] });
      // A key is not a session: session-only routes refuse it.
      const me = await h.app.inject({ method: 'GET', url: '/api/v1/auth/me', remoteAddress: '198.51.100.60', headers: { authorization: `Bearer ${key}` } });
      expect(me.statusCode).toBe(401);
      const used = await h.t.db.owner.selectFrom('api_keys').select(['last_used_at', 'last_used_ip']).where('id', '=', keyId).executeTakeFirstOrThrow();
      expect(used.last_used_at).not.toBeNull();
      expect(used.last_used_ip).toBe('198.51.100.60');
    });

    it('works only from its allow-list, and not at all once revoked or expired', async () => {
      const outside = await call('203.0.113.5', doctorA());
      expect(outside.statusCode).toBe(401);
      expect((await call('198.51.100.60', doctorA(), eid, `hyg_${'A'.repeat(43)}`)).statusCode).toBe(401);
      const denied = await h.t.db.owner.selectFrom('audit_events').select('reason').where('action', '=', 'auth.api_key').where('outcome', '=', 'denied').execute();
      expect(denied.map((d) => d.reason)).toContain('ip_not_allowed');

      expect((await adminClient.delete(`${base()}/api-keys/${keyId}`)).statusCode).toBe(204);
      expect((await call('198.51.100.60', doctorA())).statusCode).toBe(401);

      await adminClient.stepUp(admin.totpSecret);
      const soon = await adminClient.post(`${base()}/api-keys`, { name: 'short', scopes: [{ scope: 'agenda:read' }], expiresAt: new Date(h.clock.now().getTime() + 3600_000).toISOString() });
      const shortKey = soon.json().key as string;
      expect((await call('203.0.113.5', doctorB(), eid, shortKey)).statusCode).toBe(200);
      h.clock.advance(3601_000);
      expect((await call('203.0.113.5', doctorB(), eid, shortKey)).statusCode).toBe(401);
    });
  });
});

// Logging in (ASVS 6.3.3, 6.3.8, 6.5.1, 11.4.2): staff need their second factor, a TOTP code works
// once, and an unknown e-mail is answered exactly like a wrong password.
import { accountIdByEmail } from './helpers/accounts.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, staffOf, type TestApp } from './helpers/app.js';

describe('login', () => {
  let h: TestApp;
  beforeAll(async () => {
    h = await createTestApp();
  });
  afterAll(async () => h?.close());

  it('staff need their second factor: the password alone opens no session (ASVS 6.3.3)', async () => {
    const doctor = staffOf(h.data, 'practitioner');
    const c = h.client();
    const first = await c.post('/api/v1/auth/login', { email: doctor.email, password: doctor.password });
    expect(first.statusCode).toBe(200);
    expect(first.json()).toMatchObject({ status: 'mfa_required', methods: expect.arrayContaining(['totp']) });
    expect(c.cookies.has('hygie_session')).toBe(false);
    expect((await c.get('/api/v1/auth/me')).statusCode).toBe(401);

    const bad = await c.post('/api/v1/auth/login/mfa', { challengeId: first.json().challengeId, code: '000000' });
    expect(bad.statusCode).toBe(401);
    expect(bad.json().code).toBe('invalid_code');

    const ok = await c.post('/api/v1/auth/login/mfa', { challengeId: first.json().challengeId, code: await c.nextCode(doctor.totpSecret) });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toEqual({ status: 'ok' });
    const me = await c.me();
    expect(me.statusCode).toBe(200);
    expect(me.json().user).toMatchObject({ email: doctor.email, memberships: [expect.objectContaining({ role: 'practitioner' })] });
    expect(me.json().csrfToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('sets the session cookie HttpOnly and SameSite=Strict, and stores only its hash (ASVS 3.3.x)', async () => {
    const doctor = staffOf(h.data, 'practitioner', 1);
    const c = h.client();
    const first = await c.post('/api/v1/auth/login', { email: doctor.email, password: doctor.password });
    const ok = await c.post('/api/v1/auth/login/mfa', { challengeId: first.json().challengeId, code: await c.nextCode(doctor.totpSecret) });
    const setCookie = ([] as string[]).concat(ok.headers['set-cookie'] as string | string[]);
    const session = setCookie.find((s) => s.startsWith('hygie_session='))!;
    expect(session).toMatch(/HttpOnly/);
    expect(session).toMatch(/SameSite=Strict/);
    expect(session).toMatch(/Path=\//);
    expect(session).not.toMatch(/Secure/); // http://localhost in this test; Secure behind https (below)
    const token = c.cookies.get('hygie_session')!;
    const stored = await h.t.db.owner.selectFrom('sessions').select('token_hash').execute();
    expect(stored.some((r) => r.token_hash.toString('utf8').includes(token))).toBe(false);
  });

  it('refuses a TOTP code that was already used, even within its 30 seconds (ASVS 6.5.1)', async () => {
    const secretary = staffOf(h.data, 'secretary');
    const c = h.client();
    const code = await c.nextCode(secretary.totpSecret);
    const a = await c.post('/api/v1/auth/login', { email: secretary.email, password: secretary.password });
    expect((await c.post('/api/v1/auth/login/mfa', { challengeId: a.json().challengeId, code })).statusCode).toBe(200);

    const thief = h.client('203.0.113.9');
    const b = await thief.post('/api/v1/auth/login', { email: secretary.email, password: secretary.password });
    const replay = await thief.post('/api/v1/auth/login/mfa', { challengeId: b.json().challengeId, code });
    expect(replay.statusCode).toBe(401);
    expect(replay.json().code).toBe('invalid_code');
    expect(thief.cookies.has('hygie_session')).toBe(false);
  });

  it('answers an unknown e-mail exactly like a wrong password, in comparable time (ASVS 6.3.8)', async () => {
    const doctor = staffOf(h.data, 'practitioner', 2);
    const strip = (body: Record<string, unknown>) => ({ ...body, requestId: undefined });
    const time = async (email: string) => {
      const started = process.hrtime.bigint();
      const res = await h.client(`192.0.2.${Math.floor(Math.random() * 200) + 1}`).post('/api/v1/auth/login', { email, password: 'not the right password at all' });
      return { res, ms: Number(process.hrtime.bigint() - started) / 1e6 };
    };
    const wrong = await time(doctor.email);
    const unknown = await time('nobody.here@demo.hygie.example');
    expect(unknown.res.statusCode).toBe(wrong.res.statusCode);
    expect(wrong.res.statusCode).toBe(401);
    expect(strip(unknown.res.json())).toEqual(strip(wrong.res.json()));
    expect(unknown.res.headers['content-type']).toBe(wrong.res.headers['content-type']);
    expect(Object.keys(unknown.res.headers).sort()).toEqual(Object.keys(wrong.res.headers).sort());
    expect(wrong.res.json().code).toBe('invalid_credentials');
    // Both paths run one argon2id verification; without the dummy hash an unknown e-mail would
    // answer tens of times faster. Medians of alternating samples resist a busy machine.
    const wrongMs: number[] = [];
    const unknownMs: number[] = [];
    for (let i = 0; i < 5; i++) {
      // Different accounts, so that no account reaches its throttling threshold here.
      wrongMs.push((await time(h.data.staff[10 + i]!.email)).ms);
      unknownMs.push((await time(`nobody${i}.here@demo.hygie.example`)).ms);
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const ratio = median(unknownMs) / median(wrongMs);
    expect(ratio).toBeGreaterThan(0.33);
    expect(ratio).toBeLessThan(3);
  });

  it('logs a patient without second factor straight in, and recovery codes replace a lost phone once each', async () => {
    const patient = h.data.patientAccounts[0]!;
    const c = h.client();
    expect((await c.loginPatient(patient.email, patient.password)).json()).toEqual({ status: 'ok' });
    expect((await c.me()).json().secondFactors).toMatchObject({ totp: false, passkeys: 0 });

    const setup = await c.post('/api/v1/auth/mfa/totp/setup');
    expect(setup.statusCode).toBe(200);
    expect(setup.json().otpauthUrl).toMatch(/^otpauth:\/\/totp\//);
    const confirm = await c.post('/api/v1/auth/mfa/totp/confirm', { code: await c.nextCode(setup.json().secret) });
    expect(confirm.statusCode).toBe(200);
    const codes: string[] = confirm.json().recoveryCodes;
    expect(codes).toHaveLength(10);
    const stored = await h.t.db.owner.selectFrom('users').select('totp_secret').where('id', '=', await accountIdByEmail(h.t.db, h.t.vault, patient.email)).executeTakeFirstOrThrow();
    expect(stored.totp_secret).not.toContain(setup.json().secret);

    const other = h.client('192.0.2.50');
    const first = await other.post('/api/v1/auth/login', { email: patient.email, password: patient.password });
    expect(first.json()).toMatchObject({ status: 'mfa_required', methods: ['totp', 'recovery_code'] });
    expect((await other.post('/api/v1/auth/login/mfa', { challengeId: first.json().challengeId, code: codes[0] })).statusCode).toBe(200);
    const again = await h.client('192.0.2.51').post('/api/v1/auth/login', { email: patient.email, password: patient.password });
    const reused = await h.client('192.0.2.51').post('/api/v1/auth/login/mfa', { challengeId: again.json().challengeId, code: codes[0] });
    expect(reused.statusCode).toBe(401);
  });

  it('records failed and successful logins in the audit log', async () => {
    const rows = await h.t.db.owner.selectFrom('audit_events').select(['action', 'outcome', 'reason']).where('action', '=', 'auth.login').execute();
    expect(rows.some((r) => r.outcome === 'failed' && r.reason === 'unknown_email')).toBe(true);
    expect(rows.some((r) => r.outcome === 'failed' && r.reason === 'wrong_password')).toBe(true);
    expect(rows.some((r) => r.outcome === 'allowed')).toBe(true);
  });

  it('answers a malformed body with 400 invalid_request, never 500', async () => {
    const res = await h.client().post('/api/v1/auth/login', { email: 'x@y.z', password: 'p', admin: true });
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe('invalid_request');
  });
});

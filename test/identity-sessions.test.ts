// Sessions (ASVS 7.3.x, 7.4.x, 3.3.x, 6.3.5): idle and absolute expiry on an injected clock, a
// revoked session refused on the next request, the CSRF token required on unsafe requests, and a
// new device or IP recorded and shown.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { buildApp } from '../src/app.js';
import { createLogger } from '../src/platform/log.js';
import { createTestApp, staffOf, type TestApp } from './helpers/app.js';
import { testConfig } from './helpers/db.js';

describe('sessions', () => {
  let h: TestApp;
  beforeAll(async () => {
    h = await createTestApp();
  });
  afterAll(async () => h?.close());

  it('a staff session ends after 30 idle minutes, and activity keeps it alive (ASVS 7.3.1)', async () => {
    const doctor = staffOf(h.data, 'practitioner');
    const c = h.client();
    expect((await c.loginStaff(doctor.email, doctor.password, doctor.totpSecret)).statusCode).toBe(200);
    h.clock.advance(29 * 60_000);
    expect((await c.get('/api/v1/auth/me')).statusCode).toBe(200);
    h.clock.advance(29 * 60_000);
    expect((await c.get('/api/v1/auth/me')).statusCode).toBe(200);
    h.clock.advance(30 * 60_000);
    const res = await c.get('/api/v1/auth/me');
    expect(res.statusCode).toBe(401);
    expect(res.json().code).toBe('unauthenticated');
  });

  it('a staff session ends after 12 hours however busy (ASVS 7.3.2)', async () => {
    const doctor = staffOf(h.data, 'practitioner', 1);
    const c = h.client();
    await c.loginStaff(doctor.email, doctor.password, doctor.totpSecret);
    for (let i = 0; i < 24; i++) {
      h.clock.advance(25 * 60_000);
      if (i < 23) expect((await c.get('/api/v1/auth/me')).statusCode).toBe(200);
    }
    h.clock.advance(25 * 60_000);
    expect((await c.get('/api/v1/auth/me')).statusCode).toBe(401);
  });

  it('a patient session survives a quiet day', async () => {
    const patient = h.data.patientAccounts[1]!;
    const c = h.client();
    await c.loginPatient(patient.email, patient.password);
    h.clock.advance(24 * 3600_000);
    expect((await c.get('/api/v1/auth/me')).statusCode).toBe(200);
  });

  it('refuses a revoked session on the very next request, and lists only live sessions of the user (ASVS 7.4.x)', async () => {
    const secretary = staffOf(h.data, 'secretary');
    const laptop = h.client('198.51.100.20');
    const phone = h.client('198.51.100.21');
    await laptop.loginStaff(secretary.email, secretary.password, secretary.totpSecret);
    await phone.loginStaff(secretary.email, secretary.password, secretary.totpSecret);
    const list = await laptop.get('/api/v1/auth/sessions');
    expect(list.statusCode).toBe(200);
    const items = list.json().items as Array<{ id: string; current: boolean }>;
    expect(items.length).toBeGreaterThanOrEqual(2);
    const phoneSession = (await phone.me()).json().session.id as string;
    expect(items.find((s) => s.id === phoneSession)?.current).toBe(false);

    const del = await laptop.delete(`/api/v1/auth/sessions/${phoneSession}`);
    expect(del.statusCode).toBe(204);
    expect((await phone.get('/api/v1/auth/me')).statusCode).toBe(401);
    expect((await laptop.get('/api/v1/auth/me')).statusCode).toBe(200);

    // Another user's session id is not found, and stays alive.
    const other = staffOf(h.data, 'secretary', 1);
    const stranger = h.client('198.51.100.22');
    await stranger.loginStaff(other.email, other.password, other.totpSecret);
    const strangerSession = (await stranger.me()).json().session.id as string;
    expect((await laptop.delete(`/api/v1/auth/sessions/${strangerSession}`)).statusCode).toBe(404);
    expect((await stranger.get('/api/v1/auth/me')).statusCode).toBe(200);

    const out = await laptop.post('/api/v1/auth/logout');
    expect(out.statusCode).toBe(204);
    expect(laptop.cookies.has('hygie_session')).toBe(false);
  });

  it('requires the CSRF token on unsafe cookie-authenticated requests (403 csrf_failed)', async () => {
    const patient = h.data.patientAccounts[2]!;
    const c = h.client();
    await c.loginPatient(patient.email, patient.password);
    const token = c.csrfToken!;
    c.csrfToken = undefined;
    const missing = await c.post('/api/v1/auth/mfa/totp/setup');
    expect(missing.statusCode).toBe(403);
    expect(missing.json().code).toBe('csrf_failed');
    const wrong = await c.post('/api/v1/auth/mfa/totp/setup', {}, { 'x-csrf-token': `${token.slice(0, -2)}xx` });
    expect(wrong.json().code).toBe('csrf_failed');
    expect((await c.post('/api/v1/auth/logout')).statusCode).toBe(403);
    // Safe methods need none; with the token the same request works.
    expect((await c.get('/api/v1/auth/sessions')).statusCode).toBe(200);
    c.csrfToken = token;
    expect((await c.post('/api/v1/auth/mfa/totp/setup')).statusCode).toBe(200);
  });

  it('records a staff login from a new device or IP, shows it, and e-mails the user (ASVS 6.3.5)', async () => {
    const admin = staffOf(h.data, 'admin', 2);
    const usual = h.client('198.51.100.30');
    await usual.loginStaff(admin.email, admin.password, admin.totpSecret);
    const first = (await usual.get('/api/v1/auth/sessions')).json().items[0];
    expect(first).toMatchObject({ current: true, newDevice: true, newIp: true, ip: '198.51.100.30' });
    const mail = await h.lastMail(admin.email);
    expect(mail?.subject).toBe('Nouvelle connexion à votre compte Hygie');
    expect(mail?.text).toContain('198.51.100.30');

    // Same device, same IP: nothing new.
    await usual.post('/api/v1/auth/logout');
    await usual.loginStaff(admin.email, admin.password, admin.totpSecret);
    const again = (await usual.get('/api/v1/auth/sessions')).json().items.find((s: { current: boolean }) => s.current);
    expect(again).toMatchObject({ newDevice: false, newIp: false });

    const elsewhere = h.client('203.0.113.77');
    await elsewhere.loginStaff(admin.email, admin.password, admin.totpSecret);
    const seen = (await usual.get('/api/v1/auth/sessions')).json().items.find((s: { ip: string }) => s.ip === '203.0.113.77');
    expect(seen).toMatchObject({ newDevice: true, newIp: true });
  });

  it('sets Secure on cookies when the public URL is https', async () => {
    // A second instance over the same database, configured for https.
    const config = testConfig({ HYGIE_PUBLIC_URL: 'https://rdv.example.fr' });
    const app = await buildApp({ config, db: h.t.db, vault: h.t.vault, logger: createLogger('silent'), identityKey: randomBytes(32) });
    try {
      const patient = h.data.patientAccounts[3]!;
      const res = await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: patient.email, password: patient.password } });
      const cookies = ([] as string[]).concat(res.headers['set-cookie'] as string[]);
      expect(cookies).toHaveLength(2);
      expect(cookies.every((c) => /; Secure/.test(c) && /HttpOnly/.test(c) && /SameSite=Strict/.test(c))).toBe(true);
    } finally {
      await app.close();
    }
  });
});

// Sign-up and password reset (ASVS 6.3.8, 6.4.3, 6.2.12): no enumeration, single-use reset links
// that expire in 30 minutes, revoke every session and never bypass the second factor.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, staffOf, type TestApp } from './helpers/app.js';

const tokenIn = (text: string | undefined) => /#token=([A-Za-z0-9_-]+)/.exec(text ?? '')?.[1];

describe('accounts', () => {
  let h: TestApp;
  beforeAll(async () => {
    h = await createTestApp();
  });
  afterAll(async () => h?.close());

  it('signs a patient up, answering the same for an e-mail that already has an account (ASVS 6.3.8)', async () => {
    const body = { email: 'Lea.Fontaine@Example.fr', password: 'renard argenté dans la neige', firstName: 'Léa', lastName: 'Fontaine', birthDate: '1990-04-12' };
    const fresh = await h.client('192.0.2.10').post('/api/v1/auth/signup', body);
    const existing = await h.client('192.0.2.11').post('/api/v1/auth/signup', { ...body, email: h.data.patientAccounts[5]!.email });
    expect(fresh.statusCode).toBe(201);
    expect(existing.statusCode).toBe(201);
    expect(existing.json()).toEqual(fresh.json());

    const welcome = await h.lastMail('lea.fontaine@example.fr');
    expect(welcome?.subject).toBe('Confirmez votre adresse e-mail');
    expect((await h.lastMail(h.data.patientAccounts[5]!.email))?.subject).toBe('Vous avez déjà un compte Hygie');

    const c = h.client('192.0.2.10');
    await c.loginPatient('lea.fontaine@example.fr', body.password);
    expect((await c.me()).json().user.emailVerified).toBe(false);
    expect((await c.post('/api/v1/auth/email/verify', { token: tokenIn(welcome?.text) })).statusCode).toBe(200);
    expect((await c.me()).json().user.emailVerified).toBe(true);
    expect((await c.post('/api/v1/auth/email/verify', { token: tokenIn(welcome?.text) })).statusCode).toBe(400);
  });

  it('refuses short, breached and self-derived passwords at sign-up (ASVS 6.2.12)', async () => {
    const base = { email: 'marc.petit@example.fr', firstName: 'Marc', lastName: 'Petit', birthDate: '1985-01-01' };
    for (const [password, reason] of [
      ['court', 'too_short'],
      ['motdepasse123', 'common'],
      ['marcpetit1985!', 'personal'],
    ] as const) {
      const res = await h.client(`192.0.2.${20 + password.length}`).post('/api/v1/auth/signup', { ...base, password });
      expect(res.statusCode).toBe(400);
      expect(res.json().code).toBe('invalid_request');
      expect(res.json().errors[0].field).toBe('body.password');
      expect([reason, 'weak']).toContain(res.json().reason);
    }
  });

  it('answers a reset request the same whether the e-mail exists or not', async () => {
    const known = await h.client('192.0.2.30').post('/api/v1/auth/password/forgot', { email: h.data.patientAccounts[6]!.email });
    const unknown = await h.client('192.0.2.31').post('/api/v1/auth/password/forgot', { email: 'personne@example.fr' });
    expect(known.statusCode).toBe(202);
    expect(unknown.statusCode).toBe(202);
    expect(unknown.json()).toEqual(known.json());
    expect((await h.lastMail(h.data.patientAccounts[6]!.email))?.subject).toBe('Réinitialisation de votre mot de passe');
    expect(await h.lastMail('personne@example.fr')).toBeUndefined();
  });

  it('resets a password once, revokes every session, and still asks for the second factor (ASVS 6.4.3)', async () => {
    const doctor = staffOf(h.data, 'practitioner');
    const session = h.client('198.51.100.90');
    await session.loginStaff(doctor.email, doctor.password, doctor.totpSecret);

    await h.client('198.51.100.91').post('/api/v1/auth/password/forgot', { email: doctor.email });
    const token = tokenIn((await h.lastMail(doctor.email))?.text)!;
    expect(token).toBeDefined();
    const newPassword = 'hirondelle bleue sur le toit';
    const reset = await h.client('198.51.100.91').post('/api/v1/auth/password/reset', { token, password: newPassword });
    expect(reset.statusCode).toBe(200);
    expect(reset.json()).toEqual({ status: 'ok' });
    // No session from a reset, and the old ones are gone.
    expect(reset.headers['set-cookie']).toBeUndefined();
    expect((await h.lastMail(doctor.email))?.subject).toBe('Votre mot de passe a été changé');
    expect((await session.get('/api/v1/auth/me')).statusCode).toBe(401);
    // Single use.
    expect((await h.client('198.51.100.91').post('/api/v1/auth/password/reset', { token, password: 'un autre mot de passe solide' })).statusCode).toBe(400);
    // The new password still needs the second factor.
    const c = h.client('198.51.100.92');
    const login = await c.post('/api/v1/auth/login', { email: doctor.email, password: newPassword });
    expect(login.json().status).toBe('mfa_required');
    expect(c.cookies.has('hygie_session')).toBe(false);
    expect((await c.loginStaff(doctor.email, newPassword, doctor.totpSecret)).statusCode).toBe(200);
  });

  it('expires a reset link after 30 minutes, and only the newest link works', async () => {
    const patient = h.data.patientAccounts[7]!;
    await h.client('192.0.2.40').post('/api/v1/auth/password/forgot', { email: patient.email });
    const older = tokenIn((await h.lastMail(patient.email))?.text)!;
    await h.client('192.0.2.40').post('/api/v1/auth/password/forgot', { email: patient.email });
    const newer = tokenIn((await h.lastMail(patient.email))?.text)!;
    expect(newer).not.toBe(older);
    expect((await h.client('192.0.2.40').post('/api/v1/auth/password/reset', { token: older, password: 'cerf-volant rouge au vent' })).statusCode).toBe(400);
    h.clock.advance(31 * 60_000);
    const late = await h.client('192.0.2.40').post('/api/v1/auth/password/reset', { token: newer, password: 'cerf-volant rouge au vent' });
    expect(late.statusCode).toBe(400);
    expect(late.json().code).toBe('invalid_request');
    // The old password still works.
    expect((await h.client('192.0.2.41').loginPatient(patient.email, patient.password)).statusCode).toBe(200);
  });
});

// Throttling without lock-out abuse (ASVS 6.1.1, 6.3.1): guesses get 429 + Retry-After with
// growing delays, and an attacker hammering a victim's e-mail does not keep the victim, on their
// usual device, from logging in with password and second factor.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, staffOf, type TestApp } from './helpers/app.js';

describe('login throttling', () => {
  let h: TestApp;
  beforeAll(async () => {
    h = await createTestApp();
  });
  afterAll(async () => h?.close());

  it('answers 429 with Retry-After once an account is hammered, whether or not it exists', async () => {
    for (const email of [staffOf(h.data, 'practitioner').email, 'ghost.account@demo.hygie.example']) {
      const attacker = h.client('203.0.113.10');
      const statuses: number[] = [];
      let limited;
      for (let i = 0; i < 8; i++) {
        const res = await attacker.post('/api/v1/auth/login', { email, password: `guess number ${i} of many` });
        statuses.push(res.statusCode);
        if (res.statusCode === 429) limited ??= res;
      }
      expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
      expect(statuses.slice(5)).toEqual([429, 429, 429]);
      expect(limited!.json().code).toBe('rate_limited');
      expect(Number(limited!.headers['retry-after'])).toBeGreaterThanOrEqual(30);
      expect(Number(limited!.headers['retry-after'])).toBeLessThanOrEqual(15 * 60);
    }
  });

  it('keeps letting the victim in from their usual device while the attacker is locked out', async () => {
    const victim = staffOf(h.data, 'secretary', 1);
    const usual = h.client('198.51.100.80');
    // The victim has logged in from this browser before: it holds a device cookie known for the account.
    expect((await usual.loginStaff(victim.email, victim.password, victim.totpSecret)).statusCode).toBe(200);
    await usual.post('/api/v1/auth/logout');

    const attacker = h.client('203.0.113.11');
    for (let i = 0; i < 30; i++) await attacker.post('/api/v1/auth/login', { email: victim.email, password: `try ${i} again and again` });
    const blocked = await attacker.post('/api/v1/auth/login', { email: victim.email, password: victim.password });
    // Locked out even with the right password: the answer says nothing about it being right.
    expect(blocked.statusCode).toBe(429);

    const back = await usual.loginStaff(victim.email, victim.password, victim.totpSecret);
    expect(back.statusCode).toBe(200);
    expect((await usual.get('/api/v1/auth/me')).statusCode).toBe(200);
  });

  it('limits one IP guessing many accounts (credential stuffing), whatever X-Forwarded-For it claims (ASVS 4.1.3)', async () => {
    const stuffer = h.client('203.0.113.12');
    const statuses: number[] = [];
    for (let i = 0; i < 35; i++) {
      // No proxy is trusted here: a forged X-Forwarded-For must not give each guess a new IP.
      const res = await stuffer.post('/api/v1/auth/login', { email: `victim${i}@patients.hygie.example`, password: 'Password123!' }, { 'x-forwarded-for': `10.9.${i}.1` });
      statuses.push(res.statusCode);
    }
    expect(statuses.slice(0, 30).every((s) => s === 401)).toBe(true);
    expect(statuses.slice(30).every((s) => s === 429)).toBe(true);
    // Someone else, elsewhere, is not affected.
    const patient = h.data.patientAccounts[4]!;
    expect((await h.client('198.51.100.81').loginPatient(patient.email, patient.password)).statusCode).toBe(200);
  });

  it('limits second-factor guesses per user after the password', async () => {
    const doctor = staffOf(h.data, 'practitioner', 2);
    const c = h.client('203.0.113.13');
    const codes: number[] = [];
    for (let round = 0; round < 3; round++) {
      const first = await c.post('/api/v1/auth/login', { email: doctor.email, password: doctor.password });
      if (first.statusCode !== 200) {
        codes.push(first.statusCode);
        continue;
      }
      for (let i = 0; i < 3; i++) codes.push((await c.post('/api/v1/auth/login/mfa', { challengeId: first.json().challengeId, code: String(100000 + round * 10 + i) })).statusCode);
    }
    expect(codes.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    expect(codes).toContain(429);
  });
});

// The web application's flows that need the identity, scheduling and audit endpoints, played
// against stand-ins of those endpoints shaped as /work/shared/API.md says (the real modules are
// built in parallel): login with TOTP, generic problem handling (step-up, containment, rate
// limit), "Mes rendez-vous" and "Qui a consulté mes données", with axe on each page and dialog.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page, Request } from 'playwright-core';
import { hasChromium } from '../helpers/browser.js';
import {
  DESKTOP,
  PATIENT,
  PHONE,
  PRACTITIONER,
  json,
  openPage,
  overflowsHorizontally,
  problem,
  screenshot,
  seriousAxeViolations,
  signedInAs,
  startWebHarness,
  type WebHarness,
} from '../helpers/web.js';

async function expectAccessible(page: Page, name: string): Promise<void> {
  expect(await seriousAxeViolations(page), `axe on ${name}`).toEqual([]);
}

const APPOINTMENT = {
  id: '0190f0a0-0000-7000-8000-0000000000a1',
  status: 'confirmed',
  start: '2026-11-24T08:30:00Z',
  end: '2026-11-24T08:50:00Z',
  practitioner: { id: '0190f0a0-0000-7000-8000-0000000000p1', name: 'Dr Martin', specialty: 'Cardiologie' },
  establishment: { id: '0190f0a0-0000-7000-8000-0000000000e1', name: 'Clinique X', city: 'Lyon', postalCode: '69003' },
  motive: { label: 'Première consultation' },
};

const ACCESS_LOG = [
  { at: '2026-11-20T13:02:00Z', actor: { name: 'Dr Martin', role: 'practitioner', specialty: 'cardiologue' }, establishment: 'Clinique X', action: 'record.read' },
  {
    at: '2026-11-18T22:40:00Z',
    actor: { name: 'Dr Bernard', role: 'practitioner', specialty: 'urgentiste' },
    establishment: { name: 'Hôpital Saint-Roch' },
    action: 'break_glass',
    reason: 'Patient inconscient aux urgences',
  },
];

describe.skipIf(!hasChromium)('web application: flows over API stand-ins', () => {
  let h: WebHarness;

  beforeAll(async () => {
    h = await startWebHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  it('logs a practitioner in with password then TOTP, lands on the staff workspace, and logs out with the CSRF token', async () => {
    const { page, cspViolations, pageErrors, close } = await openPage(h.browser);
    let me: unknown;
    const urls: string[] = [];
    const bodies: Record<string, unknown> = {};
    let logoutCsrf: string | undefined;
    page.on('request', (r) => urls.push(r.url()));
    await page.route('**/api/v1/auth/me', (route) => (me ? json(route, 200, me) : json(route, 401, problem(401, 'unauthenticated'))));
    await page.route('**/api/v1/auth/login', (route) => {
      bodies['login'] = route.request().postDataJSON();
      return json(route, 200, { status: 'mfa_required', challengeId: 'challenge-1', methods: ['totp', 'webauthn'] });
    });
    await page.route('**/api/v1/auth/login/mfa', (route) => {
      bodies['mfa'] = route.request().postDataJSON();
      me = PRACTITIONER;
      return json(route, 200, { status: 'ok' });
    });
    await page.route('**/api/v1/auth/logout', (route) => {
      logoutCsrf = route.request().headers()['x-csrf-token'];
      me = undefined;
      return json(route, 200, { status: 'ok' });
    });

    await page.goto(`${h.url}/connexion`);
    await page.fill('#login-email', 'dr.martin@example.fr');
    await page.fill('#login-password', 'correct horse battery staple');
    await page.click('[data-testid="login-form"] button[type="submit"]');
    await page.waitForSelector('[data-testid="mfa-form"]');
    expect(bodies['login']).toEqual({ email: 'dr.martin@example.fr', password: 'correct horse battery staple' });
    expect(await page.textContent('h1')).toBe('Vérification en deux étapes');
    expect(await page.getAttribute('#login-code', 'autocomplete')).toBe('one-time-code');
    expect(await page.locator('[data-testid="passkey-login"]').count()).toBe(1);
    await expectAccessible(page, 'login, TOTP step');
    await screenshot(page, 'login-mfa-desktop');
    await page.fill('#login-code', '123456');
    await page.keyboard.press('Enter');
    await page.waitForURL(`${h.url}/pro`);
    expect(bodies['mfa']).toEqual({ challengeId: 'challenge-1', code: '123456' });
    await page.waitForSelector('[data-testid="memberships"]');
    expect(await page.textContent('[data-testid="memberships"]')).toContain('praticien');
    expect(await page.textContent('[data-testid="account-name"]')).toBe('Connecté en tant que Jean Martin');
    expect(await page.locator('nav a[href="/pro"]').count()).toBe(1);
    await expectAccessible(page, 'staff workspace');
    await screenshot(page, 'staff-desktop');

    await page.click('header button:text("Se déconnecter")');
    await page.waitForSelector('[data-testid="login-link"]');
    expect(logoutCsrf).toBe(PRACTITIONER.csrfToken);
    // No personal data travelled in a URL.
    expect(urls.filter((u) => /martin|horse|123456/i.test(u))).toEqual([]);
    expect(cspViolations).toEqual([]);
    expect(pageErrors).toEqual([]);
    await close();
  });

  it('comes back to the page that asked for a login, and offers the login again when the session expires', async () => {
    const { page, close } = await openPage(h.browser);
    let me: unknown;
    await page.route('**/api/v1/auth/me', (route) => (me ? json(route, 200, me) : json(route, 401, problem(401, 'unauthenticated'))));
    await page.route('**/api/v1/auth/login', (route) => {
      me = PATIENT;
      return json(route, 200, { status: 'ok' });
    });
    await page.route('**/api/v1/me/access-log*', (route) =>
      me ? json(route, 200, { items: ACCESS_LOG, nextCursor: 'page-2' }) : json(route, 401, problem(401, 'unauthenticated')),
    );
    await page.goto(`${h.url}/mes-acces`);
    await page.click('[data-testid="login-required"] a');
    await page.fill('#login-email', 'camille.durand@example.fr');
    await page.fill('#login-password', 'correct horse battery staple');
    await page.keyboard.press('Enter');
    await page.waitForURL(`${h.url}/mes-acces`);
    await page.waitForSelector('[data-testid="access-log"]');
    // The session ends on the server (idle timeout, revoked elsewhere): the next call is a 401.
    me = undefined;
    await page.click('button:text("Afficher les accès plus anciens")');
    await page.waitForSelector('[data-testid="login-required"]');
    expect(await page.locator('[data-testid="login-link"]').count()).toBe(1);
    await close();
  });

  it('logs in with a passkey from Chrome\'s virtual authenticator, sending back the flow fields of the options', async () => {
    const { page, close } = await openPage(h.browser);
    // WebAuthn refuses IP addresses as relying party ids: use the localhost name of the same server.
    const origin = h.url.replace('127.0.0.1', 'localhost');
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('WebAuthn.enable');
    const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
    });
    const credentialId = randomBytes(16);
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    await cdp.send('WebAuthn.addCredential', {
      authenticatorId,
      credential: {
        credentialId: credentialId.toString('base64'),
        isResidentCredential: true,
        rpId: 'localhost',
        privateKey: privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64'),
        userHandle: Buffer.from(PRACTITIONER.user.id).toString('base64'),
        signCount: 0,
      },
    });
    const challenge = randomBytes(32).toString('base64url');
    let me: unknown;
    let verifyBody: { flowId?: string; response?: { id: string; type: string; response: { clientDataJSON: string; authenticatorData: string; signature: string } } } | undefined;
    await page.route('**/api/v1/auth/me', (route) => (me ? json(route, 200, me) : json(route, 401, problem(401, 'unauthenticated'))));
    await page.route('**/api/v1/auth/webauthn/login/options', (route) =>
      json(route, 200, { flowId: 'flow-1', options: { challenge, rpId: 'localhost', allowCredentials: [], userVerification: 'required', timeout: 60_000 } }),
    );
    await page.route('**/api/v1/auth/webauthn/login/verify', (route) => {
      verifyBody = route.request().postDataJSON();
      me = PRACTITIONER;
      return json(route, 200, { status: 'ok' });
    });
    await page.goto(`${origin}/connexion`);
    await page.click('[data-testid="passkey-login"]');
    await page.waitForURL(`${origin}/pro`);
    expect(verifyBody?.flowId).toBe('flow-1');
    expect(verifyBody?.response?.id).toBe(credentialId.toString('base64url'));
    expect(verifyBody?.response?.type).toBe('public-key');
    const clientData = JSON.parse(Buffer.from(verifyBody?.response?.response.clientDataJSON ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
    expect(clientData).toMatchObject({ type: 'webauthn.get', challenge, origin });
    expect(verifyBody?.response?.response.signature).toBeTruthy();
    await page.waitForSelector('[data-testid="memberships"]');
    await close();
  });

  it('tells a wrong password apart from a rate limit (saying when to retry) and from a contained account', async () => {
    const { page, close } = await openPage(h.browser);
    await signedInAs(page, undefined);
    let calls = 0;
    await page.route('**/api/v1/auth/login', (route) => {
      calls += 1;
      if (calls === 1) return json(route, 401, problem(401, 'invalid_credentials'));
      if (calls === 2) return json(route, 429, problem(429, 'rate_limited'), { 'Retry-After': '30' });
      return json(route, 423, problem(423, 'account_contained'));
    });
    await page.goto(`${h.url}/connexion`);
    await page.fill('#login-email', 'camille.durand@example.fr');
    await page.fill('#login-password', 'wrong');
    await page.click('[data-testid="login-form"] button[type="submit"]');
    await page.waitForSelector('[role="alert"]:has-text("Adresse e-mail ou mot de passe incorrect.")');
    await page.click('[data-testid="login-form"] button[type="submit"]');
    const alert = await page.waitForSelector('[role="alert"]:has-text("Trop de tentatives")');
    expect(await alert.textContent()).toMatch(/^Trop de tentatives\. Réessayez dans 30 secondes \(à \d\d:\d\d\)\.$/);
    await expectAccessible(page, 'login with an error');
    // A contained account is told so at login, not given a generic failure.
    await page.click('[data-testid="login-form"] button[type="submit"]');
    await page.waitForSelector('[data-testid="contained"]');
    expect(await page.textContent('h1')).toBe('Compte suspendu par sécurité');
    await close();
  });

  it('shows "Qui a consulté mes données" as plain sentences, pages through it, and passes axe at 1280 and 360 px', async () => {
    for (const viewport of [DESKTOP, PHONE]) {
      const { page, close } = await openPage(h.browser, viewport);
      await signedInAs(page, PATIENT);
      const requested: string[] = [];
      await page.route('**/api/v1/me/access-log*', (route) => {
        const url = new URL(route.request().url());
        requested.push(url.search);
        return url.searchParams.get('cursor') === 'page-2'
          ? json(route, 200, { items: [{ ...ACCESS_LOG[0], at: '2026-10-02T07:15:00Z', actor: { name: 'M. Petit', role: 'secretary' }, action: 'patient.read' }], nextCursor: null })
          : json(route, 200, { items: ACCESS_LOG, nextCursor: 'page-2' });
      });
      await page.goto(`${h.url}/mes-acces`);
      await page.waitForSelector('[data-testid="access-log"]');
      const lines = await page.locator('[data-testid="access-log"] > li > p:first-child').allTextContents();
      expect(lines).toEqual([
        'Dr Martin, cardiologue, Clinique X — consultation du dossier — 20 nov. 2026 14:02',
        'Dr Bernard, urgentiste, Hôpital Saint-Roch — accès d’urgence au dossier — 18 nov. 2026 23:40',
      ]);
      expect(await page.textContent('[data-testid="access-log"]')).toContain('Motif déclaré : Patient inconscient aux urgences');
      expect(await overflowsHorizontally(page)).toBe(false);
      await expectAccessible(page, `access log (${viewport.width} px)`);
      await screenshot(page, `access-log-${viewport === DESKTOP ? 'desktop' : 'phone'}`);
      await page.click('button:text("Afficher les accès plus anciens")');
      await page.waitForSelector('[data-testid="access-log"] > li:nth-child(3)');
      expect(await page.locator('[data-testid="access-log"] > li:nth-child(3) > p').first().textContent()).toBe(
        'M. Petit, secrétariat médical, Clinique X — consultation du dossier administratif — 2 oct. 2026 09:15',
      );
      expect(requested).toEqual(['', '?cursor=page-2']);
      await close();
    }
  });

  it('cancels an appointment through a step-up dialog, replaying the request with the CSRF token', async () => {
    const { page, cspViolations, close } = await openPage(h.browser);
    await signedInAs(page, PATIENT);
    let appointment = APPOINTMENT;
    const cancelCalls: Request[] = [];
    let stepUp: Request | undefined;
    await page.route('**/api/v1/me/appointments*', (route) => json(route, 200, { items: [appointment], nextCursor: null }));
    await page.route(`**/api/v1/appointments/${APPOINTMENT.id}/cancel`, (route) => {
      cancelCalls.push(route.request());
      if (!stepUp) return json(route, 401, problem(401, 'step_up_required'));
      appointment = { ...APPOINTMENT, status: 'cancelled' };
      return json(route, 200, appointment);
    });
    await page.route('**/api/v1/auth/step-up', (route) => {
      stepUp = route.request();
      return json(route, 200, { status: 'ok' });
    });

    await page.goto(`${h.url}/mes-rendez-vous`);
    await page.waitForSelector('[data-testid="appointments"]');
    expect(await page.textContent('[data-testid="appointments"] h2')).toBe('mardi 24 novembre 2026 à 09:30');
    expect(await page.getAttribute('[data-testid="appointments"] a[download]', 'href')).toBe(`/api/v1/appointments/${APPOINTMENT.id}/ics`);
    await expectAccessible(page, 'appointments');
    await screenshot(page, 'appointments-desktop');
    await page.setViewportSize(PHONE);
    expect(await overflowsHorizontally(page)).toBe(false);
    await screenshot(page, 'appointments-phone');
    await page.setViewportSize(DESKTOP);

    await page.click('button:text("Annuler ce rendez-vous")');
    await page.waitForSelector('dialog[open]:has-text("Annuler le rendez-vous du mardi 24 novembre 2026 à 09:30 ?")');
    await page.click('dialog[open] button:text("Oui, annuler")');
    await page.waitForSelector('[data-testid="step-up-dialog"][open]');
    // The modal dialog holds the focus on its code field.
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('step-up-code');
    await expectAccessible(page, 'step-up dialog');
    await screenshot(page, 'step-up-desktop');
    await page.keyboard.type('654321');
    await page.keyboard.press('Enter');
    await page.waitForSelector('[role="status"]:text("Le rendez-vous a été annulé.")');
    await page.waitForSelector('.badge--cancelled');
    expect(stepUp?.postDataJSON()).toEqual({ code: '654321' });
    expect(stepUp?.headers()['x-csrf-token']).toBe(PATIENT.csrfToken);
    expect(cancelCalls).toHaveLength(2);
    expect(cancelCalls.map((r) => r.headers()['x-csrf-token'])).toEqual([PATIENT.csrfToken, PATIENT.csrfToken]);
    expect(cspViolations).toEqual([]);
    await close();
  });

  it('renews a stale CSRF token once and replays the request', async () => {
    const { page, close } = await openPage(h.browser);
    let meCalls = 0;
    const tokens: Array<string | undefined> = [];
    await page.route('**/api/v1/auth/me', (route) => {
      meCalls += 1;
      return json(route, 200, { ...PATIENT, csrfToken: meCalls === 1 ? 'stale-token' : 'fresh-token' });
    });
    await page.route('**/api/v1/me/appointments*', (route) => json(route, 200, { items: [APPOINTMENT], nextCursor: null }));
    await page.route(`**/api/v1/appointments/${APPOINTMENT.id}/cancel`, (route) => {
      const token = route.request().headers()['x-csrf-token'];
      tokens.push(token);
      return token === 'fresh-token' ? json(route, 200, { ...APPOINTMENT, status: 'cancelled' }) : json(route, 403, problem(403, 'csrf_failed'));
    });
    await page.goto(`${h.url}/mes-rendez-vous`);
    await page.click('button:text("Annuler ce rendez-vous")');
    await page.click('dialog[open] button:text("Oui, annuler")');
    await page.waitForSelector('[role="status"]:text("Le rendez-vous a été annulé.")');
    expect(tokens).toEqual(['stale-token', 'fresh-token']);
    await close();
  });

  it('shows the contained-account screen when the API answers account_contained, and forgets the session', async () => {
    for (const viewport of [DESKTOP, PHONE]) {
      const { page, close } = await openPage(h.browser, viewport);
      await signedInAs(page, PATIENT);
      await page.route('**/api/v1/me/access-log*', (route) => json(route, 423, problem(423, 'account_contained')));
      await page.goto(`${h.url}/mes-acces`);
      await page.waitForSelector('[data-testid="contained"]');
      expect(await page.textContent('h1')).toBe('Compte suspendu par sécurité');
      expect(await page.locator('[data-testid="account-name"]').count()).toBe(0);
      expect(await page.locator('[data-testid="login-link"]').count()).toBe(1);
      expect(await overflowsHorizontally(page)).toBe(false);
      await expectAccessible(page, `contained (${viewport.width} px)`);
      await screenshot(page, `contained-${viewport === DESKTOP ? 'desktop' : 'phone'}`);
      await close();
    }
  });

  it('renders the staff workspace, the not-found page and a search with results, accessible at 360 px', async () => {
    const { page, close } = await openPage(h.browser, PHONE);
    await signedInAs(page, PRACTITIONER);
    await page.route('**/api/v1/search/practitioners*', (route) =>
      json(route, 200, {
        items: [
          {
            practitionerId: '0190f0a0-0000-7000-8000-0000000000p1',
            name: 'Dr Jean Martin',
            specialty: 'cardiology',
            establishment: { id: 'e1', name: 'Clinique X', city: 'Lyon', postalCode: '69003' },
            nextSlots: [
              { start: '2026-11-24T08:30:00Z', end: '2026-11-24T08:50:00Z', motiveId: 'm1' },
              { start: '2026-11-24T09:00:00Z', end: '2026-11-24T09:20:00Z', motiveId: 'm1' },
            ],
          },
        ],
      }),
    );
    await page.goto(`${h.url}/pro`);
    await page.waitForSelector('[data-testid="memberships"]');
    expect(await overflowsHorizontally(page)).toBe(false);
    await expectAccessible(page, 'staff workspace (360 px)');
    await screenshot(page, 'staff-phone');

    await page.goto(`${h.url}/recherche?specialty=cardiology&near=Lyon`);
    await page.waitForSelector('.card');
    expect(await page.textContent('.card')).toContain('mar. 24 nov. 09:30');
    expect(await overflowsHorizontally(page)).toBe(false);
    await expectAccessible(page, 'search results with items (360 px)');
    await screenshot(page, 'search-results-items-phone');
    await page.setViewportSize(DESKTOP);
    await screenshot(page, 'search-results-items-desktop');

    // An unknown client route inside the app (the server only serves known sections).
    await page.evaluate(() => {
      window.history.pushState({}, '', '/pro/../inconnu');
      window.dispatchEvent(new PopStateEvent('popstate'));
    });
    await page.waitForSelector('h1:text("Page introuvable")');
    await expectAccessible(page, 'not found');
    await close();
  });
});

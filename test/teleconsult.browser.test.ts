// A real video consultation between two Chromium instances with fake camera and microphone:
// the patient waits, the practitioner admits them, and both sides receive video (getStats). An
// unrelated patient and a join outside the window are refused. Served by the application itself,
// under its CSP; the pages are the built web application.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../src/app.js';
import { sealStoredTotpSecrets, totpCode } from '../src/modules/identity/index.js';
import { createLogger } from '../src/platform/log.js';
import { seedDemo } from '../src/seed/demo.js';
import { hasChromium, launchBrowser } from './helpers/browser.js';
import { createTestDatabase, testConfig, type TestDatabase } from './helpers/db.js';
import { createTeleconsultFixture, TELE_NOW, type TeleconsultFixture } from './helpers/teleconsult-fixture.js';
import { screenshot } from './helpers/web.js';

const MEDIA_FLAGS = ['--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream'];

// Keeps every RTCPeerConnection the page creates, so the test can read getStats() without any
// hook in the application. Evaluated through the DevTools protocol, outside the page's CSP.
const RECORD_PEER_CONNECTIONS = `
  window.__pcs = [];
  const Original = window.RTCPeerConnection;
  window.RTCPeerConnection = class extends Original {
    constructor(...args) { super(...args); window.__pcs.push(this); }
  };
`;

interface Side {
  browser: Browser;
  context: BrowserContext;
  page: Page;
  csp: string[];
  errors: string[];
}

async function openSide(base: string): Promise<Side> {
  const browser = await launchBrowser(MEDIA_FLAGS);
  const context = await browser.newContext({ locale: 'fr-FR', timezoneId: 'Europe/Paris', viewport: { width: 1280, height: 900 } });
  await context.addInitScript(RECORD_PEER_CONNECTIONS);
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  const csp: string[] = [];
  const errors: string[] = [];
  page.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) csp.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(base);
  return { browser, context, page, csp, errors };
}

async function loginPatient(side: Side, base: string, person: { email: string; password: string }) {
  const res = await side.context.request.post(`${base}/api/v1/auth/login`, { data: { email: person.email, password: person.password } });
  expect(res.status()).toBe(200);
}

async function loginStaff(side: Side, base: string, person: { email: string; password: string; totpSecret: string }) {
  const first = await side.context.request.post(`${base}/api/v1/auth/login`, { data: { email: person.email, password: person.password } });
  const { challengeId } = (await first.json()) as { challengeId: string };
  const res = await side.context.request.post(`${base}/api/v1/auth/login/mfa`, { data: { challengeId, code: await totpCode(person.totpSecret, new Date()) } });
  expect(res.status()).toBe(200);
}

/** Bytes of video received over all of the page's peer connections. */
function videoBytesReceived(page: Page): Promise<number> {
  return page.evaluate(async () => {
    let total = 0;
    for (const pc of (window as unknown as { __pcs: RTCPeerConnection[] }).__pcs) {
      (await pc.getStats()).forEach((s: { type: string; kind?: string; bytesReceived?: number }) => {
        if (s.type === 'inbound-rtp' && s.kind === 'video') total += s.bytesReceived ?? 0;
      });
    }
    return total;
  });
}

/** Opens the signalling socket from inside the page; resolves 'open' or 'refused'. */
function trySocket(page: Page, appointmentId: string): Promise<string> {
  return page.evaluate(
    (id) =>
      new Promise<string>((resolve) => {
        const ws = new WebSocket(`ws://${location.host}/api/v1/teleconsultations/${id}/signal`);
        ws.onopen = () => {
          ws.close();
          resolve('open');
        };
        ws.onerror = () => resolve('refused');
      }),
    appointmentId,
  );
}

describe.skipIf(!hasChromium)('teleconsultation in two real browsers', () => {
  let t: TestDatabase;
  let app: FastifyInstance;
  let base: string;
  let f: TeleconsultFixture;
  const sides: Side[] = [];

  beforeAll(async () => {
    t = await createTestDatabase();
    const { data } = await seedDemo(t.db, undefined, t.vault);
    f = await createTeleconsultFixture(t.db, data);
    const config = testConfig();
    const identityKey = randomBytes(32);
    await sealStoredTotpSecrets({ config, db: t.db, logger: createLogger('silent'), identityKey });
    app = await buildApp({ config, db: t.db, vault: t.vault, logger: createLogger('silent'), now: () => TELE_NOW, identityKey });
    base = await app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => {
    for (const s of sides) await s.browser.close();
    await app?.close();
    await t?.drop();
  });

  it('connects the patient and the practitioner after admission, with video received on both sides', async () => {
    const patient = await openSide(base);
    const doctor = await openSide(base);
    sides.push(patient, doctor);
    await loginPatient(patient, base, f.patient);
    await loginStaff(doctor, base, f.doctor);

    await patient.page.goto(`${base}/teleconsultation/${f.appointments.open}`);
    await patient.page.getByRole('button', { name: 'Rejoindre la consultation' }).click();
    await patient.page.getByTestId('waiting-room').waitFor();

    await doctor.page.goto(`${base}/teleconsultation/${f.appointments.open}`);
    await doctor.page.getByRole('button', { name: 'Rejoindre la consultation' }).click();
    const admit = doctor.page.getByTestId('admit');
    await admit.waitFor();
    await admit.click();

    await patient.page.getByTestId('remote-video').waitFor();
    await doctor.page.getByTestId('remote-video').waitFor();
    await expect.poll(() => videoBytesReceived(patient.page), { timeout: 20_000, interval: 500 }).toBeGreaterThan(0);
    await expect.poll(() => videoBytesReceived(doctor.page), { timeout: 20_000, interval: 500 }).toBeGreaterThan(0);

    // Chat goes through, and the controls answer.
    await doctor.page.getByLabel('Votre message').fill('Bonjour, vous m’entendez ?');
    await doctor.page.getByRole('button', { name: 'Envoyer' }).click();
    await expect.poll(() => patient.page.getByTestId('chat-lines').textContent()).toContain('Bonjour, vous m’entendez ?');
    const mute = patient.page.getByRole('button', { name: 'Couper le micro' });
    await mute.click();
    await expect.poll(() => patient.page.getByRole('button', { name: 'Rétablir le micro' }).getAttribute('aria-pressed')).toBe('true');
    await patient.page.getByRole('button', { name: 'Couper la caméra' }).click();
    await screenshot(doctor.page, 'teleconsult-practitioner');

    await patient.page.getByRole('button', { name: 'Raccrocher' }).click();
    await patient.page.getByTestId('call-ended').waitFor();
    for (const side of [patient, doctor]) {
      expect(side.csp).toEqual([]);
      expect(side.errors).toEqual([]);
    }
  }, 90_000);

  it('refuses an unrelated patient and a join outside the window', async () => {
    const other = await openSide(base);
    sides.push(other);
    await loginPatient(other, base, f.otherPatient);
    await other.page.goto(`${base}/teleconsultation/${f.appointments.open}`);
    await other.page.getByRole('alert').waitFor();
    expect(await other.page.getByRole('button', { name: 'Rejoindre la consultation' }).count()).toBe(0);
    expect(await trySocket(other.page, f.appointments.open)).toBe('refused');

    // The booked patient, on an appointment whose window has not opened yet.
    const early = sides[0]!;
    await early.page.goto(`${base}/teleconsultation/${f.appointments.early}`);
    await early.page.getByTestId('call-refusal').waitFor();
    expect(await early.page.getByTestId('call-refusal').textContent()).toContain('pas encore ouverte');
    expect(await trySocket(early.page, f.appointments.early)).toBe('refused');
    expect(await trySocket(early.page, f.appointments.late)).toBe('refused');
    expect(other.csp).toEqual([]);
  }, 60_000);
});

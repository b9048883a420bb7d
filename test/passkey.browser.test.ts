// A real browser registers a passkey and logs in with it: Debian's chromium driven by
// playwright-core, with Chrome's virtual authenticator over CDP (ASVS 6.3.3). The page is served by
// this test from the application itself, under the application's CSP, and uses
// @simplewebauthn/browser as a module.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { FastifyInstance } from 'fastify';
import { readTestSettings } from '../src/config.js';
import { totpCode } from '../src/modules/identity/index.js';
import { createTestApp, staffOf, type TestApp } from './helpers/app.js';

const chromiumPath = readTestSettings().chromiumPath ?? '/usr/bin/chromium';
const here = path.dirname(fileURLToPath(import.meta.url));
// The ESM build of @simplewebauthn/browser (its "import" entry is esm/index.js).
const browserLib = path.join(path.dirname(createRequire(import.meta.url).resolve('@simplewebauthn/browser')), '..', 'esm');

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function testPage(app: FastifyInstance) {
  const opts = { config: { auth: 'public' as const }, schema: { hide: true } };
  app.get('/passkey-test', opts, async (_r, reply) => reply.type('text/html').send(await readFile(path.join(here, 'passkey-page/index.html'))));
  app.get('/passkey-test/app.js', opts, async (_r, reply) => reply.type('text/javascript').send(await readFile(path.join(here, 'passkey-page/app.js'))));
  app.get('/passkey-test/swa/*', opts, async (request, reply) => {
    const file = path.normalize((request.params as { '*': string })['*']);
    if (file.startsWith('..') || !file.endsWith('.js')) return reply.code(404).send();
    return reply.type('text/javascript').send(await readFile(path.join(browserLib, file)));
  });
}

if (!existsSync(chromiumPath)) {
  console.warn(`Skipping the passkey browser test: no chromium at ${chromiumPath} (apt-get install chromium, or set CHROMIUM_PATH).`);
}

describe.skipIf(!existsSync(chromiumPath))('passkeys in a real browser', () => {
  let h: TestApp;
  let browser: Browser;
  let page: Page;
  let base: string;

  beforeAll(async () => {
    const port = await freePort();
    base = `http://localhost:${port}`;
    h = await createTestApp({ HYGIE_PUBLIC_URL: base }, { routes: testPage });
    await h.app.listen({ port, host: 'localhost' });
    browser = await chromium.launch({
      executablePath: chromiumPath,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    page = await browser.newPage();
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('WebAuthn.enable');
    await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
    });
    await page.goto(`${base}/passkey-test`);
    await page.waitForSelector('body[data-ready="1"]');
  });
  afterAll(async () => {
    await browser?.close();
    await h?.close();
  });

  type Api = { status: number; body: Record<string, unknown> };
  const api = (p: string, body?: unknown, csrf?: string) =>
    page.evaluate(([p2, b, c]) => (window as never as { passkeys: { api: (a: unknown, b: unknown, c: unknown) => Promise<Api> } }).passkeys.api(p2, b, c), [p, body, csrf] as const);
  const call = <T extends unknown[]>(fn: 'register' | 'login' | 'stepUp', ...args: T) =>
    page.evaluate(([f, a]) => (window as never as { passkeys: Record<string, (...x: unknown[]) => Promise<Api>> }).passkeys[f as string]!(...(a as unknown[])), [fn, args] as const);

  it('an admin registers a passkey, then logs in with it alone, and TOTP stops counting for them', async () => {
    const admin = staffOf(h.data, 'admin');
    // Password + TOTP, from the page (so the browser holds the cookies).
    const first = await api('/login', { email: admin.email, password: admin.password });
    expect(first.body).toMatchObject({ status: 'mfa_required', methods: ['totp'] });
    const ok = await api('/login/mfa', { challengeId: first.body.challengeId, code: await totpCode(admin.totpSecret, h.clock.now()) });
    expect(ok.status).toBe(200);
    let me = await api('/me');
    expect(me.body.secondFactors).toMatchObject({ passkeys: 0, passkeyRequired: true });

    const registered = await call('register', me.body.csrfToken, 'Clé du poste');
    expect(registered.status).toBe(200);
    me = await api('/me');
    expect(me.body.secondFactors).toMatchObject({ passkeys: 1, passkeyRequired: false });

    expect((await api('/logout', {}, me.body.csrfToken as string)).status).toBe(204);
    expect((await api('/me')).status).toBe(401);

    // The passkey alone (discoverable, user-verified) logs in.
    const alone = await call('login');
    expect(alone).toEqual({ status: 200, body: { status: 'ok' } });
    me = await api('/me');
    expect(me.status).toBe(200);
    expect((me.body.user as { email: string }).email).toBe(admin.email);
    expect(me.body.session).toMatchObject({ mfaState: 'complete' });

    // Step-up by passkey.
    const stepped = await call('stepUp', me.body.csrfToken);
    expect(stepped.status).toBe(200);
    await api('/logout', {}, me.body.csrfToken as string);

    // With a passkey enrolled, an admin's TOTP is no longer accepted: passkey only.
    const again = await api('/login', { email: admin.email, password: admin.password });
    expect(again.body).toMatchObject({ status: 'mfa_required', methods: ['webauthn'] });
    h.clock.advance(30_000);
    const totp = await api('/login/mfa', { challengeId: again.body.challengeId, code: await totpCode(admin.totpSecret, h.clock.now()) });
    expect(totp.status).toBe(401);
    const second = await call('login', again.body.challengeId);
    expect(second).toEqual({ status: 200, body: { status: 'ok' } });
  });
});

// The served page loads in a real browser under the strict Content-Security-Policy.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Browser } from 'playwright-core';
import { buildApp } from '../../src/app.js';
import { createLogger } from '../../src/platform/log.js';
import { createTestDatabase, testConfig, type TestDatabase } from '../helpers/db.js';
import { hasChromium, launchBrowser } from '../helpers/browser.js';
import { repoRoot } from '../helpers/cli.js';

describe.skipIf(!hasChromium)('web page in Chromium', () => {
  let t: TestDatabase;
  let app: FastifyInstance;
  let browser: Browser;
  let url: string;

  beforeAll(async () => {
    t = await createTestDatabase();
    app = await buildApp({ config: testConfig(), db: t.db, logger: createLogger('silent') });
    url = await app.listen({ port: 0, host: '127.0.0.1' });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await t?.drop();
  });

  it('renders the home page, runs its script under the CSP and reports the service state', async () => {
    const page = await browser.newPage();
    const violations: string[] = [];
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) violations.push(m.text());
    });
    await page.goto(url);
    await page.waitForSelector('#health[data-state="ok"]', { timeout: 10_000 });
    expect(await page.textContent('h1')).toBe('Hygie');
    expect(await page.getAttribute('html', 'lang')).toBe('fr');
    expect(await page.textContent('#health span')).toBe('opérationnel');
    expect(violations).toEqual([]);
    const shots = path.join(repoRoot, 'test/screenshots');
    await mkdir(shots, { recursive: true });
    await page.screenshot({ path: path.join(shots, 'home-desktop.png') });
    await page.close();
  });

  it('an inline script injected into the page is blocked by the CSP', async () => {
    const page = await browser.newPage();
    await page.goto(url);
    const blocked = await page.evaluate(
      () =>
        new Promise<boolean>((resolve) => {
          document.addEventListener('securitypolicyviolation', () => resolve(true), { once: true });
          const s = document.createElement('script');
          s.textContent = 'window.__pwned = true';
          document.body.appendChild(s);
          setTimeout(() => resolve(false), 2000);
        }),
    );
    expect(blocked).toBe(true);
    expect(await page.evaluate(() => (window as unknown as { __pwned?: boolean }).__pwned)).toBeUndefined();
    await page.close();
  });
});

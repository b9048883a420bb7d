// Shared pieces of the web application's browser tests: the real server over a fresh (seeded)
// test database, pages that record CSP violations, axe-core checks, screenshots, logins.
import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { generate } from 'otplib';
import { sealStoredTotpSecrets } from '../../src/modules/identity/index.js';
import { seedDemo } from '../../src/seed/demo.js';
import type { DemoData } from '../../src/seed/demo-data.js';
import type { FastifyInstance } from 'fastify';
import type { Browser, Page } from 'playwright-core';
import { buildApp } from '../../src/app.js';
import { createLogger } from '../../src/platform/log.js';
import { createTestDatabase, testConfig, type TestDatabase } from './db.js';
import { launchBrowser } from './browser.js';
import { repoRoot } from './cli.js';

export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 360, height: 740 };

export interface WebHarness {
  url: string;
  browser: Browser;
  app: FastifyInstance;
  close(): Promise<void>;
}

export async function startWebHarness(): Promise<WebHarness> {
  let t: TestDatabase | undefined;
  let app: FastifyInstance | undefined;
  let browser: Browser | undefined;
  const close = async () => {
    await browser?.close();
    await app?.close();
    await t?.drop();
  };
  try {
    t = await createTestDatabase();
    app = await buildApp({ config: testConfig(), db: t.db, vault: t.vault, logger: createLogger('silent') });
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    browser = await launchBrowser();
    return { url, browser, app, close };
  } catch (error) {
    await close();
    throw error;
  }
}

export interface TestPage {
  page: Page;
  /** Content-Security-Policy violations reported by the browser (console and events). */
  cspViolations: string[];
  /** Uncaught errors in the page. */
  pageErrors: string[];
  close(): Promise<void>;
}

export async function openPage(browser: Browser, viewport = DESKTOP): Promise<TestPage> {
  const context = await browser.newContext({ viewport, locale: 'fr-FR', timezoneId: 'Europe/Paris' });
  const page = await context.newPage();
  // Fail with the selector's name well before the test's own timeout.
  page.setDefaultTimeout(10_000);
  const cspViolations: string[] = [];
  const pageErrors: string[] = [];
  page.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text());
  });
  page.on('pageerror', (e) => pageErrors.push(e.message));
  return { page, cspViolations, pageErrors, close: () => context.close() };
}

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: string[];
}

/**
 * Runs axe-core (WCAG 2.x A and AA rules and best practices) in the page and returns the serious
 * and critical violations. The source is evaluated through the DevTools protocol, which the page's
 * CSP does not govern: an injected <script> tag would (rightly) be refused.
 */
export async function seriousAxeViolations(page: Page): Promise<AxeViolation[]> {
  await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (ctx: Document, opts: unknown) => Promise<{ violations: Array<{ id: string; impact: string | null; help: string; nodes: Array<{ target: unknown[] }> }> }> } }).axe;
    const result = await axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'] } });
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(' ')) }));
  });
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

/** Saves a screenshot under test/screenshots/ (git-ignored) for reviewers. */
export async function screenshot(page: Page, name: string): Promise<void> {
  const dir = path.join(repoRoot, 'test/screenshots');
  await mkdir(dir, { recursive: true });
  await page.screenshot({ path: path.join(dir, `${name}.png`), fullPage: true });
}

/** True when the page scrolls sideways (content wider than the viewport). */
export async function overflowsHorizontally(page: Page): Promise<boolean> {
  return page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
}

export interface SeededWebHarness extends WebHarness {
  data: DemoData;
  t: TestDatabase;
}

/**
 * The real server over a fresh database with the demo data, on `localhost` (WebAuthn's relying
 * party) and a random port, serving the built web app, with the real clock (the browser's TOTP
 * codes and the seeded appointments around today must agree). One per test file.
 */
export async function startSeededWebHarness(): Promise<SeededWebHarness> {
  let t: TestDatabase | undefined;
  let app: FastifyInstance | undefined;
  let browser: Browser | undefined;
  const close = async () => {
    await browser?.close();
    await app?.close();
    await t?.drop();
  };
  try {
    t = await createTestDatabase();
    const { data } = await seedDemo(t.db, undefined, t.vault);
    const port = await freePort();
    const config = testConfig({ HYGIE_PUBLIC_URL: `http://localhost:${port}` });
    const identityKey = randomBytes(32);
    const logger = createLogger('silent');
    await sealStoredTotpSecrets({ config, db: t.db, logger, identityKey });
    app = await buildApp({ config, db: t.db, vault: t.vault, logger, identityKey });
    await app.listen({ port, host: 'localhost' });
    browser = await launchBrowser();
    return { url: `http://localhost:${port}`, browser, app, data, t, close };
  } catch (error) {
    await close();
    throw error;
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, 'localhost', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** The current TOTP code of a secret, computed as an authenticator app would (otplib). */
export async function currentTotp(secret: string): Promise<string> {
  return generate({ secret });
}

/** Waits until the next 30-second TOTP step when the current one was already used (a code works once). */
export async function freshTotp(secret: string, used: Set<string>): Promise<string> {
  for (;;) {
    const code = await currentTotp(secret);
    if (!used.has(`${secret}:${code}`)) {
      used.add(`${secret}:${code}`);
      return code;
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/** Logs a demo account in through the login page (password, then a TOTP code for staff). */
export async function loginThroughPage(page: Page, base: string, who: { email: string; password: string; totpSecret?: string }, usedCodes = new Set<string>()): Promise<void> {
  await page.goto(`${base}/connexion`);
  await page.fill('#login-email', who.email);
  await page.fill('#login-password', who.password);
  await page.click('[data-testid="login-form"] button[type="submit"]');
  if (who.totpSecret) {
    await page.waitForSelector('[data-testid="mfa-form"]');
    await page.fill('#login-code', await freshTotp(who.totpSecret, usedCodes));
    await page.click('[data-testid="mfa-form"] button[type="submit"]');
  }
  await page.waitForSelector('[data-testid="account-name"]');
}

/** Asserts no serious or critical axe violation, no sideways scrolling, and saves a screenshot. */
export async function checkPage(page: Page, name: string, viewport: { width: number } = DESKTOP): Promise<void> {
  const violations = await seriousAxeViolations(page);
  if (violations.length > 0) throw new Error(`axe on ${name} at ${viewport.width} px: ${JSON.stringify(violations, null, 1)}`);
  if (await overflowsHorizontally(page)) {
    const wide = await page.evaluate(() =>
      Array.from(document.querySelectorAll('body *'))
        .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1)
        .slice(-5)
        .map((e) => `${e.tagName.toLowerCase()}.${Array.from(e.classList).join('.')}#${e.id} ${Math.round(e.getBoundingClientRect().right)}`),
    );
    throw new Error(`${name} scrolls sideways at ${viewport.width} px: ${wide.join(', ')}`);
  }
  await screenshot(page, `${name}-${viewport.width}`);
}

// Shared pieces of the web application's browser tests: a served app over a fresh test database,
// pages that record CSP violations, axe-core checks, screenshots, and API stand-ins for endpoints
// of modules that a test wants in a given state.
import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import type { Browser, Page, Route } from 'playwright-core';
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

export function json(route: Route, status: number, body: unknown, headers: Record<string, string> = {}): Promise<void> {
  const type = status >= 400 ? 'application/problem+json' : 'application/json';
  return route.fulfill({ status, contentType: type, headers, body: JSON.stringify(body) });
}

export function problem(status: number, code: string, extra: Record<string, unknown> = {}) {
  return { type: `https://hygie.example/problems/${code}`, title: code, status, detail: code, code, ...extra };
}

export const PATIENT = {
  user: { id: '0190f0a0-0000-7000-8000-000000000001', email: 'camille.durand@example.fr', firstName: 'Camille', lastName: 'Durand', memberships: [] },
  csrfToken: 'csrf-patient-token',
};

export const PRACTITIONER = {
  user: {
    id: '0190f0a0-0000-7000-8000-000000000002',
    email: 'dr.martin@example.fr',
    firstName: 'Jean',
    lastName: 'Martin',
    memberships: [{ establishmentId: '0190f0a0-0000-7000-8000-0000000000e1', role: 'practitioner' }],
  },
  csrfToken: 'csrf-staff-token',
};

/** Answers `GET /api/v1/auth/me` as the given user (or 401 when undefined). */
export async function signedInAs(page: Page, me: unknown): Promise<void> {
  await page.route('**/api/v1/auth/me', (route) => (me ? json(route, 200, me) : json(route, 401, problem(401, 'unauthenticated'))));
}

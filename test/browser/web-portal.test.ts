// The web application against the real server: the patient portal's home page in French and
// English, the specialty list from the API, a keyboard-only search, deep links, the CSP, storage,
// and axe-core on every page reachable without the identity and scheduling modules.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { hasChromium } from '../helpers/browser.js';
import { DESKTOP, PHONE, openPage, overflowsHorizontally, screenshot, seriousAxeViolations, startWebHarness, type WebHarness } from '../helpers/web.js';

const CARDIOLOGY = '#search-specialty option[value="cardiology"]';

async function pressTabUntil(page: Page, selector: string, max = 25): Promise<void> {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab');
    if (await page.evaluate((s) => document.activeElement?.matches(s) ?? false, selector)) return;
  }
  throw new Error(`${selector} never received the focus from the keyboard`);
}

describe.skipIf(!hasChromium)('web application: patient portal in Chromium', () => {
  let h: WebHarness;

  beforeAll(async () => {
    h = await startWebHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  it('renders the home page in French under the strict CSP, with the specialty list from the API', async () => {
    const { page, cspViolations, pageErrors, close } = await openPage(h.browser);
    const specialtiesCall = page.waitForResponse((r) => r.url().includes('/api/v1/specialties'));
    await page.goto(h.url);
    expect((await specialtiesCall).url()).toContain('lang=fr');
    await page.waitForSelector(CARDIOLOGY, { state: 'attached' });
    expect(await page.getAttribute('html', 'lang')).toBe('fr');
    expect(await page.textContent('h1')).toBe('Trouvez un professionnel de santé');
    expect(await page.textContent('.brand__name')).toBe('Hygie');
    expect(await page.title()).toBe('Trouvez un professionnel de santé — Hygie');
    expect(await page.textContent('#search-specialty option[value="cardiology"]')).toBe('Cardiologie');
    const api = (await (await page.request.get(`${h.url}/api/v1/specialties?lang=fr`)).json()) as { items: unknown[] };
    expect(await page.locator('#search-specialty option').count()).toBe(api.items.length + 1);
    // Landmarks and labels a screen reader relies on.
    expect(await page.locator('header').count()).toBe(1);
    expect(await page.locator('main#main').count()).toBe(1);
    expect(await page.locator('nav[aria-label]').count()).toBe(1);
    expect(await page.locator('form[role="search"]').count()).toBe(1);
    expect(await page.getAttribute('[data-testid="login-link"]', 'href')).toBe('/connexion');
    expect(cspViolations).toEqual([]);
    expect(pageErrors).toEqual([]);
    await close();
  });

  it('switches to English and back, keeping only the language choice in the browser', async () => {
    const { page, close } = await openPage(h.browser);
    await page.goto(h.url);
    await page.waitForSelector(CARDIOLOGY, { state: 'attached' });
    const english = page.waitForResponse((r) => r.url().includes('/api/v1/specialties?lang=en'));
    await page.click('[data-testid="lang-switch"]');
    await english;
    await page.waitForSelector('h1:text("Find a healthcare professional")');
    expect(await page.getAttribute('html', 'lang')).toBe('en');
    await page.waitForSelector('#search-specialty option:text("Cardiology")', { state: 'attached' });
    expect(await page.textContent('label[for="search-near"]')).toBe('Town or postal code');
    expect(await seriousAxeViolations(page)).toEqual([]);
    await screenshot(page, 'home-english-desktop');
    // The choice survives a reload...
    await page.reload();
    await page.waitForSelector('h1:text("Find a healthcare professional")');
    // ...and is the only thing stored.
    const storage = await page.evaluate(() => ({
      local: Object.keys(localStorage),
      session: Object.keys(sessionStorage),
      lang: localStorage.getItem('hygie.lang'),
    }));
    expect(storage).toEqual({ local: ['hygie.lang'], session: [], lang: 'en' });
    await page.click('[data-testid="lang-switch"]');
    await page.waitForSelector('h1:text("Trouvez un professionnel de santé")');
    expect(await page.getAttribute('html', 'lang')).toBe('fr');
    await close();
  });

  it('runs a search with the keyboard only: skip link, select, town, Enter', async () => {
    const { page, cspViolations, close } = await openPage(h.browser);
    await page.goto(h.url);
    await page.waitForSelector(CARDIOLOGY, { state: 'attached' });
    // The first Tab reaches the skip link, which moves the focus to the main content.
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Aller au contenu');
    await page.keyboard.press('Enter');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('main');
    await pressTabUntil(page, '#search-specialty');
    // The focused element shows a visible focus ring.
    expect(await page.evaluate(() => getComputedStyle(document.activeElement as Element).outlineStyle)).toBe('solid');
    await page.selectOption('#search-specialty', 'cardiology');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('search-near');
    await page.keyboard.type('Lyon');
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/recherche\?/);
    const url = new URL(page.url());
    expect(url.pathname).toBe('/recherche');
    expect(Object.fromEntries(url.searchParams)).toEqual({ specialty: 'cardiology', near: 'Lyon' });
    await page.waitForSelector('[data-testid="search-results"][aria-busy="false"]');
    // The new page's heading takes the focus, so that a screen reader announces it.
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Résultats de la recherche');
    expect(await page.textContent('[data-testid="search-summary"]')).toBe('Cardiologie · Lyon');
    // Without the scheduling module the endpoint is 404: the page says so instead of failing.
    const text = await page.textContent('[data-testid="search-results"]');
    expect(text).toMatch(/pas encore disponible|praticiens? trouvés?|Aucun praticien/);
    // Opened directly (a bookmark), the page loads the labels itself and never settles on a code.
    await page.goto(`${h.url}/recherche?specialty=cardiology&near=Lyon`);
    await page.waitForSelector('[data-testid="search-summary"][aria-busy="false"]');
    expect(await page.textContent('[data-testid="search-summary"]')).toBe('Cardiologie · Lyon');
    expect(cspViolations).toEqual([]);
    await close();
  });

  it('serves the app on a reload of a client route, and keeps 404 problems for unknown URLs', async () => {
    const { page, close } = await openPage(h.browser);
    const res = await page.goto(`${h.url}/mes-acces`);
    expect(res?.status()).toBe(200);
    expect(res?.headers()['content-security-policy']).toContain("script-src 'self'");
    await page.waitForSelector('[data-testid="login-required"]');
    expect(await page.textContent('h1')).toBe('Qui a consulté mes données');
    await page.click('[data-testid="login-required"] a');
    await page.waitForSelector('[data-testid="login-form"]');
    expect(new URL(page.url()).pathname).toBe('/connexion');
    const unknown = await page.request.get(`${h.url}/pas-une-page`);
    expect(unknown.status()).toBe(404);
    expect(unknown.headers()['content-type']).toMatch(/problem\+json/);
    await close();
  });

  it('blocks an inline script injected into the page (CSP)', async () => {
    const { page, close } = await openPage(h.browser);
    await page.goto(h.url);
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
    await close();
  });

  const pages: Array<{ name: string; path: string; ready: string }> = [
    { name: 'home', path: '/', ready: CARDIOLOGY },
    { name: 'search-results', path: '/recherche?specialty=cardiology&near=Lyon', ready: '[data-testid="search-results"][aria-busy="false"]' },
    { name: 'login', path: '/connexion', ready: '[data-testid="login-form"]' },
    { name: 'appointments-logged-out', path: '/mes-rendez-vous', ready: '[data-testid="login-required"]' },
    { name: 'staff-logged-out', path: '/pro', ready: '[data-testid="login-required"]' },
    { name: 'signup', path: '/inscription', ready: '[data-testid="signup-form"]' },
    { name: 'forgot-password', path: '/forgot-password', ready: '#forgot-email' },
    { name: 'reset-password', path: '/reset-password', ready: '#reset-password' },
    { name: 'invitation', path: '/invitation', ready: '#invitation-password' },
    { name: 'verify-email', path: '/verify-email', ready: '[role="alert"], [role="status"]' },
    { name: 'account-logged-out', path: '/mon-compte', ready: '[data-testid="login-required"]' },
  ];

  for (const viewport of [DESKTOP, PHONE]) {
    const size = viewport === DESKTOP ? 'desktop' : 'phone';
    it(`has no serious or critical axe violation and fits a ${viewport.width} px screen (${size}): ${pages.map((p) => p.name).join(', ')}`, async () => {
      const { page, cspViolations, pageErrors, close } = await openPage(h.browser, viewport);
      const report: Record<string, unknown> = {};
      for (const p of pages) {
        await page.goto(h.url + p.path);
        await page.waitForSelector(p.ready, { state: 'attached' });
        const violations = await seriousAxeViolations(page);
        if (violations.length > 0) report[p.name] = violations;
        expect(await overflowsHorizontally(page), `${p.name} scrolls sideways at ${viewport.width} px`).toBe(false);
        await screenshot(page, `${p.name}-${size}`);
      }
      expect(report).toEqual({});
      expect(cspViolations).toEqual([]);
      expect(pageErrors).toEqual([]);
      await close();
    });
  }
});

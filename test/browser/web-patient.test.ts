// The patient portal against the real server over the demo data: a patient finds a practitioner,
// picks a slot, logs in within the booking flow, confirms, sees the booking, downloads its
// calendar file, moves it, cancels it; sign-up, my account and the access log; axe-core on every
// page at 1280 and 360 px; no personal data in any URL or in browser storage.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { hasChromium } from '../helpers/browser.js';
import { DESKTOP, PHONE, checkPage, loginThroughPage, openPage, startSeededWebHarness, type SeededWebHarness } from '../helpers/web.js';

interface Profile {
  id: string;
  name: string;
  establishments: Array<{ id: string; city: string; motives: Array<{ id: string; patientKind: string; teleconsult: boolean }> }>;
}

describe.skipIf(!hasChromium)('web application: the patient portal on the real API', { timeout: 180_000 }, () => {
  let h: SeededWebHarness;
  let doctor: { id: string; name: string; specialty: string; city: string; motiveId: string };
  let patient: { email: string; password: string; firstName: string; lastName: string };

  beforeAll(async () => {
    h = await startSeededWebHarness();
    const staff = h.data.staff.find((s) => s.practitioner && s.memberships.some((m) => m.establishmentId === h.data.establishments[0]!.id))!;
    const profile = (await (await fetch(`${h.url}/api/v1/practitioners/${staff.practitioner!.id}`)).json()) as Profile;
    const place = profile.establishments[0]!;
    const motive = place.motives.find((m) => m.patientKind !== 'known_only' && !m.teleconsult) ?? place.motives[0]!;
    doctor = { id: profile.id, name: profile.name, specialty: staff.practitioner!.specialtyCode, city: place.city, motiveId: motive.id };
    patient = h.data.patientAccounts[0]!;
  }, 180_000);
  afterAll(async () => {
    await h?.close();
  });

  async function noPersonalDataInUrls(page: Page, urls: string[]): Promise<void> {
    const personal = [patient.email, patient.firstName, patient.lastName, patient.password].map((s) => encodeURIComponent(s).toLowerCase());
    expect(urls.filter((u) => personal.some((p) => u.toLowerCase().includes(p)))).toEqual([]);
    const storage = await page.evaluate(() => ({ local: Object.keys(localStorage), session: Object.keys(sessionStorage) }));
    expect(storage.local.filter((k) => k !== 'hygie.lang')).toEqual([]);
    expect(storage.session).toEqual([]);
  }

  it('finds a practitioner, books a slot after logging in within the flow, sees it, gets the .ics, moves it and cancels it', async () => {
    const { page, cspViolations, pageErrors, close } = await openPage(h.browser);
    const urls: string[] = [];
    page.on('request', (r) => urls.push(r.url()));

    await page.goto(h.url);
    await page.waitForSelector(`#search-specialty option[value="${doctor.specialty}"]`, { state: 'attached' });
    await page.selectOption('#search-specialty', doctor.specialty);
    await page.fill('#search-near', doctor.city);
    await page.keyboard.press('Enter');
    await page.waitForSelector('[data-testid="search-results"][aria-busy="false"]');
    await checkPage(page, 'patient-search-results');
    await page.click(`a[href="/praticien/${doctor.id}"] >> nth=0`);
    await page.waitForSelector('[data-testid="slots"] .button--slot');
    expect(await page.textContent('h1')).toBe(doctor.name);
    await page.selectOption('#booking-motive', doctor.motiveId);
    await page.waitForSelector('[data-testid="slots"] .button--slot');
    await checkPage(page, 'patient-practitioner');
    // A slot a few days ahead: moving and cancelling close to the appointment are refused (cut-off).
    const slot = page.locator('[data-testid="slots"] .day').nth(3).locator('.button--slot').first();
    const slotLabel = (await slot.getAttribute('aria-label'))!;
    await slot.click();
    await page.waitForSelector('[data-testid="booking-confirm"]');
    await checkPage(page, 'patient-booking-login-offer');

    // Login within the flow: the page comes back with the chosen slot.
    await page.click('[data-testid="login-to-book"]');
    await page.waitForSelector('[data-testid="login-form"]');
    await page.fill('#login-email', patient.email);
    await page.fill('#login-password', patient.password);
    await page.click('[data-testid="login-form"] button[type="submit"]');
    await page.waitForURL(`${h.url}/praticien/${doctor.id}`);
    await page.waitForSelector('[data-testid="booking-confirm"] button.button--primary');
    expect(await page.textContent('[data-testid="booking-confirm"] h3')).toContain(slotLabel);
    await page.click('[data-testid="booking-confirm"] button.button--primary');
    await page.waitForSelector('[data-testid="booked"]');
    await checkPage(page, 'patient-booked');

    await page.click('[data-testid="booked"] a');
    await page.waitForSelector('[data-testid="appointments"]');
    const card = page.locator('[data-testid="appointments"] li', { hasText: slotLabel });
    expect(await card.count()).toBe(1);
    expect(await card.textContent()).toContain(doctor.name);
    await checkPage(page, 'patient-appointments');
    const ics = await page.request.get(h.url + (await card.locator('a[download]').getAttribute('href'))!);
    expect(ics.status()).toBe(200);
    expect(ics.headers()['content-type']).toContain('text/calendar');
    expect(await ics.text()).toContain('BEGIN:VEVENT');

    // Move it to another free slot.
    await card.locator('button', { hasText: 'Déplacer' }).click();
    await page.waitForSelector('[data-testid="reschedule-dialog"] .button--slot');
    await checkPage(page, 'patient-reschedule-dialog');
    const moved = page.locator('[data-testid="reschedule-dialog"] .day').nth(4).locator('.button--slot').first();
    const movedLabel = (await moved.getAttribute('aria-label'))!;
    await moved.click();
    await page.waitForSelector(`text=Votre rendez-vous est déplacé au ${movedLabel}`);
    const movedCard = page.locator('[data-testid="appointments"] li.card--confirmed', { hasText: movedLabel });
    await movedCard.waitFor();

    // Cancel it.
    await movedCard.locator('button', { hasText: 'Annuler ce rendez-vous' }).click();
    await page.waitForSelector('dialog[open] #cancel-title');
    await checkPage(page, 'patient-cancel-dialog');
    await page.click('dialog[open] button.button--danger');
    await page.waitForSelector('text=Le rendez-vous a été annulé.');
    await page.locator('[data-testid="appointments"] li.card--cancelled', { hasText: movedLabel }).waitFor();

    await noPersonalDataInUrls(page, urls);
    expect(cspViolations).toEqual([]);
    expect(pageErrors).toEqual([]);
    await close();
  });

  it('shows my account (sessions, second factors, my data download) and who accessed my data, at 1280 and 360 px', async () => {
    for (const viewport of [DESKTOP, PHONE]) {
      const { page, cspViolations, pageErrors, close } = await openPage(h.browser, viewport);
      const urls: string[] = [];
      page.on('request', (r) => urls.push(r.url()));
      await loginThroughPage(page, h.url, patient);
      await page.goto(`${h.url}/mon-compte`);
      await page.waitForSelector('[data-testid="sessions"] li');
      await page.waitForSelector('[data-testid="factor-summary"]');
      await checkPage(page, 'patient-account', viewport);
      if (viewport === DESKTOP) {
        const download = page.waitForEvent('download');
        await page.click('[data-testid="download-data"]');
        const file = await download;
        expect(file.suggestedFilename()).toBe('hygie-mes-donnees.json');
      }
      await page.goto(`${h.url}/mes-acces`);
      await page.waitForSelector('[data-testid="access-log"], .notice--info');
      await checkPage(page, 'patient-access-log', viewport);
      await page.goto(`${h.url}/mes-rendez-vous`);
      await page.waitForSelector('[data-testid="appointments"], .notice--info');
      await checkPage(page, 'patient-appointments', viewport);
      await page.goto(`${h.url}/praticien/${doctor.id}`);
      await page.waitForSelector('[data-testid="slots"] .button--slot');
      await checkPage(page, 'patient-practitioner', viewport);
      await noPersonalDataInUrls(page, urls);
      expect(cspViolations).toEqual([]);
      expect(pageErrors).toEqual([]);
      await close();
    }
  });

  it('signs a new patient up from the booking flow and says to confirm the e-mail address', async () => {
    const { page, cspViolations, close } = await openPage(h.browser, PHONE);
    await page.goto(`${h.url}/praticien/${doctor.id}`);
    await page.click('[data-testid="slots"] .button--slot >> nth=0');
    await page.click('[data-testid="booking-confirm"] a[href="/inscription"]');
    await page.waitForSelector('[data-testid="signup-form"]');
    await checkPage(page, 'patient-signup', PHONE);
    await page.fill('#signup-first', 'Léa');
    await page.fill('#signup-last', 'Fontaine');
    await page.fill('#signup-birth', '1990-04-12');
    await page.fill('#signup-email', 'lea.fontaine@example.org');
    await page.fill('#signup-password', 'grand soleil sur la colline verte');
    await page.click('[data-testid="signup-form"] button[type="submit"]');
    await page.waitForSelector('[data-testid="signup-sent"]');
    await checkPage(page, 'patient-signup-sent', PHONE);
    expect(cspViolations).toEqual([]);
    await close();
  });
});

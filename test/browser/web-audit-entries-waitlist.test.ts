// Issue 8's last pieces, clicked in a real browser over the demo data: a practitioner writes a
// death certificate and a genetic result naming only themselves, and a second practitioner in
// care of the same patient sees the certificate but not the genetic result; a security officer
// searches the audit log by patient file and by account and reads each event's integrity status;
// a patient joins a waiting list from the portal, another patient cancels, and the offer appears
// and is accepted. axe-core at 1280 and 360 px on every page.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { APIRequestContext } from 'playwright-core';
import { hasChromium } from '../helpers/browser.js';
import { testKeyring } from '../helpers/audit.js';
import { sealPending } from '../../src/modules/audit/index.js';
import { PHONE, checkPage, loginThroughPage, openPage, startSeededWebHarness, type SeededWebHarness } from '../helpers/web.js';

describe.skipIf(!hasChromium)('web application: clinical forms, audit search and waiting list', { timeout: 240_000 }, () => {
  let h: SeededWebHarness;
  const usedCodes = new Set<string>();
  const E = () => h.data.establishments[0]!.id;
  const practitioners = () => h.data.staff.filter((s) => s.practitioner && s.memberships.some((m) => m.establishmentId === E() && m.role === 'practitioner'));
  const officerOf = () => h.data.staff.find((s) => s.memberships.some((m) => m.establishmentId === E() && m.role === 'security_officer'))!;

  beforeAll(async () => {
    h = await startSeededWebHarness();
  }, 180_000);
  afterAll(async () => {
    await h?.close();
  });

  async function csrf(request: APIRequestContext): Promise<string> {
    return ((await (await request.get(`${h.url}/api/v1/auth/me`)).json()) as { csrfToken: string }).csrfToken;
  }

  /** The motive and free slots of a practitioner, 2 to 9 days ahead (cancellation cut-offs stay away). */
  async function slotsOf(request: APIRequestContext, practitionerId: string) {
    const profile = (await (await request.get(`${h.url}/api/v1/practitioners/${practitionerId}`)).json()) as { establishments: Array<{ motives: Array<{ id: string; patientKind: string; teleconsult: boolean }> }> };
    const motive = profile.establishments[0]!.motives.find((m) => m.patientKind !== 'new_only' && !m.teleconsult) ?? profile.establishments[0]!.motives[0]!;
    const from = new Date(Date.now() + 2 * 86_400_000).toISOString().slice(0, 10);
    const to = new Date(Date.now() + 9 * 86_400_000).toISOString().slice(0, 10);
    const { slots } = (await (await request.get(`${h.url}/api/v1/practitioners/${practitionerId}/availability?motiveId=${motive.id}&from=${from}&to=${to}`)).json()) as { slots: Array<{ start: string }> };
    return { motiveId: motive.id, slots: slots.map((s) => s.start) };
  }

  async function book(request: APIRequestContext, practitionerId: string, motiveId: string, start: string): Promise<string> {
    const res = await request.post(`${h.url}/api/v1/appointments`, { data: { practitionerId, motiveId, start }, headers: { 'X-CSRF-Token': await csrf(request), 'Idempotency-Key': crypto.randomUUID() } });
    expect(res.status()).toBe(201);
    return ((await res.json()) as { id: string }).id;
  }

  async function loginApi(request: APIRequestContext, who: { email: string; password: string }) {
    expect((await request.post(`${h.url}/api/v1/auth/login`, { data: { email: who.email, password: who.password } })).status()).toBe(200);
  }

  const account = () => h.data.patientAccounts[3]!;
  const fileOfAccount = () => h.data.patientFiles.find((f) => f.establishmentId === E() && f.accountIndex === 3)!;

  it('a practitioner writes a death certificate and a genetic result; a colleague not named does not see the genetic result', async () => {
    const [author, colleague] = practitioners();
    expect(colleague).toBeDefined();
    // The patient books with both practitioners: each has a care relationship.
    const patient = await openPage(h.browser);
    await loginApi(patient.page.request, account());
    for (const p of [author!, colleague!]) {
      const { motiveId, slots } = await slotsOf(patient.page.request, p.practitioner!.id);
      await book(patient.page.request, p.practitioner!.id, motiveId, slots[0]!);
    }
    await patient.close();

    const openFile = async (who: typeof author) => {
      const tab = await openPage(h.browser);
      await loginThroughPage(tab.page, h.url, who!, usedCodes);
      await tab.page.goto(`${h.url}/pro/patients`);
      await tab.page.fill('#records-last-name', account().lastName);
      await tab.page.fill('#records-birth-date', account().birthDate);
      await tab.page.click('form[role="search"] button[type="submit"]');
      await tab.page.click('[data-testid="patient-hits"] button >> nth=0');
      await tab.page.waitForSelector('[data-testid="new-entry"]');
      return tab;
    };

    const a = await openFile(author);
    const page = a.page;
    await page.selectOption('#entry-kind', 'death_certificate');
    await page.fill('#death-deathDate', '2026-11-20');
    await page.fill('#death-deathTime', '14:05');
    await page.selectOption('#death-place', 'health_establishment');
    await page.fill('#death-municipality', 'Lyon');
    await page.fill('#death-immediate', 'Arrêt cardio-respiratoire');
    await page.fill('#death-underlying', 'Infarctus du myocarde\nAthérosclérose coronaire');
    await checkPage(page, 'practitioner-death-certificate-form');
    await page.setViewportSize(PHONE);
    await checkPage(page, 'practitioner-death-certificate-form', PHONE);
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.click('[data-testid="new-entry"] button[type="submit"]');
    await page.waitForSelector('[data-testid="entries"] .card:has-text("Décès le 2026-11-20 à 14:05")');
    expect(await page.textContent('[data-testid="entries"]')).toContain('Arrêt cardio-respiratoire');

    await page.selectOption('#entry-kind', 'genetic_result');
    await page.fill('#genetic-test', 'Panel cardiomyopathies héréditaires');
    await page.fill('#genetic-gene', 'MYH7');
    await page.fill('#genetic-result', 'Variant probablement pathogène c.1208G>A');
    await page.fill('#genetic-interpretation', 'Prédisposition héréditaire ; conseil génétique familial recommandé.');
    // The colleague is offered, and left unticked.
    expect(await page.locator(`[data-testid="new-entry"] input[type="checkbox"][value="${colleague!.userId}"]`).count()).toBe(1);
    await checkPage(page, 'practitioner-genetic-result-form');
    await page.setViewportSize(PHONE);
    await checkPage(page, 'practitioner-genetic-result-form', PHONE);
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.click('[data-testid="new-entry"] button[type="submit"]');
    await page.waitForSelector('[data-testid="entries"] .card:has-text("c.1208G>A")');
    expect(a.cspViolations).toEqual([]);
    expect(a.pageErrors).toEqual([]);
    await a.close();

    const b = await openFile(colleague);
    await b.page.waitForSelector('[data-testid="entries"] .card:has-text("Décès le 2026-11-20")');
    const seen = (await b.page.textContent('[data-testid="entries"]')) ?? '';
    // (The demo data holds other genetic results that do name this colleague.)
    expect(seen).not.toContain('MYH7');
    expect(seen).not.toContain('c.1208G>A');
    await checkPage(b.page, 'colleague-patient-file-without-genetic');
    await b.close();
  });

  it('a security officer searches the audit log by patient file and by account, with integrity status', async () => {
    const [author] = practitioners();
    // The demo server runs no sealer in tests: seal now, as the background sealer would.
    await sealPending(h.t.db, testKeyring());
    const o = await openPage(h.browser);
    const page = o.page;
    await loginThroughPage(page, h.url, officerOf(), usedCodes);
    await page.goto(`${h.url}/pro/securite`);
    await page.waitForSelector('[data-testid="audit-search"]');
    await page.check('input[name="audit-by"][value="patient"]');
    await page.fill('#audit-patient', fileOfAccount().id);
    await page.click('[data-testid="audit-search"] button[type="submit"]');
    await page.waitForSelector('[data-testid="audit-results"] li');
    const byPatient = (await page.textContent('[data-testid="audit-results"]')) ?? '';
    expect(byPatient).toContain(`${author!.firstName} ${author!.lastName} (praticien)`);
    expect(byPatient).toContain('Intègre et scellée');
    // Metadata only: no clinical content and no patient name.
    expect(byPatient).not.toContain('c.1208G>A');
    expect(byPatient).not.toContain(account().lastName);
    expect(page.url()).toBe(`${h.url}/pro/securite`);
    await checkPage(page, 'security-audit-search');
    await page.setViewportSize(PHONE);
    await checkPage(page, 'security-audit-search', PHONE);
    await page.setViewportSize({ width: 1280, height: 900 });

    await page.check('input[name="audit-by"][value="actor"]');
    await page.fill('#audit-actor', officerOf().userId);
    await page.click('[data-testid="audit-search"] button[type="submit"]');
    // The officer's own search a moment ago is in the log, not sealed yet.
    await page.waitForSelector('[data-testid="audit-results"] li:has-text("recherche dans le journal d’audit")');
    expect(await page.textContent('[data-testid="audit-results"]')).toContain('En attente de scellement');
    expect(o.cspViolations).toEqual([]);
    expect(o.pageErrors).toEqual([]);
    await o.close();
  });

  it('a patient joins the waiting list from the portal; another cancels; the offer appears and is accepted', async () => {
    const doctor = practitioners()[1]!;
    const waiting = h.data.patientAccounts[6]!;
    const leaving = h.data.patientAccounts[7]!;
    const other = await openPage(h.browser);
    await loginApi(other.page.request, leaving);
    const { motiveId, slots } = await slotsOf(other.page.request, doctor.practitioner!.id);
    const early = slots[0]!;
    const earlyId = await book(other.page.request, doctor.practitioner!.id, motiveId, early);

    const p = await openPage(h.browser);
    const page = p.page;
    await loginThroughPage(page, h.url, waiting);
    await book(page.request, doctor.practitioner!.id, motiveId, slots.at(-1)!);
    await page.goto(`${h.url}/mes-rendez-vous`);
    const later = page.locator('li.card--confirmed', { hasText: doctor.lastName });
    await later.first().locator('button', { hasText: 'Plus tôt si possible' }).click();
    await page.waitForSelector('[data-testid="waitlist"] li:has-text("En attente d’un créneau")');
    await checkPage(page, 'patient-waitlist-waiting');

    // The other patient cancels the earlier appointment: the slot is offered to the waiting patient.
    const cancelled = await other.page.request.post(`${h.url}/api/v1/appointments/${earlyId}/cancel`, { headers: { 'X-CSRF-Token': await csrf(other.page.request) } });
    expect(cancelled.status()).toBe(200);
    await other.close();

    await page.reload();
    await page.waitForSelector('[data-testid="waitlist"] li:has-text("Un créneau s’est libéré")');
    await checkPage(page, 'patient-waitlist-offer');
    await page.setViewportSize(PHONE);
    await checkPage(page, 'patient-waitlist-offer', PHONE);
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.click('[data-testid="waitlist"] button:has-text("Prendre ce créneau")');
    await page.waitForSelector('[data-testid="waitlist"]', { state: 'detached' });
    const mine = (await (await page.request.get(`${h.url}/api/v1/me/appointments`)).json()) as { items: Array<{ start: string; status: string; practitioner: { id: string } }> };
    const withDoctor = mine.items.filter((a) => a.practitioner.id === doctor.practitioner!.id && a.status === 'confirmed');
    expect(withDoctor.map((a) => Date.parse(a.start))).toEqual([Date.parse(early)]);
    expect(p.cspViolations).toEqual([]);
    expect(p.pageErrors).toEqual([]);
    await p.close();
  });
});

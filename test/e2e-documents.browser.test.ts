// End-to-end documents in real browsers: the patient creates their keys (and is told plainly what
// losing them means), the practitioner creates theirs and shares a file sealed in the browser, and
// the patient opens it on a new device after unlocking with the passphrase, then with the
// recovery code. Served by the application under its CSP.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../src/app.js';
import { sealStoredTotpSecrets, totpCode } from '../src/modules/identity/index.js';
import { createLogger } from '../src/platform/log.js';
import { seedDemo } from '../src/seed/demo.js';
import { hasChromium, launchBrowser } from './helpers/browser.js';
import { createTestDatabase, testConfig, type TestDatabase } from './helpers/db.js';
import { createTeleconsultFixture, TELE_NOW, type TeleconsultFixture } from './helpers/teleconsult-fixture.js';
import { screenshot, seriousAxeViolations } from './helpers/web.js';

describe.skipIf(!hasChromium)('end-to-end documents in a real browser', () => {
  let t: TestDatabase;
  let app: FastifyInstance;
  let base: string;
  let f: TeleconsultFixture;
  let patientFileId: string;
  let browser: Browser;
  const csp: string[] = [];
  const errors: string[] = [];
  const secret = `Résultat d'analyse ${randomBytes(6).toString('hex')}`;

  async function newDevice(): Promise<Page> {
    const context = await browser.newContext({ locale: 'fr-FR', timezoneId: 'Europe/Paris' });
    const page = await context.newPage();
    page.setDefaultTimeout(30_000);
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) csp.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(e.message));
    return page;
  }

  async function login(page: Page, person: { email: string; password: string; totpSecret?: string }) {
    const first = await page.request.post(`${base}/api/v1/auth/login`, { data: { email: person.email, password: person.password } });
    if (person.totpSecret) {
      const { challengeId } = (await first.json()) as { challengeId: string };
      expect((await page.request.post(`${base}/api/v1/auth/login/mfa`, { data: { challengeId, code: await totpCode(person.totpSecret, new Date()) } })).status()).toBe(200);
    } else expect(first.status()).toBe(200);
    await page.goto(`${base}/documents`);
  }

  async function createKeys(page: Page, passphrase: string): Promise<string> {
    await page.getByTestId('loss-warning').waitFor();
    expect(await page.getByTestId('loss-warning').textContent()).toContain('perdez définitivement l’accès à vos documents passés');
    await page.getByLabel('Phrase secrète', { exact: true }).fill(passphrase);
    await page.getByLabel('Confirmez la phrase secrète').fill(passphrase);
    await page.getByRole('button', { name: 'Créer mes clés' }).click();
    const code = (await page.getByTestId('recovery-code').textContent())!.trim();
    await page.getByLabel('J’ai noté mon code de secours en lieu sûr').check();
    await page.getByRole('button', { name: 'Continuer' }).click();
    return code;
  }

  beforeAll(async () => {
    t = await createTestDatabase();
    const { data } = await seedDemo(t.db, undefined, t.vault);
    f = await createTeleconsultFixture(t.db, data);
    patientFileId = data.patientFiles.find((p) => p.establishmentId === f.establishmentId && data.patientAccounts[p.accountIndex ?? -1]?.userId === f.patient.userId)!.id;
    const config = testConfig();
    const identityKey = randomBytes(32);
    await sealStoredTotpSecrets({ config, db: t.db, logger: createLogger('silent'), identityKey });
    app = await buildApp({ config, db: t.db, vault: t.vault, logger: createLogger('silent'), now: () => TELE_NOW, identityKey });
    base = await app.listen({ port: 0, host: '127.0.0.1' });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await t?.drop();
  });

  it('shares a file from the practitioner to the patient, who opens it on a new device', async () => {
    const patient = await newDevice();
    await login(patient, f.patient);
    const recoveryCode = await createKeys(patient, 'ma phrase secrète de patient');
    expect(recoveryCode).toMatch(/^([A-Z0-9]{4}-){7}[A-Z0-9]{4}$/);
    expect(await seriousAxeViolations(patient)).toEqual([]);

    const doctor = await newDevice();
    await login(doctor, f.doctor);
    await createKeys(doctor, 'la phrase secrète du médecin');
    await doctor.getByLabel('Identifiant du dossier patient').fill(patientFileId);
    await doctor.getByLabel('Fichier').setInputFiles({ name: 'resultat.txt', mimeType: 'text/plain', buffer: Buffer.from(secret) });
    await doctor.getByRole('button', { name: 'Chiffrer et partager' }).click();
    await doctor.getByTestId('shared').waitFor();
    await screenshot(doctor, 'e2e-documents-practitioner');

    // A new device: the private key must be unlocked with the passphrase first.
    const laptop = await newDevice();
    await login(laptop, f.patient);
    await laptop.getByLabel('Phrase secrète').fill('une mauvaise phrase');
    await laptop.getByRole('button', { name: 'Déverrouiller' }).click();
    await laptop.getByText('Phrase secrète ou code de secours incorrect.').waitFor();
    await laptop.getByLabel('Phrase secrète').fill('ma phrase secrète de patient');
    await laptop.getByRole('button', { name: 'Déverrouiller' }).click();
    await laptop.getByRole('button', { name: 'Ouvrir' }).click();
    await expect.poll(() => laptop.getByTestId('document-text').textContent()).toBe(secret);
    await screenshot(laptop, 'e2e-documents-patient');

    // And another, with the recovery code only.
    const phone = await newDevice();
    await login(phone, f.patient);
    await phone.getByRole('button', { name: 'Utiliser mon code de secours' }).click();
    await phone.getByLabel('Code de secours').fill(recoveryCode.toLowerCase());
    await phone.getByRole('button', { name: 'Déverrouiller' }).click();
    await phone.getByRole('button', { name: 'Ouvrir' }).click();
    await expect.poll(() => phone.getByTestId('document-text').textContent()).toBe(secret);

    // What the server received and stores is ciphertext: the text is nowhere in the database.
    const stored = await t.db.owner.selectFrom('e2e_documents').select(['ciphertext', 'meta_ciphertext']).execute();
    expect(stored).toHaveLength(1);
    for (const row of stored) {
      expect(row.ciphertext.includes(Buffer.from(secret))).toBe(false);
      expect(row.meta_ciphertext.includes(Buffer.from('resultat.txt'))).toBe(false);
    }
    expect(csp).toEqual([]);
    expect(errors).toEqual([]);
  }, 180_000);
});

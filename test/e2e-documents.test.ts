// End-to-end encrypted documents over HTTP, with the browser's crypto module run on Node's
// WebCrypto: keys created and unlocked "in the browser", a document shared by a practitioner with
// the patient and a colleague, opened by each; every access rule's refusal; and a scan of the whole
// database after sharing that finds neither the document's bytes nor any unwrapped key.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { v7 as uuidv7 } from 'uuid';
import { buildApp } from '../src/app.js';
import { addCareRelationship } from '../src/modules/access/index.js';
import { sealStoredTotpSecrets } from '../src/modules/identity/index.js';
import { createLogger } from '../src/platform/log.js';
import { seedDemo } from '../src/seed/demo.js';
import { createKeyBundle, openDocument, sealDocument, unlockPrivateKey, type KeyBundle } from '../web/src/e2e/crypto.js';
import { TestClient, type TestClock } from './helpers/app.js';
import { createTestDatabase, testConfig, type TestDatabase } from './helpers/db.js';
import { createTeleconsultFixture, TELE_NOW, type TeleconsultFixture } from './helpers/teleconsult-fixture.js';

// Every key the crypto module wraps, exported before it is wrapped: what must never reach the server.
const unwrappedKeys: Uint8Array[] = [];
const subtle = globalThis.crypto.subtle;
const originalWrap = subtle.wrapKey.bind(subtle);
Object.defineProperty(subtle, 'wrapKey', {
  configurable: true,
  value: async (format: 'raw' | 'pkcs8', key: CryptoKey, wrappingKey: CryptoKey, algorithm: AlgorithmIdentifier) => {
    unwrappedKeys.push(new Uint8Array(await subtle.exportKey(format, key)));
    return originalWrap(format, key, wrappingKey, algorithm);
  },
});

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('end-to-end encrypted documents', () => {
  let t: TestDatabase;
  let app: FastifyInstance;
  let f: TeleconsultFixture;
  let patientFileId: string;
  let nowMs = TELE_NOW;
  const clock: TestClock = { now: () => new Date(nowMs), advance: (ms) => (nowMs += ms) };
  const c: Record<string, TestClient> = {};
  const keys: Record<string, { bundle: KeyBundle; privateKey: CryptoKey; recoveryCode: string }> = {};
  const marker = `Compte rendu confidentiel ${randomBytes(8).toString('hex')}`;
  const plaintext = new TextEncoder().encode(`${marker}\n${'Examen clinique normal. '.repeat(100)}`);
  const documentId = uuidv7();
  let documentsUrl: string;

  beforeAll(async () => {
    t = await createTestDatabase();
    const { data } = await seedDemo(t.db, undefined, t.vault);
    f = await createTeleconsultFixture(t.db, data);
    patientFileId = data.patientFiles.find((p) => p.establishmentId === f.establishmentId && data.patientAccounts[p.accountIndex ?? -1]?.userId === f.patient.userId)!.id;
    documentsUrl = `/api/v1/establishments/${f.establishmentId}/patients/${patientFileId}/e2e-documents`;
    // The colleague starts with no care relationship to this patient: the demo gives patients
    // appointments with several practitioners, so those are cancelled here.
    await t.db.owner
      .updateTable('appointments')
      .set({ status: 'cancelled', cancelled_at: new Date(), cancelled_by: 'staff' })
      .where('patient_id', '=', patientFileId)
      .where('practitioner_id', '=', f.colleague.practitioner.id)
      .execute();
    await t.db.owner.deleteFrom('care_relationships').where('patient_id', '=', patientFileId).where('practitioner_user_id', '=', f.colleague.userId).execute();
    const config = testConfig();
    const identityKey = randomBytes(32);
    await sealStoredTotpSecrets({ config, db: t.db, logger: createLogger('silent'), identityKey });
    app = await buildApp({ config, db: t.db, vault: t.vault, logger: createLogger('silent'), clock: clock.now, now: () => nowMs, identityKey });
    await app.ready();
    for (const [name, p] of Object.entries({ patient: f.patient, otherPatient: f.otherPatient })) {
      c[name] = new TestClient(app, clock, '198.51.100.7');
      expect((await c[name].loginPatient(p.email, p.password)).statusCode).toBe(200);
    }
    for (const [name, p] of Object.entries({ doctor: f.doctor, colleague: f.colleague, secretary: f.secretary })) {
      c[name] = new TestClient(app, clock, '198.51.100.8');
      expect((await c[name].loginStaff(p.email, p.password, p.totpSecret)).statusCode).toBe(200);
    }
  }, 120_000);
  afterAll(async () => {
    await app?.close();
    await t?.drop();
  });

  it('publishes each user’s keys once, and unlocks them on a new device with the passphrase or the recovery code', async () => {
    expect((await c['patient']!.get('/api/v1/me/e2e-keys')).statusCode).toBe(404);
    for (const who of ['patient', 'doctor', 'colleague']) {
      keys[who] = await createKeyBundle(`passphrase of ${who} long enough`);
      const res = await c[who]!.put('/api/v1/me/e2e-keys', keys[who]!.bundle);
      expect(res.statusCode, who).toBe(201);
    }
    // A second key pair would let a stolen session redirect future documents: refused.
    const again = await createKeyBundle('an attacker passphrase');
    expect((await c['patient']!.put('/api/v1/me/e2e-keys', again.bundle)).statusCode).toBe(409);
    // Weak derivation and a fingerprint that is not the key's are refused.
    const weak = await createKeyBundle('another passphrase here');
    expect((await c['otherPatient']!.put('/api/v1/me/e2e-keys', { ...weak.bundle, passphrase: { ...weak.bundle.passphrase, iterations: 1000 } })).statusCode).toBe(400);
    expect((await c['otherPatient']!.put('/api/v1/me/e2e-keys', { ...weak.bundle, fingerprint: keys['patient']!.bundle.fingerprint })).statusCode).toBe(400);

    const stored = (await c['patient']!.get('/api/v1/me/e2e-keys')).json() as KeyBundle;
    expect(stored).toEqual(keys['patient']!.bundle);
    await expect(unlockPrivateKey(stored, 'passphrase of patient long enough', 'passphrase')).resolves.toBeDefined();
    await expect(unlockPrivateKey(stored, keys['patient']!.recoveryCode, 'recovery')).resolves.toBeDefined();
    await expect(unlockPrivateKey(stored, 'a wrong guess', 'passphrase')).rejects.toThrow();
  }, 60_000);

  it('lets the practitioner seal a document for the patient, a colleague and themself', async () => {
    const recipients = (await c['doctor']!.get(`/api/v1/establishments/${f.establishmentId}/patients/${patientFileId}/e2e-recipients`)).json();
    expect(recipients.patient).toMatchObject({ userId: f.patient.userId, fingerprint: keys['patient']!.bundle.fingerprint });
    expect(recipients.self).toMatchObject({ userId: f.doctor.userId });
    const colleague = (await c['doctor']!.get(`/api/v1/establishments/${f.establishmentId}/practitioners/${f.colleague.practitioner.id}/e2e-key`)).json();
    expect(colleague).toMatchObject({ userId: f.colleague.userId });

    const sealed = await sealDocument(documentId, plaintext, { name: 'compte-rendu.txt', type: 'text/plain' }, [recipients.patient, recipients.self, colleague]);
    const res = await c['doctor']!.post(documentsUrl, sealed);
    expect(res.statusCode).toBe(201);
    expect((await c['doctor']!.post(documentsUrl, sealed)).statusCode).toBe(409);
  }, 30_000);

  it('refuses sharing to anyone but a practitioner in a care relationship, and recipients other than the patient and practitioners here', async () => {
    const recipients = (await c['doctor']!.get(`/api/v1/establishments/${f.establishmentId}/patients/${patientFileId}/e2e-recipients`)).json();
    const sealed = () => sealDocument(uuidv7(), new Uint8Array([1, 2, 3]), { name: 'x', type: 'text/plain' }, [recipients.patient]);
    for (const who of ['secretary', 'patient', 'otherPatient']) {
      expect((await c[who]!.post(documentsUrl, await sealed())).statusCode, who).toBe(404);
    }
    // The colleague has no care relationship with this patient.
    expect((await c['colleague']!.post(documentsUrl, await sealed())).statusCode).toBe(404);
    // Another patient's account is not a recipient of this patient's documents.
    const stranger = await createKeyBundle('stranger passphrase long');
    const strangerRecipient = { userId: f.otherPatient.userId, publicKey: stranger.bundle.publicKey, fingerprint: stranger.bundle.fingerprint };
    const toStranger = await sealDocument(uuidv7(), new Uint8Array([1]), { name: 'x', type: 'x' }, [recipients.patient, strangerRecipient]);
    expect((await c['doctor']!.post(documentsUrl, toStranger)).statusCode).toBe(400);
    // A key the server does not hold for the recipient (sealed for a substituted key).
    const substituted = await sealDocument(uuidv7(), new Uint8Array([1]), { name: 'x', type: 'x' }, [{ ...strangerRecipient, userId: f.patient.userId }]);
    expect((await c['doctor']!.post(documentsUrl, substituted)).statusCode).toBe(409);
    // Unknown fields are refused.
    expect((await c['doctor']!.post(documentsUrl, { ...(await sealed()), plaintext: 'x' })).statusCode).toBe(400);
  }, 30_000);

  it('lets the patient open it on a new device, and only the recipients with a right to it', async () => {
    const list = (await c['patient']!.get('/api/v1/me/e2e-documents')).json();
    expect(list.items.map((i: { id: string }) => i.id)).toEqual([documentId]);
    const doc = (await c['patient']!.get(`/api/v1/me/e2e-documents/${documentId}`)).json();
    const bundle = (await c['patient']!.get('/api/v1/me/e2e-keys')).json() as KeyBundle;
    const privateKey = await unlockPrivateKey(bundle, 'passphrase of patient long enough', 'passphrase');
    const opened = await openDocument(doc, privateKey);
    expect(new TextDecoder().decode(opened.content)).toBe(new TextDecoder().decode(plaintext));
    expect(opened.meta).toEqual({ name: 'compte-rendu.txt', type: 'text/plain' });

    // Another patient, the secretary, the colleague without a care relationship: not found.
    expect((await c['otherPatient']!.get(`/api/v1/me/e2e-documents/${documentId}`)).statusCode).toBe(404);
    expect((await c['otherPatient']!.get('/api/v1/me/e2e-documents')).json().items).toEqual([]);
    const staffUrl = `/api/v1/establishments/${f.establishmentId}/e2e-documents/${documentId}`;
    expect((await c['secretary']!.get(staffUrl)).statusCode).toBe(404);
    expect((await c['colleague']!.get(staffUrl)).statusCode).toBe(404);
    // Once in the care team, the colleague opens it with their own key.
    await t.db.withTenant(f.establishmentId, (tx) => addCareRelationship(tx, { establishmentId: f.establishmentId, patientId: patientFileId, practitionerUserId: f.colleague.userId, kind: 'care_team' }));
    const forColleague = await c['colleague']!.get(staffUrl);
    expect(forColleague.statusCode).toBe(200);
    expect((await openDocument(forColleague.json(), keys['colleague']!.privateKey)).content).toEqual(plaintext);
    // The author's own copy, and the staff list.
    expect((await openDocument((await c['doctor']!.get(staffUrl)).json(), keys['doctor']!.privateKey)).content).toEqual(plaintext);
    expect((await c['doctor']!.get(documentsUrl)).json().items).toHaveLength(1);
    // A patient cannot use the staff route, even for their own document.
    expect((await c['patient']!.get(staffUrl)).statusCode).toBe(404);
  }, 30_000);

  it('leaves no plaintext and no unwrapped key anywhere in the database', async () => {
    expect(unwrappedKeys.length).toBeGreaterThanOrEqual(8);
    const { rows: tables } = await sql<{ table_name: string }>`
      select table_name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE'`.execute(t.db.owner);
    let dump = '';
    for (const { table_name } of tables) {
      const { rows } = await sql<{ j: string }>`select row_to_json(x)::text as j from ${sql.table(table_name)} x`.execute(t.db.owner);
      dump += rows.map((r) => r.j).join('\n');
    }
    const lower = dump.toLowerCase();
    expect(dump).toContain(documentId);
    expect(lower).toContain(hex(Buffer.from(keys['patient']!.bundle.publicKey, 'base64')).slice(0, 64));
    const needles: Array<[string, string]> = [
      ['marker text', marker],
      ['plaintext hex', hex(plaintext.subarray(0, 48))],
      ['plaintext base64', Buffer.from(plaintext.subarray(0, 48)).toString('base64')],
      ['document name', 'compte-rendu.txt'],
      ['passphrase', 'passphrase of patient'],
      ['recovery code', keys['patient']!.recoveryCode],
    ];
    for (const key of unwrappedKeys) {
      // A 32-byte window of each key: its hex (bytea as JSON) and base64 forms.
      // (A private key's first bytes hold its public modulus, which is rightly stored: take its last
      // bytes, the CRT coefficient, which only the private key holds.)
      const window = key.length > 64 ? key.subarray(key.length - 40, key.length - 8) : key;
      needles.push([`unwrapped key (${key.length} bytes) hex`, hex(window)], [`unwrapped key base64`, Buffer.from(window).toString('base64').slice(0, 40)]);
    }
    for (const [what, needle] of needles) {
      expect(lower.includes(needle.toLowerCase()), what).toBe(false);
    }
  });

  it('audits each access to the documents, never their content', async () => {
    const events = await t.db.owner.selectFrom('audit_events').select(['action', 'outcome']).where('action', 'like', 'e2e_document.%').execute();
    const actions = new Set(events.filter((e) => e.outcome === 'allowed').map((e) => e.action));
    for (const a of ['e2e_document.share', 'e2e_document.open', 'e2e_document.list_own', 'e2e_document.recipients']) expect(actions, a).toContain(a);
    expect(events.some((e) => e.action === 'e2e_document.share' && e.outcome === 'denied')).toBe(true);
  });
});

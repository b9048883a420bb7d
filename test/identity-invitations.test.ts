// Invitations hold a person's e-mail and names before they have an account (issue 6): sealed in the
// vault under the invitee's own platform data key, bound to the invitation's row, and destroyed
// (key shredded) once the invitation is accepted or refused. Migration 0087 converts invitations
// and queued messages found in clear, and refuses to run without the vault when there are some.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { v7 as uuidv7 } from 'uuid';
import { clearDataSealer, inviteFromCli } from '../src/modules/identity/index.js';
import { openInvitees } from '../src/modules/identity/invitation-data.js';
import { queueCipher } from '../src/modules/vault/index.js';
import { migrateToLatest } from '../src/platform/db/migrations/index.js';
import { createJobRunner } from '../src/platform/jobs.js';
import { createLogger } from '../src/platform/log.js';
import { registerMailJobs, type MailMessage } from '../src/platform/mail.js';
import { createTestApp, staffOf, type TestApp, type TestClient } from './helpers/app.js';
import { createTestDatabase, testConfig } from './helpers/db.js';
import { dumpDatabase, findInDump } from './helpers/dump.js';

describe('invitations in the vault', () => {
  let h: TestApp;
  let eid: string;
  let adminClient: TestClient;
  let officerClient: TestClient;
  let admin: ReturnType<typeof staffOf>;
  let officer: ReturnType<typeof staffOf>;

  beforeAll(async () => {
    h = await createTestApp();
    admin = staffOf(h.data, 'admin');
    officer = staffOf(h.data, 'security_officer');
    eid = admin.establishmentId;
    adminClient = h.client('198.51.100.60');
    officerClient = h.client('198.51.100.61');
    expect((await adminClient.loginStaff(admin.email, admin.password, admin.totpSecret)).statusCode).toBe(200);
    expect((await officerClient.loginStaff(officer.email, officer.password, officer.totpSecret)).statusCode).toBe(200);
  });
  afterAll(async () => h?.close());

  const invite = (email: string, firstName: string, lastName: string) =>
    inviteFromCli({ config: testConfig({ HYGIE_PUBLIC_URL: 'http://localhost:3000' }), db: h.t.db, vault: h.t.vault, logger: createLogger('silent'), identityKey: randomBytes(32) }, eid, { email, firstName, lastName, role: 'secretary' });
  const rowOf = (id: string) => h.t.db.owner.selectFrom('invitations').select(['id', 'email_enc', 'first_name_enc', 'last_name_enc', 'status']).where('id', '=', id).executeTakeFirstOrThrow();
  const keyOf = (ownerId: string) => h.t.db.owner.selectFrom('vault_platform_data_keys').select(['owner_kind', 'shredded_at']).where('owner_id', '=', ownerId).executeTakeFirst();

  it('stores the invitee as ciphertexts that open only on their own row, and no e-mail waits in clear', async () => {
    const a = await invite('Ysaline.Rocheteau@example.fr', 'Ysaline', 'Rocheteau');
    const b = await invite('gontran.pelletier@example.fr', 'Gontran', 'Pelletier');
    const [ra, rb] = [await rowOf(a.invitationId), await rowOf(b.invitationId)];
    expect([ra.email_enc, ra.first_name_enc, ra.last_name_enc].every((v) => v.startsWith('hv1:'))).toBe(true);
    expect((await keyOf(a.invitationId))?.owner_kind).toBe('user');
    const opened = await h.t.db.withTenant(eid, (tx) => openInvitees(tx, h.t.vault, [ra, rb]));
    expect(opened).toEqual([
      { email: 'ysaline.rocheteau@example.fr', firstName: 'Ysaline', lastName: 'Rocheteau' },
      { email: 'gontran.pelletier@example.fr', firstName: 'Gontran', lastName: 'Pelletier' },
    ]);
    // Another invitation's ciphertext copied onto this row, or a value moved to another column: refused.
    await expect(h.t.db.withTenant(eid, (tx) => openInvitees(tx, h.t.vault, [{ ...ra, email_enc: rb.email_enc }]))).rejects.toThrow();
    await expect(h.t.db.withTenant(eid, (tx) => openInvitees(tx, h.t.vault, [{ ...ra, first_name_enc: ra.last_name_enc }]))).rejects.toThrow();
    // The invitation e-mails wait in the job outbox sealed; the worker still delivers them.
    const dump = await dumpDatabase(h.t.db);
    expect(findInDump(dump, ['Ysaline.Rocheteau@example.fr', 'Ysaline', 'Rocheteau', 'Gontran', 'Pelletier', 'Invitation à rejoindre'])).toEqual([]);
    expect((await h.lastMail('ysaline.rocheteau@example.fr'))?.text).toContain('Bonjour Ysaline');
  });

  it("shreds the invitation's copy of the invitee once accepted; the link cannot be used again", async () => {
    const { invitationId, link } = await invite('honorine.lacaze@example.fr', 'Honorine', 'Lacaze');
    const token = link.split('#token=')[1]!;
    const accepted = await h.client('198.51.100.62').post('/api/v1/auth/invitations/accept', { token, password: 'cerisier pourpre sous la neige' });
    expect(accepted.statusCode).toBe(200);
    expect((await keyOf(invitationId))?.shredded_at).not.toBeNull();
    const row = await rowOf(invitationId);
    expect(await h.t.db.withTenant(eid, (tx) => openInvitees(tx, h.t.vault, [row]))).toEqual([null]);
    expect((await h.client('198.51.100.62').post('/api/v1/auth/invitations/accept', { token, password: 'cerisier pourpre sous la neige' })).statusCode).toBe(400);
    // The account, not the invitation, holds the name now.
    const members = (await adminClient.get(`/api/v1/establishments/${eid}/members`)).json().items as Array<{ email: string; lastName: string }>;
    expect(members.find((m) => m.email === 'honorine.lacaze@example.fr')?.lastName).toBe('Lacaze');
  });

  it('revokes a refused invitation and shreds its invitee; an approved one is sent', async () => {
    await adminClient.stepUp(admin.totpSecret);
    const refused = (await adminClient.post(`/api/v1/establishments/${eid}/invitations`, { email: 'refus.admin@example.fr', firstName: 'Refus', lastName: 'Admin', role: 'admin' })).json();
    expect(refused.status).toBe('pending_approval');
    await officerClient.stepUp(officer.totpSecret);
    expect((await officerClient.post(`/api/v1/establishments/${eid}/approvals/${refused.approvalId}/reject`)).json().status).toBe('rejected');
    expect((await rowOf(refused.invitationId)).status).toBe('revoked');
    expect((await keyOf(refused.invitationId))?.shredded_at).not.toBeNull();
    expect(await h.lastMail('refus.admin@example.fr')).toBeUndefined();

    await adminClient.stepUp(admin.totpSecret);
    const approved = (await adminClient.post(`/api/v1/establishments/${eid}/invitations`, { email: 'accord.admin@example.fr', firstName: 'Accord', lastName: 'Admin', role: 'admin' })).json();
    expect((await officerClient.post(`/api/v1/establishments/${eid}/approvals/${approved.approvalId}/approve`)).statusCode).toBe(200);
    expect((await h.lastMail('accord.admin@example.fr'))?.text).toContain('Bonjour Accord');
    expect((await keyOf(approved.invitationId))?.shredded_at).toBeNull();
  });
});

describe('migration 0087 on a database holding invitations and queued messages in clear', () => {
  it('refuses without the vault, then seals invitations and queued messages, empties the outboxes and drops the clear columns', async () => {
    const t = await createTestDatabase({ migrate: false });
    try {
      const ctx = { appRole: t.config.dbAppRole };
      await migrateToLatest(t.db.owner, ctx, { upTo: '0085_audit_search' });
      const eid = uuidv7();
      const invitationId = uuidv7();
      const mailJob = uuidv7();
      const letterJob = uuidv7();
      await sql`insert into establishments (id, name, address_line, city, postal_code) values (${eid}, 'Clinique du Test', '1 rue du Test', 'Lyon', '69001')`.execute(t.db.owner);
      await sql`
        insert into invitations (id, establishment_id, email, first_name, last_name, role, status, created_at, expires_at)
        values (${invitationId}, ${eid}, 'leontine.marchetti@example.fr', 'Léontine', 'Marchetti', 'secretary', 'sent', now(), now() + interval '7 days')`.execute(t.db.owner);
      const message = { to: 'leontine.marchetti@example.fr', subject: 'Invitation à rejoindre Clinique du Test', text: 'Bonjour Léontine, #token=abc', template: 'identity.invitation' };
      await sql`insert into jobs (id, kind, payload) values (${mailJob}, 'mail.send', ${JSON.stringify(message)}::jsonb)`.execute(t.db.owner);
      const letter = { establishmentId: eid, incidentId: uuidv7(), patientId: uuidv7(), lang: 'fr', markdown: '# Lettre\n\nVos données génétiques ont été consultées.' };
      await sql`insert into jobs (id, kind, payload) values (${letterJob}, 'incident.letter', ${JSON.stringify(letter)}::jsonb)`.execute(t.db.owner);
      await sql`insert into mail_outbox (id, to_address, subject, text) values (${uuidv7()}, 'leontine.marchetti@example.fr', 'Ancien', 'Bonjour Léontine')`.execute(t.db.owner);
      await sql`insert into sms_outbox (id, to_number, text) values (${uuidv7()}, '+33698765432', 'Rappel Léontine')`.execute(t.db.owner);

      await expect(migrateToLatest(t.db.owner, ctx)).rejects.toThrow(/stored in clear/);
      await migrateToLatest(t.db.owner, { ...ctx, clearDataSealer: async () => clearDataSealer(t.vault) });

      const columns = (await sql<{ column_name: string }>`select column_name from information_schema.columns where table_name = 'invitations'`.execute(t.db.owner)).rows.map((r) => r.column_name);
      for (const gone of ['email', 'first_name', 'last_name']) expect(columns).not.toContain(gone);
      const dump = await dumpDatabase(t.db);
      expect(dump).toMatch(/invitations\t.*hv1:/);
      expect(findInDump(dump, ['leontine.marchetti', 'Léontine', 'Marchetti', '698765432', 'génétiques', '#token='])).toEqual([]);
      expect(Number((await sql<{ n: string }>`select count(*) as n from mail_outbox`.execute(t.db.owner)).rows[0]!.n)).toBe(0);

      const row = await t.db.owner.selectFrom('invitations').select(['id', 'email_enc', 'first_name_enc', 'last_name_enc']).executeTakeFirstOrThrow();
      expect(await t.db.withTenant(eid, (tx) => openInvitees(tx, t.vault, [row]))).toEqual([{ email: 'leontine.marchetti@example.fr', firstName: 'Léontine', lastName: 'Marchetti' }]);
      // The converted mail job is sent by the worker as it was queued.
      const sent: MailMessage[] = [];
      const runner = createJobRunner({ db: t.db, logger: createLogger('silent') });
      registerMailJobs(runner, { send: async (m) => void sent.push(m) }, { db: t.db, cipher: queueCipher(t.vault) });
      await runner.runOnce();
      expect(sent).toEqual([message]);
      const letterPayload = (await t.db.owner.selectFrom('jobs').select('payload').where('id', '=', letterJob).executeTakeFirstOrThrow()).payload as Record<string, string>;
      expect(letterPayload.patientId).toBe(letter.patientId);
      expect(await t.db.withPlatform((tx) => queueCipher(t.vault).open(tx, { table: 'jobs', column: 'payload', rowId: letterJob }, letterPayload.letter!))).toBe(letter.markdown);
    } finally {
      await t.drop();
    }
    // Migrates a database from scratch (no migrated template): slower than the others.
  }, 180_000);
});

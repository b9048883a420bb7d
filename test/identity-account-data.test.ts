// Accounts' personal fields are vault ciphertexts and accounts are found by a keyed blind index of
// the normalised e-mail (issue 6): login ignores case and surrounding spaces, two accounts cannot
// share an e-mail, the index is no plain hash of the address, a ciphertext moved to another account
// does not open, and migration 0075 converts accounts stored in clear.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { v7 as uuidv7 } from 'uuid';
import { createTestApp, type TestApp } from './helpers/app.js';
import { accountIdByEmail, insertAccounts } from './helpers/accounts.js';
import { createTestDatabase } from './helpers/db.js';
import { dumpDatabase, findInDump } from './helpers/dump.js';
import { accountEmailIndex, accountProfiles, accountSealer, findAccountIdByEmail, openSealedProfile, sealedProfileColumn } from '../src/modules/identity/index.js';
import { migrateToLatest } from '../src/platform/db/migrations/index.js';
import { createEnvKeyProvider, createVault } from '../src/modules/vault/index.js';

describe('accounts found by the blind index of their e-mail', () => {
  let h: TestApp;
  beforeAll(async () => {
    h = await createTestApp();
  });
  afterAll(async () => h?.close());

  it('logs in whatever the case and surrounding spaces of the e-mail; a blank e-mail is just invalid credentials', async () => {
    const p = h.data.patientAccounts[3]!;
    const shouted = `  ${p.email.toUpperCase()}\t`;
    expect((await h.client('192.0.2.60').post('/api/v1/auth/login', { email: shouted, password: p.password })).json()).toEqual({ status: 'ok' });
    const wrong = await h.client('192.0.2.61').post('/api/v1/auth/login', { email: shouted, password: `${p.password}x` });
    expect(wrong.statusCode).toBe(401);
    const blank = await h.client('192.0.2.62').post('/api/v1/auth/login', { email: '   ', password: p.password });
    expect(blank.statusCode).toBe(401);
    expect(blank.json().code).toBe('invalid_credentials');
    const { requestId: _a, ...blankBody } = blank.json();
    const { requestId: _b, ...wrongBody } = wrong.json();
    expect(blankBody).toEqual(wrongBody);
  });

  it('two accounts cannot share an e-mail: sign-up in another case mails the owner, and the database refuses a second row', async () => {
    const p = h.data.patientAccounts[4]!;
    const count = async () => Number((await h.t.db.owner.selectFrom('users').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow()).n);
    const before = await count();
    const res = await h.client('192.0.2.63').post('/api/v1/auth/signup', {
      email: p.email.toUpperCase(),
      password: 'grive musicienne au printemps',
      firstName: 'Autre',
      lastName: 'Personne',
      birthDate: '1991-02-03',
    });
    expect(res.statusCode).toBe(201);
    expect((await h.lastMail(p.email))?.subject).toBe('Vous avez déjà un compte Hygie');
    expect(await count()).toBe(before);
    await expect(insertAccounts(h.t.db, h.t.vault, [{ id: uuidv7(), email: ` ${p.email.toUpperCase()} ` }])).rejects.toThrow(/users_email_bidx_key|unique/);
    expect(await count()).toBe(before);
  });

  it('stores no e-mail but ciphertexts and a keyed index: not a plain hash, and another key gives another index', async () => {
    const p = h.data.patientAccounts[2]!;
    const id = await accountIdByEmail(h.t.db, h.t.vault, p.email);
    expect(id).toBe(p.userId);
    const row = await h.t.db.owner.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    expect(row.email_enc).toMatch(/^hv1:/);
    expect(row.first_name_enc).toMatch(/^hv1:/);
    expect(row.phone_enc).toMatch(/^hv1:/);
    expect(JSON.stringify(row)).not.toContain(p.email);
    const email = p.email.toLowerCase();
    const unkeyed = [createHash('sha256').update(email), createHash('sha256').update(`account:${email}`), createHmac('sha256', Buffer.alloc(32)).update(email)].flatMap((hsh) => {
      const d = hsh.digest();
      return [d.toString('hex'), d.toString('base64'), d.toString('base64url')];
    });
    expect(unkeyed).not.toContain(row.email_bidx);
    expect(row.email_bidx).toBe(await h.t.db.withPlatform((tx) => accountEmailIndex(tx, h.t.vault, ` ${p.email.toUpperCase()}`)));
    // The same address under another platform key: an unrelated value (a stolen dump cannot be
    // searched by hashing candidate e-mails).
    const other = createVault({ provider: createEnvKeyProvider([randomBytes(32)]) });
    const t2 = await createTestDatabase();
    try {
      expect(await t2.db.withPlatform((tx) => accountEmailIndex(tx, other, p.email))).not.toBe(row.email_bidx);
    } finally {
      await t2.drop();
    }
  });

  it("a reset request queues the e-mail's index, not the address, and still reaches the account", async () => {
    const p = h.data.patientAccounts[9]!;
    expect((await h.client('192.0.2.64').post('/api/v1/auth/password/forgot', { email: ` ${p.email.toUpperCase()}` })).statusCode).toBe(202);
    const queued = JSON.stringify(await h.t.db.owner.selectFrom('jobs').select('payload').where('kind', '=', 'identity.password_reset_request').execute());
    expect(queued).toContain(await h.t.db.withPlatform((tx) => accountEmailIndex(tx, h.t.vault, p.email)));
    expect(queued.toLowerCase()).not.toContain(p.email.toLowerCase());
    expect((await h.lastMail(p.email))?.subject).toBe('Réinitialisation de votre mot de passe');
  });

  it("reads an account through the identity module only; a ciphertext moved to another account does not open", async () => {
    const [a, b] = [h.data.patientAccounts[7]!, h.data.patientAccounts[8]!];
    const profiles = await h.t.db.withPlatform((tx) => accountProfiles(tx, h.t.vault, [a.userId, b.userId]));
    expect(profiles.get(a.userId)).toEqual({ id: a.userId, email: a.email, firstName: a.firstName, lastName: a.lastName, birthDate: a.birthDate, phone: a.phone });
    const source = await h.t.db.owner.selectFrom('users').select('email_enc').where('id', '=', a.userId).executeTakeFirstOrThrow();
    const original = await h.t.db.owner.selectFrom('users').select('email_enc').where('id', '=', b.userId).executeTakeFirstOrThrow();
    await h.t.db.owner.updateTable('users').set({ email_enc: source.email_enc }).where('id', '=', b.userId).execute();
    try {
      await expect(h.t.db.withPlatform((tx) => accountProfiles(tx, h.t.vault, [b.userId]))).rejects.toThrow();
    } finally {
      await h.t.db.owner.updateTable('users').set({ email_enc: original.email_enc }).where('id', '=', b.userId).execute();
    }
  });

  it("a sealed profile read inside another module's statement opens for its own account only", async () => {
    const [a, b] = [h.data.patientAccounts[9]!, h.data.patientAccounts[10]!];
    const read = (userId: string) =>
      h.t.db.withPlatform((tx) => tx.selectNoFrom(sealedProfileColumn(h.t.vault, userId).as('p')).executeTakeFirstOrThrow()).then((r) => r.p);
    const sealed = await read(a.userId);
    // Sealed: no clear field in what the statement answers.
    expect(JSON.stringify(sealed)).not.toContain(a.email);
    expect(JSON.stringify(sealed)).not.toContain(a.lastName);
    const opened = await h.t.db.withPlatform((tx) => openSealedProfile(tx, createVault({ provider: h.t.vault.provider }), a.userId, sealed));
    expect(opened).toEqual({ id: a.userId, email: a.email, firstName: a.firstName, lastName: a.lastName, birthDate: a.birthDate, phone: a.phone });
    // Another account's value, no account, or something else: nothing.
    expect(await h.t.db.withPlatform((tx) => openSealedProfile(tx, h.t.vault, b.userId, sealed))).toBeUndefined();
    expect(await read(uuidv7())).toBeNull();
    expect(await h.t.db.withPlatform((tx) => openSealedProfile(tx, h.t.vault, a.userId, null))).toBeUndefined();
    expect(await h.t.db.withPlatform((tx) => openSealedProfile(tx, h.t.vault, a.userId, { id: a.userId }))).toBeUndefined();
    // Another account's sealed fields under this account's id do not open (bound to their row).
    const other = (await read(b.userId)) as Record<string, unknown>;
    await expect(h.t.db.withPlatform((tx) => openSealedProfile(tx, h.t.vault, a.userId, { ...other, id: a.userId }))).rejects.toThrow();
  });
});

describe('migration 0075 on a database holding accounts in clear', () => {
  it('refuses without the vault, then encrypts every account and drops the clear columns', async () => {
    const t = await createTestDatabase({ migrate: false });
    try {
      const ctx = { appRole: t.config.dbAppRole };
      await migrateToLatest(t.db.owner, ctx, { upTo: '0062_guard_refusals' });
      const people = [
        { id: uuidv7(), email: 'ancien.compte@example.fr', first_name: 'Hortense', last_name: 'Vasseur-Lemoine', birth_date: '1961-07-14', phone: '+33612345678' },
        { id: uuidv7(), email: 'second.compte@example.fr', first_name: 'Gaspard', last_name: 'Ollivier', birth_date: null, phone: null },
      ];
      for (const p of people) {
        await sql`insert into users (id, email, first_name, last_name, birth_date, phone) values (${p.id}, ${p.email}, ${p.first_name}, ${p.last_name}, ${p.birth_date}, ${p.phone})`.execute(t.db.owner);
      }
      await expect(migrateToLatest(t.db.owner, ctx)).rejects.toThrow(/users holds accounts in clear/);

      await migrateToLatest(t.db.owner, { ...ctx, accountSealer: async () => accountSealer(t.vault) });
      const columns = (await sql<{ column_name: string }>`select column_name from information_schema.columns where table_name = 'users'`.execute(t.db.owner)).rows.map((r) => r.column_name);
      expect(columns).toEqual(expect.arrayContaining(['email_enc', 'email_bidx', 'first_name_enc', 'last_name_enc', 'birth_date_enc', 'phone_enc']));
      expect(columns).not.toEqual(expect.arrayContaining(['email']));
      for (const gone of ['email', 'first_name', 'last_name', 'birth_date', 'phone']) expect(columns).not.toContain(gone);

      expect(await t.db.withPlatform((tx) => findAccountIdByEmail(tx, t.vault, 'ANCIEN.compte@example.fr '))).toBe(people[0]!.id);
      const opened = await t.db.withPlatform((tx) => accountProfiles(tx, t.vault, people.map((p) => p.id)));
      expect(opened.get(people[0]!.id)).toEqual({ id: people[0]!.id, email: 'ancien.compte@example.fr', firstName: 'Hortense', lastName: 'Vasseur-Lemoine', birthDate: '1961-07-14', phone: '+33612345678' });
      expect(opened.get(people[1]!.id)).toMatchObject({ firstName: 'Gaspard', birthDate: null, phone: null });
      const dump = await dumpDatabase(t.db);
      expect(dump).toMatch(/users\t.*hv1:/);
      expect(findInDump(dump, ['ancien.compte@example.fr', 'Hortense', 'Vasseur-Lemoine', '612345678', '1961-07-14', 'Ollivier'])).toEqual([]);
    } finally {
      await t.drop();
    }
    // Migrates a database from scratch twice (no migrated template): slower than the others.
  }, 180_000);
});

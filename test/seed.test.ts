// The demo data set: deterministic, French, of the promised size, loaded through the tenant walls,
// and described exactly by the demo accounts file.
import { accountIdByEmail } from './helpers/accounts.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DEMO_SIZES, generateDemoData } from '../src/seed/demo-data.js';
import { demoAccounts, hasDemoData, seedDemo, writeDemoAccounts, type DemoAccountsFile } from '../src/seed/demo.js';
import { isValidRpps } from '../src/modules/directory/index.js';
import { verifyPassword } from '../src/modules/identity/index.js';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';

describe('demo data generator', () => {
  const data = generateDemoData();

  it('always gives the same data for the same seed, and other data for another seed', () => {
    expect(generateDemoData()).toEqual(data);
    const other = generateDemoData(7);
    expect(other.patientFiles[0]!.birthName).not.toBe(data.patientFiles[0]!.birthName);
  });

  it('has three establishments in different cities, each fully staffed', () => {
    expect(data.establishments).toHaveLength(3);
    expect(new Set(data.establishments.map((e) => e.city)).size).toBe(3);
    for (const e of data.establishments) {
      const roles = data.staff.flatMap((s) => s.memberships.filter((m) => m.establishmentId === e.id).map((m) => m.role));
      expect(roles.filter((r) => r === 'practitioner').length).toBeGreaterThanOrEqual(2);
      for (const role of ['secretary', 'admin', 'security_officer'] as const) expect(roles).toContain(role);
    }
  });

  it('has 20 practitioners over 8 specialties with valid, unique RPPS numbers', () => {
    const practitioners = data.staff.flatMap((s) => (s.practitioner ? [s.practitioner] : []));
    expect(practitioners).toHaveLength(DEMO_SIZES.practitioners);
    expect(new Set(practitioners.map((p) => p.specialtyCode)).size).toBe(8);
    expect(practitioners.every((p) => isValidRpps(p.rpps))).toBe(true);
    expect(new Set(practitioners.map((p) => p.rpps)).size).toBe(practitioners.length);
  });

  it('has 200 patients, at least 30 with accounts, with French identities', () => {
    const persons = new Set(data.patientFiles.map((f) => `${f.birthName}|${f.firstNames}|${f.birthDate}`));
    expect(persons.size).toBe(200);
    expect(data.patientAccounts.length).toBeGreaterThanOrEqual(30);
    expect(data.patientFiles.every((f) => /^\+336\d{8}$/.test(f.phone))).toBe(true);
    // The French locale: accented first names appear among 200 patients.
    expect(data.patientFiles.some((f) => /[éèëïôç]/i.test(f.firstNames))).toBe(true);
    // Unique e-mail addresses across every account.
    const emails = [...data.staff.map((s) => s.email), ...data.patientAccounts.map((a) => a.email)];
    expect(new Set(emails).size).toBe(emails.length);
  });
});

describe('seedDemo on a database', () => {
  let t: TestDatabase;
  let accounts: DemoAccountsFile;
  beforeAll(async () => {
    t = await createTestDatabase();
    const { created, data } = await seedDemo(t.db, undefined, t.vault);
    expect(created).toBe(true);
    accounts = demoAccounts(data, 'http://127.0.0.1:3000');
  });
  afterAll(async () => t?.drop());

  it('loads every row', async () => {
    const count = async (table: 'establishments' | 'users' | 'practitioners' | 'patients' | 'memberships') =>
      Number((await t.db.owner.selectFrom(table).select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow()).n);
    const data = generateDemoData();
    expect(await count('establishments')).toBe(3);
    expect(await count('practitioners')).toBe(20);
    expect(await count('users')).toBe(data.staff.length + data.patientAccounts.length);
    expect(await count('patients')).toBe(data.patientFiles.length);
    expect(await count('memberships')).toBe(data.staff.reduce((n, s) => n + s.memberships.length, 0));
    expect(await hasDemoData(t.db)).toBe(true);
  });

  it('does not load twice, and regenerates the same accounts', async () => {
    const again = await seedDemo(t.db, undefined, t.vault);
    expect(again.created).toBe(false);
    expect(demoAccounts(again.data, 'http://127.0.0.1:3000')).toEqual(accounts);
    expect(Number((await t.db.owner.selectFrom('establishments').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow()).n)).toBe(3);
  });

  it('the accounts file matches the database: passwords verify, patient ids belong to the account', async () => {
    expect(accounts.staff.every((s) => /^[A-Z2-7]{32}$/.test(s.totpSecret))).toBe(true);
    for (const s of [accounts.staff[0]!, accounts.staff.at(-1)!]) {
      const user = await t.db.owner.selectFrom('users').select(['password_hash', 'id']).where('id', '=', await accountIdByEmail(t.db, t.vault, s.email)).executeTakeFirstOrThrow();
      expect(await verifyPassword(user.password_hash!, s.password)).toBe(true);
      expect(await verifyPassword(user.password_hash!, `${s.password}x`)).toBe(false);
      const membership = await t.db.owner.selectFrom('memberships').select('role').where('user_id', '=', user.id).where('establishment_id', '=', s.establishmentId).executeTakeFirstOrThrow();
      expect(membership.role).toBe(s.role);
    }
    const patient = accounts.patients[0]!;
    const user = await t.db.owner.selectFrom('users').select(['id', 'password_hash']).where('id', '=', await accountIdByEmail(t.db, t.vault, patient.email)).executeTakeFirstOrThrow();
    expect(await verifyPassword(user.password_hash!, patient.password)).toBe(true);
    expect(Object.keys(patient.patientIds).length).toBeGreaterThanOrEqual(1);
    for (const [establishmentId, patientId] of Object.entries(patient.patientIds)) {
      const file = await t.db.owner.selectFrom('patients').select(['account_user_id', 'establishment_id']).where('id', '=', patientId).executeTakeFirstOrThrow();
      expect(file).toEqual({ account_user_id: user.id, establishment_id: establishmentId });
    }
    expect(accounts.patients.length).toBeGreaterThanOrEqual(30);
    expect(accounts.staff.filter((s) => s.role === 'practitioner').every((s) => typeof s.practitionerId === 'string')).toBe(true);
  });

  it('writes the accounts file readable by its owner only', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'hygie-seed-'));
    const file = path.join(dir, 'nested', 'demo.json');
    await writeDemoAccounts(file, accounts);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual(accounts);
  });
});

// Loads the demo data set and writes the demo accounts file (format in API.md).
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Database } from '../platform/db/database.js';
import { randomBytes } from 'node:crypto';
import { hashPassword, sealAccounts } from '../modules/identity/index.js';
import { createEnvKeyProvider, createVault, type Vault } from '../modules/vault/index.js';
import { loadRecordsDemo, planRecordsDemo } from '../modules/records/index.js';
import { DEMO_SEED, generateDemoData, type DemoData } from './demo-data.js';
import { demoSchedulingPlan } from './demo-data.js';
import { loadSchedulingPlan } from '../modules/scheduling/demo.js';

const MARKER_KEY = 'demo_seed';

export interface DemoAccountsFile {
  baseUrl: string;
  establishments: Array<{ id: string; name: string; city: string }>;
  staff: Array<{
    email: string;
    password: string;
    totpSecret: string;
    role: string;
    establishmentId: string;
    practitionerId?: string;
  }>;
  patients: Array<{ email: string; password: string; patientIds: Record<string, string> }>;
}

export type ProgressFn = (done: number, total: number, label: string) => void;

export interface SeedDemoResult {
  created: boolean;
  data: DemoData;
  /** The vault the patient data was (or, when not created, would be) encrypted with. */
  vault: Vault;
}

/** True when the database holds no establishment at all (the first start of an embedded database). */
export async function isEmptyDatabase(db: Database): Promise<boolean> {
  const row = await db.owner.selectFrom('establishments').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow();
  return Number(row.n) === 0;
}

export async function hasDemoData(db: Database): Promise<boolean> {
  const row = await db.owner.selectFrom('platform_settings').select('key').where('key', '=', MARKER_KEY).executeTakeFirst();
  return row !== undefined;
}

/**
 * Loads the demo data unless the database already holds it (then only regenerates it in memory,
 * which gives the same ids and passwords). Establishment-owned rows are written through
 * withTenant, so seeding obeys the same row-level security as the server.
 */
export async function seedDemo(db: Database, onProgress: ProgressFn = () => undefined, vaultIn?: Vault): Promise<SeedDemoResult> {
  const data = generateDemoData(DEMO_SEED);
  // Without the server's vault (tests), an ephemeral one: the data is as encrypted, under a root
  // key that only the returned vault holds.
  const vault = vaultIn ?? createVault({ provider: createEnvKeyProvider([randomBytes(32)]) });
  if (await hasDemoData(db)) return { created: false, data, vault };
  const recordsPlan = planRecordsDemo(data);

  const accounts = data.staff.length + data.patientAccounts.length;
  const schedulingPlan = demoSchedulingPlan(data, Date.now());
  const total = data.establishments.length + accounts + data.patientFiles.length + schedulingPlan.appointments.length;
  let done = 0;
  const step = (label: string, n = 1) => {
    done += n;
    onProgress(done, total, label);
  };

  // Hash first (the slow part), outside any transaction.
  const staffHashes: string[] = [];
  for (const s of data.staff) {
    staffHashes.push(await hashPassword(s.password));
    step('accounts');
  }
  const patientHashes: string[] = [];
  for (const p of data.patientAccounts) {
    patientHashes.push(await hashPassword(p.password));
    step('accounts');
  }

  await db.owner.transaction().execute(async (tx) => {
    await tx
      .insertInto('establishments')
      .values(data.establishments.map((e) => ({ id: e.id, name: e.name, address_line: e.addressLine, city: e.city, postal_code: e.postalCode })))
      .execute();
    await tx
      .insertInto('platform_settings')
      .values({ key: MARKER_KEY, value: JSON.stringify({ seed: DEMO_SEED, at: new Date().toISOString() }) })
      .execute();
  });
  step('establishments', data.establishments.length);

  const now = new Date();
  await db.withPlatform(async (tx) => {
    // Accounts' personal fields go in encrypted, found by the e-mail's blind index (identity).
    const people = [
      ...data.staff.map((s, i) => ({ s, hash: staffHashes[i]!, totp: s.totpSecret })),
      ...data.patientAccounts.map((s, i) => ({ s, hash: patientHashes[i]!, totp: null })),
    ];
    const sealed = await sealAccounts(
      tx,
      vault,
      people.map(({ s }) => ({ id: s.userId, email: s.email, firstName: s.firstName, lastName: s.lastName, birthDate: s.birthDate, phone: s.phone })),
    );
    await tx
      .insertInto('users')
      .values(
        people.map(({ s, hash, totp }, i) => ({
          id: s.userId,
          ...sealed[i]!,
          email_verified_at: now,
          password_hash: hash,
          totp_secret: totp,
          disabled_at: null,
        })),
      )
      .execute();
    const practitioners = data.staff.flatMap((s) => (s.practitioner ? [{ s, p: s.practitioner }] : []));
    await tx
      .insertInto('practitioners')
      .values(
        practitioners.map(({ s, p }) => ({
          id: p.id,
          user_id: s.userId,
          first_name: s.firstName,
          last_name: s.lastName,
          rpps: p.rpps,
          specialty_code: p.specialtyCode,
          languages: p.languages,
          teleconsult: p.teleconsult,
        })),
      )
      .execute();
  });

  for (const establishment of data.establishments) {
    await db.withTenant(establishment.id, async (tx) => {
      const memberships = data.staff.flatMap((s) =>
        s.memberships.filter((m) => m.establishmentId === establishment.id).map((m) => ({ s, m })),
      );
      await tx
        .insertInto('memberships')
        .values(memberships.map(({ s, m }) => ({ id: m.membershipId, establishment_id: m.establishmentId, user_id: s.userId, role: m.role })))
        .execute();
      const practising = memberships.filter(({ s, m }) => m.role === 'practitioner' && s.practitioner);
      if (practising.length > 0) {
        await tx
          .insertInto('practitioner_establishments')
          .values(practising.map(({ s }) => ({ establishment_id: establishment.id, practitioner_id: s.practitioner!.id })))
          .execute();
      }
    });
    // Patient files, insurance, entries and care teams go through the records module: encrypted.
    const files = await loadRecordsDemo(db, vault, data, recordsPlan, establishment.id);
    step('patient files', files);
  }
  await loadSchedulingPlan(db, schedulingPlan, (n) => step('appointments', n));
  return { created: true, data, vault };
}

export function demoAccounts(data: DemoData, baseUrl: string): DemoAccountsFile {
  return {
    baseUrl,
    establishments: data.establishments.map((e) => ({ id: e.id, name: e.name, city: e.city })),
    staff: data.staff.flatMap((s) =>
      s.memberships.map((m) => ({
        email: s.email,
        password: s.password,
        totpSecret: s.totpSecret,
        role: m.role,
        establishmentId: m.establishmentId,
        ...(s.practitioner ? { practitionerId: s.practitioner.id } : {}),
      })),
    ),
    patients: data.patientAccounts.map((account, index) => ({
      email: account.email,
      password: account.password,
      patientIds: Object.fromEntries(
        data.patientFiles.filter((f) => f.accountIndex === index).map((f) => [f.establishmentId, f.id]),
      ),
    })),
  };
}

/** Writes the accounts file with mode 0600: it holds working passwords and TOTP secrets. */
export async function writeDemoAccounts(file: string, accounts: DemoAccountsFile): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, `${JSON.stringify(accounts, null, 2)}\n`, { mode: 0o600 });
  await chmod(file, 0o600);
}

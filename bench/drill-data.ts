// The drill's scaled data set, generated with SQL (and the records module for the encrypted files): one establishment with 50,000
// patients and 200 staff (150 practitioners, 30 secretaries each working for 5 practitioners,
// 10 admins, 10 security officers), 200 patient accounts, and about 200,000 appointments from 120
// days back to 30 days ahead (12 a working day per practitioner; 40 today for the "busy"
// practitioners). Appointments and secretary assignments live in drill_* tables until scheduling
// lands; they are walled by RLS like every establishment-owned table.
import { sql } from 'kysely';
import { v7 as uuidv7 } from 'uuid';
import type { Database } from '../src/platform/db/database.js';
import { enableTenantIsolation } from '../src/platform/db/migrations/rls.js';
import { insertPatientFile } from '../src/modules/records/index.js';
import type { Vault } from '../src/modules/vault/index.js';
import { sealAccounts, type AccountProfile } from '../src/modules/identity/index.js';

/** Accounts without password, their personal fields encrypted as identity writes them. */
async function insertAccounts(db: Database, vault: Vault, accounts: AccountProfile[]): Promise<void> {
  await db.withPlatform(async (tx) => {
    const sealed = await sealAccounts(tx, vault, accounts);
    await tx
      .insertInto('users')
      .values(accounts.map((a, i) => ({ id: a.id, ...sealed[i]!, email_verified_at: null, password_hash: null, totp_secret: null, disabled_at: null })))
      .execute();
  });
}

export const SURNAMES = ['MARTIN', 'BERNARD', 'THOMAS', 'PETIT', 'ROBERT', 'RICHARD', 'DURAND', 'DUBOIS', 'MOREAU', 'LAURENT', 'SIMON', 'MICHEL', 'LEFEBVRE', 'LEROY', 'ROUX', 'DAVID', 'BERTRAND', 'MOREL', 'FOURNIER', 'GIRARD'];

export interface DrillData {
  establishmentId: string;
  practitioners: string[];
  secretaries: string[];
  admins: string[];
  officers: string[];
  patientAccounts: Array<{ userId: string; patientId: string }>;
  assignments: Map<string, string[]>;
  busy: string[];
  today: Date;
}

export async function generateDrillData(db: Database, vault: Vault, appRole: string, today: Date, sizes = { patients: 50_000 }): Promise<DrillData> {
  const o = db.owner;
  const establishmentId = uuidv7();
  await o.insertInto('establishments').values({ id: establishmentId, name: 'Hôpital du Drill', address_line: '1 rue du Test', city: 'Lyon', postal_code: '69001' }).execute();
  const staff = (n: number) => Array.from({ length: n }, () => uuidv7());
  const practitioners = staff(150);
  const secretaries = staff(30);
  const admins = staff(10);
  const officers = staff(10);
  const all: Array<[string, string]> = [
    ...practitioners.map((id) => [id, 'practitioner'] as [string, string]),
    ...secretaries.map((id) => [id, 'secretary'] as [string, string]),
    ...admins.map((id) => [id, 'admin'] as [string, string]),
    ...officers.map((id) => [id, 'security_officer'] as [string, string]),
  ];
  await insertAccounts(db, vault, all.map(([id], i) => ({ id, email: `staff${i}@drill.hygie.example`, firstName: 'Staff', lastName: `N${i}`, birthDate: null, phone: null })));
  await o.insertInto('memberships').values(all.map(([id, role]) => ({ id: uuidv7(), establishment_id: establishmentId, user_id: id, role: role as 'practitioner' }))).execute();

  // Patients: index -> id in a helper table, so appointments can pick from practitioner panels.
  await sql`create table drill_patients (idx integer primary key, id uuid not null)`.execute(o);
  await sql`insert into drill_patients select i, gen_random_uuid() from generate_series(0, ${sizes.patients - 1}) i`.execute(o);
  // What the scenarios "know" of each patient (a caller's name and birth date) stays in a scratch
  // table of this bench database; the files themselves are encrypted by records like any other.
  await sql`create table drill_patient_names (id uuid primary key, birth_name text not null, first_names text not null, sex text not null, birth_date text not null)`.execute(o);
  await sql`
    insert into drill_patient_names (id, birth_name, first_names, sex, birth_date)
    select p.id, (${sql.lit(`{${SURNAMES.join(',')}}`)}::text[])[1 + (p.idx % ${SURNAMES.length})] || case when p.idx % 3 = 0 then '' else '-' || p.idx end,
      'Prénom' || p.idx, case when p.idx % 2 = 0 then 'F' else 'M' end,
      to_char(date '1940-01-01' + ((p.idx * 7919) % 25000), 'YYYY-MM-DD')
    from drill_patients p`.execute(o);
  const names = (await sql<{ id: string; birth_name: string; first_names: string; sex: 'F' | 'M'; birth_date: string }>`select * from drill_patient_names`.execute(o)).rows;
  // Chunks of 1,000 files, four transactions at a time: each insert is a round trip, so on
  // PostgreSQL the wait, not the encryption, was most of the set-up (PGlite has one connection).
  const chunks: Array<typeof names> = [];
  for (let i = 0; i < names.length; i += 1000) chunks.push(names.slice(i, i + 1000));
  const insertChunk = (chunk: typeof names) =>
    db.withTenant(establishmentId, async (tx) => {
      await vault.ensurePatientKeys(tx, establishmentId, chunk.map((p) => p.id));
      for (const p of chunk) {
        await insertPatientFile(tx, vault, { id: p.id, establishmentId, accountUserId: null, file: { birthName: p.birth_name, firstNames: p.first_names, sex: p.sex, birthDate: p.birth_date } });
      }
    });
  const parallel = db.kind === 'postgres' ? 4 : 1;
  for (let i = 0; i < chunks.length; i += parallel) await Promise.all(chunks.slice(i, i + parallel).map(insertChunk));
  const accounts = Array.from({ length: 200 }, (_, i) => ({ userId: uuidv7(), idx: (i * 97) % sizes.patients }));
  await insertAccounts(db, vault, accounts.map((a, i) => ({ id: a.userId, email: `patient${i}@drill.hygie.example`, firstName: 'Patient', lastName: `P${i}`, birthDate: null, phone: null })));
  const patientAccounts: DrillData['patientAccounts'] = [];
  for (const a of accounts) {
    const row = await sql<{ id: string }>`update patients set account_user_id = ${a.userId} where id = (select id from drill_patients where idx = ${a.idx}) returning id`.execute(o);
    patientAccounts.push({ userId: a.userId, patientId: row.rows[0]!.id });
  }

  await sql`
    create table drill_appointments (
      id uuid primary key,
      establishment_id uuid not null references establishments(id),
      practitioner_user_id uuid not null,
      patient_id uuid not null,
      start_at timestamptz not null
    )`.execute(o);
  await sql`create table drill_practitioners (idx integer primary key, user_id uuid not null)`.execute(o);
  await o.insertInto('drill_practitioners' as never).values(practitioners.map((user_id, idx) => ({ idx, user_id })) as never).execute();
  // Each practitioner sees patients from a panel of 1,500; 12 appointments per working day.
  const day0 = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate()));
  // The random panel index is drawn once per appointment (a materialised CTE), then joined.
  await sql`
    insert into drill_appointments
    with slots as materialized (
      select pr.user_id, d + interval '7 hours' + s * interval '40 minutes' as start_at,
        (pr.idx * 331 + floor(random() * 1500)::int) % ${sizes.patients} as pidx
      from drill_practitioners pr
      cross join generate_series(${new Date(day0.getTime() - 120 * 86_400_000)}::timestamptz, ${new Date(day0.getTime() + 30 * 86_400_000)}::timestamptz, interval '1 day') d
      cross join generate_series(0, 11) s
      where extract(isodow from d) < 6
    )
    select gen_random_uuid(), ${establishmentId}, slots.user_id, dp.id, slots.start_at from slots join drill_patients dp on dp.idx = slots.pidx`.execute(o);
  // The busy practitioners: 40 consultations today.
  const busy = practitioners.slice(0, 5);
  await sql`
    insert into drill_appointments
    with slots as materialized (
      select pr.user_id, ${day0}::timestamptz + interval '7 hours 10 minutes' + s * interval '15 minutes' as start_at,
        (pr.idx * 331 + floor(random() * 1500)::int) % ${sizes.patients} as pidx
      from drill_practitioners pr cross join generate_series(0, 27) s
      where pr.idx < 5
    )
    select gen_random_uuid(), ${establishmentId}, slots.user_id, dp.id, slots.start_at from slots join drill_patients dp on dp.idx = slots.pidx`.execute(o);
  await sql`create index drill_appointments_practitioner_idx on drill_appointments (practitioner_user_id, start_at)`.execute(o);
  await sql`create index drill_appointments_patient_idx on drill_appointments (patient_id, start_at)`.execute(o);
  await sql`create index drill_appointments_establishment_idx on drill_appointments (establishment_id, start_at)`.execute(o);
  const ctx = { appRole };
  await enableTenantIsolation(o as never, ctx, 'drill_appointments', ['select', 'insert']);

  await sql`create table drill_assignments (establishment_id uuid not null references establishments(id), secretary_user_id uuid not null, practitioner_user_id uuid not null)`.execute(o);
  const assignments = new Map<string, string[]>();
  const rows: Array<{ establishment_id: string; secretary_user_id: string; practitioner_user_id: string }> = [];
  secretaries.forEach((s, i) => {
    const mine = practitioners.slice(i * 5, i * 5 + 5);
    assignments.set(s, mine);
    for (const p of mine) rows.push({ establishment_id: establishmentId, secretary_user_id: s, practitioner_user_id: p });
  });
  await o.insertInto('drill_assignments' as never).values(rows as never).execute();
  await enableTenantIsolation(o as never, ctx, 'drill_assignments', ['select']);
  await sql`analyze`.execute(o);
  return { establishmentId, practitioners, secretaries, admins, officers, patientAccounts, assignments, busy, today: day0 };
}

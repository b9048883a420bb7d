// "A dump is useless": the demo data set (accounts, patient files, insurance, clinical entries of
// every kind), dumped table by table as an attacker holding a backup would see it (every table,
// `users` included; the suite runs on PGlite and on PostgreSQL), holds none of the accounts' or
// patients' names, phones, e-mails, INS, member numbers, prescriptions or diagnoses. Positive
// controls prove the search would find them if they were there.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_DEATH_CAUSE, DEMO_DIAGNOSES, DEMO_GENETIC, DEMO_MEDICATIONS, planRecordsDemo } from '../src/modules/records/index.js';
import { dumpDatabase, findInDump } from './helpers/dump.js';
import { recordsWorld, type RecordsWorld } from './helpers/records.js';

let w: RecordsWorld;
let dump: string;
/** Staff names are public directory data (practitioners) and may equal a patient's family name. */
let staffNames: Set<string>;
let plan: ReturnType<typeof planRecordsDemo>;

beforeAll(async () => {
  w = await recordsWorld();
  plan = planRecordsDemo(w.data);
  dump = await dumpDatabase(w.t.db);
  staffNames = new Set(w.data.staff.flatMap((s) => [s.lastName.toUpperCase(), s.firstName.toUpperCase()]));
});
afterAll(async () => w?.close());

/** Names are searched as the whole written value: short common words would match by chance. */
const long = (values: Array<string | null | undefined>) => [...new Set(values.filter((v): v is string => typeof v === 'string' && v.trim().length >= 4))];

describe('a dump of the demo records', () => {
  it('has the records in it, as ciphertexts (positive controls)', async () => {
    const counts = await Promise.all(
      (['patients', 'clinical_entries'] as const).map(async (t) => Number((await w.t.db.owner.selectFrom(t).select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow()).n)),
    );
    expect(counts[0]).toBe(w.data.patientFiles.length);
    expect(counts[1]).toBeGreaterThan(40);
    expect(dump).toMatch(/clinical_entries\t.*hv1:/);
    expect(findInDump(dump, ['Clinique des Cèdres', 'Cardiologie'])).toEqual(['Clinique des Cèdres', 'Cardiologie']);
  });

  it("holds none of the patient files' names, birth names, used names or first names", () => {
    const files = w.data.patientFiles;
    const full = files.flatMap((f) => [`${f.firstNames} ${f.usedName ?? f.birthName}`, `${f.birthName} ${f.firstNames}`]);
    expect(findInDump(dump, long(full))).toEqual([]);
    // Whole family names of at least 7 letters (shorter ones collide with words), staff names aside.
    const names = files.flatMap((f) => [f.birthName, f.usedName]).filter((n): n is string => n !== null && n.length >= 7 && !staffNames.has(n));
    expect(names.length).toBeGreaterThan(50);
    expect(findInDump(dump, long(names))).toEqual([]);
  });

  it('holds no phone number, file e-mail, address, INS or member number', () => {
    const files = [...plan.files.values()];
        expect(findInDump(dump, long(files.map((f) => f.phone)))).toEqual([]);
    expect(findInDump(dump, long(files.map((f) => f.phone?.slice(3) ?? null)))).toEqual([]);
    expect(findInDump(dump, long(files.map((f) => f.address?.line1)))).toEqual([]);
    expect(findInDump(dump, long(files.map((f) => f.ins)))).toEqual([]);
    expect(findInDump(dump, long(files.map((f) => f.complementaryInsurance?.memberNumber)))).toEqual([]);
    expect(findInDump(dump, long(files.map((f) => f.generalPractitioner?.name)))).toEqual([]);
    expect(findInDump(dump, long(files.map((f) => f.email)))).toEqual([]);
  });

  it('holds no prescription, diagnosis, genetic result or cause of death', () => {
    expect(findInDump(dump, DEMO_MEDICATIONS.map((m) => m.medication))).toEqual([]);
    expect(findInDump(dump, DEMO_DIAGNOSES.map((d) => d.label))).toEqual([]);
    expect(findInDump(dump, DEMO_GENETIC.flatMap((g) => [g.result, g.interpretation, g.test]))).toEqual([]);
    expect(findInDump(dump, [DEMO_DEATH_CAUSE, 'Cardiopathie ischémique'])).toEqual([]);
  });

  it('has every account in users, as ciphertexts and blind indexes (positive controls)', () => {
    const users = dump.split('\n').filter((l) => l.startsWith('users\t'));
    expect(users).toHaveLength(w.data.staff.length + w.data.patientAccounts.length);
    // e-mail, first and last names at least, each a vault ciphertext.
    expect(users.every((l) => (l.match(/hv1:/g) ?? []).length >= 3)).toBe(true);
    // The search does find an account's values where they are in clear (the demo accounts file's shape).
    const a = w.data.patientAccounts[0]!;
    expect(findInDump(`accounts\t(${a.email},${a.phone},"${a.firstName} ${a.lastName}")`, [a.email, a.phone, `${a.firstName} ${a.lastName}`])).toHaveLength(3);
  });

  it("holds no account's e-mail, phone or name anywhere, users included", () => {
    const accounts = [...w.data.staff, ...w.data.patientAccounts];
    expect(findInDump(dump, long(accounts.map((a) => a.email)))).toEqual([]);
    // The local part alone too (it is most of what identifies a person).
    expect(findInDump(dump, long(accounts.map((a) => a.email.split('@')[0]!)).filter((l) => l.length >= 8))).toEqual([]);
    expect(findInDump(dump, long(accounts.flatMap((a) => [a.phone, a.phone.slice(3)])))).toEqual([]);
    // Practitioners' professional names are public directory data (the practitioners table keeps
    // them in clear, docs/security.md): every other account's name must not appear.
    const practitioners = new Set(w.data.staff.filter((s) => s.practitioner).map((s) => s.userId));
    const others = accounts.filter((a) => !practitioners.has(a.userId));
    expect(others.length).toBeGreaterThan(20);
    expect(findInDump(dump, long(others.flatMap((a) => [`${a.firstName} ${a.lastName}`, `${a.lastName} ${a.firstName}`])))).toEqual([]);
    const family = others.map((a) => a.lastName).filter((n) => n.length >= 7 && !staffNames.has(n.toUpperCase()));
    expect(family.length).toBeGreaterThan(5);
    expect(findInDump(dump, long(family))).toEqual([]);
  });

  it("holds no account's birth date in users", () => {
    const users = dump.split('\n').filter((l) => l.startsWith('users\t')).join('\n');
    const dates = [...w.data.staff, ...w.data.patientAccounts].map((a) => a.birthDate);
    expect(findInDump(users, dates)).toEqual([]);
  });
});

// "A dump is useless": the demo data set (patient files, insurance, clinical entries of every
// kind), plus a file created over HTTP, dumped table by table as an attacker holding a backup would
// see it, holds none of the patients' names, phones, e-mails, INS, member numbers, prescriptions or
// diagnoses. Positive controls prove the search would find them if they were there.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_DEATH_CAUSE, DEMO_DIAGNOSES, DEMO_GENETIC, DEMO_MEDICATIONS, planRecordsDemo } from '../src/modules/records/index.js';
import { dumpDatabase, findInDump } from './helpers/dump.js';
import { recordsWorld, type RecordsWorld } from './helpers/records.js';

let w: RecordsWorld;
let dump: string;
/** The dump without the `users` table: patient account names, e-mails and phones there are identity's (a known gap). */
let records: string;
/** Staff names are public directory data (practitioners) and may equal a patient's family name. */
let staffNames: Set<string>;
let plan: ReturnType<typeof planRecordsDemo>;

beforeAll(async () => {
  w = await recordsWorld();
  plan = planRecordsDemo(w.data);
  dump = await dumpDatabase(w.t.db);
  records = dump
    .split('\n')
    .filter((l) => !l.startsWith('users\t'))
    .join('\n');
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
    expect(findInDump(records, long(full))).toEqual([]);
    // Whole family names of at least 7 letters (shorter ones collide with words), staff names aside.
    const names = files.flatMap((f) => [f.birthName, f.usedName]).filter((n): n is string => n !== null && n.length >= 7 && !staffNames.has(n));
    expect(names.length).toBeGreaterThan(50);
    expect(findInDump(records, long(names))).toEqual([]);
  });

  it('holds no phone number, file e-mail, address, INS or member number', () => {
    const files = [...plan.files.values()];
    const dump = records;
    expect(findInDump(dump, long(files.map((f) => f.phone)))).toEqual([]);
    expect(findInDump(dump, long(files.map((f) => f.phone?.slice(3) ?? null)))).toEqual([]);
    expect(findInDump(dump, long(files.map((f) => f.address?.line1)))).toEqual([]);
    expect(findInDump(dump, long(files.map((f) => f.ins)))).toEqual([]);
    expect(findInDump(dump, long(files.map((f) => f.complementaryInsurance?.memberNumber)))).toEqual([]);
    expect(findInDump(dump, long(files.map((f) => f.generalPractitioner?.name)))).toEqual([]);
    // E-mails of files without an account live only in patients (account e-mails are identity's).
    expect(findInDump(dump, long(files.map((f) => f.email)))).toEqual([]);
  });

  it('holds no prescription, diagnosis, genetic result or cause of death', () => {
    expect(findInDump(dump, DEMO_MEDICATIONS.map((m) => m.medication))).toEqual([]);
    expect(findInDump(dump, DEMO_DIAGNOSES.map((d) => d.label))).toEqual([]);
    expect(findInDump(dump, DEMO_GENETIC.flatMap((g) => [g.result, g.interpretation, g.test]))).toEqual([]);
    expect(findInDump(dump, [DEMO_DEATH_CAUSE, 'Cardiopathie ischémique'])).toEqual([]);
  });

  it('the known gap is confined to users: patient account e-mails and phones appear nowhere else', () => {
    // Until the identity module encrypts `users`, account holders' names, e-mails and phones are
    // there in clear; no records table repeats them.
    const accounts = w.data.patientAccounts.flatMap((a) => [a.email, a.phone]);
    expect(findInDump(records, accounts)).toEqual([]);
  });
});

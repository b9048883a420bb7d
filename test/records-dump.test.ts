// "A dump is useless": the demo data set (accounts, patient files, insurance, clinical entries of
// every kind), dumped table by table as an attacker holding a backup would see it (every table,
// `users` included; the suite runs on PGlite and on PostgreSQL), holds none of the accounts' or
// patients' names, phones, e-mails, INS, member numbers, prescriptions or diagnoses. Before the
// dump, staff invitations wait (one for approval, two sent) and messages are both queued and
// delivered to the development outboxes (booking confirmations, password resets, invitations, a
// text message): the job outbox, `mail_outbox`, `sms_outbox` and `invitations` are in the dump too.
// Positive controls prove the search would find them if they were there.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { DEMO_DEATH_CAUSE, DEMO_DIAGNOSES, DEMO_GENETIC, DEMO_MEDICATIONS, planRecordsDemo } from '../src/modules/records/index.js';
import { queueBookedNotices } from '../src/modules/scheduling/notices.js';
import { createLogSmsSender } from '../src/platform/sms.js';
import { createLogger } from '../src/platform/log.js';
import { queueCipher } from '../src/modules/vault/index.js';
import { staffActor } from './helpers/actors.js';
import { dumpDatabase, findInDump } from './helpers/dump.js';
import { recordsWorld, type RecordsWorld } from './helpers/records.js';

/** People invited into the first establishment: they have no account, only an invitation. */
const INVITEES = [
  { email: 'Ondine.Valmorel@example.fr', firstName: 'Ondine', lastName: 'Valmorel', role: 'secretary' },
  { email: 'barnabe.quesnoy-firmin@example.fr', firstName: 'Barnabé', lastName: 'Quesnoy-Firmin', role: 'secretary' },
  { email: 'capucine.aubertot@example.fr', firstName: 'Capucine', lastName: 'Aubertot', role: 'admin' },
] as const;
/** What is in the dump's queues (positive controls: the dump does hold the queued messages). */
const queued = { jobs: 0, mailOutbox: 0, smsOutbox: 0, invitations: 0 };

/**
 * Invitations and messages, half delivered to the development outboxes by the worker, half left
 * waiting in the job outbox, as a backup taken on a busy day would hold them.
 */
async function queueMessages(w: RecordsWorld): Promise<void> {
  const A = w.data.establishments[0]!.id;
  const app = await w.appAs(staffActor(w.data, A, 'admin', 0, new Date()));
  const invite = async (i: (typeof INVITEES)[number]) => {
    const res = await app.inject({ method: 'POST', url: `/api/v1/establishments/${A}/invitations`, payload: { email: i.email, firstName: i.firstName, lastName: i.lastName, role: i.role } });
    expect(res.statusCode, res.body).toBe(201);
  };
  const forgot = async (email: string) => {
    const res = await app.inject({ method: 'POST', url: '/api/v1/auth/password/forgot', payload: { email } });
    expect(res.statusCode).toBe(202);
  };
  // Appointments of patients with an e-mail address (the others get no confirmation by mail):
  // which demo appointments come first depends on the time of day.
  const reachable = w.data.patientFiles.filter((f) => f.email !== null).map((f) => f.id);
  const { rows: appointments } = await sql<{ id: string; establishment_id: string; starts_at: Date }>`
    select id, establishment_id, starts_at from appointments
    where status = 'confirmed' and starts_at > now() and patient_id = any(${reachable}::uuid[]) order by starts_at limit 2`.execute(w.t.db.owner);
  expect(appointments).toHaveLength(2);
  const book = (a: (typeof appointments)[number]) =>
    w.t.db.withTenant(a.establishment_id, (tx) => queueBookedNotices(tx, { id: a.id, establishmentId: a.establishment_id, start: new Date(a.starts_at).getTime() }, null, Date.now()));
  const drain = async () => {
    while ((await app.jobs.runOnce()) > 0);
  };

  // Delivered: a reset link, an invitation and a booking confirmation reach the mail outbox.
  await forgot(w.data.patientAccounts[0]!.email);
  await invite(INVITEES[0]);
  await book(appointments[0]!);
  await drain();
  const file = w.data.patientFiles.find((f) => f.accountIndex !== null)!;
  await createLogSmsSender({ db: w.t.db, logger: createLogger('silent'), cipher: queueCipher(w.vault) }).send({
    to: w.data.patientAccounts[file.accountIndex!]!.phone,
    text: `Rappel : ${w.data.patientAccounts[file.accountIndex!]!.firstName}, rendez-vous demain.`,
    template: 'scheduling.reminder',
  });
  // Waiting: the reset job has written its e-mail, which is not sent yet; an invitation's e-mail
  // and a confirmation wait too; an admin's invitation waits for a second approver.
  await forgot(w.data.patientAccounts[1]!.email);
  await app.jobs.runOnce(1);
  await invite(INVITEES[1]);
  await invite(INVITEES[2]);
  await book(appointments[1]!);

  const count = async (table: string, where = sql`true`) =>
    Number((await sql<{ n: string }>`select count(*) as n from ${sql.table(table)} where ${where}`.execute(w.t.db.owner)).rows[0]!.n);
  queued.jobs = await count('jobs', sql`kind = 'mail.send'`);
  queued.mailOutbox = await count('mail_outbox');
  queued.smsOutbox = await count('sms_outbox');
  queued.invitations = await count('invitations');
}

let w: RecordsWorld;
let dump: string;
/** Staff names are public directory data (practitioners) and may equal a patient's family name. */
let staffNames: Set<string>;
let plan: ReturnType<typeof planRecordsDemo>;

beforeAll(async () => {
  w = await recordsWorld();
  plan = planRecordsDemo(w.data);
  await queueMessages(w);
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

  it('has the queued messages, the outboxes and the invitations in it (positive controls)', () => {
    // Two e-mails wait to be sent (a reset link, an invitation); three were delivered to the outbox.
    expect(queued.jobs).toBe(2);
    expect(queued.mailOutbox).toBeGreaterThanOrEqual(3);
    expect(queued.smsOutbox).toBe(1);
    expect(queued.invitations).toBe(3);
    for (const table of ['jobs', 'mail_outbox', 'sms_outbox', 'invitations']) expect(dump).toMatch(new RegExp(`(^|\\n)${table}\t.*hv1:`));
    // The search finds an invitee's values where they are in clear.
    const i = INVITEES[1];
    expect(findInDump(`invitations\t(${i.email},${i.firstName},${i.lastName})`, [i.email, i.lastName])).toHaveLength(2);
  });

  it("holds no invitee's e-mail, local part or name, nor any message's text", () => {
    expect(findInDump(dump, INVITEES.map((i) => i.email))).toEqual([]);
    expect(findInDump(dump, INVITEES.map((i) => i.email.split('@')[0]!))).toEqual([]);
    expect(findInDump(dump, INVITEES.flatMap((i) => [i.lastName, `${i.firstName} ${i.lastName}`]))).toEqual([]);
    // The messages themselves: their greetings, subjects and links.
    expect(findInDump(dump, ['Réinitialisation de votre mot de passe', 'Invitation à rejoindre', 'Votre rendez-vous est confirmé', 'Rappel : ', '#token='])).toEqual([]);
  });
});

// The demo data set, generated deterministically: the same seed always gives the same
// establishments, people, ids and passwords, so `hygie seed --demo --out` can rewrite the accounts
// file for a database seeded earlier.
import { Faker, fr, en, base } from '@faker-js/faker';
import { v7 as uuidv7 } from 'uuid';
import type { StaffRole } from '../platform/db/schema.js';
import { SPECIALTIES, rppsFromPayload } from '../modules/directory/index.js';
import { base32Encode } from '../modules/identity/index.js';
import { planScheduling, type SchedulingPlan } from '../modules/scheduling/demo.js';

export const DEMO_SEED = 20_261_122;
/** Ids are UUIDv7 whose timestamps start here, so they sort in creation order. */
const ID_EPOCH = Date.UTC(2026, 0, 1);

export interface DemoEstablishment {
  id: string;
  name: string;
  addressLine: string;
  city: string;
  postalCode: string;
}

export interface DemoPerson {
  userId: string;
  email: string;
  password: string;
  firstName: string;
  lastName: string;
  birthDate: string;
  phone: string;
}

export interface DemoStaff extends DemoPerson {
  totpSecret: string;
  memberships: Array<{ membershipId: string; establishmentId: string; role: StaffRole }>;
  practitioner?: { id: string; rpps: string; specialtyCode: string; languages: string[]; teleconsult: boolean };
}

export interface DemoPatientFile {
  id: string;
  establishmentId: string;
  birthName: string;
  firstNames: string;
  usedName: string | null;
  sex: 'F' | 'M';
  birthDate: string;
  birthPlaceInsee: string;
  email: string | null;
  phone: string;
  addressLine1: string;
  postalCode: string;
  city: string;
  /** Index into DemoData.patientAccounts when the patient has an account. */
  accountIndex: number | null;
}

export interface DemoData {
  establishments: DemoEstablishment[];
  staff: DemoStaff[];
  patientAccounts: DemoPerson[];
  patientFiles: DemoPatientFile[];
}

const ESTABLISHMENTS = [
  { name: 'Clinique des Cèdres', addressLine: '12 rue Garibaldi', city: 'Lyon', postalCode: '69006' },
  { name: 'Hôpital privé de la Garonne', addressLine: '45 quai des Chartrons', city: 'Bordeaux', postalCode: '33000' },
  { name: 'Maison de santé Wazemmes', addressLine: '8 place de la Nouvelle Aventure', city: 'Lille', postalCode: '59000' },
] as const;

/** The eight specialties of the demo's twenty practitioners. */
const DEMO_SPECIALTIES = [
  'general_practice',
  'cardiology',
  'dermatology',
  'pediatrics',
  'gynecology',
  'ophthalmology',
  'psychiatry',
  'medical_genetics',
] as const;

export interface DemoSizes {
  practitioners: number;
  patients: number;
  patientAccounts: number;
}

export const DEMO_SIZES: DemoSizes = { practitioners: 20, patients: 200, patientAccounts: 30 };

export function generateDemoData(seed: number = DEMO_SEED, sizes: DemoSizes = DEMO_SIZES): DemoData {
  const faker = new Faker({ locale: [fr, en, base] });
  faker.seed(seed);
  let tick = 0;
  const newId = (): string => {
    tick += 1;
    const random = Uint8Array.from({ length: 16 }, () => faker.number.int(255));
    return uuidv7({ msecs: ID_EPOCH + tick, random });
  };
  const usedEmails = new Set<string>();
  const emailFor = (firstName: string, lastName: string, domain: string): string => {
    const local = `${asciiFold(firstName)}.${asciiFold(lastName)}`.replace(/[^a-z.]/g, '').replace(/\.+/g, '.');
    let email = `${local}@${domain}`;
    for (let n = 2; usedEmails.has(email); n++) email = `${local}${n}@${domain}`;
    usedEmails.add(email);
    return email;
  };
  const password = (): string =>
    [faker.word.adjective(), faker.word.noun(), String(faker.number.int({ min: 100, max: 999 })), faker.word.noun()]
      .map((w) => asciiFold(w).replace(/[^a-z0-9]/g, '') || 'hygie')
      .join('-');
  const phone = (): string => `+336${faker.string.numeric(8)}`;
  const totpSecret = (): string => base32Encode(Uint8Array.from({ length: 20 }, () => faker.number.int(255)));
  const birthDate = (min: number, max: number): string =>
    faker.date.birthdate({ mode: 'age', min, max, refDate: '2026-11-01T00:00:00Z' }).toISOString().slice(0, 10);

  const establishments: DemoEstablishment[] = ESTABLISHMENTS.map((e) => ({ id: newId(), ...e }));

  const person = (domain: string, minAge = 28, maxAge = 64): DemoPerson => {
    const sex = faker.person.sexType();
    const firstName = faker.person.firstName(sex);
    const lastName = faker.person.lastName();
    return {
      userId: newId(),
      email: emailFor(firstName, lastName, domain),
      password: password(),
      firstName,
      lastName,
      birthDate: birthDate(minAge, maxAge),
      phone: phone(),
    };
  };

  const staff: DemoStaff[] = [];
  // Practitioners: spread over the establishments; every fifth one also practises at the next.
  for (let i = 0; i < sizes.practitioners; i++) {
    const home = establishments[i % establishments.length]!;
    const specialtyCode = DEMO_SPECIALTIES[i % DEMO_SPECIALTIES.length]!;
    if (!SPECIALTIES.some((s) => s.code === specialtyCode)) throw new Error(`unknown specialty ${specialtyCode}`);
    const p = person('demo.hygie.example');
    const memberships = [{ membershipId: newId(), establishmentId: home.id, role: 'practitioner' as const }];
    if (i % 5 === 4) {
      const other = establishments[(i + 1) % establishments.length]!;
      memberships.push({ membershipId: newId(), establishmentId: other.id, role: 'practitioner' });
    }
    staff.push({
      ...p,
      totpSecret: totpSecret(),
      memberships,
      practitioner: {
        id: newId(),
        rpps: rppsFromPayload(`10${faker.string.numeric(8)}`),
        specialtyCode,
        languages: i % 3 === 0 ? ['fr', 'en'] : ['fr'],
        teleconsult: i % 2 === 0,
      },
    });
  }
  for (const establishment of establishments) {
    for (const role of ['secretary', 'admin', 'security_officer'] as const) {
      staff.push({
        ...person('demo.hygie.example'),
        totpSecret: totpSecret(),
        memberships: [{ membershipId: newId(), establishmentId: establishment.id, role }],
      });
    }
  }

  const patientAccounts: DemoPerson[] = [];
  const patientFiles: DemoPatientFile[] = [];
  for (let i = 0; i < sizes.patients; i++) {
    const sex = faker.person.sexType();
    const firstName = faker.person.firstName(sex);
    const secondName = faker.datatype.boolean({ probability: 0.4 }) ? ` ${faker.person.firstName(sex)}` : '';
    const birthName = faker.person.lastName();
    const married = sex === 'female' && faker.datatype.boolean({ probability: 0.3 });
    const usedName = married ? faker.person.lastName() : null;
    const establishment = establishments[i % establishments.length]!;
    const hasAccount = i < sizes.patientAccounts;
    const contactPhone = phone();
    const born = birthDate(1, 92);
    let accountIndex: number | null = null;
    let email: string | null = null;
    if (hasAccount) {
      const account: DemoPerson = {
        userId: newId(),
        email: emailFor(firstName, usedName ?? birthName, 'patients.hygie.example'),
        password: password(),
        firstName,
        lastName: usedName ?? birthName,
        birthDate: born,
        phone: contactPhone,
      };
      accountIndex = patientAccounts.push(account) - 1;
      email = account.email;
    } else if (faker.datatype.boolean({ probability: 0.7 })) {
      email = emailFor(firstName, birthName, 'mail.hygie.example');
    }
    const file: DemoPatientFile = {
      id: newId(),
      establishmentId: establishment.id,
      birthName: birthName.toUpperCase(),
      firstNames: `${firstName}${secondName}`,
      usedName: usedName?.toUpperCase() ?? null,
      sex: sex === 'female' ? 'F' : 'M',
      birthDate: born,
      birthPlaceInsee: faker.helpers.arrayElement(['69123', '33063', '59350', '75056', '13055', '31555', '44109']),
      email,
      phone: contactPhone,
      addressLine1: faker.location.streetAddress(),
      postalCode: establishment.postalCode,
      city: establishment.city,
      accountIndex,
    };
    patientFiles.push(file);
    // One account holder in three is also known at a second establishment.
    if (hasAccount && i % 3 === 0) {
      const other = establishments[(i + 1) % establishments.length]!;
      patientFiles.push({ ...file, id: newId(), establishmentId: other.id, postalCode: other.postalCode, city: other.city });
    }
  }

  return { establishments, staff, patientAccounts, patientFiles };
}

export function asciiFold(value: string): string {
  return value
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase();
}

/**
 * Agendas for every demo practitioner in every establishment where they practise, with
 * appointments from three months before `now` to four weeks after it, held by the demo patients
 * (account holders first, so each of them has appointments).
 */
export function demoSchedulingPlan(data: DemoData, now: number): SchedulingPlan {
  const agendas = data.staff.flatMap((s) =>
    s.practitioner
      ? s.memberships
          .filter((m) => m.role === 'practitioner')
          .map((m) => ({ establishmentId: m.establishmentId, practitionerId: s.practitioner!.id, teleconsult: s.practitioner!.teleconsult }))
      : [],
  );
  const patientFiles = data.patientFiles.map((f) => ({ id: f.id, establishmentId: f.establishmentId, hasAccount: f.accountIndex !== null }));
  return planScheduling({ agendas, patientFiles }, { seed: DEMO_SEED, now, daysBack: 91, daysAhead: 28, fillPast: 0.15, fillFuture: 0.15 });
}

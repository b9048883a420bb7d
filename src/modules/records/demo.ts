// Demo records: for the demo patients, an INS and identity status, insurance, a general
// practitioner, and a few clinical entries of each kind with their care relationships. Generated
// deterministically from each person (not from the main demo sequence, which stays untouched), and
// written through the records functions, so everything lands encrypted.
import { createHash } from 'node:crypto';
import { Faker, base, en, fr } from '@faker-js/faker';
import type { Database } from '../../platform/db/database.js';
import { addCareRelationship } from '../access/index.js';
import type { Vault } from '../vault/index.js';
import { appendEntryVersion } from './entries.js';
import type { CreateEntryBody } from './entry-schemas.js';
import { withNirKey } from './ins.js';
import type { PatientFile } from './patient-codec.js';
import { insertPatientFile } from './patients.js';
import type { IdentityStatus } from './schemas.js';
import { createRecordsStore } from './store.js';

/** The part of the demo data set the records need (kept structural: modules do not import the seed). */
export interface RecordsDemoInput {
  establishments: Array<{ id: string }>;
  staff: Array<{ userId: string; lastName: string; memberships: Array<{ establishmentId: string; role: string }>; practitioner?: { specialtyCode: string } }>;
  patientAccounts: Array<{ userId: string }>;
  patientFiles: Array<{
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
    accountIndex: number | null;
  }>;
}

export interface DemoEntry {
  establishmentId: string;
  patientId: string;
  authorUserId: string;
  body: CreateEntryBody;
}

export interface RecordsDemoPlan {
  /** Per patient file id: the complete administrative file. */
  files: Map<string, PatientFile>;
  entries: DemoEntry[];
  careTeams: Array<{ establishmentId: string; patientId: string; practitionerUserId: string }>;
}

const STATUSES: IdentityStatus[] = ['qualified', 'validated', 'retrieved', 'provisional'];
const FUNDS: Record<string, string> = { Lyon: 'CPAM du Rhône', Bordeaux: 'CPAM de la Gironde', Lille: 'CPAM de Lille-Douai' };
const MUTUELLES = ['MGEN', 'Harmonie Mutuelle', 'Malakoff Humanis', 'AG2R La Mondiale', 'Mutuelle Générale'];
export const DEMO_DIAGNOSES = [
  { code: 'J20.9', label: 'Bronchite aiguë sans précision' },
  { code: 'I10', label: 'Hypertension essentielle primitive' },
  { code: 'E11.9', label: 'Diabète de type 2 sans complication' },
  { code: 'M54.5', label: 'Lombalgie basse chronique' },
  { code: 'F41.1', label: 'Anxiété généralisée' },
  { code: 'L20.9', label: 'Dermatite atopique étendue' },
];
export const DEMO_MEDICATIONS = [
  { medication: 'Amoxicilline 1 g comprimé', dose: '1 comprimé', frequency: 'matin et soir', duration: '7 jours', quantity: '1 boîte de 14', renewals: 0 },
  { medication: 'Ramipril 5 mg gélule', dose: '1 gélule', frequency: 'le matin', duration: '3 mois', quantity: '3 boîtes de 30', renewals: 3 },
  { medication: 'Metformine 850 mg comprimé', dose: '1 comprimé', frequency: 'matin, midi et soir', duration: '3 mois', quantity: '3 boîtes de 90', renewals: 3 },
  { medication: 'Kétoprofène 100 mg comprimé', dose: '1 comprimé', frequency: 'deux fois par jour', duration: '5 jours', quantity: '1 boîte de 10', renewals: 0 },
  { medication: 'Sertraline 50 mg gélule', dose: '1 gélule', frequency: 'le soir', duration: '28 jours', quantity: '1 boîte de 28', renewals: 2 },
  { medication: 'Dermocorticoïde bétaméthasone crème', dose: 'une application fine', frequency: 'une fois par jour', duration: '10 jours', quantity: '1 tube de 30 g', renewals: 0 },
];
export const DEMO_GENETIC = [
  { test: 'Recherche de mutations HFE', gene: 'HFE', result: 'Homozygotie C282Y', interpretation: 'Hémochromatose héréditaire de type 1 confirmée; dépistage familial conseillé' },
  { test: 'Séquençage BRCA1/BRCA2', gene: 'BRCA2', result: 'Variant pathogène c.5946delT', interpretation: 'Prédisposition héréditaire au cancer du sein et de l’ovaire; consultation d’oncogénétique' },
];
export const DEMO_DEATH_CAUSE = 'Arrêt cardio-respiratoire sur insuffisance cardiaque terminale';

function personFaker(key: string): Faker {
  const faker = new Faker({ locale: [fr, en, base] });
  faker.seed(createHash('sha256').update(key).digest().readUInt32BE(0));
  return faker;
}

/** The records part of the demo, derived from the demo data set. */
export function planRecordsDemo(data: RecordsDemoInput, entriesPerEstablishment = 12): RecordsDemoPlan {
  const files = new Map<string, PatientFile>();
  for (const f of data.patientFiles) {
    // Same person, same INS, in every establishment that knows them.
    const faker = personFaker(`${f.birthName}|${f.firstNames}|${f.birthDate}`);
    const body13 = `${f.sex === 'F' ? 2 : 1}${f.birthDate.slice(2, 4)}${f.birthDate.slice(5, 7)}${f.birthPlaceInsee}${faker.string.numeric(3)}`;
    const ins = withNirKey(body13);
    const status = STATUSES[faker.number.int(STATUSES.length - 1)]!;
    const hasMutuelle = faker.datatype.boolean({ probability: 0.7 });
    files.set(f.id, {
      birthName: f.birthName,
      firstNames: f.firstNames,
      usedName: f.usedName,
      sex: f.sex,
      birthDate: f.birthDate,
      birthPlaceInsee: f.birthPlaceInsee,
      ins: status === 'provisional' ? null : ins,
      identityStatus: status,
      email: f.email,
      phone: f.phone,
      address: { line1: f.addressLine1, postalCode: f.postalCode, city: f.city },
      generalPractitioner: { name: `Dr ${faker.person.firstName()} ${faker.person.lastName()}`, rpps: null },
      baseInsurance: { scheme: 'Régime général', fund: FUNDS[f.city] ?? 'CPAM', memberNumber: ins, validFrom: '2026-01-01', validUntil: '2026-12-31' },
      complementaryInsurance: hasMutuelle
        ? { insurer: faker.helpers.arrayElement(MUTUELLES), memberNumber: faker.string.numeric(10), validFrom: '2026-01-01', validUntil: '2026-12-31' }
        : null,
    });
  }

  const entries: DemoEntry[] = [];
  const careTeams: RecordsDemoPlan['careTeams'] = [];
  for (const establishment of data.establishments) {
    const practitioners = data.staff.filter((s) => s.memberships.some((m) => m.establishmentId === establishment.id && m.role === 'practitioner'));
    const geneticists = practitioners.filter((p) => p.practitioner?.specialtyCode === 'medical_genetics');
    const patients = data.patientFiles.filter((f) => f.establishmentId === establishment.id).slice(0, entriesPerEstablishment);
    patients.forEach((p, i) => {
      const author = practitioners[i % practitioners.length]!;
      careTeams.push({ establishmentId: establishment.id, patientId: p.id, practitionerUserId: author.userId });
      const add = (body: CreateEntryBody) => entries.push({ establishmentId: establishment.id, patientId: p.id, authorUserId: author.userId, body });
      const diagnosis = DEMO_DIAGNOSES[i % DEMO_DIAGNOSES.length]!;
      add({
        kind: 'note',
        content: { title: 'Consultation', text: `Motif: suivi. Examen clinique: ${diagnosis.label.toLowerCase()} confirmée. Conduite à tenir expliquée.`, diagnoses: [diagnosis] },
      });
      if (i % 2 === 0) add({ kind: 'prescription', releasedToPatient: true, content: { lines: [DEMO_MEDICATIONS[i % DEMO_MEDICATIONS.length]!] } });
      if (i % 3 === 0) {
        add({ kind: 'certificate', releasedToPatient: true, content: { title: 'Certificat de non contre-indication', text: 'Absence de contre-indication à la pratique du sport en compétition.' } });
      }
      if (i % 4 === 1) {
        const named = [...new Set([author.userId, ...geneticists.map((g) => g.userId)])];
        add({ kind: 'genetic_result', content: DEMO_GENETIC[i % DEMO_GENETIC.length]!, namedPractitionerUserIds: named });
      }
      if (i === patients.length - 1) {
        add({
          kind: 'death_certificate',
          content: { deathDate: '2026-10-03', deathTime: '04:20', place: 'health_establishment', municipality: 'Lyon', forensicObstacle: false },
          causes: { immediateCause: DEMO_DEATH_CAUSE, underlyingCauses: ['Cardiopathie ischémique évoluée'] },
        });
      }
    });
    // One correction, so the demo shows a versioned entry.
    const first = entries.find((e) => e.establishmentId === establishment.id && e.body.kind === 'note');
    if (first && first.body.kind === 'note') entries.push({ ...first, body: { ...first.body, content: { ...first.body.content, text: `${first.body.content.text} Rectificatif: examen complété.` } } });
  }
  return { files, entries, careTeams };
}

/**
 * Writes the demo patient files (and entries, care teams) of one establishment through the records
 * functions, in one tenant transaction.
 */
export async function loadRecordsDemo(db: Database, vault: Vault, data: RecordsDemoInput, plan: RecordsDemoPlan, establishmentId: string): Promise<number> {
  const store = createRecordsStore();
  const files = data.patientFiles.filter((f) => f.establishmentId === establishmentId);
  await db.withTenant(establishmentId, async (tx) => {
    await vault.ensurePatientKeys(tx, establishmentId, files.map((f) => f.id));
    for (const f of files) {
      await insertPatientFile(tx, { vault, store }, {
        id: f.id,
        establishmentId,
        accountUserId: f.accountIndex === null ? null : data.patientAccounts[f.accountIndex]!.userId,
        file: plan.files.get(f.id)!,
      });
    }
    for (const c of plan.careTeams.filter((c) => c.establishmentId === establishmentId)) {
      await addCareRelationship(tx, { ...c, kind: 'care_team' });
    }
    const entryIds = new Map<string, string>();
    for (const e of plan.entries.filter((x) => x.establishmentId === establishmentId)) {
      // The demo's correction names the entry it corrects by its position in the plan.
      const key = `${e.patientId}|${e.body.kind}`;
      const body = entryIds.has(key) && e.body.kind === 'note' ? { ...e.body, correctionOf: entryIds.get(key)! } : e.body;
      const { id } = await appendEntryVersion(tx, { vault, store }, { ...e, body });
      if (!entryIds.has(key)) entryIds.set(key, id);
    }
  });
  return files.length;
}

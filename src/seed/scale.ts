// `hygie seed --scale --patients N --practitioners M`: a large synthetic data set for benchmarks
// (establishments in French cities, practitioners of every specialty with agendas, patient files
// and accounts without passwords, appointments around today). Nothing here is a real person.
import { randomInt } from 'node:crypto';
import { sql } from 'kysely';
import { v7 as uuidv7 } from 'uuid';
import type { Database } from '../platform/db/database.js';
import { SPECIALTIES, rppsFromPayload } from '../modules/directory/index.js';
import { loadSchedulingPlan, planScheduling } from '../modules/scheduling/demo.js';
import type { ProgressFn } from './demo.js';
import { insertPatientFile } from '../modules/records/index.js';
import type { Vault } from '../modules/vault/index.js';
import { sealAccounts } from '../modules/identity/index.js';

const CITIES = [
  ['Paris', '75011'], ['Paris', '75015'], ['Marseille', '13008'], ['Lyon', '69003'], ['Toulouse', '31000'], ['Nice', '06000'],
  ['Nantes', '44000'], ['Montpellier', '34000'], ['Strasbourg', '67000'], ['Bordeaux', '33000'], ['Lille', '59000'],
  ['Rennes', '35000'], ['Reims', '51100'], ['Toulon', '83000'], ['Saint-Étienne', '42000'], ['Le Havre', '76600'],
  ['Grenoble', '38000'], ['Dijon', '21000'], ['Angers', '49000'], ['Nîmes', '30000'], ['Clermont-Ferrand', '63000'],
  ['Brest', '29200'], ['Tours', '37000'], ['Amiens', '80000'], ['Limoges', '87000'], ['Metz', '57000'],
  ['Besançon', '25000'], ['Perpignan', '66000'], ['Orléans', '45000'], ['Rouen', '76000'], ['Caen', '14000'], ['Nancy', '54000'],
] as const;
const FIRST = ['Camille', 'Louis', 'Léa', 'Hugo', 'Chloé', 'Arthur', 'Manon', 'Jules', 'Inès', 'Lucas', 'Sarah', 'Nathan', 'Emma', 'Paul', 'Jade', 'Gabriel'];
const LAST = ['Martin', 'Bernard', 'Dubois', 'Thomas', 'Robert', 'Richard', 'Petit', 'Durand', 'Leroy', 'Moreau', 'Simon', 'Laurent', 'Lefebvre', 'Michel', 'Garcia', 'David'];

export interface ScaleOptions {
  patients: number;
  practitioners: number;
  /** Practitioners per establishment (default 8). */
  perEstablishment?: number;
  /** Patient accounts (verified, no password) among the patients, for load tests (default min(patients, 2000)). */
  accounts?: number;
}

export interface ScaleResult {
  establishments: number;
  practitioners: number;
  patients: number;
  appointments: number;
  /** Accounts created for load tests, and an establishment where each has a patient file. */
  accountUserIds: string[];
}

export async function seedScale(db: Database, vault: Vault, options: ScaleOptions, onProgress: ProgressFn = () => undefined): Promise<ScaleResult> {
  const per = options.perEstablishment ?? 8;
  const establishmentCount = Math.max(1, Math.ceil(options.practitioners / per));
  const accountsWanted = Math.min(options.patients, options.accounts ?? 2000);
  const run = randomInt(0, 100);
  const total = establishmentCount + options.practitioners + options.patients + options.practitioners;
  let done = 0;
  const step = (label: string, n: number) => {
    done += n;
    onProgress(Math.min(done, total), total, label);
  };

  const establishments = Array.from({ length: establishmentCount }, (_, i) => {
    const [city, postalCode] = CITIES[i % CITIES.length]!;
    return { id: uuidv7(), name: `Centre médical ${city} ${Math.floor(i / CITIES.length) + 1}`, address_line: `${1 + (i % 90)} avenue de la République`, city, postal_code: postalCode };
  });
  for (let i = 0; i < establishments.length; i += 1000) {
    await db.owner.insertInto('establishments').values(establishments.slice(i, i + 1000)).execute();
  }
  step('establishments', establishments.length);

  const practitioners = Array.from({ length: options.practitioners }, (_, i) => ({
    id: uuidv7(),
    user_id: null,
    first_name: FIRST[i % FIRST.length]!,
    last_name: `${LAST[(i * 7) % LAST.length]!}-${i}`,
    rpps: rppsFromPayload(`8${String(run).padStart(2, '0')}${String(i).padStart(7, '0')}`),
    specialty_code: SPECIALTIES[i % SPECIALTIES.length]!.code,
    languages: i % 4 === 0 ? ['fr', 'en'] : ['fr'],
    teleconsult: i % 2 === 0,
    establishmentId: establishments[Math.floor(i / per)]!.id,
  }));
  const accountUserIds = Array.from({ length: accountsWanted }, () => uuidv7());
  await db.withPlatform(async (tx) => {
    for (let i = 0; i < practitioners.length; i += 1000) {
      await tx.insertInto('practitioners').values(practitioners.slice(i, i + 1000).map(({ establishmentId: _e, ...p }) => p)).execute();
    }
    for (let i = 0; i < accountUserIds.length; i += 1000) {
      const chunk = accountUserIds.slice(i, i + 1000);
      const sealed = await sealAccounts(
        tx,
        vault,
        chunk.map((id, k) => ({
          id,
          email: `scale.${run}.${i + k}.${id.slice(-8)}@patients.scale.hygie.example`,
          firstName: FIRST[(i + k) % FIRST.length]!,
          lastName: LAST[(i + k) % LAST.length]!,
          birthDate: `19${String(40 + ((i + k) % 60)).padStart(2, '0')}-0${1 + ((i + k) % 9)}-1${(i + k) % 10}`,
          phone: null,
        })),
      );
      await tx
        .insertInto('users')
        .values(chunk.map((id, k) => ({ id, ...sealed[k]!, email_verified_at: new Date(), password_hash: null, totp_secret: null, disabled_at: null })))
        .execute();
    }
  });
  step('practitioners', practitioners.length);

  const patients = Array.from({ length: options.patients }, (_, i) => ({
    id: uuidv7(),
    establishment_id: establishments[i % establishments.length]!.id,
    account_user_id: i < accountUserIds.length ? accountUserIds[i]! : null,
    file: {
      birthName: LAST[(i * 3) % LAST.length]!.toUpperCase(),
      firstNames: FIRST[(i * 5) % FIRST.length]!,
      sex: (i % 2 === 0 ? 'F' : 'M') as 'F' | 'M',
      birthDate: `19${String(30 + (i % 70)).padStart(2, '0')}-0${1 + (i % 9)}-2${i % 8}`,
    },
  }));
  for (const e of establishments) {
    const mine = patients.filter((p) => p.establishment_id === e.id);
    await db.withTenant(e.id, async (tx) => {
      const here = practitioners.filter((p) => p.establishmentId === e.id);
      if (here.length > 0) await tx.insertInto('practitioner_establishments').values(here.map((p) => ({ establishment_id: e.id, practitioner_id: p.id }))).execute();
    });
    // Patient files are encrypted like any other (one data key each, made in batches).
    for (let i = 0; i < mine.length; i += 1000) {
      const chunk = mine.slice(i, i + 1000);
      await db.withTenant(e.id, async (tx) => {
        await vault.ensurePatientKeys(tx, e.id, chunk.map((p) => p.id));
        for (const p of chunk) await insertPatientFile(tx, vault, { id: p.id, establishmentId: e.id, accountUserId: p.account_user_id, file: p.file });
      });
    }
    step('patient files', mine.length);
  }

  // Agendas and appointments, one slice of establishments at a time to bound memory.
  let appointments = 0;
  const now = Date.now();
  for (let i = 0; i < establishments.length; i += 25) {
    const slice = new Set(establishments.slice(i, i + 25).map((e) => e.id));
    const agendas = practitioners.filter((p) => slice.has(p.establishmentId)).map((p) => ({ establishmentId: p.establishmentId, practitionerId: p.id, teleconsult: p.teleconsult }));
    const files = patients.filter((p) => slice.has(p.establishment_id)).map((p) => ({ id: p.id, establishmentId: p.establishment_id, hasAccount: p.account_user_id !== null }));
    const plan = planScheduling({ agendas, patientFiles: files }, { seed: run * 1000 + i, now, daysBack: 7, daysAhead: 21, fillPast: 0.1, fillFuture: 0.1 });
    await loadSchedulingPlan(db, plan);
    appointments += plan.appointments.length;
    step('agendas', agendas.length);
  }
  // Planner statistics for what was just loaded: without them (autovacuum off, or not yet run)
  // the search scanned every agenda and filtered by specialty, 6-8 ms a query instead of <1 ms.
  await sql`analyze`.execute(db.owner);
  return { establishments: establishments.length, practitioners: practitioners.length, patients: patients.length, appointments, accountUserIds };
}

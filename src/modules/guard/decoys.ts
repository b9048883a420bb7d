// Planting decoy patient files. Identities are generated to be plausible yet unlikely to match a
// real search (rare first-name/surname pairs, birth dates spread over a century); they get no
// appointment and no care relationship. The file is written by the records module, encrypted and
// blind-indexed like any other, so that nothing in the database tells a decoy from a patient.
import { Faker, fr } from '@faker-js/faker';
import type { Tx } from '../../platform/db/database.js';

/** Writes one (encrypted) patient file: the records module's writer, injected to keep guard free of records. */
export type DecoyFileWriter = (
  tx: Tx,
  establishmentId: string,
  file: { birthName: string; firstNames: string; sex: 'F' | 'M'; birthDate: string },
) => Promise<string>;

export async function plantDecoys(tx: Tx, writeFile: DecoyFileWriter, establishmentId: string, count: number, seed?: number): Promise<string[]> {
  const faker = new Faker({ locale: [fr] });
  if (seed !== undefined) faker.seed(seed);
  const ids: string[] = [];
  for (let i = 0; i < Math.min(count, 50); i++) {
    const sex = faker.person.sexType();
    const id = await writeFile(tx, establishmentId, {
      birthName: `${faker.person.lastName()}-${faker.person.lastName()}`.toUpperCase(),
      firstNames: faker.person.firstName(sex),
      sex: sex === 'female' ? 'F' : 'M',
      birthDate: faker.date.birthdate({ mode: 'age', min: 1, max: 100 }).toISOString().slice(0, 10),
    });
    await tx.insertInto('guard_decoys').values({ establishment_id: establishmentId, patient_id: id }).execute();
    ids.push(id);
  }
  return ids;
}

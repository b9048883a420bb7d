// Planting decoy patient files. Identities are generated to be plausible yet unlikely to match a
// real search (rare first-name/surname pairs, birth dates spread over a century); they get no
// appointment and no care relationship. (At merge, the patient row is created through the records
// module's index, and encrypted like any other.)
import { v7 as uuidv7 } from 'uuid';
import { Faker, fr } from '@faker-js/faker';
import type { Tx } from '../../platform/db/database.js';

export async function plantDecoys(tx: Tx, establishmentId: string, count: number, seed?: number): Promise<string[]> {
  const faker = new Faker({ locale: [fr] });
  if (seed !== undefined) faker.seed(seed);
  const ids: string[] = [];
  for (let i = 0; i < Math.min(count, 50); i++) {
    const id = uuidv7();
    const sex = faker.person.sexType();
    await tx
      .insertInto('patients')
      .values({
        id,
        establishment_id: establishmentId,
        account_user_id: null,
        birth_name: `${faker.person.lastName()}-${faker.person.lastName()}`.toUpperCase(),
        first_names: faker.person.firstName(sex),
        used_name: null,
        sex: sex === 'female' ? 'F' : 'M',
        birth_date: faker.date.birthdate({ mode: 'age', min: 1, max: 100 }).toISOString().slice(0, 10),
        birth_place_insee: null,
        email: null,
        phone: null,
        address_line1: null,
        postal_code: null,
        city: null,
      })
      .execute();
    await tx.insertInto('guard_decoys').values({ establishment_id: establishmentId, patient_id: id }).execute();
    ids.push(id);
  }
  return ids;
}

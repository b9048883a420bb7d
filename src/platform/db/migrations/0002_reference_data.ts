// Reference data every database needs: the specialty list. Upserted so later label fixes apply.
import { sql, type Kysely } from 'kysely';
import { SPECIALTIES } from '../../../modules/directory/specialties.js';

export function up() {
  return async (db: Kysely<unknown>): Promise<void> => {
    for (const s of SPECIALTIES) {
      await sql`
        insert into specialties (code, label_fr, label_en) values (${s.code}, ${s.labelFr}, ${s.labelEn})
        on conflict (code) do update set label_fr = excluded.label_fr, label_en = excluded.label_en`.execute(db);
    }
  };
}

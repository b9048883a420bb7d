import type { Tx } from '../../platform/db/database.js';

export function createDirectoryStore() {
  return {
    findEstablishment(tx: Tx, id: string) {
      return tx.selectFrom('establishments').select(['id', 'name', 'city']).where('id', '=', id).executeTakeFirst();
    },
    listSpecialties(tx: Tx) {
      return tx.selectFrom('specialties').select(['code', 'label_fr', 'label_en']).execute();
    },
  };
}
export type DirectoryStore = ReturnType<typeof createDirectoryStore>;

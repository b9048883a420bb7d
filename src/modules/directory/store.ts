import type { Tx } from '../../platform/db/database.js';

export function createDirectoryStore() {
  return {
    listSpecialties(tx: Tx) {
      return tx.selectFrom('specialties').select(['code', 'label_fr', 'label_en']).execute();
    },
  };
}
export type DirectoryStore = ReturnType<typeof createDirectoryStore>;

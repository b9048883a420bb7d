import type { Database } from '../../platform/db/database.js';
import type { DirectoryStore } from './store.js';
import type { SpecialtyDto } from './schemas.js';

export function createDirectoryService(deps: { db: Database; store: DirectoryStore }) {
  return {
    async listSpecialties(lang: 'fr' | 'en'): Promise<SpecialtyDto[]> {
      const rows = await deps.db.withPlatform((tx) => deps.store.listSpecialties(tx));
      return rows
        .map((r) => ({ code: r.code, label: lang === 'en' ? r.label_en : r.label_fr, labelFr: r.label_fr, labelEn: r.label_en }))
        .sort((a, b) => a.label.localeCompare(b.label, lang));
    },
  };
}
export type DirectoryService = ReturnType<typeof createDirectoryService>;

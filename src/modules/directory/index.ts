// The directory module's public face: establishments, practitioners, specialties.
import type { Database, Tx } from '../../platform/db/database.js';
import type { PublicCache } from '../../platform/cache.js';
import { createDirectoryStore } from './store.js';
import { createDirectoryService } from './service.js';
import { directoryPlugin } from './routes.js';

export { SPECIALTIES, type Specialty } from './specialties.js';
export { isValidRpps, rppsFromPayload } from './rpps.js';

export function directoryRoutes(deps: { db: Database; cache?: PublicCache }) {
  const service = createDirectoryService({ db: deps.db, store: createDirectoryStore(), ...(deps.cache ? { cache: deps.cache } : {}) });
  return directoryPlugin(service);
}

/** An establishment's name and city, for other modules' messages; undefined when there is none. */
export function findEstablishment(tx: Tx, id: string) {
  return createDirectoryStore().findEstablishment(tx, id);
}

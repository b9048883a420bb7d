// The end-to-end documents module's public face: documents a practitioner shares with a patient
// (and colleagues), encrypted in the browser; the server holds only ciphertexts, public keys and
// wrapped keys.
import type { FastifyPluginAsync } from 'fastify';
import type { Database } from '../../platform/db/database.js';
import type { AccessGate } from '../access/index.js';
import { e2eDocumentsPlugin } from './routes.js';
import { createE2eService } from './service.js';
import { createE2eStore } from './store.js';

export { MAX_DOCUMENT_BYTES } from './schemas.js';

export function e2eDocumentsRoutes(deps: { db: Database; gate: AccessGate }): FastifyPluginAsync {
  return e2eDocumentsPlugin(createE2eService({ db: deps.db, gate: deps.gate, store: createE2eStore() }));
}

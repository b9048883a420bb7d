// The server side of the scheduling benches: a Hygie app on the configured PostgreSQL, listening
// on port 0, in its own process so that the load generator does not share its event loop. Prints
// "PORT=<n>" once listening. Authentication uses the tests' stand-in authenticator (X-Test-User:
// one user lookup and one membership lookup per request) until the identity module is merged.
import { buildApp } from '../src/app.js';
import { openVault } from '../src/modules/vault/index.js';
import { loadConfigFromProcess } from '../src/config.js';
import { createLogger } from '../src/platform/log.js';
import { openMigratedDatabase } from '../src/server.js';
import { testAuthenticator } from '../test/helpers/scheduling-auth.js';

const config = loadConfigFromProcess({ HYGIE_LOG_LEVEL: 'silent', PORT: '0' });
if (!config.databaseUrl) {
  console.error('bench: set DATABASE_URL to a PostgreSQL database seeded with `hygie seed --scale`');
  process.exit(2);
}
const db = await openMigratedDatabase(config);
const app = await buildApp({ config, db, vault: await openVault(config, db), logger: createLogger('silent'), authenticate: testAuthenticator(db) });
await app.listen({ port: 0, host: '127.0.0.1' });
const address = app.server.address();
console.log(`PORT=${typeof address === 'object' && address ? address.port : 0}`);
process.on('SIGTERM', () => {
  void app.close().then(() => db.close()).then(() => process.exit(0));
});

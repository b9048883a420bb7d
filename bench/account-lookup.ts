// What the encrypted accounts (issue 6) cost a login: before argon2, the e-mail's blind index and
// the lookup by it, the same work for a known and an unknown e-mail (API.md `invalid_credentials`:
// same answer, same time; login decrypts nothing before the password is right); after a right
// password, the account's decryption. PGlite in memory. `npm run bench account-lookup`.
import { randomBytes } from 'node:crypto';
import { v7 as uuidv7 } from 'uuid';
import { loadConfig } from '../src/config.js';
import { openDatabase } from '../src/platform/db/database.js';
import { migrateToLatest } from '../src/platform/db/migrations/index.js';
import { accountProfiles, findAccountIdByEmail, sealAccounts } from '../src/modules/identity/index.js';
import { createEnvKeyProvider, createVault } from '../src/modules/vault/index.js';
import { report } from './lib.js';

const ACCOUNTS = 2_000;
const RUNS = 5;
const N = 400;

const config = loadConfig({ HYGIE_LOG_LEVEL: 'silent', HYGIE_DATA_DIR: '/nonexistent-bench-dir' });
const db = await openDatabase(config, { databaseUrl: undefined, pgliteDataDir: 'memory://' });
await migrateToLatest(db.owner, { appRole: config.dbAppRole });
const vault = createVault({ provider: createEnvKeyProvider([randomBytes(32)]) });
const accounts = Array.from({ length: ACCOUNTS }, (_, i) => ({ id: uuidv7(), email: `compte.${i}@bench.hygie.example`, firstName: 'Prénom', lastName: `Nom${i}`, birthDate: '1970-01-01', phone: '+33600000000' }));
let started = performance.now();
await db.withPlatform(async (tx) => {
  for (let i = 0; i < accounts.length; i += 500) {
    const chunk = accounts.slice(i, i + 500);
    const sealed = await sealAccounts(tx, vault, chunk);
    await tx.insertInto('users').values(chunk.map((a, k) => ({ id: a.id, ...sealed[k]!, email_verified_at: null, password_hash: null, totp_secret: null, disabled_at: null }))).execute();
  }
});
report('account_lookup.seal_insert', (ACCOUNTS / (performance.now() - started)) * 1000, 'accounts/s', { accounts: ACCOUNTS });

/** As identity's login before argon2 (findLoginCandidate): index, then one lookup by it. */
async function lookup(email: string): Promise<void> {
  await db.withPlatform((tx) => findAccountIdByEmail(tx, vault, email));
}

/** After a right password: the account decrypted (its data key unwrapped on a cache miss). */
async function decrypt(id: string): Promise<void> {
  await db.withPlatform((tx) => accountProfiles(tx, vault, [id]));
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const known: number[] = [];
const unknown: number[] = [];
const opened: number[] = [];
for (let r = 0; r < RUNS; r++) {
  // Alternate the two kinds run by run: the machine's load drifts, the ratio is what counts.
  started = performance.now();
  for (let i = 0; i < N; i++) await lookup(` ${accounts[(i * 7) % ACCOUNTS]!.email.toUpperCase()}`);
  known.push(((performance.now() - started) * 1000) / N);
  started = performance.now();
  for (let i = 0; i < N; i++) await lookup(`personne.${i}@bench.hygie.example`);
  unknown.push(((performance.now() - started) * 1000) / N);
  started = performance.now();
  for (let i = 0; i < N; i++) await decrypt(accounts[(i * 11 + r) % ACCOUNTS]!.id);
  opened.push(((performance.now() - started) * 1000) / N);
}
report('account_lookup.known_email', median(known), 'µs', { runs: RUNS, per_run: N, note: 'index + lookup, one platform transaction' });
report('account_lookup.unknown_email', median(unknown), 'µs', { runs: RUNS, per_run: N });
report('account_lookup.known_over_unknown', median(known) / median(unknown), 'ratio');
report('account_lookup.decrypt_after_password', median(opened), 'µs', { runs: RUNS, per_run: N, note: 'one account, data key mostly not cached' });
await db.close();

// Each test file gets its own fresh database: an in-memory PGlite by default, or a new database
// on the PostgreSQL server named by DATABASE_URL (created here, dropped afterwards).
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { inject } from 'vitest';
import { loadConfig, readTestSettings, type Config } from '../../src/config.js';
import { openDatabase, type Database } from '../../src/platform/db/database.js';
import { migrateToLatest } from '../../src/platform/db/migrations/index.js';
import { createEnvKeyProvider, createVault, type Vault } from '../../src/modules/vault/index.js';

export interface TestDatabase {
  db: Database;
  config: Config;
  /** The PostgreSQL URL of this test database, when running on PostgreSQL. */
  url: string | undefined;
  /**
   * A vault under an ephemeral root key: the seed (seedDemo(t.db, undefined, t.vault)) and the
   * apps built over this database share it, so encrypted patient files open.
   */
  vault: Vault;
  drop(): Promise<void>;
}

export function testConfig(env: Record<string, string> = {}): Config {
  return loadConfig({ HYGIE_LOG_LEVEL: 'silent', HYGIE_DATA_DIR: '/nonexistent-test-dir', ...env });
}

export const onPostgres = (): boolean => readTestSettings().databaseUrl !== undefined;

export async function createTestDatabase(options: { migrate?: boolean } = {}): Promise<TestDatabase> {
  const config = testConfig();
  const base = readTestSettings().databaseUrl;
  let db: Database;
  let url: string | undefined;
  let dropServerDb = async () => undefined as void;
  if (base) {
    const name = `hygie_t_${randomBytes(6).toString('hex')}`;
    const admin = new pg.Client({ connectionString: base });
    await admin.connect();
    await admin.query(`create database ${name}`);
    await admin.end();
    const u = new URL(base);
    u.pathname = `/${name}`;
    url = u.toString();
    db = await openDatabase(config, { databaseUrl: url, poolSize: 12 });
    dropServerDb = async () => {
      const c = new pg.Client({ connectionString: base });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    };
  } else {
    const template = options.migrate !== false ? pgliteTemplate() : undefined;
    db = await openDatabase(config, {
      databaseUrl: undefined,
      pgliteDataDir: 'memory://',
      ...(template ? { pgliteLoadDataDir: template } : {}),
    });
  }
  // Applies pending migrations (none when starting from the migrated template).
  if (options.migrate !== false) await migrateToLatest(db.owner, { appRole: config.dbAppRole });
  return {
    db,
    config,
    url,
    vault: createVault({ provider: createEnvKeyProvider([randomBytes(32)]) }),
    async drop() {
      await db.close();
      await dropServerDb();
    },
  };
}

let templateCache: Blob | undefined;
/** The migrated PGlite data directory built once by test/global-setup.ts, if any. */
function pgliteTemplate(): Blob | undefined {
  if (templateCache) return templateCache;
  const file = inject('pgliteTemplate');
  if (!file) return undefined;
  templateCache = new Blob([readFileSync(file)]);
  return templateCache;
}

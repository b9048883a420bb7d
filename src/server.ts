// Starting and stopping a Hygie instance: open the database, migrate, load the demo data on the
// first start of an empty embedded database, and serve.
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Config } from './config.js';
import { buildApp } from './app.js';
import { openDatabase, type Database } from './platform/db/database.js';
import { migrateToLatest } from './platform/db/migrations/index.js';
import { createLogger, type Logger } from './platform/log.js';
import { demoAccounts, isEmptyDatabase, seedDemo, writeDemoAccounts, type ProgressFn } from './seed/demo.js';

export interface RunningServer {
  app: FastifyInstance;
  db: Database;
  url: string;
  /** Path of the demo accounts file written at this start, if any. */
  demoAccountsFile: string | undefined;
  close(): Promise<void>;
}

export function demoAccountsPath(config: Config): string {
  return path.join(config.dataDir, 'demo-accounts.json');
}

/** Opens the configured database and applies pending migrations. */
export async function openMigratedDatabase(config: Config): Promise<Database> {
  const db = await openDatabase(config);
  try {
    await migrateToLatest(db.owner, { appRole: config.dbAppRole });
    return db;
  } catch (error) {
    await db.close();
    throw error;
  }
}

export async function startServer(
  config: Config,
  options: { logger?: Logger; onSeedProgress?: ProgressFn } = {},
): Promise<RunningServer> {
  const logger = options.logger ?? createLogger(config.logLevel);
  const db = await openMigratedDatabase(config);
  try {
    let demoAccountsFile: string | undefined;
    // Demo data only ever goes automatically into an empty *embedded* database; a PostgreSQL
    // database is seeded only on explicit request (`hygie seed --demo`).
    if (db.kind === 'pglite' && (await isEmptyDatabase(db))) {
      const { data } = await seedDemo(db, options.onSeedProgress);
      demoAccountsFile = demoAccountsPath(config);
      await writeDemoAccounts(demoAccountsFile, demoAccounts(data, config.publicUrl));
      logger.info({ file: demoAccountsFile }, 'demo data loaded');
    }
    const app = await buildApp({ config, db, logger });
    await app.listen({ port: config.port, host: config.host });
    app.jobs.start();
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    const host = config.host.includes(':') ? `[${config.host}]` : config.host;
    return {
      app,
      db,
      url: `http://${host}:${port}`,
      demoAccountsFile,
      async close() {
        // Closing the app stops the job worker (onClose) before the database goes.
        await app.close();
        await db.close();
      },
    };
  } catch (error) {
    await db.close();
    throw error;
  }
}

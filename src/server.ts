// Starting and stopping a Hygie instance: open the database, migrate, load the demo data on the
// first start of an empty embedded database, and serve.
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Config } from './config.js';
import { buildApp } from './app.js';
import { openDatabase, type Database } from './platform/db/database.js';
import { migrateToLatest } from './platform/db/migrations/index.js';
import { createLogger, type Logger } from './platform/log.js';
import { connectGuardRedis } from './modules/guard/redis.js';
import { allNotifiers, createSyslogForwarder, createWebhookForwarder } from './modules/guard/forward.js';
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
    // Demo data only ever goes automatically into an empty *embedded* database; a PostgreSQL
    // database is seeded only on explicit request (`hygie seed --demo`).
    const seeded = db.kind === 'pglite' && (await isEmptyDatabase(db)) ? await seedDemo(db, options.onSeedProgress) : undefined;
    // Guard counters shared by every instance when REDIS_URL is set (PostgreSQL otherwise).
    const redis = config.redisUrl ? await connectGuardRedis(config.redisUrl) : undefined;
    // Security alerts also go to the external collector when HYGIE_SYSLOG_URL is set. At merge,
    // identity's e-mail notifier joins it through allNotifiers().
    const syslog = config.syslogUrl ? createSyslogForwarder(config.syslogUrl) : undefined;
    const webhook = config.webhook ? createWebhookForwarder(config.webhook.url, config.webhook.secret) : undefined;
    const app = await buildApp({ config, db, logger, guard: { redis, notifier: allNotifiers(syslog, webhook) } });
    if (syslog) app.addHook('onClose', async () => syslog.close());
    if (redis) app.addHook('onClose', async () => void (await redis.quit().catch(() => undefined)));
    await app.listen({ port: config.port, host: config.host });
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    const host = config.host.includes(':') ? `[${config.host}]` : config.host;
    const url = `http://${host}:${port}`;
    let demoAccountsFile: string | undefined;
    if (seeded) {
      demoAccountsFile = demoAccountsPath(config);
      // With PORT=0 the configured URL names no real port: point the accounts at the bound one.
      await writeDemoAccounts(demoAccountsFile, demoAccounts(seeded.data, config.port === 0 ? url : config.publicUrl));
      logger.info({ file: demoAccountsFile }, 'demo data loaded');
    }
    return {
      app,
      db,
      url,
      demoAccountsFile,
      async close() {
        await app.close();
        await db.close();
      },
    };
  } catch (error) {
    await db.close();
    throw error;
  }
}

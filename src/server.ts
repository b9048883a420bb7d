// Starting and stopping a Hygie instance: open the database, migrate, load the demo data on the
// first start of an empty embedded database, and serve.
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Config } from './config.js';
import { buildApp } from './app.js';
import { openDatabase, type Database } from './platform/db/database.js';
import { migrateToLatest, type MigrationContext } from './platform/db/migrations/index.js';
import { createLogger, type Logger } from './platform/log.js';
import { createAuditSealer, keyringFromConfig, type AuditSealer } from './modules/audit/index.js';
import { connectGuardRedis, createSyslogForwarder, createWebhookForwarder, outboxAlertNotifier, registerForwarding } from './modules/guard/index.js';
import { demoAccounts, isEmptyDatabase, seedDemo, writeDemoAccounts, type ProgressFn } from './seed/demo.js';
import { KEY_FILE_NAME, createVault, openKeyProvider, openVault, type Vault } from './modules/vault/index.js';
import { accountSealer, clearDataSealer, sealStoredTotpSecrets } from './modules/identity/index.js';

export interface RunningServer {
  app: FastifyInstance;
  db: Database;
  vault: Vault;
  /** Chains and signs audit events in the background; stopped (after a last run) by close(). */
  auditSealer: AuditSealer;
  url: string;
  /** Path of the demo accounts file written at this start, if any. */
  demoAccountsFile: string | undefined;
  close(): Promise<void>;
}

export function demoAccountsPath(config: Config): string {
  return path.join(config.dataDir, 'demo-accounts.json');
}

/**
 * What migrations get: the application role, and the means to encrypt accounts stored in clear
 * (0075_users_encrypted) with the configured key provider, opened only if there are any.
 */
export function migrationContext(config: Config): MigrationContext {
  return {
    appRole: config.dbAppRole,
    accountSealer: async () => accountSealer(createVault({ provider: openKeyProvider(config) })),
    clearDataSealer: async () => clearDataSealer(createVault({ provider: openKeyProvider(config) })),
  };
}

/** Opens the configured database and applies pending migrations. */
export async function openMigratedDatabase(config: Config): Promise<Database> {
  const db = await openDatabase(config);
  try {
    await migrateToLatest(db.owner, migrationContext(config));
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
  const auditKeyring = keyringFromConfig(config);
  const auditSealer = createAuditSealer({
    db,
    keyring: auditKeyring,
    logger,
    checkpointsFile: config.auditCheckpointsFile,
  });
  try {
    // Creates the local key file on the first start, and refuses a keyring that cannot read the data.
    const vault = await openVault(config, db);
    if (config.keyProvider === 'local' && db.kind === 'postgres') {
      logger.warn(
        { keyFile: path.join(config.dataDir, KEY_FILE_NAME) },
        'vault root key is a local file: back it up apart from database backups, and use HYGIE_MASTER_KEY (or a KMS) when several instances share the database',
      );
    }
    await auditSealer.start();
    // Demo data only ever goes automatically into an empty *embedded* database; a PostgreSQL
    // database is seeded only on explicit request (`hygie seed --demo`).
    const seeded = db.kind === 'pglite' && (await isEmptyDatabase(db)) ? await seedDemo(db, options.onSeedProgress, vault) : undefined;
    // The seed writes TOTP secrets as the demo accounts file shows them: seal them before serving.
    await sealStoredTotpSecrets({ config, db, logger });
    // Guard counters shared by every instance when REDIS_URL is set (PostgreSQL otherwise).
    const redis = config.redisUrl ? await connectGuardRedis(config.redisUrl) : undefined;
    // Security alerts also go to the external collectors (HYGIE_SYSLOG_URL, HYGIE_WEBHOOK_URL), and
    // the sealed audit events too with HYGIE_FORWARD_AUDIT: through the job outbox, at least once.
    // At merge, identity's e-mail notifier joins the alert notifier through allNotifiers().
    const syslog = config.syslogUrl ? createSyslogForwarder(config.syslogUrl) : undefined;
    const webhook = config.webhook ? createWebhookForwarder(config.webhook.url, config.webhook.secret) : undefined;
    const targets = { syslog, webhook };
    const app = await buildApp({ config, db, logger, vault, guard: { redis, notifier: outboxAlertNotifier(targets) }, auditKeyring });
    const forwarding = registerForwarding(app.jobs, { db, targets, auditEvents: config.forwardAudit });
    app.addHook('onClose', async () => forwarding.stop());
    if (syslog) app.addHook('onClose', async () => syslog.close());
    if (redis) app.addHook('onClose', async () => void (await redis.quit().catch(() => undefined)));
    await app.listen({ port: config.port, host: config.host });
    app.jobs.start();
    forwarding.start();
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
      vault,
      url,
      auditSealer,
      demoAccountsFile,
      async close() {
        // Closing the app stops the job worker (onClose) before the database goes.
        await app.close();
        await auditSealer.stop();
        await db.close();
      },
    };
  } catch (error) {
    await auditSealer.stop().catch(() => undefined);
    await db.close();
    throw error;
  }
}

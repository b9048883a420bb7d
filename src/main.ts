// The `hygie` command line. Console output is for the operator; the server logs through pino.
import { rm } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import path from 'node:path';
import cliProgress from 'cli-progress';
import { ConfigError, loadConfigFromProcess, type Config } from './config.js';
import { DataDirLockedError } from './platform/db/lock.js';
import { migrateToLatest } from './platform/db/migrations/index.js';
import { demoAccountsPath, migrationContext, openMigratedDatabase, startServer } from './server.js';
import { demoAccounts, seedDemo, writeDemoAccounts, type ProgressFn } from './seed/demo.js';
import { openDatabase } from './platform/db/database.js';
import { STAFF_ROLES, type StaffRole } from './platform/db/schema.js';
import { inviteFromCli, sealStoredTotpSecrets } from './modules/identity/index.js';
import { createLogger } from './platform/log.js';
import { openVault, queueCipher, rotateAllKeys, rotateKeys, type RotationResult } from './modules/vault/index.js';
import { readOutbox } from './platform/mail.js';
import { readSmsOutbox } from './platform/sms.js';
import {
  appendCheckpointRecords,
  exportCheckpoints,
  formatVerifyReport,
  keyringFromConfig,
  readCheckpointsFile,
  sealPending,
  verifyAuditLog,
  VerifyAccessError,
} from './modules/audit/index.js';
import { seedScale } from './seed/scale.js';
import { writeIncidentReport } from './modules/incident/index.js';

const USAGE = `Usage: hygie <command> [options]

Commands:
  serve                         run the server (what \`npm start\` runs)
  migrate                       apply pending database migrations
  seed --demo [--out FILE]      load the demo data set; --out writes the demo accounts as JSON
  user create --email E --role R --establishment ID
                                invite a staff member (prints the invitation link)
  keys rotate --establishment ID
                                new key version for an establishment, re-wraps its data keys
                                while the server keeps serving (PostgreSQL); --platform rotates
                                the platform keyspace (secrets of global accounts), --all every
                                keyspace (after adding a new root key)
  audit verify [--establishment ID] [--checkpoints FILE]
                                check the audit hash chains and signed checkpoints; exit 1 and
                                name the first bad event on tampering
  audit export --out FILE [--establishment ID]
                                write the signed checkpoints (JSON lines) to keep outside the database
  audit seal                    chain and sign pending audit events now (the server does it continuously)
  seed --scale --patients N --practitioners M
                                a large synthetic data set for benchmarks (adds to what is there)
  incident report (--actor EMAIL | --api-key ID) --from T --to T [--out DIR] [--lang fr|en]
                                breach impact from the audit log, CNIL draft and patient letters
  mail outbox --to ADDRESS [--sms]
                                without SMTP_URL: the messages kept for ADDRESS (or a phone
                                number with --sms), decrypted, newest first (development)
  help                          this message

Configuration is read from the environment (see README.md): PORT, HOST, DATABASE_URL,
HYGIE_DATA_DIR, REDIS_URL, HYGIE_PUBLIC_URL, SMTP_URL, HYGIE_TRUST_PROXY, HYGIE_LOG_LEVEL,
HYGIE_KEY_PROVIDER, HYGIE_MASTER_KEY, HYGIE_AUDIT_KEY_SEED, HYGIE_AUDIT_CHECKPOINTS_FILE.`;

class UsageError extends Error {}

function progressBar(label: string): { onProgress: ProgressFn; stop(): void } {
  if (!process.stderr.isTTY) {
    let lastPercent = -1;
    return {
      onProgress(done, total, what) {
        const percent = Math.floor((done / total) * 100);
        if (percent >= lastPercent + 10 || done === total) {
          lastPercent = percent;
          process.stderr.write(`${label}: ${percent}% (${what})\n`);
        }
      },
      stop() {},
    };
  }
  const bar = new cliProgress.SingleBar(
    { format: `${label} [{bar}] {percentage}% | {value}/{total} {what}`, stream: process.stderr },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    onProgress(done, total, what) {
      if (!started) {
        bar.start(total, 0, { what });
        started = true;
      }
      bar.update(done, { what });
    },
    stop() {
      if (started) bar.stop();
    },
  };
}

async function serve(config: Config): Promise<void> {
  const bar = progressBar('Loading demo data');
  const server = await startServer(config, { onSeedProgress: bar.onProgress });
  bar.stop();
  const database = server.db.kind === 'pglite' ? `embedded PostgreSQL in ${path.join(config.dataDir, 'pgdata')}` : 'PostgreSQL (DATABASE_URL)';
  console.log(`Hygie is running at ${server.url} (${database})`);
  if (server.demoAccountsFile) console.log(`Demo accounts written to ${server.demoAccountsFile}`);
  else if (server.db.kind === 'pglite') console.log(`Demo accounts: ${demoAccountsPath(config)} (run \`hygie seed --demo --out FILE\` to rewrite it)`);
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`Received ${signal}, stopping…`);
    await server.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

async function migrate(config: Config): Promise<void> {
  const db = await openDatabase(config);
  try {
    const { applied } = await migrateToLatest(db.owner, migrationContext(config));
    console.log(applied.length === 0 ? 'Database is up to date.' : `Applied ${applied.length} migration(s): ${applied.join(', ')}`);
  } finally {
    await db.close();
  }
}

async function seed(config: Config, args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: { demo: { type: 'boolean' }, out: { type: 'string' }, scale: { type: 'boolean' }, patients: { type: 'string' }, practitioners: { type: 'string' } },
    strict: true,
  });
  if (values.scale) return seedScaleCommand(config, values);
  if (!values.demo) throw new UsageError('seed needs --demo or --scale');
  const db = await openMigratedDatabase(config);
  const bar = progressBar('Loading demo data');
  try {
    // The patient files are encrypted with the configured keys (the local key file is created if missing).
    const vault = await openVault(config, db);
    const { created, data } = await seedDemo(db, bar.onProgress, vault);
    bar.stop();
    // The seed writes the demo TOTP secrets as the accounts file shows them; seal them now.
    await sealStoredTotpSecrets({ config, db, logger: createLogger('silent') });
    console.log(created ? 'Demo data loaded.' : 'The database already holds the demo data; nothing was loaded.');
    const out = values.out ? path.resolve(values.out) : db.kind === 'pglite' ? demoAccountsPath(config) : undefined;
    if (out) {
      await writeDemoAccounts(out, demoAccounts(data, config.publicUrl));
      console.log(`Demo accounts written to ${out}`);
    }
  } finally {
    bar.stop();
    await db.close();
  }
}

async function userCommand(config: Config, args: string[]): Promise<void> {
  const [sub, ...rest] = args;
  if (sub !== 'create') throw new UsageError('user needs a subcommand: create');
  const { values } = parseArgs({
    args: rest,
    options: {
      email: { type: 'string' },
      role: { type: 'string' },
      establishment: { type: 'string' },
      'first-name': { type: 'string' },
      'last-name': { type: 'string' },
    },
    strict: true,
  });
  if (!values.email || !values.role || !values.establishment) throw new UsageError('user create needs --email, --role and --establishment');
  if (!STAFF_ROLES.includes(values.role as StaffRole)) throw new UsageError(`--role must be one of ${STAFF_ROLES.join(', ')}`);
  if (!/^[0-9a-f-]{36}$/i.test(values.establishment)) throw new UsageError('--establishment must be an establishment id (UUID)');
  const db = await openMigratedDatabase(config);
  try {
    const local = values.email.split('@')[0] ?? '';
    // The invitee is matched to an existing account by the e-mail's blind index: the vault's keys.
    const vault = await openVault(config, db);
    const { link } = await inviteFromCli({ config, db, vault, logger: createLogger('silent') }, values.establishment, {
      email: values.email,
      role: values.role as StaffRole,
      firstName: values['first-name'] ?? local,
      lastName: values['last-name'] ?? '',
    });
    console.log(`Invitation created for ${values.email} as ${values.role}. Hand over this link (valid 7 days):\n${link}`);
  } finally {
    await db.close();
  }
}

async function keys(config: Config, args: string[]): Promise<void> {
  const [sub, ...rest] = args;
  if (sub !== 'rotate') throw new UsageError('keys needs a subcommand: rotate');
  const { values } = parseArgs({
    args: rest,
    options: { establishment: { type: 'string' }, platform: { type: 'boolean' }, all: { type: 'boolean' } },
    strict: true,
  });
  const chosen = [values.establishment !== undefined, values.platform === true, values.all === true].filter(Boolean).length;
  if (chosen !== 1) throw new UsageError('keys rotate needs one of --establishment ID, --platform or --all');
  const establishmentId = values.establishment ?? null;
  if (establishmentId !== null && !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(establishmentId)) {
    throw new UsageError('--establishment must be an establishment id (UUID)');
  }
  const db = await openMigratedDatabase(config);
  let bar = progressBar('Re-wrapping data keys');
  const say = (result: RotationResult) => {
    const from = result.fromVersion === null ? 'none' : `v${result.fromVersion}`;
    const owner = result.keyspace === 'platform' ? 'the platform' : result.keyspace;
    console.log(`Key of ${owner} rotated: ${from} -> v${result.toVersion}, ${result.rewrapped} data key(s) re-wrapped.`);
    if (result.retiredVersions.length > 0) console.log(`Retired key version(s): ${result.retiredVersions.map((v) => `v${v}`).join(', ')}.`);
  };
  try {
    const vault = await openVault(config, db);
    if (values.all) {
      const results = await rotateAllKeys(db, vault, {
        onKeyspace: (keyspace, index, count) => {
          bar.stop();
          bar = progressBar(`Re-wrapping ${keyspace} (${index + 1}/${count})`);
          return (done, total) => {
            if (total > 0) bar.onProgress(done, total, 'data keys');
          };
        },
      });
      bar.stop();
      results.forEach(say);
    } else {
      const result = await rotateKeys(db, vault, establishmentId, {
        onProgress: (done, total) => {
          if (total > 0) bar.onProgress(done, total, 'data keys');
        },
      });
      bar.stop();
      say(result);
    }
  } finally {
    bar.stop();
    await db.close();
  }
}

async function seedScaleCommand(config: Config, values: { patients?: string | undefined; practitioners?: string | undefined }): Promise<void> {
  const count = (name: string, value: string | undefined, max: number): number => {
    if (value === undefined || !/^\d+$/.test(value) || Number(value) < 1 || Number(value) > max) {
      throw new UsageError(`seed --scale needs --${name} N with 1 <= N <= ${max}`);
    }
    return Number(value);
  };
  const patients = count('patients', values.patients, 5_000_000);
  const practitioners = count('practitioners', values.practitioners, 200_000);
  const db = await openMigratedDatabase(config);
  const bar = progressBar('Generating');
  try {
    const vault = await openVault(config, db);
    const result = await seedScale(db, vault, { patients, practitioners }, bar.onProgress);
    bar.stop();
    console.log(
      `Loaded ${result.establishments} establishments, ${result.practitioners} practitioners, ${result.patients} patient files ` +
        `(${result.accountUserIds.length} with an account) and ${result.appointments} appointments.`,
    );
  } finally {
    bar.stop();
    await db.close();
  }
}

async function incident(config: Config, args: string[]): Promise<void> {
  const [sub, ...rest] = args;
  if (sub !== 'report') throw new UsageError('incident needs the subcommand "report"');
  const { values } = parseArgs({
    args: rest,
    options: { actor: { type: 'string' }, 'api-key': { type: 'string' }, from: { type: 'string' }, to: { type: 'string' }, out: { type: 'string' }, lang: { type: 'string' } },
    strict: true,
  });
  if (!values.actor === !values['api-key']) throw new UsageError('incident report needs exactly one of --actor EMAIL and --api-key ID');
  const from = new Date(values.from ?? '');
  const to = new Date(values.to ?? '');
  if (Number.isNaN(from.getTime()) || Number.isNaN(to.getTime()) || from >= to) throw new UsageError('incident report needs --from and --to as ISO instants, from before to');
  const lang = values.lang === 'en' ? 'en' : 'fr';
  const db = await openMigratedDatabase(config);
  try {
    const vault = await openVault(config, db);
    const { reports, files } = await writeIncidentReport(db, vault, { actorEmail: values.actor, apiKeyId: values['api-key'], from, to, out: values.out ? path.resolve(values.out) : undefined, lang });
    // Ids and counts only on the console; the patient list is in the files (mode 0600).
    console.log(
      JSON.stringify({
        establishments: reports.map((r) => ({ establishmentId: r.establishmentId, patients: r.totals.patients, accesses: r.totals.accesses, byCategory: r.byCategory, containments: r.containments.length, detectedAt: r.detectedAt, notificationDeadline: r.notificationDeadline })),
        files: files.length,
      }),
    );
  } finally {
    await db.close();
  }
}

/** The development outboxes are sealed (docs/security.md): this is how a developer reads a link. */
async function mailCommand(config: Config, args: string[]): Promise<void> {
  const [sub, ...rest] = args;
  if (sub !== 'outbox') throw new UsageError('mail needs the subcommand "outbox"');
  const { values } = parseArgs({ args: rest, options: { to: { type: 'string' }, sms: { type: 'boolean' } }, strict: true });
  if (!values.to) throw new UsageError('mail outbox needs --to ADDRESS');
  const db = await openMigratedDatabase(config);
  try {
    const cipher = queueCipher(await openVault(config, db));
    const messages = values.sms
      ? (await readSmsOutbox(db, cipher, values.to)).map((m) => ({ ...m, subject: '(SMS)' }))
      : await readOutbox(db, cipher, values.to);
    if (messages.length === 0) console.log('No message kept for this recipient.');
    for (const m of messages) console.log(`--- ${m.createdAt.toISOString()} ${m.template}\n${m.subject}\n\n${m.text}\n`);
  } finally {
    await db.close();
  }
}

async function audit(config: Config, args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  const establishment = { type: 'string' } as const;
  const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
  const establishmentOption = (value: string | undefined): string | null | undefined => {
    if (value === undefined) return undefined;
    if (value === 'platform') return null;
    if (!uuid.test(value)) throw new UsageError('--establishment takes an establishment id (or "platform")');
    return value.toLowerCase();
  };
  switch (sub) {
    case 'verify': {
      const { values } = parseArgs({ args: rest, options: { establishment, checkpoints: { type: 'string' } }, strict: true });
      const establishmentId = establishmentOption(values.establishment);
      const externalCheckpoints = values.checkpoints ? await readCheckpointsFile(path.resolve(values.checkpoints)) : undefined;
      const db = await openMigratedDatabase(config);
      try {
        const report = await verifyAuditLog(db.owner, { establishmentId, keyring: keyringFromConfig(config), externalCheckpoints }).catch((error: unknown) => {
          if (!(error instanceof VerifyAccessError)) throw error;
          console.error(`hygie: ${error.message}`);
          return undefined;
        });
        // Exit 1 means tampering only: a verification that could not run is 2.
        if (!report) return 2;
        for (const line of formatVerifyReport(report)) console.log(line);
        if (!report.ok) {
          const first = report.streams.find((s) => s.problem)?.problem;
          console.error(`hygie: the audit log has been tampered with; first bad event: ${first?.eventId ?? `seq ${first?.seq}`}`);
        }
        return report.ok ? 0 : 1;
      } finally {
        await db.close();
      }
    }
    case 'export': {
      const { values } = parseArgs({ args: rest, options: { establishment, out: { type: 'string' } }, strict: true });
      if (!values.out) throw new UsageError('audit export needs --out FILE');
      const db = await openMigratedDatabase(config);
      try {
        const records = await exportCheckpoints(db.owner, { establishmentId: establishmentOption(values.establishment) });
        const out = path.resolve(values.out);
        await rm(out, { force: true });
        await appendCheckpointRecords(out, records);
        console.log(`${records.length} checkpoint(s) written to ${out}`);
        return 0;
      } finally {
        await db.close();
      }
    }
    case 'seal': {
      parseArgs({ args: rest, options: {}, strict: true });
      const db = await openMigratedDatabase(config);
      try {
        const result = await sealPending(db, keyringFromConfig(config));
        if (config.auditCheckpointsFile) await appendCheckpointRecords(config.auditCheckpointsFile, result.checkpoints);
        console.log(
          result.busy
            ? 'Another instance is sealing right now; nothing done.'
            : `${result.chained} event(s) chained, ${result.checkpoints.length} checkpoint(s) signed.`,
        );
        return 0;
      } finally {
        await db.close();
      }
    }
    default:
      throw new UsageError(sub === undefined ? 'audit needs a subcommand: verify, export or seal' : `unknown audit subcommand "${sub}"`);
  }
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    console.log(USAGE);
    return command === undefined ? 2 : 0;
  }
  const config = loadConfigFromProcess();
  switch (command) {
    case 'serve':
      await serve(config);
      return -1; // keep running
    case 'migrate':
      await migrate(config);
      return 0;
    case 'seed':
      await seed(config, rest);
      return 0;
    case 'user':
      await userCommand(config, rest);
      return 0;
    case 'keys':
      await keys(config, rest);
      return 0;
    case 'audit':
      return audit(config, rest);
    case 'incident':
      await incident(config, rest);
      return 0;
    case 'mail':
      await mailCommand(config, rest);
      return 0;
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (error: unknown) => {
    if (error instanceof ConfigError) {
      console.error(`hygie: ${error.message}`);
      process.exit(2);
    }
    if (error instanceof DataDirLockedError) {
      console.error(`hygie: ${error.message}`);
      process.exit(3);
    }
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      console.error(`hygie: ${(error as Error).message}\n\n${USAGE}`);
      process.exit(2);
    }
    console.error('hygie: failed:', error instanceof Error ? error.message : error);
    process.exit(1);
  },
);

// The `hygie` command line. Console output is for the operator; the server logs through pino.
import { parseArgs } from 'node:util';
import path from 'node:path';
import cliProgress from 'cli-progress';
import { ConfigError, loadConfigFromProcess, type Config } from './config.js';
import { DataDirLockedError } from './platform/db/lock.js';
import { migrateToLatest } from './platform/db/migrations/index.js';
import { demoAccountsPath, openMigratedDatabase, startServer } from './server.js';
import { demoAccounts, seedDemo, writeDemoAccounts, type ProgressFn } from './seed/demo.js';
import { openDatabase } from './platform/db/database.js';
import { writeIncidentReport } from './modules/incident/index.js';

const USAGE = `Usage: hygie <command> [options]

Commands:
  serve                         run the server (what \`npm start\` runs)
  migrate                       apply pending database migrations
  seed --demo [--out FILE]      load the demo data set; --out writes the demo accounts as JSON
  incident report (--actor EMAIL | --api-key ID) --from T --to T [--out DIR] [--lang fr|en]
                                breach impact from the audit log, CNIL draft and patient letters
  help                          this message

Configuration is read from the environment (see README.md): PORT, HOST, DATABASE_URL,
HYGIE_DATA_DIR, REDIS_URL, HYGIE_PUBLIC_URL, SMTP_URL, HYGIE_TRUST_PROXY, HYGIE_LOG_LEVEL.`;

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
    const { applied } = await migrateToLatest(db.owner, { appRole: config.dbAppRole });
    console.log(applied.length === 0 ? 'Database is up to date.' : `Applied ${applied.length} migration(s): ${applied.join(', ')}`);
  } finally {
    await db.close();
  }
}

async function seed(config: Config, args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { demo: { type: 'boolean' }, out: { type: 'string' } }, strict: true });
  if (!values.demo) throw new UsageError('seed needs --demo');
  const db = await openMigratedDatabase(config);
  const bar = progressBar('Loading demo data');
  try {
    const { created, data } = await seedDemo(db, bar.onProgress);
    bar.stop();
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
    const { reports, files } = await writeIncidentReport(db, { actorEmail: values.actor, apiKeyId: values['api-key'], from, to, out: values.out ? path.resolve(values.out) : undefined, lang });
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
    case 'incident':
      await incident(config, rest);
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

// The ordered list of migrations. Imported statically (no directory scan) so the list is the same
// from sources, from dist/ and in a bundle.
import { Migrator, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import * as m0001 from './0001_foundation.js';
import * as m0002 from './0002_reference_data.js';
import * as m0003 from './0003_audit_minimal.js';
import * as m0004 from './0004_identity.js';
import * as m0005 from './0005_scheduling.js';
import * as m0006 from './0006_vault.js';
import * as m0007 from './0007_audit.js';
import * as m0009 from './0009_scheduling_waitlist.js';
import * as m0012 from './0012_access.js';
import * as m0013 from './0013_guard.js';
import * as m0014 from './0014_incident.js';
import * as m0015 from './0015_guard_decoys.js';
import * as m0016 from './0016_records.js';
import * as m0030 from './0030_teleconsult.js';
import * as m0031 from './0031_e2e_documents.js';
import * as m0050 from './0050_scheduling_notices.js';
import * as m0060 from './0060_guard_exports.js';
import * as m0061 from './0061_forward_cursors.js';
import * as m0062 from './0062_guard_refusals.js';
import * as m0075 from './0075_users_encrypted.js';
import * as m0080 from './0080_incident_notices.js';
import * as m0085 from './0085_audit_search.js';
import * as m0087 from './0087_queues_sealed.js';
import * as m0088 from './0088_appointment_key_pairs.js';
import * as m0089 from './0089_waitlist_key_pairs.js';
import * as m0090 from './0090_definer_functions.js';
import * as m0091 from './0091_no_temp_tables.js';

/** An account's personal fields as 0075 reads them from the clear columns it replaces. */
export interface AccountPlaintext {
  id: string;
  email: string;
  first_name: string;
  last_name: string;
  birth_date: string | null;
  phone: string | null;
}

/** The encrypted columns (and e-mail blind index) of an account, as identity/account-data.ts writes them. */
export interface SealedAccountColumns {
  email_enc: string;
  email_bidx: string;
  first_name_enc: string;
  last_name_enc: string;
  birth_date_enc: string | null;
  phone_enc: string | null;
}

/**
 * Encrypts accounts inside the migration's transaction. Migrations know no key: the caller that
 * holds the configuration (server start, `hygie migrate`) passes one built on the vault.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the migration's transaction, typed as migrations are (Kysely<any>).
export type AccountSealer = (tx: Kysely<any>, rows: readonly AccountPlaintext[]) => Promise<SealedAccountColumns[]>;

/** An invitee as 0087 reads them from the clear columns it replaces. */
export interface InvitationPlaintext {
  id: string;
  email: string;
  first_name: string;
  last_name: string;
}

/**
 * Encrypts what 0087 finds in clear, in the migration's transaction: invitations (as
 * identity/invitation-data.ts writes them) and queued messages (the platform queue key).
 */
export interface ClearDataSealer {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the migration's transaction, typed as migrations are (Kysely<any>).
  invitations(tx: Kysely<any>, rows: readonly InvitationPlaintext[]): Promise<Array<{ email_enc: string; first_name_enc: string; last_name_enc: string }>>;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- as above.
  queued(tx: Kysely<any>, where: { table: string; column: string; rowId: string }, plaintext: string): Promise<string>;
}

export interface MigrationContext {
  /** The application's database role (config.dbAppRole). */
  appRole: string;
  /** Needed only when 0075_users_encrypted finds accounts stored in clear. */
  accountSealer?: (() => Promise<AccountSealer>) | undefined;
  /** Needed only when 0087_queues_sealed finds invitations or queued messages stored in clear. */
  clearDataSealer?: (() => Promise<ClearDataSealer>) | undefined;
}

type MigrationModule = { up(ctx: MigrationContext): Migration['up']; down?(ctx: MigrationContext): Migration['up'] };

const MIGRATIONS: ReadonlyArray<readonly [string, MigrationModule]> = [
  ['0001_foundation', m0001],
  ['0002_reference_data', m0002],
  ['0003_audit_minimal', m0003],
  ['0004_identity', m0004],
  ['0005_scheduling', m0005],
  ['0006_vault', m0006],
  ['0007_audit', m0007],
  ['0009_scheduling_waitlist', m0009],
  ['0012_access', m0012],
  ['0013_guard', m0013],
  ['0014_incident', m0014],
  ['0015_guard_decoys', m0015],
  ['0016_records', m0016],
  ['0030_teleconsult', m0030],
  ['0031_e2e_documents', m0031],
  ['0050_scheduling_notices', m0050],
  ['0060_guard_exports', m0060],
  ['0061_forward_cursors', m0061],
  ['0062_guard_refusals', m0062],
  ['0075_users_encrypted', m0075],
  ['0080_incident_notices', m0080],
  ['0085_audit_search', m0085],
  ['0087_queues_sealed', m0087],
  ['0088_appointment_key_pairs', m0088],
  ['0089_waitlist_key_pairs', m0089],
  ['0090_definer_functions', m0090],
  ['0091_no_temp_tables', m0091],
];

class StaticMigrationProvider implements MigrationProvider {
  constructor(private readonly ctx: MigrationContext) {}
  async getMigrations(): Promise<Record<string, Migration>> {
    const out: Record<string, Migration> = {};
    for (const [name, module] of MIGRATIONS) out[name] = { up: module.up(this.ctx) };
    return out;
  }
}

export interface MigrateResult {
  applied: string[];
}

/** Applies pending migrations in order, each in its own transaction; throws on the first failure. */
// Migrations are written against the schema as it was then, hence Kysely<any> (Kysely's own advice).
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function migrateToLatest(db: Kysely<any>, ctx: MigrationContext, options: { upTo?: string } = {}): Promise<MigrateResult> {
  const migrator = new Migrator({ db, provider: new StaticMigrationProvider(ctx) });
  // upTo: stop after that migration (tests of a data conversion start from the schema before it).
  const { error, results } = options.upTo ? await migrator.migrateTo(options.upTo) : await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName;
    throw new Error(`Migration ${failed ?? '(unknown)'} failed: ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
    });
  }
  return { applied: (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName) };
}

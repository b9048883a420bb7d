// One database API over two engines: PostgreSQL through `pg`, or the embedded PGlite through its
// node-postgres adapter. Both use Kysely's PostgresDialect, so there is one SQL dialect and one
// set of migrations.
//
// Request code never gets an unrestricted connection: it gets `withTenant` (establishment-owned
// rows of one establishment, row-level security enforced) or `withPlatform` (global tables only,
// no establishment rows visible), each a transaction, or their autocommit forms (each statement its
// own transaction, walled the same way). All run as the application role, which has no BYPASSRLS.
import { mkdirSync } from 'node:fs';
import { CompiledQuery, Kysely, PostgresDialect, sql, type Transaction } from 'kysely';
import pg from 'pg';
import type { Config } from '../../config.js';
import type { DB } from './schema.js';
import { acquireDataDirLock, type DataDirLock } from './lock.js';
import { AUTOCOMMIT_APP_CONTEXT, SET_APP_CONTEXT, wrapPool } from './pool.js';

export { PREPARED, withRawClient } from './pool.js';

export type Tx = Transaction<DB>;
/**
 * What a store function runs its statements on: a transaction (Tx), or a connection in
 * `withTenantAutocommit` / `withPlatformAutocommit`, where each statement is its own transaction.
 */
export type Exec = Kysely<DB>;
export type DatabaseKind = 'pglite' | 'postgres';

export interface Database {
  readonly kind: DatabaseKind;
  /**
   * The owner connection: migrations, seeding, maintenance commands and tests that tamper on
   * purpose. Never handed to request handlers.
   */
  readonly owner: Kysely<DB>;
  /** Runs fn in one transaction as the application role, walled to one establishment. */
  withTenant<T>(establishmentId: string, fn: (tx: Tx) => Promise<T>): Promise<T>;
  /** Runs fn in one transaction as the application role with no establishment set. */
  withPlatform<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;
  /**
   * Runs fn on one connection as the application role walled to one establishment, like
   * withTenant, but each statement is its own transaction (autocommit): on PostgreSQL the role and
   * tenant go in the statement's own round trip, so a statement costs one round trip instead of
   * BEGIN, the statement and COMMIT. For work whose statements need not be atomic together (a read,
   * then one write that carries its own checks); `exec.transaction()` opens a transaction on the
   * same connection, walled the same way, for the part that must be atomic.
   */
  withTenantAutocommit<T>(establishmentId: string, fn: (exec: Exec) => Promise<T>): Promise<T>;
  /** withTenantAutocommit with no establishment set, as withPlatform. */
  withPlatformAutocommit<T>(fn: (exec: Exec) => Promise<T>): Promise<T>;
  /** True when the database answers a trivial query. */
  ping(): Promise<boolean>;
  /** PGlite only: a tarball of the data directory (tests build a migrated template once). */
  dumpDataDir?: () => Promise<Blob>;
  close(): Promise<void>;
}

export interface OpenOptions {
  /** Overrides config.databaseUrl (tests create their own databases). */
  databaseUrl?: string | undefined;
  /** PGlite data directory; 'memory://' for an in-memory database (tests). */
  pgliteDataDir?: string;
  /** PGlite: start from this data directory tarball (made by dumpDataDir) instead of initdb. */
  pgliteLoadDataDir?: Blob;
  /** Pool size for PostgreSQL (default 10). */
  poolSize?: number;
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * `date` columns come back as 'YYYY-MM-DD' text, as the schema types them: node-postgres would make
 * a Date at local midnight, which shifts the day in any time zone west of UTC.
 */
const DATE_OID = 1082;
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === DATE_OID ? (value: string) => value : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

export async function openDatabase(config: Config, options: OpenOptions = {}): Promise<Database> {
  const databaseUrl = 'databaseUrl' in options ? options.databaseUrl : config.databaseUrl;
  if (databaseUrl !== undefined) {
    const pool = new pg.Pool({
      connectionString: databaseUrl,
      max: options.poolSize ?? 10,
      application_name: 'hygie',
      types,
    });
    // A connection error on an idle client must not crash the process; the next query reports it.
    pool.on('error', () => undefined);
    // Kysely's destroy() ends the pool.
    return makeDatabase('postgres', pool, config.dbAppRole, async () => undefined);
  }

  const dataDir = options.pgliteDataDir ?? `${config.dataDir}/pgdata`;
  let lock: DataDirLock | undefined;
  if (!dataDir.startsWith('memory://')) {
    mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
    lock = await acquireDataDirLock(config.dataDir);
  }
  try {
    const { PGlite } = await import('@electric-sql/pglite');
    const { btree_gist } = await import('@electric-sql/pglite/contrib/btree_gist');
    const { pgcrypto } = await import('@electric-sql/pglite/contrib/pgcrypto');
    const { createPgConfig } = await import('@electric-sql/pglite/node-postgres');
    const pglite = await PGlite.create(dataDir, {
      extensions: { btree_gist, pgcrypto },
      ...(options.pgliteLoadDataDir ? { loadDataDir: options.pgliteLoadDataDir } : {}),
    });
    // PGlite is one backend: a pool of one serialises transactions instead of interleaving them.
    const pool = new pg.Pool({ ...createPgConfig(pglite), max: 1, idleTimeoutMillis: 0, types });
    pool.on('error', () => undefined);
    const db = makeDatabase('pglite', pool, config.dbAppRole, async () => {
      await pglite.close();
      await lock?.release();
    });
    return { ...db, dumpDataDir: () => pglite.dumpDataDir('none') };
  } catch (error) {
    await lock?.release();
    throw error;
  }
}

function makeDatabase(kind: DatabaseKind, pool: pg.Pool, appRole: string, shutdown: () => Promise<void>): Database {
  const owner = new Kysely<DB>({ dialect: new PostgresDialect({ pool: wrapPool(pool, kind === 'postgres') }) });
  let closed = false;

  const asApp = async <T>(establishmentId: string | null, fn: (tx: Tx) => Promise<T>): Promise<T> =>
    owner.transaction().execute(async (tx) => {
      // Both settings are transaction-local (is_local = true, like SET LOCAL), so a pooled
      // connection never carries one request's role or tenant into the next. One statement sets
      // both: this runs before every request's queries (on PostgreSQL in the BEGIN's round trip).
      await tx.executeQuery(CompiledQuery.raw(SET_APP_CONTEXT, [appRole, establishmentId ?? '']));
      return fn(tx);
    });

  const asAppAutocommit = async <T>(establishmentId: string | null, fn: (exec: Exec) => Promise<T>): Promise<T> =>
    owner.connection().execute(async (exec) => {
      // Kept by the pool wrapper for this connection until it is released (AUTOCOMMIT_APP_CONTEXT).
      await exec.executeQuery(CompiledQuery.raw(AUTOCOMMIT_APP_CONTEXT, [appRole, establishmentId ?? '']));
      return fn(exec);
    });

  return {
    kind,
    owner,
    withTenant(establishmentId, fn) {
      // A malformed id would make the RLS cast fail on every row; refuse it up front.
      if (!UUID_RE.test(establishmentId)) throw new TypeError('withTenant needs an establishment UUID');
      return asApp(establishmentId, fn);
    },
    withPlatform(fn) {
      return asApp(null, fn);
    },
    withTenantAutocommit(establishmentId, fn) {
      if (!UUID_RE.test(establishmentId)) throw new TypeError('withTenantAutocommit needs an establishment UUID');
      return asAppAutocommit(establishmentId, fn);
    },
    withPlatformAutocommit(fn) {
      return asAppAutocommit(null, fn);
    },
    async ping() {
      try {
        await sql`select 1`.execute(owner);
        return true;
      } catch {
        return false;
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      await owner.destroy().catch(() => undefined);
      await shutdown();
    },
  };
}

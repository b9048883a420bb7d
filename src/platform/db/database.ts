// One database API over two engines: PostgreSQL through `pg`, or the embedded PGlite through its
// node-postgres adapter. Both use Kysely's PostgresDialect, so there is one SQL dialect and one
// set of migrations.
//
// Request code never gets an unrestricted connection: it gets `withTenant` (establishment-owned
// rows of one establishment, row-level security enforced) or `withPlatform` (global tables only,
// no establishment rows visible). Both run as the application role, which has no BYPASSRLS.
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { CompiledQuery, Kysely, PostgresDialect, sql, type PostgresPool, type PostgresPoolClient, type Transaction } from 'kysely';
import pg from 'pg';
import type { Config } from '../../config.js';
import type { DB } from './schema.js';
import { acquireDataDirLock, type DataDirLock } from './lock.js';

export type Tx = Transaction<DB>;
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

// A few owner-side maintenance reads (audit verify) need the protocol's COPY, which Kysely does
// not speak. withRawClient() reaches the pg client behind a Kysely connection (or transaction) by
// sending this marker through it: the pool wrapper below answers it itself, handing the client to
// the caller while Kysely holds the connection, so nothing else runs on it meanwhile.
const RAW_CLIENT_MARKER = '/* hygie: raw client */';
interface RawClientToken {
  fn: (client: pg.ClientBase) => Promise<void>;
  ran: boolean;
}
const isRawClientToken = (x: unknown): x is RawClientToken => typeof x === 'object' && x !== null && typeof (x as RawClientToken).fn === 'function';

/**
 * Marks a hot statement of fixed text to run as a named prepared statement from its first use,
 * without waiting to be seen HOT_AFTER times (the gate's facts, audit appends, the guard's lock,
 * facts and record). For fixed texts only (`= any($1::uuid[])`, never an `in (…)` list whose text
 * grows with it). The tenant is read at execution (hygie_current_establishment()), never folded
 * into a plan, and a plan that depended on row security is re-planned under another role.
 */
export const PREPARED = sql.raw('/* hygie: prepared */ ');
const PREPARED_PREFIX = '/* hygie: prepared */ ';

/**
 * Server-side prepared statements for the statements the application repeats (PostgreSQL only).
 * `pg` sends every parameterised query as an unnamed statement, which PostgreSQL parses, rewrites
 * (row-level security policies included) and plans afresh each time: about half of the database's
 * CPU on a booking. A statement seen HOT_AFTER times is given a name (a hash of its text), so each
 * connection parses it once and PostgreSQL keeps its plan (plans still honour the role and the
 * tenant setting of each execution: row-level security is checked at run time, and a plan made
 * under another role is re-planned). At most PREPARED_PER_CONNECTION per connection, so that
 * statements whose text varies (lists of n values) cannot grow the server's memory without bound.
 */
const HOT_AFTER = 3;
const PREPARED_PER_CONNECTION = 200;
const SEEN_LIMIT = 5_000;

function statementNamer() {
  const seen = new Map<string, number>();
  const names = new Map<string, string>();
  const prepared = new WeakMap<pg.PoolClient, Set<string>>();
  const never = new Set<string>();
  const nameOf = (client: pg.PoolClient, text: string): string | undefined => {
    if (never.has(text)) return undefined;
    let name = names.get(text);
    if (name === undefined) {
      const count = (seen.get(text) ?? 0) + 1;
      if (count < HOT_AFTER && !text.startsWith(PREPARED_PREFIX)) {
        if (seen.size >= SEEN_LIMIT) seen.clear();
        seen.set(text, count);
        return undefined;
      }
      seen.delete(text);
      name = `hygie_${createHash('sha1').update(text).digest('hex').slice(0, 24)}`;
      if (names.size >= SEEN_LIMIT) names.clear();
      names.set(text, name);
    }
    let mine = prepared.get(client);
    if (!mine) prepared.set(client, (mine = new Set()));
    if (mine.has(name)) return name;
    if (mine.size >= PREPARED_PER_CONNECTION) return undefined;
    mine.add(name);
    return name;
  };
  /**
   * A migration run by another instance changed the columns a prepared statement returns
   * (PostgreSQL: "cached plan must not change result type"): that statement fails once, then is
   * sent unnamed from then on.
   */
  const forget = (text: string) => {
    if (never.size >= SEEN_LIMIT) never.clear();
    never.add(text);
    names.delete(text);
  };
  return { nameOf, forget };
}

/** What every app transaction runs first (makeDatabase): the role and the tenant, both transaction-local. */
const SET_APP_CONTEXT = "select set_config('role', $1, true), set_config('hygie.establishment_id', $2, true)";

function wrapPool(pool: pg.Pool, onPostgres: boolean): PostgresPool {
  const wrappers = new WeakMap<pg.PoolClient, PostgresPoolClient>();
  // PGlite's adapter is one in-process backend: parsing there costs no round trip and is left alone.
  const namer = onPostgres ? statementNamer() : undefined;
  return {
    async connect() {
      const client = await pool.connect();
      let wrapper = wrappers.get(client);
      if (!wrapper) {
        const send = (text: unknown, params?: unknown): Promise<unknown> => {
          if (text === RAW_CLIENT_MARKER && Array.isArray(params) && isRawClientToken(params[0])) {
            const token = params[0];
            const empty = { command: 'SELECT', rowCount: 0, rows: [] };
            if (!onPostgres) return Promise.resolve(empty);
            token.ran = true;
            return token.fn(client).then(() => empty);
          }
          if (namer && typeof text === 'string' && Array.isArray(params) && params.length > 0) {
            const name = namer.nameOf(client, text);
            if (name !== undefined) {
              return client.query({ name, text, values: params as unknown[] }).catch((error: unknown) => {
                if ((error as { code?: unknown }).code === '0A000') namer.forget(text);
                throw error;
              });
            }
          }
          return (client.query as (t: unknown, p?: unknown) => Promise<unknown>)(text, params);
        };
        // On PostgreSQL, Kysely's BEGIN waits for the transaction's first statement: when that is
        // the app context (every withTenant/withPlatform), both go in one round trip, as one
        // simple-protocol query. Its two values are inlined as escaped literals: the role name is
        // a validated identifier (config.ts) and the tenant a validated UUID or '' (withTenant).
        let pendingBegin = false;
        const query = (text: unknown, params?: unknown): Promise<unknown> => {
          if (!onPostgres) return send(text, params);
          const noParams = params === undefined || (Array.isArray(params) && params.length === 0);
          if (text === 'begin' && noParams) {
            pendingBegin = true;
            return Promise.resolve({ command: 'BEGIN', rowCount: null, rows: [] });
          }
          if (!pendingBegin) return send(text, params);
          pendingBegin = false;
          if (text === SET_APP_CONTEXT && Array.isArray(params) && params.length === 2 && params.every((p) => typeof p === 'string')) {
            const [role, tenant] = params as [string, string];
            return client
              .query(`begin; select set_config('role', ${client.escapeLiteral(role)}, true), set_config('hygie.establishment_id', ${client.escapeLiteral(tenant)}, true)`)
              .then((results) => (Array.isArray(results) ? results[results.length - 1] : results) as unknown);
          }
          // A transaction that ran nothing: nothing to end.
          if ((text === 'commit' || text === 'rollback') && noParams) return Promise.resolve({ command: text.toUpperCase(), rowCount: null, rows: [] });
          return client.query('begin').then(() => send(text, params));
        };
        wrapper = {
          query: query as PostgresPoolClient['query'],
          release: () => {
            pendingBegin = false;
            client.release();
          },
        };
        wrappers.set(client, wrapper);
      }
      return wrapper;
    },
    end: () => pool.end(),
  };
}

/**
 * Runs fn with the pg client behind exec (its transaction's connection when exec is one), on
 * PostgreSQL; resolves to undefined, without running fn, on PGlite or any other executor.
 */
export async function withRawClient<T>(exec: Kysely<DB>, fn: (client: pg.ClientBase) => Promise<T>): Promise<{ value: T } | undefined> {
  let value: T | undefined;
  const token: RawClientToken = {
    fn: async (client) => {
      value = await fn(client);
    },
    ran: false,
  };
  await exec.executeQuery(CompiledQuery.raw(RAW_CLIENT_MARKER, [token]));
  return token.ran ? { value: value as T } : undefined;
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

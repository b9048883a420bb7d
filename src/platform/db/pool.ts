// The pool behind Kysely on both engines, and what it saves on PostgreSQL: BEGIN and the
// application context (role, tenant) sent ahead of a transaction's first statement in its round
// trip, autocommit statements that carry the context in theirs, and repeated statements prepared
// once per connection. database.ts builds the Database API over it.
import { createHash } from 'node:crypto';
import { CompiledQuery, sql, type Kysely, type PostgresPool, type PostgresPoolClient } from 'kysely';
import pg from 'pg';
import type { DB } from './schema.js';

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
export const SET_APP_CONTEXT = "select set_config('role', $1, true), set_config('hygie.establishment_id', $2, true)";
/**
 * Sent by withTenantAutocommit/withPlatformAutocommit as their connection's first statement, with
 * the role and the tenant: the pool wrapper keeps them and sets them again with each statement
 * (transaction-local, in the statement's own transaction), and forgets them when the connection is
 * released.
 */
export const AUTOCOMMIT_APP_CONTEXT = '/* hygie: autocommit app context */';

/** A statement sent ahead of another one in the same round trip (wrapPool). */
interface Prelude {
  text: string;
  values: unknown[];
  /** Parsed once per connection under this name. */
  name?: string;
}
const BEGIN: Prelude = { text: 'begin', values: [] };
const contextPrelude = (role: string, tenant: string): Prelude => ({ text: SET_APP_CONTEXT, values: [role, tenant], name: 'hygie_app_context' });

/** The parts of pg's Query and Connection that PreludedQuery uses (not in @types/pg). */
interface PgConnectionInternals {
  stream: { cork?: () => void; uncork?: () => void };
  parsedStatements: Record<string, string>;
  submittedNamedStatements: Record<string, string>;
  parse(msg: { text: string; name: string; types: unknown[] }): void;
  bind(msg: { portal: string; statement: string; values: unknown[]; valueMapper: unknown }): void;
  describe(msg: { type: 'P'; name: string }): void;
  execute(msg: { portal: string; rows: number }): void;
}
interface PgQueryInternals {
  name?: string;
  text: string;
  prepare(connection: PgConnectionInternals): void;
}
// pg's own mapping of JavaScript values to parameters (dates, buffers, arrays, JSON), exported
// untyped on its default export.
const prepareValue = (pg as unknown as { utils: { prepareValue: (value: unknown) => unknown } }).utils.prepareValue;

/**
 * A query sent with statements ahead of it in one round trip, under one Sync: the extended
 * protocol's Parse/Bind/Describe/Execute for each prelude, then the query's own, then Sync. The
 * server runs them in order in one (implicit or explicit) transaction and skips everything after
 * the first error up to the Sync, so the query never runs if its prelude (BEGIN, the role and the
 * tenant) failed. Answers the query's own result.
 *
 * pg marks the query's statement name as parsed at any ParseComplete while the query is active.
 * So a named query's own Parse goes first, before any prelude's: a ParseComplete then always
 * follows a successful Parse of the query (the server stops at the first error). Named preludes
 * must already be parsed on the connection (wrapPool parses the settings statement once, in a
 * round trip of its own); unnamed ones are parsed here, right before their Bind.
 */
class PreludedQuery extends pg.Query {
  constructor(
    readonly preludes: readonly Prelude[],
    config: { text: string; values: unknown[]; name?: string },
  ) {
    super(config);
    // @types/pg declares submit as a property, so it is assigned here rather than overridden.
    this.submit = (connection) => {
      const c = connection as unknown as PgConnectionInternals;
      const self = this as unknown as PgQueryInternals;
      const named = self.name;
      if (preludes.some((p) => p.name !== undefined && c.parsedStatements[p.name] === undefined)) {
        return new Error('a named prelude must be parsed on the connection first');
      }
      c.stream.cork?.();
      try {
        if (named && c.parsedStatements[named] === undefined && c.submittedNamedStatements[named] === undefined) {
          c.parse({ text: self.text, name: named, types: [] });
          // Query.prepare() below sees it submitted and sends no second Parse.
          c.submittedNamedStatements[named] = self.text;
        }
        for (const p of preludes) {
          if (p.name === undefined) c.parse({ text: p.text, name: '', types: [] });
          c.bind({ portal: '', statement: p.name ?? '', values: p.values, valueMapper: prepareValue });
          c.describe({ type: 'P', name: '' });
          c.execute({ portal: '', rows: 0 });
        }
        self.prepare(c);
      } finally {
        c.stream.uncork?.();
      }
      return null;
    };
  }
}

export function wrapPool(pool: pg.Pool, onPostgres: boolean): PostgresPool {
  const wrappers = new WeakMap<pg.PoolClient, PostgresPoolClient>();
  // PGlite's adapter is one in-process backend: parsing there costs no round trip and is left alone.
  const namer = onPostgres ? statementNamer() : undefined;
  return {
    async connect() {
      const client = await pool.connect();
      let wrapper = wrappers.get(client);
      if (!wrapper) {
        const plain = (text: unknown, params?: unknown): Promise<unknown> => (client.query as (t: unknown, p?: unknown) => Promise<unknown>)(text, params);
        const inOrder = async (preludes: readonly Prelude[]) => {
          for (const p of preludes) await client.query(p.text, p.values);
        };
        /** Sends one statement after `preludes` (statements not sent yet), named when hot. */
        const send = async (text: unknown, params: unknown, preludes: readonly Prelude[]): Promise<unknown> => {
          if (text === RAW_CLIENT_MARKER && Array.isArray(params) && isRawClientToken(params[0])) {
            const token = params[0];
            const empty = { command: 'SELECT', rowCount: 0, rows: [] };
            if (!onPostgres) return empty;
            // Sent one by one, autocommit settings would end with their own statement: the raw
            // client would then run as the connection's owner. Only owner and transaction paths use it.
            if (preludes.length > 0 && preludes[0] !== BEGIN) throw new Error('withRawClient is not available in autocommit app statements');
            await inOrder(preludes);
            token.ran = true;
            await token.fn(client);
            return empty;
          }
          const values = Array.isArray(params) ? (params as unknown[]) : [];
          if (typeof text !== 'string' || (preludes.length > 0 && (!onPostgres || values.length === 0))) {
            // In order, one round trip each: PGlite (in process), or a statement without parameters
            // (it may hold several statements, which only the simple protocol takes).
            if (preludes.length === 0 || preludes[0] === BEGIN) {
              await inOrder(preludes);
              return plain(text, params);
            }
            // An autocommit statement: its settings and itself in one explicit transaction.
            await client.query('begin');
            try {
              await inOrder(preludes);
              const result = await plain(text, params);
              await client.query('commit');
              return result;
            } catch (error) {
              await client.query('rollback').catch(() => undefined);
              throw error;
            }
          }
          const name = namer && values.length > 0 ? namer.nameOf(client, text) : undefined;
          // The settings statement is parsed (and run, to no lasting effect: its settings end with
          // its own implicit transaction) once per connection, in a round trip of its own. If it
          // fails, nothing else is sent.
          for (const p of preludes) {
            if (p.name !== undefined && !(client as unknown as { connection: PgConnectionInternals }).connection.parsedStatements[p.name]) {
              await client.query({ name: p.name, text: p.text, values: p.values });
            }
          }
          const sent =
            preludes.length === 0
              ? name !== undefined
                ? client.query({ name, text, values })
                : plain(text, params)
              : new Promise<unknown>((resolve, reject) => {
                  const query = new PreludedQuery(preludes, { text, values, ...(name !== undefined ? { name } : {}) });
                  (query as unknown as { callback: (error: Error | null, result: unknown) => void }).callback = (error, result) =>
                    error ? reject(error) : resolve(Array.isArray(result) ? result[result.length - 1] : result);
                  void client.query(query);
                });
          return sent.catch((error: unknown) => {
            if (name !== undefined && (error as { code?: unknown }).code === '0A000') namer!.forget(text);
            throw error;
          });
        };
        // BEGIN waits for the transaction's first statement, and goes in its round trip with the
        // role and tenant settings (SET_APP_CONTEXT, every withTenant/withPlatform). In the
        // autocommit mode (AUTOCOMMIT_APP_CONTEXT), each statement outside a transaction takes the
        // settings in its round trip. The settings are transaction-local either way.
        let pending: Prelude[] = [];
        let inTransaction = false;
        let context: [role: string, tenant: string] | undefined;
        const isPair = (params: unknown): params is [string, string] => Array.isArray(params) && params.length === 2 && params.every((p) => typeof p === 'string');
        const query = (text: unknown, params?: unknown): Promise<unknown> => {
          const noParams = params === undefined || (Array.isArray(params) && params.length === 0);
          if (text === AUTOCOMMIT_APP_CONTEXT && isPair(params) && !inTransaction) {
            context = params;
            return Promise.resolve({ command: 'SELECT', rowCount: 0, rows: [] });
          }
          if (text === 'begin' && noParams && !inTransaction) {
            inTransaction = true;
            pending = context ? [BEGIN, contextPrelude(...context)] : [BEGIN];
            return Promise.resolve({ command: 'BEGIN', rowCount: null, rows: [] });
          }
          if (text === SET_APP_CONTEXT && isPair(params) && pending.length === 1) {
            pending.push(contextPrelude(...params));
            return Promise.resolve({ command: 'SELECT', rowCount: 1, rows: [] });
          }
          if ((text === 'commit' || text === 'rollback') && noParams) {
            inTransaction = false;
            // A transaction that ran nothing: nothing to end.
            if (pending.length > 0) {
              pending = [];
              return Promise.resolve({ command: text.toUpperCase(), rowCount: null, rows: [] });
            }
            return send(text, params, []);
          }
          const preludes = pending.length > 0 ? pending : !inTransaction && context ? [contextPrelude(...context)] : [];
          pending = [];
          return send(text, params, preludes);
        };
        wrapper = {
          query: query as PostgresPoolClient['query'],
          release: () => {
            pending = [];
            inTransaction = false;
            context = undefined;
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


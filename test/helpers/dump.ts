// "A dump is useless": dumps every table of a database as text, the way an attacker holding a
// backup or an SQL injection would see it, and searches it for values that must not be there.
import { sql } from 'kysely';
import type { Database } from '../../src/platform/db/database.js';
import type { DemoData } from '../../src/seed/demo-data.js';

export interface TableDump {
  table: string;
  rows: string[];
}

/** Every base table of the public schema, every row, every column (`select t::text from t`), as the owner. */
export async function dumpTables(db: Database): Promise<TableDump[]> {
  const { rows: tables } = await sql<{ table_name: string }>`
    select table_name from information_schema.tables
    where table_schema = 'public' and table_type = 'BASE TABLE' order by table_name`.execute(db.owner);
  const out: TableDump[] = [];
  for (const { table_name } of tables) {
    const t = sql.table(table_name);
    const { rows } = await sql<{ row: string }>`select ${t}::text as row from ${t}`.execute(db.owner);
    out.push({ table: table_name, rows: rows.map((r) => r.row) });
  }
  return out;
}

/** The whole dump as one text, one line per row prefixed by its table. */
export async function dumpDatabase(db: Database): Promise<string> {
  return (await dumpTables(db)).flatMap((t) => t.rows.map((r) => `${t.table}\t${r}`)).join('\n');
}

export interface DumpSearchOptions {
  /** Also look for accent- and case-folded forms (default true). */
  fold?: boolean;
}

const fold = (s: string): string =>
  s
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase();

/**
 * The needles found in the dump (case-insensitive, and accent-insensitive unless fold is false).
 * Empty and very short needles are refused: they would match by chance.
 */
let folded: { dump: string; fold: boolean; text: string } | undefined;

export function findInDump(dump: string, needles: readonly string[], options: DumpSearchOptions = {}): string[] {
  // A test searches the same dump many times: fold it once (the dump of the demo is megabytes).
  const byFold = options.fold !== false;
  if (folded?.dump !== dump || folded.fold !== byFold) folded = { dump, fold: byFold, text: byFold ? fold(dump) : dump.toLowerCase() };
  const haystack = folded.text;
  const found: string[] = [];
  for (const needle of needles) {
    if (needle.trim().length < 4) throw new RangeError(`needle "${needle}" is too short to search a dump for`);
    const n = options.fold === false ? needle.toLowerCase() : fold(needle);
    if (haystack.includes(n)) found.push(needle);
  }
  return found;
}

/**
 * The forms a binary secret (a key) takes in a text dump: PostgreSQL's bytea hex (\x…), plain hex,
 * base64 and base64url. A key found in any form is a leak.
 */
export function binaryForms(secret: Buffer): string[] {
  return [secret.toString('hex'), secret.toString('base64').replace(/=+$/, ''), secret.toString('base64url')];
}

/**
 * The personal values of the demo patient files, by kind, for a "the dump holds none of them"
 * assertion (values shorter than 4 characters are left out: they would match by chance).
 */
export function demoPatientValues(data: DemoData): { names: string[]; emails: string[]; phones: string[]; addresses: string[] } {
  const files = data.patientFiles;
  const uniq = (values: Array<string | null>): string[] => [...new Set(values.filter((v): v is string => v !== null && v.trim().length >= 4))];
  return {
    names: uniq(files.map((f) => `${f.firstNames} ${f.birthName}`)),
    emails: uniq(files.map((f) => f.email)),
    phones: uniq(files.map((f) => f.phone)),
    addresses: uniq(files.map((f) => f.addressLine1)),
  };
}

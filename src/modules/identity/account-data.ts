// Accounts' personal data (e-mail, names, birth date, phone) is encrypted in `users` with the
// account's own data key in the vault's platform keyspace, each value bound to its row and column;
// accounts are found by a blind index of the normalised e-mail (a keyed HMAC, the key wrapped by
// the platform key from the key provider). This file is the one place that seals and opens these
// columns: every other module reads an account's name or contact through the functions below,
// never by SQL on `users`.
import { sql, type RawBuilder } from 'kysely';
import type { Exec } from '../../platform/db/database.js';
import { normaliseEmail, type RowContext, type Vault } from '../vault/index.js';

/** The blind-index purpose of an account's e-mail (unique in `users.email_bidx`). */
export const EMAIL_INDEX_PURPOSE = 'user.email';

export interface AccountFields {
  email: string;
  firstName: string;
  lastName: string;
  /** YYYY-MM-DD. */
  birthDate: string | null;
  phone: string | null;
}

export interface AccountProfile extends AccountFields {
  id: string;
}

/** The columns of `users` that hold an account's personal data (vault ciphertexts) and its e-mail index. */
export interface SealedAccount {
  email_enc: string;
  first_name_enc: string;
  last_name_enc: string;
  birth_date_enc: string | null;
  phone_enc: string | null;
  email_bidx: string;
}

export type SealedAccountRow = Omit<SealedAccount, 'email_bidx'> & { id: string };

type EncColumn = 'email_enc' | 'first_name_enc' | 'last_name_enc' | 'birth_date_enc' | 'phone_enc';
const ALL: readonly EncColumn[] = ['email_enc', 'first_name_enc', 'last_name_enc', 'birth_date_enc', 'phone_enc'];
const NAMES: readonly EncColumn[] = ['first_name_enc', 'last_name_enc'];
const CONTACT: readonly EncColumn[] = ['email_enc', 'phone_enc'];

const rowOf = (id: string): RowContext => ({ establishmentId: null, ownerKind: 'user', ownerId: id, table: 'users', rowId: id });

/** The blind index an account with this e-mail has (any case, surrounding spaces ignored). */
export async function accountEmailIndex(tx: Exec, vault: Vault, email: string): Promise<string> {
  // A blank login still costs an index (same work, same answer as an unknown e-mail): '@' is no
  // address anyone can sign up with (sign-up and invitations require a valid one).
  const blank = email.normalize('NFKC').trim() === '';
  return vault.platformBlindIndex(tx, EMAIL_INDEX_PURPOSE, [{ email: blank ? '@' : email }]);
}

/** Encrypts accounts' personal fields for an insert or an update of `users` (the e-mail is stored normalised). */
export async function sealAccounts(tx: Exec, vault: Vault, accounts: ReadonlyArray<AccountProfile>): Promise<SealedAccount[]> {
  if (accounts.length === 0) return [];
  const index = await vault.platformBlindIndexer(tx);
  const sealed = await vault.encryptRows<EncColumn>(
    tx,
    accounts.map((a) => ({
      row: rowOf(a.id),
      values: {
        email_enc: normaliseEmail(a.email),
        first_name_enc: a.firstName,
        last_name_enc: a.lastName,
        birth_date_enc: a.birthDate,
        phone_enc: a.phone,
      },
    })),
  );
  return sealed.map((s, i) => ({
    email_enc: s.email_enc!,
    first_name_enc: s.first_name_enc!,
    last_name_enc: s.last_name_enc!,
    birth_date_enc: s.birth_date_enc,
    phone_enc: s.phone_enc,
    email_bidx: index(EMAIL_INDEX_PURPOSE, [{ email: accounts[i]!.email }]),
  }));
}

/**
 * Decrypts rows already read from `users` (batch: one key query for all of them, none for the keys
 * given in `keyRows`, the vault's ownerKeyColumn read with them).
 */
export async function openAccountRows(tx: Exec, vault: Vault, rows: ReadonlyArray<SealedAccountRow>, keyRows?: readonly unknown[]): Promise<AccountProfile[]> {
  const open = await vault.decryptRows<EncColumn>(
    tx,
    rows.map((r) => ({
      row: rowOf(r.id),
      values: { email_enc: r.email_enc, first_name_enc: r.first_name_enc, last_name_enc: r.last_name_enc, birth_date_enc: r.birth_date_enc, phone_enc: r.phone_enc },
    })),
    { keyRows },
  );
  return open.map((o, i) => ({
    id: rows[i]!.id,
    email: o.email_enc ?? '',
    firstName: o.first_name_enc ?? '',
    lastName: o.last_name_enc ?? '',
    birthDate: o.birth_date_enc,
    phone: o.phone_enc,
  }));
}

/** Reads and decrypts only the wanted columns of these accounts; unknown ids are left out. */
async function openColumns(tx: Exec, vault: Vault, ids: readonly string[], columns: readonly EncColumn[]): Promise<Map<string, Partial<Record<EncColumn, string | null>>>> {
  const unique = [...new Set(ids)];
  if (unique.length === 0) return new Map();
  // Each account's data key comes with its row: one round trip when the key is not cached.
  const rows = await tx
    .selectFrom('users')
    .select(['id', ...columns])
    .select(vault.ownerKeyColumn({ establishmentId: null, ownerKind: 'user' }, sql.ref('users.id')).as('data_key'))
    .where('id', 'in', unique)
    .execute();
  const open = await vault.decryptRows<EncColumn>(
    tx,
    rows.map((r) => {
      const values = {} as Record<EncColumn, string | null>;
      for (const c of columns) values[c] = (r as Record<string, string | null>)[c] ?? null;
      return { row: rowOf(r.id), values };
    }),
    { keyRows: rows.map((r) => r.data_key) },
  );
  return new Map(rows.map((r, i) => [r.id, open[i]!]));
}

/**
 * For another module's statement that needs one account's profile with what it reads already (a
 * first booking's context): the account's sealed fields and its data key as one JSON value (null
 * when there is no such account). Only `openSealedProfile` makes sense of it.
 */
export function sealedProfileColumn(vault: Vault, userId: string): RawBuilder<unknown> {
  return sql`(
    select json_build_object('id', u.id, 'email_enc', u.email_enc, 'first_name_enc', u.first_name_enc,
      'last_name_enc', u.last_name_enc, 'birth_date_enc', u.birth_date_enc, 'phone_enc', u.phone_enc,
      'data_key', ${vault.ownerKeyColumn({ establishmentId: null, ownerKind: 'user' }, sql.ref('u.id'))})
    from users u where u.id = ${userId}::uuid)`;
}

/** Opens a value of `sealedProfileColumn`; undefined when it held no account (or not that one). */
export async function openSealedProfile(tx: Exec, vault: Vault, userId: string, value: unknown): Promise<AccountProfile | undefined> {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  const text = (x: unknown): string | null => (typeof x === 'string' ? x : null);
  const [email, first, last] = [text(v.email_enc), text(v.first_name_enc), text(v.last_name_enc)];
  if (v.id !== userId || email === null || first === null || last === null) return undefined;
  const row: SealedAccountRow = { id: userId, email_enc: email, first_name_enc: first, last_name_enc: last, birth_date_enc: text(v.birth_date_enc), phone_enc: text(v.phone_enc) };
  return (await openAccountRows(tx, vault, [row], [v.data_key]))[0];
}

/** Every personal field of these accounts, decrypted. */
export async function accountProfiles(tx: Exec, vault: Vault, ids: readonly string[]): Promise<Map<string, AccountProfile>> {
  const open = await openColumns(tx, vault, ids, ALL);
  return new Map(
    [...open].map(([id, o]) => [
      id,
      { id, email: o.email_enc ?? '', firstName: o.first_name_enc ?? '', lastName: o.last_name_enc ?? '', birthDate: o.birth_date_enc ?? null, phone: o.phone_enc ?? null },
    ]),
  );
}

/** The first and last names of these accounts (a staff list, an access log). */
export async function accountDisplayNames(tx: Exec, vault: Vault, ids: readonly string[]): Promise<Map<string, { firstName: string; lastName: string }>> {
  const open = await openColumns(tx, vault, ids, NAMES);
  return new Map([...open].map(([id, o]) => [id, { firstName: o.first_name_enc ?? '', lastName: o.last_name_enc ?? '' }]));
}

/** Where to write to these accounts: e-mail and phone. */
export async function accountContacts(tx: Exec, vault: Vault, ids: readonly string[]): Promise<Map<string, { email: string; phone: string | null }>> {
  const open = await openColumns(tx, vault, ids, CONTACT);
  return new Map([...open].map(([id, o]) => [id, { email: o.email_enc ?? '', phone: o.phone_enc ?? null }]));
}

/** The account with this e-mail (compared normalised, by its blind index), if any. */
export async function findAccountIdByEmail(tx: Exec, vault: Vault, email: string): Promise<string | undefined> {
  const bidx = await accountEmailIndex(tx, vault, email);
  const row = await tx.selectFrom('users').select('id').where('email_bidx', '=', bidx).executeTakeFirst();
  return row?.id;
}

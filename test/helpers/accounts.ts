// Accounts for tests that need a user row without going through sign-up: the personal fields are
// encrypted and indexed exactly as the identity module writes them.
import type { Database } from '../../src/platform/db/database.js';
import { findAccountIdByEmail, sealAccounts } from '../../src/modules/identity/index.js';
import type { Vault } from '../../src/modules/vault/index.js';

export interface TestAccount {
  id: string;
  email: string;
  firstName?: string;
  lastName?: string;
  birthDate?: string | null;
  phone?: string | null;
  emailVerifiedAt?: Date | null;
  passwordHash?: string | null;
  disabledAt?: Date | null;
}

export async function insertAccounts(db: Database, vault: Vault, accounts: readonly TestAccount[]): Promise<void> {
  if (accounts.length === 0) return;
  await db.withPlatform(async (tx) => {
    const sealed = await sealAccounts(
      tx,
      vault,
      accounts.map((a) => ({ id: a.id, email: a.email, firstName: a.firstName ?? 'Test', lastName: a.lastName ?? 'Account', birthDate: a.birthDate ?? null, phone: a.phone ?? null })),
    );
    await tx
      .insertInto('users')
      .values(
        accounts.map((a, i) => ({
          id: a.id,
          ...sealed[i]!,
          email_verified_at: a.emailVerifiedAt === undefined ? new Date() : a.emailVerifiedAt,
          password_hash: a.passwordHash ?? null,
          totp_secret: null,
          disabled_at: a.disabledAt ?? null,
        })),
      )
      .execute();
  });
}

/** The id of the account with this e-mail, found as login finds it (the e-mail's blind index). */
export async function accountIdByEmail(db: Database, vault: Vault, email: string): Promise<string> {
  const id = await db.withPlatform((tx) => findAccountIdByEmail(tx, vault, email));
  if (!id) throw new Error(`no account with e-mail ${email}`);
  return id;
}

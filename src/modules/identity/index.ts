// The identity module's public face: accounts, passwords, second factors, sessions, step-up,
// staff administration and API keys.
import type { Config } from '../../config.js';
import type { Database, Tx } from '../../platform/db/database.js';
import type { AccountSealer, ClearDataSealer } from '../../platform/db/migrations/index.js';
import { queueCipher, type Vault } from '../vault/index.js';
import { sealInvitees } from './invitation-data.js';
import { sealAccounts } from './account-data.js';
import type { JobRunner } from '../../platform/jobs.js';
import type { Logger } from '../../platform/log.js';
import { PASSWORD_RESET_JOB, sendPasswordReset } from './accounts.js';
import { createAuthenticator } from './authenticator.js';
import { dummyPasswordHash } from './login.js';
import type { Clock } from './context.js';
import { identityPlugin } from './routes.js';
import { isSealed, lazySecretBox, loadIdentityKey, totpSecretContext } from './secret-box.js';
import { invite, type InvitationInput, type StaffContext } from './staff.js';
import { createStaffStore } from './staff-store.js';
import { staffPlugin } from './staff-routes.js';
import { createIdentityStore, totpSealingStore } from './store.js';
import { createThrottle } from './throttle.js';
import { relyingParty } from './webauthn.js';

export { hashPassword, verifyPassword, needsRehash } from './passwords.js';
export { base32Encode } from './base32.js';
export { requireStepUp } from './session-policy.js';
export { apiKeyAllows, requireApiScope, API_SCOPES, type ApiScope } from './api-keys.js';
export { totpCode } from './totp.js';
export { loadIdentityKey } from './secret-box.js';
export type { Clock } from './context.js';
export {
  accountContacts,
  accountDisplayNames,
  accountEmailIndex,
  accountProfiles,
  findAccountIdByEmail,
  openSealedProfile,
  sealAccounts,
  sealedProfileColumn,
  EMAIL_INDEX_PURPOSE,
  type AccountProfile,
} from './account-data.js';

export interface IdentityDeps {
  config: Config;
  db: Database;
  logger: Logger;
  jobs: JobRunner;
  /** Encrypts accounts' personal fields and keys the e-mail blind index. */
  vault: Vault;
  /** The key sealing TOTP secrets (default: the key file under the data directory). */
  identityKey?: Buffer;
  clock?: Clock;
}

export interface Identity {
  /** Fastify plugin for /api/v1 (auth routes under /auth, staff administration under /establishments). */
  routes: ReturnType<typeof identityPlugin>;
  authenticate: ReturnType<typeof createAuthenticator>;
  /** The guard's containment: revokes every session of a user, or an API key, in the caller's transaction. */
  revokeAllForActor(tx: Tx, target: { kind: 'user'; userId: string } | { kind: 'api_key'; apiKeyId: string; establishmentId: string }): Promise<void>;
  /** For other modules: has this account proved its e-mail (booking needs it)? */
  isEmailVerified(userId: string): Promise<boolean>;
  close(): Promise<void>;
}

async function createContext(deps: Omit<IdentityDeps, 'jobs'>): Promise<StaffContext> {
  return {
    config: deps.config,
    db: deps.db,
    logger: deps.logger,
    clock: deps.clock ?? (() => new Date()),
    vault: deps.vault,
    store: createIdentityStore(deps.vault),
    staff: createStaffStore(),
    secrets: lazySecretBox(async () => deps.identityKey ?? (await loadIdentityKey(deps.config))),
    throttle: createThrottle(deps.config),
    rp: relyingParty(deps.config),
  };
}

/**
 * Seals TOTP secrets still stored in clear (a demo database seeded before this module sealed them,
 * or by `hygie seed --demo` whose seed writes the demo secret as the accounts file shows it).
 */
async function sealClearTotpSecrets(deps: Omit<IdentityDeps, 'jobs' | 'vault'>): Promise<number> {
  const secrets = lazySecretBox(async () => deps.identityKey ?? (await loadIdentityKey(deps.config)));
  const clock = deps.clock ?? (() => new Date());
  return deps.db.withPlatform(async (tx) => {
    const rows = await totpSealingStore.listClearTotpSecrets(tx);
    for (const row of rows) {
      if (row.totp_secret && !isSealed(row.totp_secret)) {
        await totpSealingStore.sealTotpSecret(tx, row.id, await secrets.seal(row.totp_secret, totpSecretContext(row.id)), clock());
      }
    }
    return rows.length;
  });
}

/** The guard's alert e-mails: who the security officers of the transaction's establishment are. */
export function securityOfficerEmails(vault: Vault): (tx: Tx) => Promise<string[]> {
  return (tx) => createStaffStore().securityOfficerEmails(tx, vault);
}

/**
 * What migration 0075 needs to encrypt accounts stored in clear: the same sealing as every write,
 * in the migration's transaction.
 */
export function accountSealer(vault: Vault): AccountSealer {
  return async (tx, rows) =>
    sealAccounts(
      tx as Tx,
      vault,
      rows.map((r) => ({ id: r.id, email: r.email, firstName: r.first_name, lastName: r.last_name, birthDate: r.birth_date, phone: r.phone })),
    );
}

/**
 * What migration 0087 needs to encrypt invitations and queued messages stored in clear: the same
 * sealing as every write, in the migration's transaction.
 */
export function clearDataSealer(vault: Vault): ClearDataSealer {
  const cipher = queueCipher(vault);
  return {
    invitations: (tx, rows) => sealInvitees(tx as Tx, vault, rows.map((r) => ({ id: r.id, email: r.email, firstName: r.first_name, lastName: r.last_name }))),
    queued: (tx, where, plaintext) => cipher.seal(tx as Tx, where, plaintext),
  };
}

export async function createIdentity(deps: IdentityDeps): Promise<Identity> {
  const ctx = await createContext(deps);
  await dummyPasswordHash();
  deps.jobs.register(PASSWORD_RESET_JOB, async (payload) => sendPasswordReset(ctx, payload));
  const auth = identityPlugin(ctx);
  const staff = staffPlugin(ctx);
  return {
    routes: async (app) => {
      await app.register(auth, { prefix: '/auth' });
      await app.register(staff);
    },
    authenticate: createAuthenticator(ctx),
    async revokeAllForActor(tx, target) {
      if (target.kind === 'user') await ctx.store.revokeUserSessions(tx, target.userId, 'contained', ctx.clock());
      else await ctx.staff.revokeApiKey(tx, target.apiKeyId, ctx.clock());
    },
    isEmailVerified: async (userId) => {
      // No personal field needed: nothing to decrypt.
      return (await ctx.db.withPlatform((tx) => ctx.store.emailVerifiedAt(tx, userId))) !== null;
    },
    close: () => ctx.throttle.close(),
  };
}

/** `hygie user create`: invites a person into an establishment as the operator; returns the link to hand over. */
export async function inviteFromCli(deps: Omit<IdentityDeps, 'jobs'>, establishmentId: string, input: InvitationInput): Promise<{ invitationId: string; link: string }> {
  const ctx = await createContext(deps);
  try {
    const result = await invite(ctx, { kind: 'system', name: 'cli' }, establishmentId, input);
    return { invitationId: result.invitationId, link: result.link! };
  } finally {
    await ctx.throttle.close();
  }
}

/**
 * Seals any TOTP secret left in clear: called by startServer (after loading the demo data, and for
 * a database seeded before secrets were sealed) and after `hygie seed --demo`.
 */
export async function sealStoredTotpSecrets(deps: Omit<IdentityDeps, 'jobs' | 'vault'>): Promise<number> {
  const sealed = await sealClearTotpSecrets(deps);
  if (sealed > 0) deps.logger.info({ count: sealed }, 'sealed TOTP secrets stored in clear');
  return sealed;
}

// Logging in: password, then the second factor (TOTP, recovery code or passkey), or a passkey
// alone (it is two factors in one: possession and PIN/biometrics). Unknown e-mails cost the same
// argon2 verification as wrong passwords and get the same answer (ASVS 6.3.8).
import { v7 as uuidv7 } from 'uuid';
import type { Tx } from '../../platform/db/database.js';
import { DomainError } from '../../platform/http/errors.js';
import { appendAuditEvent } from '../audit/index.js';
import type { IdentityContext, RequestOrigin } from './context.js';
import { checkAssertion, checkCode, factorsOf, hasAnyFactor, openChallenge, type FactorMethod } from './factors.js';
import { hashPassword, needsRehash, verifyPassword } from './passwords.js';
import { deviceHash, openSession, type OpenedSession } from './sessions.js';
import type { Bucket } from './throttle.js';
import { sha256 } from './tokens.js';
import { authenticationOptions, type AuthenticationResponseJSON } from './webauthn.js';

const MAX_CODE_ATTEMPTS = 5;
const NO_USER = '00000000-0000-0000-0000-000000000000';

export type LoginResult =
  | { status: 'ok'; session: OpenedSession }
  | { status: 'mfa_enrolment_required'; session: OpenedSession }
  | { status: 'mfa_required'; challengeId: string; methods: FactorMethod[] };

export function normaliseEmail(email: string): string {
  return email.normalize('NFKC').trim().toLowerCase();
}

let dummyHash: Promise<string> | undefined;
/**
 * A real argon2id hash of nothing anyone knows, so an unknown e-mail costs a full verification.
 * Computed at start-up (createIdentity), so that not even the first unknown e-mail costs more.
 */
export function dummyPasswordHash(): Promise<string> {
  dummyHash ??= hashPassword(`no account ${uuidv7()}`);
  return dummyHash;
}

function throttleKeys(email: string, device: Buffer | null, knownDevice: boolean, ip: string): Array<[Bucket, string]> {
  const account = sha256(`account:${email}`).toString('hex').slice(0, 32);
  // Attempts from the account's usual device are counted apart: others' guesses cannot block it.
  if (knownDevice && device) return [['device', `${account}:${device.toString('hex').slice(0, 32)}`]];
  return [
    ['account', account],
    ['ip', ip],
  ];
}

export async function loginWithPassword(ctx: IdentityContext, input: { email: string; password: string }, origin: RequestOrigin): Promise<LoginResult> {
  const email = normaliseEmail(input.email);
  const device = deviceHash(origin.deviceToken);
  const { user, knownDevice } = await ctx.db.withPlatform(async (tx) => {
    const found = await ctx.store.findLoginCandidate(tx, email);
    // The device lookup runs for unknown e-mails too, so both paths do the same work.
    const known = device ? await ctx.store.isKnownDevice(tx, found?.id ?? NO_USER, device) : false;
    return { user: found, knownDevice: known };
  });
  const keys = throttleKeys(email, device, knownDevice, origin.ip);
  await ctx.throttle.assertOpen(keys);

  const passwordOk = await verifyPassword(user?.password_hash ?? (await dummyPasswordHash()), input.password);
  if (!user || !passwordOk || user.password_hash === null || user.disabled_at !== null) {
    await ctx.throttle.fail(keys);
    await ctx.db.withPlatform((tx) =>
      appendAuditEvent(tx, {
        establishmentId: null,
        ip: origin.ip,
        action: 'auth.login',
        resourceKind: user ? 'user' : null,
        resourceIds: user ? [user.id] : [],
        reason: user ? (user.disabled_at ? 'account_disabled' : 'wrong_password') : 'unknown_email',
        outcome: 'failed',
      }),
    );
    throw new DomainError('invalid_credentials');
  }

  // Parameters are upgraded on the next successful login (the hash is only known to be right now).
  const rehash = needsRehash(user.password_hash) ? await hashPassword(input.password) : undefined;

  return ctx.db.withPlatform(async (tx) => {
    if (rehash) await ctx.store.setPasswordHash(tx, user.id, rehash, null);
    // Decrypted only now (the sign-in notice needs the address and first name).
    const account = await ctx.store.findUserById(tx, user.id);
    if (!account) throw new DomainError('invalid_credentials');
    const memberships = await ctx.store.membershipsOf(tx, user.id);
    const factors = await factorsOf(ctx, tx, user, memberships);
    if (hasAnyFactor(factors)) {
      const challengeId = await openChallenge(ctx, tx, { kind: 'login', userId: user.id, deviceHash: device });
      return { status: 'mfa_required' as const, challengeId, methods: factors.methods };
    }
    await ctx.throttle.reset(keys.filter(([bucket]) => bucket !== 'ip'));
    if (memberships.length > 0) {
      // Staff without a second factor yet (a new invitee, or after an approved MFA reset): a session
      // that can only enrol one.
      const session = await openSession(ctx, tx, { user: account, memberships, mfaState: 'enrolment_required', secondFactorAt: null, origin, method: 'password' });
      return { status: 'mfa_enrolment_required' as const, session };
    }
    const session = await openSession(ctx, tx, { user: account, memberships, mfaState: 'not_required', secondFactorAt: null, origin, method: 'password' });
    return { status: 'ok' as const, session };
  });
}

type Outcome<T> = { ok: true; value: T } | { ok: false; error: DomainError; audit?: { userId: string; reason: string } };

/** Runs a step whose failures must still be committed (attempt counters) before being thrown. */
async function settle<T>(ctx: IdentityContext, origin: RequestOrigin, run: (tx: Tx) => Promise<Outcome<T>>): Promise<T> {
  const result = await ctx.db.withPlatform(run);
  if (result.ok) return result.value;
  if (result.audit) {
    const { userId, reason } = result.audit;
    await ctx.throttle.fail([['mfa', userId]]);
    await ctx.db.withPlatform((tx) =>
      appendAuditEvent(tx, { establishmentId: null, ip: origin.ip, action: 'auth.mfa', resourceKind: 'user', resourceIds: [userId], reason, outcome: 'failed' }),
    );
  }
  throw result.error;
}

const expired = () => new DomainError('unauthenticated', 'This login attempt has expired; start again.');

async function finishLogin(ctx: IdentityContext, tx: Tx, user: { id: string; email: string; first_name: string }, memberships: Awaited<ReturnType<IdentityContext['store']['membershipsOf']>>, origin: RequestOrigin, method: string) {
  const now = ctx.clock();
  await ctx.throttle.reset([
    ...throttleKeys(user.email, deviceHash(origin.deviceToken), true, origin.ip),
    ...throttleKeys(user.email, null, false, origin.ip).filter(([bucket]) => bucket !== 'ip'),
    ['mfa', user.id],
  ]);
  return openSession(ctx, tx, { user, memberships, mfaState: 'complete', secondFactorAt: now, origin, method });
}

export async function loginWithCode(ctx: IdentityContext, input: { challengeId: string; code: string }, origin: RequestOrigin): Promise<OpenedSession> {
  const pending = await ctx.db.withPlatform((tx) => ctx.store.findLiveChallenge(tx, input.challengeId, 'login', ctx.clock()));
  if (!pending?.user_id) throw expired();
  await ctx.throttle.assertOpen([['mfa', pending.user_id]]);
  return settle(ctx, origin, async (tx): Promise<Outcome<OpenedSession>> => {
    const challenge = await ctx.store.findLiveChallenge(tx, input.challengeId, 'login', ctx.clock());
    const user = challenge?.user_id ? await ctx.store.findUserById(tx, challenge.user_id) : undefined;
    if (!challenge || !user || user.disabled_at) return { ok: false, error: expired() };
    if (challenge.attempts >= MAX_CODE_ATTEMPTS) {
      await ctx.store.consumeChallenge(tx, challenge.id, ctx.clock());
      return { ok: false, error: expired() };
    }
    const memberships = await ctx.store.membershipsOf(tx, user.id);
    const factors = await factorsOf(ctx, tx, user, memberships);
    const method = await checkCode(ctx, tx, user, factors, input.code, true);
    if (!method) {
      await ctx.store.countChallengeAttempt(tx, challenge.id);
      return { ok: false, error: new DomainError('invalid_code'), audit: { userId: user.id, reason: 'wrong_code' } };
    }
    if (!(await ctx.store.consumeChallenge(tx, challenge.id, ctx.clock()))) return { ok: false, error: expired() };
    return { ok: true, value: await finishLogin(ctx, tx, user, memberships, origin, `password+${method}`) };
  });
}

/**
 * Options for a passkey assertion: after a password (challengeId given: the user's passkeys are
 * offered) or alone (no challengeId: any discoverable passkey of this site).
 */
export async function passkeyLoginOptions(ctx: IdentityContext, input: { challengeId?: string | undefined }, origin: RequestOrigin) {
  return ctx.db.withPlatform(async (tx) => {
    const now = ctx.clock();
    if (input.challengeId) {
      const challenge = await ctx.store.findLiveChallenge(tx, input.challengeId, 'login', now);
      const user = challenge?.user_id ? await ctx.store.findUserById(tx, challenge.user_id) : undefined;
      if (!challenge || !user) throw expired();
      const factors = await factorsOf(ctx, tx, user, await ctx.store.membershipsOf(tx, user.id));
      if (factors.passkeys.length === 0) throw new DomainError('invalid_request', 'This account has no passkey.');
      const options = await authenticationOptions(ctx.rp, factors.passkeys);
      await tx.updateTable('auth_challenges').set({ webauthn_challenge: options.challenge }).where('id', '=', challenge.id).execute();
      return { challengeId: challenge.id, options };
    }
    const options = await authenticationOptions(ctx.rp, undefined);
    const challengeId = await openChallenge(ctx, tx, { kind: 'webauthn_login', userId: null, webauthnChallenge: options.challenge, deviceHash: deviceHash(origin.deviceToken) });
    return { challengeId, options };
  });
}

export async function loginWithPasskey(
  ctx: IdentityContext,
  input: { challengeId: string; response: AuthenticationResponseJSON },
  origin: RequestOrigin,
): Promise<OpenedSession> {
  return settle(ctx, origin, async (tx): Promise<Outcome<OpenedSession>> => {
    const now = ctx.clock();
    const challenge =
      (await ctx.store.findLiveChallenge(tx, input.challengeId, 'login', now)) ??
      (await ctx.store.findLiveChallenge(tx, input.challengeId, 'webauthn_login', now));
    if (!challenge?.webauthn_challenge) return { ok: false, error: expired() };
    const credential = typeof input.response?.id === 'string' ? await ctx.store.findCredential(tx, input.response.id) : undefined;
    // After a password, the passkey must be that user's; alone, it names its user.
    const userId = challenge.user_id ?? credential?.user_id;
    const user = userId ? await ctx.store.findUserById(tx, userId) : undefined;
    if (!user || user.disabled_at || !credential || credential.user_id !== user.id) {
      return { ok: false, error: new DomainError('invalid_code'), ...(user ? { audit: { userId: user.id, reason: 'unknown_passkey' } } : {}) };
    }
    const memberships = await ctx.store.membershipsOf(tx, user.id);
    const factors = await factorsOf(ctx, tx, user, memberships);
    if (!(await checkAssertion(ctx, tx, factors, input.response, challenge.webauthn_challenge))) {
      await ctx.store.countChallengeAttempt(tx, challenge.id);
      return { ok: false, error: new DomainError('invalid_code'), audit: { userId: user.id, reason: 'bad_assertion' } };
    }
    if (!(await ctx.store.consumeChallenge(tx, challenge.id, now))) return { ok: false, error: expired() };
    return { ok: true, value: await finishLogin(ctx, tx, user, memberships, origin, challenge.user_id ? 'password+webauthn' : 'passkey') };
  });
}

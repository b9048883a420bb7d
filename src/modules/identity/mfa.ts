// Enrolling second factors and stepping up. Adding or replacing a factor on an account that
// already has one needs a fresh second factor (a stolen session cannot plant its own), and
// revokes the user's other sessions.
import { v7 as uuidv7 } from 'uuid';
import type { Tx } from '../../platform/db/database.js';
import { DomainError } from '../../platform/http/errors.js';
import { appendAuditEvent } from '../audit/index.js';
import { queueMail, type IdentityContext } from './context.js';
import { checkAssertion, checkCode, factorsOf, hasAnyFactor, openChallenge, type Factors } from './factors.js';
import { secondFactorChangedMail } from './mails.js';
import { totpSecretContext } from './secret-box.js';
import { requireStepUp } from './session-policy.js';
import type { UserActor } from './sessions.js';
import { checkTotp, hashRecoveryCode, newRecoveryCodes, newTotpSecret, totpUri } from './totp.js';
import { authenticationOptions, registrationOptions, verifyRegistration, type AuthenticationResponseJSON, type RegistrationResponseJSON } from './webauthn.js';

async function loadUser(ctx: IdentityContext, tx: Tx, actor: UserActor) {
  const user = await ctx.store.findUserById(tx, actor.userId);
  if (!user) throw new DomainError('unauthenticated');
  const factors = await factorsOf(ctx, tx, user, actor.memberships);
  return { user, factors };
}

/** Changing factors of an account that has one needs a second factor presented in the last five minutes. */
function assertMayChangeFactors(ctx: IdentityContext, actor: UserActor, factors: Factors): void {
  if (hasAnyFactor(factors)) requireStepUp(actor, ctx.clock());
}

async function afterFactorChange(ctx: IdentityContext, tx: Tx, actor: UserActor, user: { id: string; email: string; first_name: string }, what: string, action: string, ip: string) {
  const now = ctx.clock();
  await ctx.store.markSecondFactor(tx, actor.sessionId, now);
  await ctx.store.revokeUserSessions(tx, user.id, 'mfa_changed', now, actor.sessionId);
  await appendAuditEvent(tx, { establishmentId: null, actor, ip, action, resourceKind: 'user', resourceIds: [user.id], outcome: 'allowed' });
  await queueMail(ctx, tx, secondFactorChangedMail(user.email, user.first_name, what));
}

/** New recovery codes when the user has none left unused; returned once, stored hashed. */
async function issueRecoveryCodesIfNone(ctx: IdentityContext, tx: Tx, userId: string): Promise<string[] | undefined> {
  if ((await ctx.store.countUnusedRecoveryCodes(tx, userId)) > 0) return undefined;
  const codes = newRecoveryCodes();
  await ctx.store.replaceRecoveryCodes(tx, userId, codes.map((c) => ({ id: uuidv7(), hash: hashRecoveryCode(c) })), ctx.clock());
  return codes;
}

export async function startTotpEnrolment(ctx: IdentityContext, actor: UserActor) {
  return ctx.db.withPlatform(async (tx) => {
    const { user, factors } = await loadUser(ctx, tx, actor);
    assertMayChangeFactors(ctx, actor, factors);
    const secret = newTotpSecret();
    await ctx.store.setPendingTotp(tx, user.id, await ctx.secrets.seal(secret, totpSecretContext(user.id)));
    return { secret, otpauthUrl: totpUri(secret, user.email) };
  });
}

export async function confirmTotpEnrolment(ctx: IdentityContext, actor: UserActor, code: string, ip: string) {
  const result = await ctx.db.withPlatform(async (tx) => {
    const { user, factors } = await loadUser(ctx, tx, actor);
    assertMayChangeFactors(ctx, actor, factors);
    if (!user.totp_pending_secret) return { ok: false as const, error: new DomainError('invalid_request', 'Start the enrolment first (POST /mfa/totp/setup).') };
    const secret = await ctx.secrets.open(user.totp_pending_secret, totpSecretContext(user.id));
    const check = await checkTotp(secret, code.trim(), ctx.clock(), null);
    if (!check.ok) return { ok: false as const, error: new DomainError('invalid_code') };
    await ctx.store.confirmPendingTotp(tx, user.id, check.step, ctx.clock());
    const recoveryCodes = await issueRecoveryCodesIfNone(ctx, tx, user.id);
    await afterFactorChange(ctx, tx, actor, user, "Une application d'authentification (TOTP) vient d'être enregistrée sur votre compte.", 'auth.mfa.totp_enrol', ip);
    return { ok: true as const, recoveryCodes };
  });
  if (!result.ok) throw result.error;
  return { status: 'ok' as const, ...(result.recoveryCodes ? { recoveryCodes: result.recoveryCodes } : {}) };
}

export async function regenerateRecoveryCodes(ctx: IdentityContext, actor: UserActor, ip: string) {
  return ctx.db.withPlatform(async (tx) => {
    const { user, factors } = await loadUser(ctx, tx, actor);
    if (!hasAnyFactor(factors)) throw new DomainError('invalid_request', 'Enrol a second factor first.');
    requireStepUp(actor, ctx.clock());
    const codes = newRecoveryCodes();
    await ctx.store.replaceRecoveryCodes(tx, user.id, codes.map((c) => ({ id: uuidv7(), hash: hashRecoveryCode(c) })), ctx.clock());
    await appendAuditEvent(tx, { establishmentId: null, actor, ip, action: 'auth.mfa.recovery_codes', resourceKind: 'user', resourceIds: [user.id], outcome: 'allowed' });
    return { recoveryCodes: codes };
  });
}

export async function passkeyRegistrationOptions(ctx: IdentityContext, actor: UserActor) {
  return ctx.db.withPlatform(async (tx) => {
    const { user, factors } = await loadUser(ctx, tx, actor);
    assertMayChangeFactors(ctx, actor, factors);
    const options = await registrationOptions(ctx.rp, { id: user.id, email: user.email, displayName: `${user.first_name} ${user.last_name}` }, factors.passkeys);
    const challengeId = await openChallenge(ctx, tx, { kind: 'webauthn_register', userId: user.id, sessionId: actor.sessionId, webauthnChallenge: options.challenge });
    return { challengeId, options };
  });
}

export async function registerPasskey(
  ctx: IdentityContext,
  actor: UserActor,
  input: { challengeId: string; response: RegistrationResponseJSON; name?: string | undefined },
  ip: string,
) {
  const result = await ctx.db.withPlatform(async (tx) => {
    const { user, factors } = await loadUser(ctx, tx, actor);
    assertMayChangeFactors(ctx, actor, factors);
    const now = ctx.clock();
    const challenge = await ctx.store.findLiveChallenge(tx, input.challengeId, 'webauthn_register', now);
    if (!challenge?.webauthn_challenge || challenge.session_id !== actor.sessionId || !(await ctx.store.consumeChallenge(tx, challenge.id, now))) {
      return { ok: false as const, error: new DomainError('invalid_request', 'This registration has expired; start again.') };
    }
    let verified: Awaited<ReturnType<typeof verifyRegistration>>;
    try {
      verified = await verifyRegistration(ctx.rp, input.response, challenge.webauthn_challenge);
    } catch {
      verified = undefined;
    }
    if (!verified) return { ok: false as const, error: new DomainError('invalid_code', 'The passkey could not be verified.') };
    const id = uuidv7();
    await ctx.store.insertCredential(tx, { id, userId: user.id, ...verified, name: input.name?.trim() || 'Clé d’accès', at: now });
    const recoveryCodes = factors.privileged ? undefined : await issueRecoveryCodesIfNone(ctx, tx, user.id);
    await afterFactorChange(ctx, tx, actor, user, "Une clé d'accès (passkey) vient d'être enregistrée sur votre compte.", 'auth.mfa.passkey_enrol', ip);
    return { ok: true as const, id, recoveryCodes };
  });
  if (!result.ok) throw result.error;
  return { status: 'ok' as const, id: result.id, ...(result.recoveryCodes ? { recoveryCodes: result.recoveryCodes } : {}) };
}

export async function stepUpOptions(ctx: IdentityContext, actor: UserActor) {
  return ctx.db.withPlatform(async (tx) => {
    const { factors } = await loadUser(ctx, tx, actor);
    if (factors.passkeys.length === 0) throw new DomainError('invalid_request', 'This account has no passkey.');
    const options = await authenticationOptions(ctx.rp, factors.passkeys);
    const challengeId = await openChallenge(ctx, tx, { kind: 'step_up', userId: actor.userId, sessionId: actor.sessionId, webauthnChallenge: options.challenge });
    return { challengeId, options };
  });
}

/** A fresh second factor in this session: TOTP (where allowed) or a passkey assertion. */
export async function stepUp(
  ctx: IdentityContext,
  actor: UserActor,
  input: { code?: string | undefined; challengeId?: string | undefined; response?: AuthenticationResponseJSON | undefined },
  ip: string,
) {
  await ctx.throttle.assertOpen([['mfa', actor.userId]]);
  const result = await ctx.db.withPlatform(async (tx) => {
    const { user, factors } = await loadUser(ctx, tx, actor);
    let ok = false;
    if (input.code !== undefined) {
      // Recovery codes open a login, not a sensitive action.
      ok = (await checkCode(ctx, tx, user, factors, input.code, false)) !== undefined;
    } else if (input.challengeId && input.response) {
      const now = ctx.clock();
      const challenge = await ctx.store.findLiveChallenge(tx, input.challengeId, 'step_up', now);
      ok =
        !!challenge?.webauthn_challenge &&
        challenge.session_id === actor.sessionId &&
        (await ctx.store.consumeChallenge(tx, challenge.id, now)) &&
        (await checkAssertion(ctx, tx, factors, input.response, challenge.webauthn_challenge));
    } else {
      return { ok: false as const, error: new DomainError('invalid_request', 'Send a code, or a challengeId with a WebAuthn response.') };
    }
    if (!ok) return { ok: false as const, error: new DomainError('invalid_code') };
    await ctx.store.markSecondFactor(tx, actor.sessionId, ctx.clock());
    await appendAuditEvent(tx, { establishmentId: null, actor, ip, action: 'auth.step_up', resourceKind: 'session', resourceIds: [actor.sessionId], outcome: 'allowed' });
    return { ok: true as const };
  });
  if (!result.ok) {
    if (result.error.code === 'invalid_code') {
      await ctx.throttle.fail([['mfa', actor.userId]]);
      await ctx.db.withPlatform((tx) =>
        appendAuditEvent(tx, { establishmentId: null, actor, ip, action: 'auth.step_up', resourceKind: 'session', resourceIds: [actor.sessionId], outcome: 'failed' }),
      );
    }
    throw result.error;
  }
  return { status: 'ok' as const, validUntil: new Date(ctx.clock().getTime() + 5 * 60_000).toISOString() };
}

/** What /me tells about the user's factors, so the client can lead them to what is missing. */
export async function factorSummary(ctx: IdentityContext, tx: Tx, user: { id: string; totp_secret: string | null }, memberships: UserActor['memberships']) {
  const factors = await factorsOf(ctx, tx, user, memberships);
  return {
    totp: factors.hasTotp,
    passkeys: factors.passkeys.length,
    recoveryCodesLeft: factors.recoveryCodesLeft,
    // Admins and security officers must use a passkey: until they have one, they are asked to enrol it.
    passkeyRequired: factors.privileged && factors.passkeys.length === 0,
  };
}

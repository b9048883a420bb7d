// Patient sign-up, e-mail verification and password reset. None of them tells whether an e-mail
// has an account (ASVS 6.3.8): sign-up answers the same and e-mails the owner instead; a reset
// request is only queued, and the worker decides whether there is anyone to write to.
import { v7 as uuidv7 } from 'uuid';
import type { Tx } from '../../platform/db/database.js';
import { DomainError } from '../../platform/http/errors.js';
import { enqueueJob } from '../../platform/jobs.js';
import { appendAuditEvent } from '../audit/index.js';
import { addMs, minutes, queueMail, type IdentityContext } from './context.js';
import { normaliseEmail } from './login.js';
import { accountExistsMail, emailVerificationMail, passwordChangedMail, passwordResetMail } from './mails.js';
import { passwordProblem, personalInputs } from './password-policy.js';
import { hashPassword, verifyPassword } from './passwords.js';
import type { UserActor } from './sessions.js';
import { randomToken, sha256 } from './tokens.js';

export const PASSWORD_RESET_TTL_MS = minutes(30);
const EMAIL_VERIFICATION_TTL_MS = minutes(24 * 60);
export const PASSWORD_RESET_JOB = 'identity.password_reset_request';

/** 400 invalid_request on body.password when the policy refuses it. */
export function assertAcceptablePassword(password: string, person: { email: string; firstName?: string; lastName?: string }): void {
  const refusal = passwordProblem(password, personalInputs(person));
  if (refusal) {
    throw new DomainError('invalid_request', refusal.hint, { errors: [{ field: 'body.password', message: refusal.problem }], reason: refusal.problem });
  }
}

export function appLink(ctx: IdentityContext, page: string, token: string): string {
  return `${ctx.config.publicUrl}/${page}#token=${token}`;
}

export interface SignupInput {
  email: string;
  password: string;
  firstName: string;
  lastName: string;
  birthDate: string;
  phone?: string | undefined;
}

export async function signUp(ctx: IdentityContext, input: SignupInput, ip: string): Promise<void> {
  const email = normaliseEmail(input.email);
  assertAcceptablePassword(input.password, { email, firstName: input.firstName, lastName: input.lastName });
  // Hashed whether or not the account exists: both answers take the same time.
  const hash = await hashPassword(input.password);
  await ctx.db.withPlatform(async (tx) => {
    const existing = await ctx.store.findUserByEmail(tx, email);
    if (existing) {
      await queueMail(ctx, tx, accountExistsMail(email, existing.first_name, `${ctx.config.publicUrl}/login`, `${ctx.config.publicUrl}/forgot-password`));
      await appendAuditEvent(tx, { establishmentId: null, ip, action: 'auth.signup', resourceKind: 'user', resourceIds: [existing.id], reason: 'existing_email', outcome: 'denied' });
      return;
    }
    const userId = uuidv7();
    const now = ctx.clock();
    await ctx.store.insertUser(tx, {
      id: userId,
      email,
      passwordHash: hash,
      firstName: input.firstName.trim(),
      lastName: input.lastName.trim(),
      birthDate: input.birthDate,
      phone: input.phone ?? null,
      verifiedAt: null,
      at: now,
    });
    const token = randomToken();
    await ctx.store.insertToken(tx, { id: uuidv7(), kind: 'email_verification', userId, tokenHash: sha256(token), at: now, expiresAt: addMs(now, EMAIL_VERIFICATION_TTL_MS) });
    await queueMail(ctx, tx, emailVerificationMail(email, input.firstName.trim(), appLink(ctx, 'verify-email', token)));
    await appendAuditEvent(tx, { establishmentId: null, ip, action: 'auth.signup', resourceKind: 'user', resourceIds: [userId], outcome: 'allowed' });
  });
}

const invalidLink = () => new DomainError('invalid_request', 'This link is invalid or has expired.', { errors: [{ field: 'body.token', message: 'invalid or expired' }] });

export async function verifyEmail(ctx: IdentityContext, token: string): Promise<void> {
  await ctx.db.withPlatform(async (tx) => {
    const userId = await ctx.store.consumeToken(tx, 'email_verification', sha256(token), ctx.clock());
    if (!userId) throw invalidLink();
    await ctx.store.setEmailVerified(tx, userId, ctx.clock());
    await appendAuditEvent(tx, { establishmentId: null, action: 'auth.email_verified', resourceKind: 'user', resourceIds: [userId], outcome: 'allowed' });
  });
}

/**
 * Queues the request whatever the e-mail: one index and one insert, the same answer and time for
 * everyone. The job carries the e-mail's blind index, not the address: the queue holds no e-mail.
 */
export async function requestPasswordReset(ctx: IdentityContext, email: string): Promise<void> {
  await ctx.db.withPlatform(async (tx) =>
    enqueueJob(tx, { kind: PASSWORD_RESET_JOB, payload: { emailIndex: await ctx.store.emailIndex(tx, normaliseEmail(email)) }, maxAttempts: 3 }),
  );
}

/** The job: if the e-mail has an active account, a single-use link valid for 30 minutes. */
export async function sendPasswordReset(ctx: IdentityContext, payload: Record<string, unknown>): Promise<void> {
  await ctx.db.withPlatform(async (tx) => {
    // Jobs queued before 0075 carried the address itself.
    const emailIndex = typeof payload['emailIndex'] === 'string' ? payload['emailIndex'] : await ctx.store.emailIndex(tx, String(payload['email'] ?? ''));
    const user = await ctx.store.findUserByEmailIndex(tx, emailIndex);
    if (!user || user.disabled_at) return;
    const now = ctx.clock();
    // Only the newest link works.
    await ctx.store.invalidateTokens(tx, user.id, 'password_reset', now);
    const token = randomToken();
    await ctx.store.insertToken(tx, { id: uuidv7(), kind: 'password_reset', userId: user.id, tokenHash: sha256(token), at: now, expiresAt: addMs(now, PASSWORD_RESET_TTL_MS) });
    await queueMail(ctx, tx, passwordResetMail(user.email, user.first_name, appLink(ctx, 'reset-password', token)));
    await appendAuditEvent(tx, { establishmentId: null, action: 'auth.password_reset.request', resourceKind: 'user', resourceIds: [user.id], outcome: 'allowed' });
  });
}

async function setNewPassword(ctx: IdentityContext, tx: Tx, user: { id: string; email: string; first_name: string }, hash: string, keepSessionId?: string) {
  const now = ctx.clock();
  await ctx.store.setPasswordHash(tx, user.id, hash, now);
  await ctx.store.invalidateTokens(tx, user.id, 'password_reset', now);
  await ctx.store.revokeUserSessions(tx, user.id, 'password_changed', now, keepSessionId);
  await queueMail(ctx, tx, passwordChangedMail(user.email, user.first_name));
}

/**
 * Sets a new password from a reset link. It opens no session: the user logs in afterwards with
 * the new password and their second factor, which a reset never bypasses (ASVS 6.4.3). Every
 * session of the account is revoked.
 */
export async function resetPassword(ctx: IdentityContext, input: { token: string; password: string }, ip: string): Promise<void> {
  const tokenHash = sha256(input.token);
  // Checked before the token is used up, so that a refused password does not waste the link.
  const owner = await ctx.db.withPlatform((tx) => ctx.store.findLiveTokenOwner(tx, 'password_reset', tokenHash, ctx.clock()));
  if (!owner) throw invalidLink();
  assertAcceptablePassword(input.password, { email: owner.email, firstName: owner.first_name, lastName: owner.last_name });
  const hash = await hashPassword(input.password);
  await ctx.db.withPlatform(async (tx) => {
    const userId = await ctx.store.consumeToken(tx, 'password_reset', tokenHash, ctx.clock());
    const user = userId ? await ctx.store.findUserById(tx, userId) : undefined;
    if (!user) throw invalidLink();
    await setNewPassword(ctx, tx, user, hash);
    await appendAuditEvent(tx, { establishmentId: null, ip, action: 'auth.password_reset', resourceKind: 'user', resourceIds: [user.id], outcome: 'allowed' });
  });
}

/** Changes the password of a signed-in user who knows the current one; other sessions are revoked. */
export async function changePassword(ctx: IdentityContext, actor: UserActor, input: { currentPassword: string; newPassword: string }, ip: string): Promise<void> {
  const user = await ctx.db.withPlatform((tx) => ctx.store.findUserById(tx, actor.userId));
  if (!user?.password_hash || !(await verifyPassword(user.password_hash, input.currentPassword))) throw new DomainError('invalid_credentials');
  assertAcceptablePassword(input.newPassword, { email: user.email, firstName: user.first_name, lastName: user.last_name });
  const hash = await hashPassword(input.newPassword);
  await ctx.db.withPlatform(async (tx) => {
    await setNewPassword(ctx, tx, user, hash, actor.sessionId);
    await appendAuditEvent(tx, { establishmentId: null, actor, ip, action: 'auth.password_change', resourceKind: 'user', resourceIds: [user.id], outcome: 'allowed' });
  });
}


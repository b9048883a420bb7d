// Opening, checking, listing and revoking sessions. A session is a random opaque token in an
// HttpOnly cookie; the database holds its SHA-256 only, and every request checks the row, so a
// revocation takes effect on the very next request (ASVS 7.4.x, 8.3.2).
import { v7 as uuidv7 } from 'uuid';
import { isContained } from '../guard/index.js';
import type { Tx } from '../../platform/db/database.js';
import type { MfaState } from '../../platform/db/schema.js';
import type { Actor } from '../../platform/http/context.js';
import { DomainError } from '../../platform/http/errors.js';
import { appendAuditEvent } from '../audit/index.js';
import { addMs, queueMail, type IdentityContext, type RequestOrigin } from './context.js';
import { newSignInMail } from './mails.js';
import { factorSummary } from './mfa.js';
import { sessionPolicy, STEP_UP_WINDOW_MS } from './session-policy.js';
import type { Membership } from './store.js';
import { randomToken, sha256 } from './tokens.js';

export type UserActor = Extract<Actor, { kind: 'user' }>;

export const SESSION_COOKIE = 'hygie_session';
export const DEVICE_COOKIE = 'hygie_device';
/** The device cookie outlives sessions: it is what makes "your usual device" recognisable. */
export const DEVICE_COOKIE_MAX_AGE_S = 400 * 24 * 3600;

export interface OpenedSession {
  sessionId: string;
  token: string;
  maxAgeSeconds: number;
  /** The device cookie to (re)send. */
  deviceToken: string;
  mfaState: MfaState;
}

export function deviceHash(deviceToken: string | undefined): Buffer | null {
  return deviceToken && /^[A-Za-z0-9_-]{43}$/.test(deviceToken) ? sha256(`device:${deviceToken}`) : null;
}

/**
 * Opens a session for a user who has just proved who they are (to the level `mfaState` says).
 * A staff login from a device or IP never seen for this account is recorded on the session and
 * e-mailed to the user (ASVS 6.3.5).
 */
export async function openSession(
  ctx: IdentityContext,
  tx: Tx,
  input: {
    user: { id: string; email: string; first_name: string };
    memberships: Membership[];
    mfaState: MfaState;
    secondFactorAt: Date | null;
    origin: RequestOrigin;
    method: string;
  },
): Promise<OpenedSession> {
  // A contained account gets no new session until a security officer releases it.
  if (await isContained(tx, input.user.id)) throw new DomainError('account_contained');
  const now = ctx.clock();
  const staff = input.memberships.length > 0;
  const policy = sessionPolicy(staff);
  const token = randomToken();
  const sessionId = uuidv7();
  const deviceToken = deviceHash(input.origin.deviceToken) ? input.origin.deviceToken! : randomToken();
  const device = deviceHash(deviceToken)!;
  const fullyAuthenticated = input.mfaState !== 'enrolment_required';

  const newDevice = !(await ctx.store.isKnownDevice(tx, input.user.id, device));
  const newIp = !(await ctx.store.hasSessionFromIp(tx, input.user.id, input.origin.ip));
  // Only a completed login makes a device "usual" (and so exempt from the account's lock-out).
  if (fullyAuthenticated) await ctx.store.rememberDevice(tx, uuidv7(), input.user.id, device, now);

  await ctx.store.insertSession(tx, {
    id: sessionId,
    userId: input.user.id,
    tokenHash: sha256(token),
    mfaState: input.mfaState,
    at: now,
    expiresAt: addMs(now, policy.absoluteMs),
    secondFactorAt: input.secondFactorAt,
    ip: input.origin.ip,
    userAgent: input.origin.userAgent?.slice(0, 300) ?? null,
    deviceHash: device,
    newDevice,
    newIp,
  });
  await appendAuditEvent(tx, {
    establishmentId: null,
    actor: { kind: 'user', userId: input.user.id, sessionId, memberships: input.memberships, secondFactorAt: input.secondFactorAt },
    ip: input.origin.ip,
    action: 'auth.login',
    resourceKind: 'session',
    resourceIds: [sessionId],
    reason: `${input.method}${newDevice ? ' new_device' : ''}${newIp ? ' new_ip' : ''}`,
    outcome: 'allowed',
  });
  if (staff && (newDevice || newIp)) {
    await queueMail(ctx, tx, newSignInMail(input.user.email, input.user.first_name, now, input.origin.ip, input.origin.userAgent));
  }
  return { sessionId, token, maxAgeSeconds: Math.floor(policy.absoluteMs / 1000), deviceToken, mfaState: input.mfaState };
}

export async function listSessions(ctx: IdentityContext, userId: string, currentSessionId: string) {
  const rows = await ctx.db.withPlatform((tx) => ctx.store.listLiveSessions(tx, userId, ctx.clock()));
  return rows.map((r) => ({
    id: r.id,
    createdAt: r.created_at.toISOString(),
    lastSeenAt: r.last_seen_at.toISOString(),
    ip: r.ip,
    userAgent: r.user_agent,
    current: r.id === currentSessionId,
    newDevice: r.new_device,
    newIp: r.new_ip,
  }));
}

/** Revokes one of the user's own sessions; another user's session id is simply not found. */
export async function revokeOwnSession(ctx: IdentityContext, actor: UserActor, sessionId: string, ip: string): Promise<boolean> {
  return ctx.db.withPlatform(async (tx) => {
    const done = await ctx.store.revokeSession(tx, actor.userId, sessionId, sessionId === actor.sessionId ? 'logout' : 'revoked_by_user', ctx.clock());
    if (done) {
      await appendAuditEvent(tx, {
        establishmentId: null,
        actor,
        ip,
        action: sessionId === actor.sessionId ? 'auth.logout' : 'auth.session.revoke',
        resourceKind: 'session',
        resourceIds: [sessionId],
        outcome: 'allowed',
      });
    }
    return done;
  });
}

/** The signed-in user as GET /me shows it (the route adds the CSRF token). */
export async function describeMe(ctx: IdentityContext, actor: UserActor) {
  const { user, secondFactors, mfaState } = await ctx.db.withPlatform(async (tx) => {
    const u = await ctx.store.findUserById(tx, actor.userId);
    const state = await ctx.store.findSessionState(tx, actor.sessionId);
    if (!u || !state) throw new DomainError('unauthenticated');
    return { user: u, secondFactors: await factorSummary(ctx, tx, u, actor.memberships), mfaState: state };
  });
  const stepUpUntil = actor.secondFactorAt ? new Date(actor.secondFactorAt.getTime() + STEP_UP_WINDOW_MS) : null;
  return {
    user: {
      id: user.id,
      email: user.email,
      firstName: user.first_name,
      lastName: user.last_name,
      emailVerified: user.email_verified_at !== null,
      memberships: actor.memberships,
    },
    session: { id: actor.sessionId, mfaState, stepUpUntil: stepUpUntil && stepUpUntil > ctx.clock() ? stepUpUntil.toISOString() : null },
    secondFactors,
  };
}

// The request authenticator: turns a session cookie or an API key into request.actor, or refuses.
// Registered once through registerAuthDecision(), it runs before every non-public route.
import type { FastifyRequest } from 'fastify';
import type {} from '@fastify/cookie';
import type { Authenticator } from '../../platform/http/context.js';
import { DomainError } from '../../platform/http/errors.js';
import { authenticateApiKey } from './api-keys.js';
import { isApiKeyContained } from '../guard/index.js';
import { judgeSession, needsMfaEnrolment, TOUCH_INTERVAL_MS } from './session-policy.js';
import { SESSION_COOKIE } from './sessions.js';
import type { StaffContext } from './staff.js';
import { csrfTokenFor, safeEqual, sha256 } from './tokens.js';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export function sessionTokenOf(request: FastifyRequest): string | undefined {
  const token = request.cookies?.[SESSION_COOKIE];
  return token && /^[A-Za-z0-9_-]{43}$/.test(token) ? token : undefined;
}

export function createAuthenticator(ctx: StaffContext): Authenticator {
  return async (request, mode) => {
    const authorization = request.headers.authorization;
    if (authorization !== undefined) {
      const bearer = /^Bearer ([^\s]+)$/.exec(authorization);
      if (!bearer || mode !== 'session_or_api_key') throw new DomainError('unauthenticated');
      // No CSRF for keys: a browser never sends an Authorization header on its own.
      const actor = await authenticateApiKey(ctx, bearer[1]!, request.ip);
      if (actor.kind === 'api_key' && (await ctx.db.withPlatform((tx) => isApiKeyContained(tx, actor.apiKeyId)))) {
        throw new DomainError('account_contained');
      }
      request.actor = actor;
      return;
    }

    const token = sessionTokenOf(request);
    if (!token) throw new DomainError('unauthenticated');
    const now = ctx.clock();
    // The check is one read (and at most one touch): each its own statement, one round trip each.
    const session = await ctx.db.withPlatformAutocommit(async (tx) => {
      const row = await ctx.store.findSessionByTokenHash(tx, sha256(token));
      if (!row) return undefined;
      const memberships = row.memberships;
      if (judgeSession(row, memberships.length > 0, now) !== 'live') return undefined;
      // Containment revokes sessions; this also stops one opened in a race with it (read with the session).
      if (row.contained) throw new DomainError('account_contained');
      // Checked before the session is touched: a forged request does not keep a session alive.
      if (!SAFE_METHODS.has(request.method)) {
        const sent = request.headers['x-csrf-token'];
        if (typeof sent !== 'string' || !safeEqual(sent, csrfTokenFor(token))) throw new DomainError('csrf_failed');
      }
      if (now.getTime() - row.last_seen_at.getTime() >= TOUCH_INTERVAL_MS) await ctx.store.touchSession(tx, row.id, now);
      return { row, memberships };
    });
    if (!session) throw new DomainError('unauthenticated', 'No session, or it has expired.');
    const { row, memberships } = session;
    if (needsMfaEnrolment(row.mfa_state, memberships.length > 0) && !request.routeOptions.config.allowIncompleteMfa) {
      throw new DomainError('mfa_enrolment_required');
    }
    request.actor = { kind: 'user', userId: row.user_id, sessionId: row.id, memberships, secondFactorAt: row.second_factor_at };
  };
}

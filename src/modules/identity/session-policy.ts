// Session lifetimes (ASVS 7.3.1, 7.3.2) and step-up freshness (7.5.3): pure rules, tested beside.
import type { MfaState } from '../../platform/db/schema.js';
import type { Actor } from '../../platform/http/context.js';
import { DomainError } from '../../platform/http/errors.js';

export interface SessionPolicy {
  idleMs: number;
  absoluteMs: number;
}

/** Staff: 30 minutes idle, 12 hours in all. Patients: 7 days idle, 30 days in all. */
export function sessionPolicy(isStaff: boolean): SessionPolicy {
  return isStaff
    ? { idleMs: 30 * 60_000, absoluteMs: 12 * 3600_000 }
    : { idleMs: 7 * 24 * 3600_000, absoluteMs: 30 * 24 * 3600_000 };
}

export type SessionVerdict = 'live' | 'revoked' | 'idle' | 'expired' | 'disabled';

export function judgeSession(
  s: { created_at: Date; last_seen_at: Date; expires_at: Date; revoked_at: Date | null; disabled_at: Date | null },
  isStaff: boolean,
  now: Date,
): SessionVerdict {
  if (s.revoked_at) return 'revoked';
  if (s.disabled_at) return 'disabled';
  // The policy is the one of the user's current memberships: a patient who becomes staff gets
  // staff lifetimes on the sessions already open.
  const policy = sessionPolicy(isStaff);
  const t = now.getTime();
  if (t >= s.expires_at.getTime() || t - s.created_at.getTime() >= policy.absoluteMs) return 'expired';
  if (t - s.last_seen_at.getTime() >= policy.idleMs) return 'idle';
  return 'live';
}

/** Last-seen is written at most once a minute: a write per request would cost more than it tells. */
export const TOUCH_INTERVAL_MS = 60_000;

/** A staff session is usable only once a second factor was presented in it. */
export function needsMfaEnrolment(mfaState: MfaState, isStaff: boolean): boolean {
  return isStaff && mfaState !== 'complete';
}

export const STEP_UP_WINDOW_MS = 5 * 60_000;

/**
 * For other modules: throws 401 step_up_required unless the acting user presented a second factor
 * in this session within the last five minutes. API keys never pass: sensitive actions are for
 * people.
 */
export function requireStepUp(actor: Actor, now: Date = new Date()): void {
  if (actor.kind !== 'user' || actor.secondFactorAt === null || now.getTime() - actor.secondFactorAt.getTime() > STEP_UP_WINDOW_MS) {
    throw new DomainError('step_up_required');
  }
}

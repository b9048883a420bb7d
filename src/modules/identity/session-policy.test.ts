import { describe, expect, it } from 'vitest';
import type { Actor } from '../../platform/http/context.js';
import { judgeSession, needsMfaEnrolment, requireStepUp, sessionPolicy } from './session-policy.js';

const at = (iso: string) => new Date(iso);
const session = (created: string, lastSeen: string, extra: Partial<{ revoked_at: Date; disabled_at: Date }> = {}) => ({
  created_at: at(created),
  last_seen_at: at(lastSeen),
  expires_at: new Date(at(created).getTime() + sessionPolicy(false).absoluteMs),
  revoked_at: extra.revoked_at ?? null,
  disabled_at: extra.disabled_at ?? null,
});

describe('session policy', () => {
  it('ends a staff session after 30 idle minutes and after 12 hours in all (ASVS 7.3.1, 7.3.2)', () => {
    const s = session('2026-03-01T08:00:00Z', '2026-03-01T08:00:00Z');
    expect(judgeSession(s, true, at('2026-03-01T08:29:59Z'))).toBe('live');
    expect(judgeSession(s, true, at('2026-03-01T08:30:00Z'))).toBe('idle');
    const busy = session('2026-03-01T08:00:00Z', '2026-03-01T19:59:00Z');
    expect(judgeSession(busy, true, at('2026-03-01T19:59:30Z'))).toBe('live');
    expect(judgeSession(busy, true, at('2026-03-01T20:00:00Z'))).toBe('expired');
  });

  it('keeps a patient session for 7 idle days', () => {
    const s = session('2026-03-01T08:00:00Z', '2026-03-01T08:00:00Z');
    expect(judgeSession(s, false, at('2026-03-07T08:00:00Z'))).toBe('live');
    expect(judgeSession(s, false, at('2026-03-08T08:00:00Z'))).toBe('idle');
  });

  it('refuses revoked sessions and disabled accounts before anything else', () => {
    const now = at('2026-03-01T08:01:00Z');
    expect(judgeSession(session('2026-03-01T08:00:00Z', '2026-03-01T08:00:00Z', { revoked_at: now }), false, now)).toBe('revoked');
    expect(judgeSession(session('2026-03-01T08:00:00Z', '2026-03-01T08:00:00Z', { disabled_at: now }), false, now)).toBe('disabled');
  });

  it('requires a second factor in staff sessions only', () => {
    expect(needsMfaEnrolment('enrolment_required', true)).toBe(true);
    expect(needsMfaEnrolment('not_required', true)).toBe(true);
    expect(needsMfaEnrolment('complete', true)).toBe(false);
    expect(needsMfaEnrolment('not_required', false)).toBe(false);
  });

  it('step-up holds for five minutes after a second factor, and never for an API key (ASVS 7.5.3)', () => {
    const user = (secondFactorAt: Date | null): Actor => ({ kind: 'user', userId: 'u', sessionId: 's', memberships: [], secondFactorAt });
    const t0 = at('2026-03-01T08:00:00Z');
    expect(() => requireStepUp(user(t0), at('2026-03-01T08:05:00Z'))).not.toThrow();
    expect(() => requireStepUp(user(t0), at('2026-03-01T08:05:01Z'))).toThrow(/second factor/);
    expect(() => requireStepUp(user(null), t0)).toThrow();
    expect(() => requireStepUp({ kind: 'api_key', apiKeyId: 'k', establishmentId: 'e', scopes: [] }, t0)).toThrow();
  });
});

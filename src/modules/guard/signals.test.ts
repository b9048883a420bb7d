import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { baselineOf, checkAgendaRange, decideEscalation, DEFAULT_THRESHOLDS, isOffHours, mergeThresholds, networkOf, type Observation } from './signals.js';

const quiet = (over: Partial<Observation> = {}): Observation => ({
  role: 'secretary',
  unexplained: { '5m': 0, '1h': 0, '24h': 0 },
  explained: { '5m': 0, '1h': 0, '24h': 0 },
  newPatients: 1,
  misses5m: 0,
  offHours: false,
  newNetwork: false,
  baselineDaily: null,
  stepUpSatisfied: false,
  ...over,
});
const u = (n5: number, n1 = n5, n24 = n1) => ({ '5m': n5, '1h': n1, '24h': n24 });

describe('decideEscalation', () => {
  it('allows a busy but explained day: a secretary with today\'s agenda of the practitioners they work for (hundreds of names)', () => {
    expect(decideEscalation(quiet({ explained: u(280, 550, 1100), unexplained: u(3, 10, 40) }), DEFAULT_THRESHOLDS).verdict).toBe('allow');
  });

  it('asks a step-up when the unexplained budget crosses its step-up line', () => {
    const r = decideEscalation(quiet({ unexplained: u(13) }), DEFAULT_THRESHOLDS);
    expect(r).toMatchObject({ verdict: 'step_up', signals: ['unexplained_5m'] });
  });

  it('staged: a contain line crossed before any step-up asks a step-up first; after it, contains', () => {
    expect(decideEscalation(quiet({ unexplained: u(26) }), DEFAULT_THRESHOLDS).verdict).toBe('step_up');
    expect(decideEscalation(quiet({ unexplained: u(26), stepUpSatisfied: true }), DEFAULT_THRESHOLDS).verdict).toBe('contain');
  });

  it('an API key has no second factor: its contain line contains at once', () => {
    expect(decideEscalation(quiet({ role: 'api_key', unexplained: u(21) }), DEFAULT_THRESHOLDS).verdict).toBe('contain');
    expect(decideEscalation(quiet({ role: 'api_key', unexplained: u(6) }), DEFAULT_THRESHOLDS).verdict).toBe('step_up');
  });

  it('after a satisfied step-up, the step-up lines no longer ask (one step-up per busy day)', () => {
    expect(decideEscalation(quiet({ unexplained: u(15, 40, 80), stepUpSatisfied: true }), DEFAULT_THRESHOLDS).verdict).toBe('allow');
  });

  it('a re-read of already counted patients is never the request that crosses', () => {
    expect(decideEscalation(quiet({ unexplained: u(30), newPatients: 0 }), DEFAULT_THRESHOLDS).verdict).toBe('allow');
  });

  it('search misses and 404 bursts escalate', () => {
    expect(decideEscalation(quiet({ misses5m: 9 }), DEFAULT_THRESHOLDS)).toMatchObject({ verdict: 'step_up', signals: ['misses_5m'] });
    expect(decideEscalation(quiet({ misses5m: 21, stepUpSatisfied: true }), DEFAULT_THRESHOLDS).verdict).toBe('contain');
  });

  it('off hours and a new network tighten every line', () => {
    const obs = quiet({ unexplained: u(8) });
    expect(decideEscalation(obs, DEFAULT_THRESHOLDS).verdict).toBe('allow');
    expect(decideEscalation({ ...obs, offHours: true }, DEFAULT_THRESHOLDS)).toMatchObject({ verdict: 'step_up', signals: ['unexplained_5m', 'off_hours'] });
    expect(decideEscalation({ ...obs, unexplained: u(7), newNetwork: true }, DEFAULT_THRESHOLDS).verdict).toBe('allow');
    expect(decideEscalation({ ...obs, newNetwork: true }, DEFAULT_THRESHOLDS).signals).toEqual(['unexplained_5m', 'new_network']);
  });

  it('the actor\'s own baseline asks a step-up above three times a usual day, never contains by itself', () => {
    const obs = quiet({ unexplained: u(2, 20, 40), baselineDaily: 10 });
    expect(decideEscalation(obs, DEFAULT_THRESHOLDS)).toMatchObject({ verdict: 'step_up', signals: ['above_baseline'] });
    expect(decideEscalation({ ...obs, stepUpSatisfied: true }, DEFAULT_THRESHOLDS).verdict).toBe('allow');
    expect(decideEscalation({ ...obs, baselineDaily: 20 }, DEFAULT_THRESHOLDS).verdict).toBe('allow');
  });

  it('a practitioner reading mostly patients without a relationship is asked to step up', () => {
    const r = decideEscalation(quiet({ role: 'practitioner', unexplained: u(3, 9, 9), explained: u(2, 5, 5) }), DEFAULT_THRESHOLDS);
    expect(r).toMatchObject({ verdict: 'step_up', signals: ['unexplained_share'] });
  });

  it('admins and security officers are contained on the second metered exposure after a step-up', () => {
    expect(decideEscalation(quiet({ role: 'admin', unexplained: u(1) }), DEFAULT_THRESHOLDS).verdict).toBe('allow');
    expect(decideEscalation(quiet({ role: 'admin', unexplained: u(2) }), DEFAULT_THRESHOLDS).verdict).toBe('step_up');
    expect(decideEscalation(quiet({ role: 'admin', unexplained: u(4), stepUpSatisfied: true }), DEFAULT_THRESHOLDS).verdict).toBe('contain');
  });

  it('property: the verdict is monotonic in the unexplained count, and never contains below the contain line', () => {
    const rank = { allow: 0, step_up: 1, contain: 2 } as const;
    fc.assert(
      fc.property(fc.constantFrom('practitioner', 'secretary', 'api_key', 'patient') as fc.Arbitrary<Observation['role']>, fc.nat(200), fc.nat(200), fc.boolean(), fc.boolean(), fc.boolean(), (role, a, b, off, net, sat) => {
        const [lo, hi] = a <= b ? [a, b] : [b, a];
        const at = (n: number) => decideEscalation(quiet({ role, unexplained: u(n, n, n), offHours: off, newNetwork: net, stepUpSatisfied: sat }), DEFAULT_THRESHOLDS);
        expect(rank[at(lo).verdict]).toBeLessThanOrEqual(rank[at(hi).verdict]);
        if (role !== 'api_key' && lo <= DEFAULT_THRESHOLDS.roles[role as 'secretary'].unexplained['5m'].contain * 0.3) expect(at(lo).verdict).not.toBe('contain');
      }),
    );
  });
});

describe('helpers', () => {
  it('knows opening hours in the establishment time zone, across DST', () => {
    const h = DEFAULT_THRESHOLDS.openingHours;
    expect(isOffHours(new Date('2026-11-23T08:30:00Z'), h, 'Europe/Paris')).toBe(false); // Monday 09:30
    expect(isOffHours(new Date('2026-11-23T19:30:00Z'), h, 'Europe/Paris')).toBe(true); // Monday 20:30
    expect(isOffHours(new Date('2026-11-22T10:00:00Z'), h, 'Europe/Paris')).toBe(true); // Sunday
    expect(isOffHours(new Date('2026-07-06T05:30:00Z'), h, 'Europe/Paris')).toBe(false); // Monday 07:30 CEST
    expect(isOffHours(new Date('2026-01-05T05:30:00Z'), h, 'Europe/Paris')).toBe(true); // Monday 06:30 CET
  });

  it('groups addresses into networks', () => {
    expect(networkOf('192.0.2.10')).toBe('192.0.2.0/24');
    expect(networkOf('::ffff:192.0.2.99')).toBe('192.0.2.0/24');
    expect(networkOf('2001:db8:1:2::5')).toBe('2001:db8:1::/48');
    expect(networkOf(null)).toBeNull();
  });

  it('baseline is the median of previous days, and needs history', () => {
    expect(baselineOf([4, 10], 3)).toBeNull();
    expect(baselineOf([4, 100, 10], 3)).toBe(10);
    expect(baselineOf([4, 6, 10, 100], 3)).toBe(8);
  });

  it('merges per-establishment overrides into the defaults', () => {
    const t = mergeThresholds(DEFAULT_THRESHOLDS, { roles: { secretary: { unexplained: { '5m': { stepUp: 5 } } } }, openingHours: { days: [1, 2, 3, 4, 5] } });
    expect(t.roles.secretary.unexplained['5m']).toEqual({ stepUp: 5, contain: 25 });
    expect(t.roles.practitioner).toEqual(DEFAULT_THRESHOLDS.roles.practitioner);
    expect(t.openingHours).toEqual({ days: [1, 2, 3, 4, 5], from: 7, to: 20 });
  });
});

describe('agenda range bound', () => {
  const now = new Date('2026-11-23T10:00:00Z');
  const w = DEFAULT_THRESHOLDS.agendaWindow;
  const day = (n: number) => new Date(now.getTime() + n * 86_400_000);
  it('lets the near window through, asks a reason for history, refuses it to keys and refuses wide spans', () => {
    expect(checkAgendaRange({ from: day(-1), to: day(14), now, actorKind: 'user' }, w)).toBe('ok');
    expect(checkAgendaRange({ from: day(-30), to: day(-29), now, actorKind: 'user' }, w)).toBe('reason_required');
    expect(checkAgendaRange({ from: day(-30), to: day(-29), now, actorKind: 'user', reason: 'Contrôle de facturation mars' }, w)).toBe('ok');
    expect(checkAgendaRange({ from: day(-30), to: day(-29), now, actorKind: 'api_key', reason: 'whatever reason here' }, w)).toBe('forbidden');
    expect(checkAgendaRange({ from: day(0), to: day(60), now, actorKind: 'user' }, w)).toBe('too_wide');
  });
});

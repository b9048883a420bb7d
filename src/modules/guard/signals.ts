// The guard's pure core: which exposures are explained, what the thresholds are, and the
// escalation decision (allow → step-up → contain) for the request about to leave. No I/O here:
// the meter gathers counts from its store and asks `decideEscalation`.
//
// Two budgets per actor and sliding window (5 min, 1 h, 24 h), in distinct patients:
// - the *unexplained* budget is tight: a patient touched with no reason the system can see (no care
//   relationship, not on the actor's own agenda in a near window, not being booked) counts 1,
//   one reached through break-the-glass counts `weights.breakGlass` (it has a written, alerted
//   reason, but is still unusual);
// - the *explained* budget is wide: it only catches someone pulling explained data at a breadth
//   no working day needs (a practitioner walking every patient of the last twelve months).
// The request that would cross a line is the one refused, before its data leaves.

export type GuardWindow = '5m' | '1h' | '24h';
export const WINDOWS: readonly GuardWindow[] = ['5m', '1h', '24h'];
export const WINDOW_MS: Record<GuardWindow, number> = { '5m': 5 * 60_000, '1h': 3600_000, '24h': 24 * 3600_000 };

export type GuardRole = 'practitioner' | 'secretary' | 'admin' | 'security_officer' | 'patient' | 'api_key' | 'system';

export interface Limits {
  stepUp: number;
  contain: number;
}
export type WindowLimits = Record<GuardWindow, Limits>;
export interface RoleLimits {
  unexplained: WindowLimits;
  explained: WindowLimits;
}

export interface OpeningHours {
  /** ISO days of week (1 = Monday … 7 = Sunday) when the establishment is open. */
  days: number[];
  /** Local opening hour, inclusive, and closing hour, exclusive (0–24). */
  from: number;
  to: number;
}

export interface Thresholds {
  roles: Record<Exclude<GuardRole, 'system'>, RoleLimits>;
  /** Weights in the unexplained budget: break-the-glass, and a care relationship with no appointment near now. */
  weights: { breakGlass: number; care: number };
  /** Search misses and refused ids (404 bursts) of one actor in 5 minutes. */
  misses5m: Limits;
  /** Share of unexplained patients in the last hour above which a step-up is asked (with at least `minUnexplained`). */
  unexplainedShare: { share: number; minUnexplained: number };
  /** Step-up when today's unexplained count exceeds max(floor, factor × the actor's usual day). */
  baseline: { factor: number; floor: number; minDays: number };
  /** Limits are multiplied by these factors out of opening hours and from a network never seen for this actor. */
  offHoursFactor: number;
  newNetworkFactor: number;
  openingHours: OpeningHours;
  /** Agenda rows are explained when their appointment is within this window around now. */
  agendaWindow: { pastDays: number; futureDays: number };
}

const W = (s5: number, c5: number, s1: number, c1: number, s24: number, c24: number): WindowLimits => ({
  '5m': { stepUp: s5, contain: c5 },
  '1h': { stepUp: s1, contain: c1 },
  '24h': { stepUp: s24, contain: c24 },
});

const NOTHING = W(1, 3, 1, 3, 1, 3);

/**
 * Safe defaults. The reasoning behind each number is in docs/security.md ("The guard"); the short
 * version: contain limits on the unexplained budget are ≤ 25 in 5 minutes for every role, so a
 * fast scraper gets at most that; step-up limits sit above what a busy legitimate day produces.
 */
export const DEFAULT_THRESHOLDS: Thresholds = {
  roles: {
    // 40 consultations a day are explained by appointments/care teams; looking up a colleague's
    // patient's administrative file happens, a few an hour.
    practitioner: { unexplained: W(10, 20, 25, 45, 50, 90), explained: W(100, 150, 200, 300, 300, 500) },
    // 150 phone calls a day: each look-up is explained by the booking that follows it; today's
    // agenda for the practitioners they work for (hundreds of names) is explained by the near window.
    secretary: { unexplained: W(12, 25, 30, 60, 60, 100), explained: W(300, 600, 600, 1200, 1200, 2500) },
    // Neither reads patient data through the gate; anything metered is wrong.
    admin: { unexplained: NOTHING, explained: NOTHING },
    security_officer: { unexplained: NOTHING, explained: NOTHING },
    // A patient sees their own file (explained) and nobody else's.
    patient: { unexplained: W(1, 3, 1, 3, 1, 3), explained: W(20, 50, 40, 100, 60, 150) },
    // Integrations: agenda synchronisation reads near-window appointments (explained); anything
    // else is volume the key was not made for. A key cannot step up: its step-up refuses the request.
    api_key: { unexplained: W(5, 20, 15, 40, 30, 80), explained: W(4000, 8000, 8000, 15000, 15000, 30000) },
  },
  weights: { breakGlass: 0.5, care: 0.5 },
  misses5m: { stepUp: 8, contain: 20 },
  unexplainedShare: { share: 0.5, minUnexplained: 8 },
  baseline: { factor: 3, floor: 15, minDays: 3 },
  offHoursFactor: 0.5,
  newNetworkFactor: 0.6,
  openingHours: { days: [1, 2, 3, 4, 5, 6], from: 7, to: 20 },
  agendaWindow: { pastDays: 1, futureDays: 14 },
};

/** What the meter knows about the actor at the moment of the request, this request included. */
export interface Observation {
  role: GuardRole;
  unexplained: Record<GuardWindow, number>;
  explained: Record<GuardWindow, number>;
  /** Distinct patients of this request that are new in the 5-minute window (0: a re-read). */
  newPatients: number;
  misses5m: number;
  offHours: boolean;
  newNetwork: boolean;
  /** The actor's usual daily unexplained count (median of previous days), or null when too little history. */
  baselineDaily: number | null;
  /** The actor presented a second factor after the guard last asked for one. */
  stepUpSatisfied: boolean;
}

export type Verdict = 'allow' | 'step_up' | 'contain';

export interface Escalation {
  verdict: Verdict;
  /** Codes of the signals that fired, e.g. 'unexplained_5m', 'misses_5m', 'above_baseline'. */
  signals: string[];
}

/** The escalation for one request. Pure: the meter calls it with counts that include the request. */
export function decideEscalation(obs: Observation, thresholds: Thresholds): Escalation {
  if (obs.role === 'system') return { verdict: 'allow', signals: [] };
  const limits = thresholds.roles[obs.role];
  const factor = (obs.offHours ? thresholds.offHoursFactor : 1) * (obs.newNetwork ? thresholds.newNetworkFactor : 1);
  const contain: string[] = [];
  const stepUp: string[] = [];
  const check = (code: string, value: number, l: Limits, scale: number) => {
    if (value > Math.max(1, l.contain * scale)) contain.push(code);
    else if (value > Math.max(1, l.stepUp * scale)) stepUp.push(code);
  };
  for (const w of WINDOWS) {
    check(`unexplained_${w}`, obs.unexplained[w], limits.unexplained[w], factor);
    check(`explained_${w}`, obs.explained[w], limits.explained[w], factor);
  }
  check('misses_5m', obs.misses5m, thresholds.misses5m, 1);

  const total1h = obs.unexplained['1h'] + obs.explained['1h'];
  // Practitioners: most of what they read is explained by care; a session that mostly reads
  // patients it has no relationship with is browsing, not caring.
  if (obs.role === 'practitioner' && obs.unexplained['1h'] >= thresholds.unexplainedShare.minUnexplained && total1h > 0 && obs.unexplained['1h'] / total1h > thresholds.unexplainedShare.share) {
    stepUp.push('unexplained_share');
  }
  if (obs.baselineDaily !== null) {
    const line = Math.max(thresholds.baseline.floor, thresholds.baseline.factor * obs.baselineDaily);
    // The baseline only ever tightens: it can ask for a step-up, never raise the contain line,
    // so an insider who slowly "trains" their baseline gains nothing against the role limits.
    if (obs.unexplained['24h'] > line) stepUp.push('above_baseline');
  }
  if (obs.offHours && (contain.length > 0 || stepUp.length > 0)) stepUp.push('off_hours');
  if (obs.newNetwork && (contain.length > 0 || stepUp.length > 0)) stepUp.push('new_network');

  // A re-read of patients already counted adds nothing, so it is never the request that crosses.
  if (obs.newPatients === 0 && obs.misses5m <= thresholds.misses5m.stepUp) return { verdict: 'allow', signals: [] };
  if (contain.length > 0) {
    // Escalation is staged for people: the first crossing asks for a second factor, so a
    // legitimate burst costs one step-up, never a lock-out. A contain line crossed after the
    // step-up (or by a key, which has no second factor) contains.
    if (obs.role === 'api_key' || obs.stepUpSatisfied) return { verdict: 'contain', signals: [...contain, ...stepUp] };
    return { verdict: 'step_up', signals: [...contain, ...stepUp] };
  }
  if (stepUp.length > 0 && !obs.stepUpSatisfied) return { verdict: 'step_up', signals: stepUp };
  return { verdict: 'allow', signals: stepUp };
}

/** One formatter per time zone, and the last second it answered for (see isOffHours). */
const localClock = new Map<string, { format: Intl.DateTimeFormat; second: number; isoDay: number; hour: number }>();
const WEEKDAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];

/**
 * True when `at` falls outside the establishment's opening hours, in its time zone. Every metered
 * access asks it: the formatter is built once per time zone (building Intl objects was most of its
 * cost), and its answer reused within the same UTC second (time-zone offsets are whole seconds,
 * so the local weekday and hour cannot change within one).
 */
export function isOffHours(at: Date, hours: OpeningHours, timeZone: string): boolean {
  const second = Math.floor(at.getTime() / 1000);
  let clock = localClock.get(timeZone);
  if (clock === undefined) {
    if (localClock.size >= 64) localClock.clear();
    clock = { format: new Intl.DateTimeFormat('en-GB', { timeZone, weekday: 'short', hour: 'numeric', hourCycle: 'h23' }), second: Number.NaN, isoDay: 0, hour: 0 };
    localClock.set(timeZone, clock);
  }
  if (clock.second !== second) {
    const parts = clock.format.formatToParts(at);
    const weekday = parts.find((p) => p.type === 'weekday')?.value ?? 'Mon';
    clock.hour = Number(parts.find((p) => p.type === 'hour')?.value ?? '12');
    clock.isoDay = WEEKDAYS.indexOf(weekday) + 1;
    clock.second = second;
  }
  return !hours.days.includes(clock.isoDay) || clock.hour < hours.from || clock.hour >= hours.to;
}

/** The network an address belongs to for the "new network" signal: /24 for IPv4, /48 for IPv6. */
export function networkOf(ip: string | null): string | null {
  if (!ip) return null;
  const v4 = ip.replace(/^::ffff:/i, '');
  if (/^\d+\.\d+\.\d+\.\d+$/.test(v4)) return `${v4.split('.').slice(0, 3).join('.')}.0/24`;
  if (ip.includes(':')) {
    const groups = expandIpv6(ip);
    return groups ? `${groups.slice(0, 3).join(':')}::/48` : null;
  }
  return null;
}

function expandIpv6(ip: string): string[] | null {
  const [head, tail, ...rest] = ip.toLowerCase().split('::');
  if (rest.length > 0 || head === undefined) return null;
  const h = head === '' ? [] : head.split(':');
  const t = tail === undefined ? [] : tail === '' ? [] : tail.split(':');
  const fill = 8 - h.length - t.length;
  if (fill < 0 || (tail === undefined && fill !== 0)) return null;
  return [...h, ...Array<string>(fill).fill('0'), ...t].map((g) => g.replace(/^0+(?=.)/, ''));
}

/** The median of the previous days' unexplained counts, or null with fewer than minDays of history. */
export function baselineOf(previousDays: number[], minDays: number): number | null {
  if (previousDays.length < minDays) return null;
  const sorted = [...previousDays].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Merges an establishment's overrides into the defaults (deep, limits validated by the API schema). */
export function mergeThresholds(base: Thresholds, override: DeepPartial<Thresholds> | null | undefined): Thresholds {
  if (!override) return base;
  return deepMerge(base, override) as Thresholds;
}

export type DeepPartial<T> = { [K in keyof T]?: T[K] extends number[] ? number[] : T[K] extends object ? DeepPartial<T[K]> : T[K] };

function deepMerge(base: unknown, over: unknown): unknown {
  if (over === undefined || over === null) return base;
  if (Array.isArray(over) || typeof over !== 'object' || typeof base !== 'object' || base === null || Array.isArray(base)) return over;
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [k, v] of Object.entries(over as Record<string, unknown>)) {
    if (k in out) out[k] = deepMerge(out[k], v);
  }
  return out;
}

export type AgendaRangeVerdict = 'ok' | 'reason_required' | 'too_wide' | 'forbidden';

/**
 * The bound on agenda views that scheduling applies before it queries: at most `maxSpanDays` at
 * once; history older than the near window needs a written reason (audited, shown to patients),
 * and an API key never reads it (an integration syncs what is coming, not the past). Without this
 * bound a far-past page could be "explained" by the chance that its patients also have an
 * appointment next week.
 */
export function checkAgendaRange(q: { from: Date; to: Date; now: Date; actorKind: 'user' | 'api_key' | 'system'; reason?: string | null }, w: Thresholds['agendaWindow'], maxSpanDays = 31): AgendaRangeVerdict {
  if (q.to.getTime() - q.from.getTime() > maxSpanDays * 86_400_000 || q.to <= q.from) return 'too_wide';
  const startOfNear = new Date(q.now.getTime() - w.pastDays * 86_400_000);
  startOfNear.setUTCHours(0, 0, 0, 0);
  if (q.from >= startOfNear || q.actorKind === 'system') return 'ok';
  if (q.actorKind === 'api_key') return 'forbidden';
  return q.reason && q.reason.trim().length >= 10 ? 'ok' : 'reason_required';
}

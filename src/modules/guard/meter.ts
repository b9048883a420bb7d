// The guard's meter: the AccessMeter the gate calls inside its tenant transaction, before data
// leaves. It classifies each exposed patient (explained, unexplained, break-the-glass), reads the
// actor's sliding-window counters, asks the pure escalation (signals.ts) and acts on the verdict:
// record and allow; demand a step-up; or contain (record, revoke every session and key through
// identity's callback, raise a critical alert, notify the security officers), all in the gate's
// transaction so that the verdict and its side effects commit together.
import type { Tx } from '../../platform/db/database.js';
import type { Actor } from '../../platform/http/context.js';
import { DomainError } from '../../platform/http/errors.js';
import type { GuardExposureClass } from '../../platform/db/schema.js';
import type { AccessMeter, Exposure } from './exposure.js';
import { raiseAlert } from './alerts.js';
import { postgresCounters, combineWindows, type CounterStore } from './counters.js';
import type { GuardStore, MeterFacts } from './store.js';
import { createExportStore } from './export-store.js';
import {
  baselineOf,
  decideEscalation,
  DEFAULT_THRESHOLDS,
  isOffHours,
  mergeThresholds,
  networkOf,
  type GuardRole,
  type Observation,
  type Thresholds,
  type Verdict,
} from './signals.js';

/**
 * Evidence from another module that an exposure is explained even without a care relationship:
 * scheduling answers "which of these patients have an appointment in this establishment (for a
 * secretary) or with this practitioner within the near window".
 */
export type ExplanationSource = (
  tx: Tx,
  query: { actor: Actor; role: string | null; establishmentId: string; patientIds: string[]; from: Date; to: Date },
) => Promise<Set<string>>;

/** Identity's "revoke every session and API key of this actor", run in the containment's transaction. */
export type RevokeAllForActor = (tx: Tx, target: { kind: 'user'; userId: string } | { kind: 'api_key'; apiKeyId: string; establishmentId: string }) => Promise<void>;

/** Identity's mail/outbox: tells the establishment's security officers about an alert (ids only). */
export interface SecurityNotifier {
  alertRaised(tx: Tx, alert: { establishmentId: string; alertId: string; kind: string; severity: 'info' | 'warning' | 'critical' }): Promise<void>;
}

export interface GuardDeps {
  store: GuardStore;
  counters?: CounterStore;
  explanationSources?: ExplanationSource[];
  revokeAllForActor?: RevokeAllForActor;
  notifier?: SecurityNotifier;
  now?: () => Date;
  defaults?: Thresholds;
}

/** Resource kinds whose writes explain the patients they name (a booking being made). */
const EXPLAINING_WRITES: ReadonlySet<string> = new Set(['appointment', 'booking']);
const STEP_UP_GRACE_MS = 5 * 60_000;
/** Crossings refused while a person's step-up is pending, after which the guard contains. */
export const REFUSED_CROSSINGS_BEFORE_CONTAIN = 10;

export function actorKeyOf(actor: Actor): string | null {
  if (actor.kind === 'user') return `user:${actor.userId}`;
  if (actor.kind === 'api_key') return `key:${actor.apiKeyId}`;
  return null;
}

function guardRoleOf(exposure: Exposure): GuardRole {
  if (exposure.actor.kind === 'api_key') return 'api_key';
  if (exposure.actor.kind === 'system') return 'system';
  const r = exposure.role;
  return r === 'practitioner' || r === 'secretary' || r === 'admin' || r === 'security_officer' ? r : 'patient';
}

export function createMeter(deps: GuardDeps) {
  const { store } = deps;
  const counters = deps.counters ?? postgresCounters();
  const now = deps.now ?? (() => new Date());
  const defaults = deps.defaults ?? DEFAULT_THRESHOLDS;
  const sources = deps.explanationSources ?? [];

  async function thresholdsFor(tx: Tx, establishmentId: string): Promise<Thresholds> {
    return mergeThresholds(defaults, await store.thresholdOverrides(tx, establishmentId));
  }

  // Merged thresholds by the overrides' JSON text as read in the facts statement: keyed by
  // content, so an officer's change (on any instance) is seen by the next request.
  const merged = new Map<string, Thresholds>();
  function thresholdsOf(overrides: string | null): Thresholds {
    if (overrides === null) return mergeThresholds(defaults, null);
    let t = merged.get(overrides);
    if (t === undefined) {
      if (merged.size >= 256) merged.clear();
      t = mergeThresholds(defaults, JSON.parse(overrides) as Record<string, unknown>);
      merged.set(overrides, t);
    }
    return t;
  }

  // A counter store that offers inline parts (PostgreSQL) is read in the facts statement and
  // written in the record statement; any other (Redis) is asked through its own methods.
  async function factsOf(tx: Tx, establishmentId: string, key: string, patientIds: string[], at: Date): Promise<MeterFacts> {
    return store.meterFacts(tx, { establishmentId, actorKey: key, patientIds, day: at.toISOString().slice(0, 10), at, counters: counters.inline });
  }

  async function classify(tx: Tx, exposure: Exposure, t: Thresholds, at: Date): Promise<Map<string, GuardExposureClass>> {
    const classes = new Map<string, GuardExposureClass>();
    const explained = new Set(exposure.explainedPatientIds);
    const breakGlass = new Set(exposure.breakGlassPatientIds);
    const booking = exposure.action === 'write' && EXPLAINING_WRITES.has(exposure.resourceKind);
    let rest = exposure.patientIds.filter((id) => !explained.has(id) && !breakGlass.has(id) && !booking);
    const from = new Date(at.getTime() - t.agendaWindow.pastDays * 86_400_000);
    const to = new Date(at.getTime() + t.agendaWindow.futureDays * 86_400_000);
    const nearBy = new Set<string>();
    for (const source of sources) {
      if (rest.length === 0) break;
      const found = await source(tx, { actor: exposure.actor, role: exposure.role, establishmentId: exposure.establishmentId, patientIds: rest, from, to });
      for (const id of found) {
        explained.add(id);
        nearBy.add(id);
      }
      rest = rest.filter((id) => !found.has(id));
    }
    // A practitioner's care relationship (a care team, an appointment in the last twelve months)
    // explains a read, but less than an appointment near now: walking every patient of the last
    // year is what a stolen practitioner session does. Those count as 'care' (weighted).
    const careOnly = new Set<string>();
    if (exposure.role === 'practitioner' && !booking) {
      let weak = exposure.patientIds.filter((id) => explained.has(id) && !nearBy.has(id));
      for (const source of sources) {
        if (weak.length === 0) break;
        const found = await source(tx, { actor: exposure.actor, role: exposure.role, establishmentId: exposure.establishmentId, patientIds: weak, from, to });
        weak = weak.filter((id) => !found.has(id));
      }
      for (const id of weak) careOnly.add(id);
    }
    for (const id of exposure.patientIds) {
      classes.set(id, breakGlass.has(id) ? 'break_glass' : careOnly.has(id) ? 'care' : explained.has(id) || booking ? 'explained' : 'unexplained');
    }
    return classes;
  }

  /** Records the containment and its consequences in the caller's transaction. */
  async function containActor(tx: Tx, c: { establishmentId: string; actor: Actor; signals: string[]; counts?: Record<string, number> }): Promise<void> {
    const key = actorKeyOf(c.actor);
    if (!key) return;
    const at = now();
    const alertId = await raiseAlert(tx, {
      establishmentId: c.establishmentId,
      kind: 'guard_containment',
      severity: 'critical',
      actorUserId: c.actor.kind === 'user' ? c.actor.userId : null,
      details: { actorKind: c.actor.kind, apiKeyId: c.actor.kind === 'api_key' ? c.actor.apiKeyId : null, signals: c.signals.join(','), ...(c.counts ?? {}) },
    });
    await store.insertContainment(tx, {
      establishmentId: c.establishmentId,
      actorKey: key,
      userId: c.actor.kind === 'user' ? c.actor.userId : null,
      apiKeyId: c.actor.kind === 'api_key' ? c.actor.apiKeyId : null,
      signals: c.signals,
      alertId,
      at,
    });
    await store.clearStepUp(tx, c.establishmentId, key);
    if (c.actor.kind === 'user') await deps.revokeAllForActor?.(tx, { kind: 'user', userId: c.actor.userId });
    if (c.actor.kind === 'api_key') await deps.revokeAllForActor?.(tx, { kind: 'api_key', apiKeyId: c.actor.apiKeyId, establishmentId: c.actor.establishmentId });
    await deps.notifier?.alertRaised(tx, { establishmentId: c.establishmentId, alertId, kind: 'guard_containment', severity: 'critical' });
  }

  /** Demands a step-up (once per demand: retries while it is pending do not re-alert). */
  async function demandStepUp(tx: Tx, establishmentId: string, actor: Actor, key: string, signals: string[], pending: boolean): Promise<void> {
    if (pending) return;
    await store.demandStepUp(tx, establishmentId, key, now(), signals);
    await raiseAlert(tx, {
      establishmentId,
      kind: 'guard_step_up',
      severity: 'warning',
      actorUserId: actor.kind === 'user' ? actor.userId : null,
      details: { actorKind: actor.kind, apiKeyId: actor.kind === 'api_key' ? actor.apiKeyId : null, signals: signals.join(',') },
    });
  }

  function stepUpState(actor: Actor, demandedAt: Date | null, at: Date): { satisfied: boolean; pending: boolean } {
    const presented = actor.kind === 'user' ? actor.secondFactorAt : null;
    const fresh = demandedAt !== null && at.getTime() - demandedAt.getTime() < 24 * 3600_000 ? demandedAt : null;
    const since = fresh ?? new Date(at.getTime() - STEP_UP_GRACE_MS);
    const satisfied = presented !== null && presented.getTime() >= since.getTime();
    return { satisfied, pending: fresh !== null && !satisfied };
  }

  async function observe(
    tx: Tx,
    exposure: Pick<Exposure, 'actor' | 'establishmentId' | 'ip'>,
    role: GuardRole,
    key: string,
    t: Thresholds,
    at: Date,
    incoming: Map<string, GuardExposureClass>,
    facts: MeterFacts,
    addedMisses: number,
  ) {
    const windows = facts.counters ? facts.counters.windows : await counters.windows(tx, exposure.establishmentId, key, at, [...incoming.keys()]);
    const totals = combineWindows(windows, incoming, at.getTime(), t.weights);
    // The facts were read before this request's misses were added (they are all at `at`, inside the window).
    const misses5m = facts.counters ? facts.counters.misses5m + addedMisses : await counters.misses5m(tx, exposure.establishmentId, key, at);
    const network = networkOf(exposure.ip);
    const known = facts.knownNetworks;
    const day = at.toISOString().slice(0, 10);
    const stepUp = stepUpState(exposure.actor, facts.stepUpDemandedAt, at);
    const obs: Observation = {
      role,
      unexplained: totals.unexplained,
      explained: totals.explained,
      newPatients: totals.newPatients,
      misses5m,
      offHours: isOffHours(at, t.openingHours, facts.timeZone),
      // The first network an actor is seen from is its own; later unseen networks are new.
      newNetwork: network !== null && known.size > 0 && !known.has(network),
      baselineDaily: baselineOf(facts.previousDays, t.baseline.minDays),
      stepUpSatisfied: stepUp.satisfied,
    };
    return { obs, network, known, day, pending: stepUp.pending };
  }

  async function act(tx: Tx, exposure: Pick<Exposure, 'actor' | 'establishmentId'>, key: string, verdict: Verdict, signals: string[], obs: Observation, pending: boolean): Promise<void> {
    if (verdict === 'contain') {
      await containActor(tx, {
        establishmentId: exposure.establishmentId,
        actor: exposure.actor,
        signals,
        counts: { unexplained5m: obs.unexplained['5m'], unexplained24h: obs.unexplained['24h'], explained24h: obs.explained['24h'], misses5m: obs.misses5m },
      });
      throw new DomainError('account_contained', 'This account has been contained; a security officer must release it');
    }
    if (verdict === 'step_up') {
      // A person who keeps crossing while the step-up stays unanswered is most likely replaying a
      // stolen cookie without the second factor: contain it, which also revokes that cookie.
      if (pending && exposure.actor.kind === 'user' && (await store.countRefusalWhilePending(tx, exposure.establishmentId, key)) >= REFUSED_CROSSINGS_BEFORE_CONTAIN) {
        await containActor(tx, { establishmentId: exposure.establishmentId, actor: exposure.actor, signals: [...signals, 'repeated_after_refusal'], counts: { refusedWhilePending: REFUSED_CROSSINGS_BEFORE_CONTAIN } });
        throw new DomainError('account_contained', 'This account has been contained; a security officer must release it');
      }
      await demandStepUp(tx, exposure.establishmentId, exposure.actor, key, signals, pending);
      throw new DomainError('step_up_required', 'Confirm with your second factor to continue');
    }
  }

  /**
   * A key cannot answer a step-up: its first crossing is refused, and crossing again while that
   * refusal stands contains it (a person, by contrast, is only ever refused until they step up).
   */
  function escalate(obs: Observation, t: Thresholds, pending: boolean) {
    const e = decideEscalation(obs, t);
    if (e.verdict === 'step_up' && obs.role === 'api_key' && pending) return { verdict: 'contain' as const, signals: [...e.signals, 'repeated_after_refusal'] };
    return e;
  }

  const exportStore = createExportStore();

  /**
   * A two-person-approved export is explained by its approval, so it does not count in the
   * actor's sliding windows (it would contain the requester's next ordinary request); it is
   * metered in the export register instead — who, how many patients, when — and alerted.
   */
  async function meterExport(tx: Tx, exposure: Exposure, exportId: string): Promise<void> {
    const userId = exposure.actor.kind === 'user' ? exposure.actor.userId : null;
    if (!userId || !(await exportStore.claimedBy(tx, exposure.establishmentId, exportId, userId))) {
      throw new DomainError('forbidden', 'Not an approved export of this person');
    }
    await exportStore.recordVolume(tx, exposure.establishmentId, exportId, exposure.patientIds.length);
    const alertId = await raiseAlert(tx, {
      establishmentId: exposure.establishmentId,
      kind: 'export_downloaded',
      severity: 'warning',
      actorUserId: userId,
      details: { exportId, patients: exposure.patientIds.length },
    });
    await deps.notifier?.alertRaised(tx, { establishmentId: exposure.establishmentId, alertId, kind: 'export_downloaded', severity: 'warning' });
  }

  const meter: AccessMeter = {
    // The gate's refusals of ids found nowhere, and searches that find nobody, feed the
    // enumeration signal (bursts of 404s).
    noteMiss: (tx, miss) => noteMiss(tx, miss),
    async meter(tx, exposure) {
      const key = actorKeyOf(exposure.actor);
      if (!key) return;
      const role = guardRoleOf(exposure);
      // The lock in a statement of its own: the facts statement after it sees what the actor's
      // previous request committed.
      await store.lockActor(tx, exposure.establishmentId, key);
      const at = now();
      const facts = await factsOf(tx, exposure.establishmentId, key, exposure.patientIds, at);
      if (facts.contained) throw new DomainError('account_contained', 'This account has been contained; a security officer must release it');
      if (exposure.exportId !== undefined) return meterExport(tx, exposure, exposure.exportId);
      // A decoy is reached by no legitimate workflow: alert and contain on the spot.
      if (facts.decoys > 0) {
        await containActor(tx, { establishmentId: exposure.establishmentId, actor: exposure.actor, signals: ['decoy_touched'], counts: { decoys: facts.decoys } });
        throw new DomainError('account_contained', 'This account has been contained; a security officer must release it');
      }
      const t = thresholdsOf(facts.thresholds);
      const incoming = await classify(tx, exposure, t, at);
      const { obs, network, known, day, pending } = await observe(tx, exposure, role, key, t, at, incoming, facts, 0);
      const { verdict, signals } = escalate(obs, t, pending);
      await act(tx, exposure, key, verdict, signals, obs, pending);
      // Allowed: the exposure now counts.
      if (exposure.action === 'write' && EXPLAINING_WRITES.has(exposure.resourceKind)) {
        await counters.explainAfterwards(tx, exposure.establishmentId, key, at, exposure.patientIds);
      }
      const { inline } = counters;
      if (!inline) await counters.record(tx, exposure.establishmentId, key, at, incoming);
      await store.recordAccess(tx, {
        establishmentId: exposure.establishmentId,
        actorKey: key,
        at,
        counters: inline?.recordEntries({ establishmentId: exposure.establishmentId, actorKey: key, now: at, incoming }) ?? null,
        newNetwork: network !== null && !known.has(network) ? network : null,
        day,
        unexplained: obs.unexplained['24h'],
        explained: obs.explained['24h'],
      });
    },
  };

  /**
   * Counts misses — a search that found nobody, an id that answered not_found — for the
   * enumeration signal; the caller answers with the returned verdict ('allow' meaning: answer the
   * miss as usual). Runs in the caller's tenant transaction.
   */
  async function noteMiss(tx: Tx, m: { actor: Actor; establishmentId: string; role: string | null; kind: 'search_miss' | 'not_found'; count?: number; ip?: string | null }): Promise<Verdict> {
    const key = actorKeyOf(m.actor);
    if (!key) return 'allow';
    await store.lockActor(tx, m.establishmentId, key);
    const at = now();
    const facts = await factsOf(tx, m.establishmentId, key, [], at);
    if (facts.contained) return 'contain';
    await counters.addMiss(tx, m.establishmentId, key, at, m.kind, m.count ?? 1);
    // As many rows as addMiss inserted (Array.from's length rounds down).
    const count = m.count ?? 1;
    const added = count > 0 ? Math.min(Math.floor(count), 100) : 0;
    const t = thresholdsOf(facts.thresholds);
    const role = guardRoleOf({ actor: m.actor, role: m.role } as Exposure);
    const { obs, pending } = await observe(tx, { actor: m.actor, establishmentId: m.establishmentId, ip: m.ip ?? null }, role, key, t, at, new Map(), facts, added);
    const { verdict, signals } = escalate(obs, t, pending);
    try {
      await act(tx, m, key, verdict, signals, obs, pending);
    } catch (error) {
      if (error instanceof DomainError) return verdict;
      throw error;
    }
    return 'allow';
  }

  return { meter, noteMiss, containActor, counters, thresholdsFor };
}
export type Meter = ReturnType<typeof createMeter>;

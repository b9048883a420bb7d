// The security officer's operations: alerts, release of a contained account, thresholds. Only a
// security officer of the establishment; releasing and changing thresholds need a second factor
// presented within five minutes. Every decision, refusals included, is audited.
import type { Database, Tx } from '../../platform/db/database.js';
import type { Actor } from '../../platform/http/context.js';
import { DomainError } from '../../platform/http/errors.js';
import { appendAuditEvent } from '../audit/index.js';
import { requireRecentSecondFactor } from '../access/index.js';
import { raiseAlert } from './alerts.js';
import { plantDecoys, type DecoyFileWriter } from './decoys.js';
import type { CounterStore } from './counters.js';
import type { GuardStore } from './store.js';
import { DEFAULT_THRESHOLDS, mergeThresholds, WINDOWS, type Limits, type Thresholds } from './signals.js';
import type { ThresholdOverrides } from './schemas.js';

type Outcome<T> = { ok: true; value: T } | { ok: false; error: DomainError };

export function createSecurityService(deps: { db: Database; store: GuardStore; counters: CounterStore; writeDecoyFile?: DecoyFileWriter; now?: () => Date; defaults?: Thresholds }) {
  const { db, store } = deps;
  const now = deps.now ?? (() => new Date());
  const defaults = deps.defaults ?? DEFAULT_THRESHOLDS;

  /** Runs fn for a security officer of the establishment; anyone else is refused (and the refusal audited). */
  async function asOfficer<T>(actor: Actor, establishmentId: string, action: string, opts: { stepUp: boolean }, fn: (tx: Tx, userId: string) => Promise<T>): Promise<T> {
    const outcome: Outcome<T> = await db.withTenant(establishmentId, async (tx) => {
      const userId = actor.kind === 'user' ? actor.userId : null;
      const role = userId ? (await tx.selectFrom('memberships').select('role').where('user_id', '=', userId).executeTakeFirst())?.role : undefined;
      let error: DomainError | null = null;
      if (!userId || role !== 'security_officer') error = new DomainError('forbidden', 'Security officers only');
      else if (opts.stepUp) {
        try {
          requireRecentSecondFactor(actor, now());
        } catch (e) {
          error = e as DomainError;
        }
      }
      if (error || !userId) {
        await appendAuditEvent(tx, { establishmentId, actor, actorRole: role ?? null, action, outcome: 'denied' });
        return { ok: false, error: error ?? new DomainError('forbidden') };
      }
      return { ok: true, value: await fn(tx, userId) };
    });
    if (!outcome.ok) throw outcome.error;
    return outcome.value;
  }

  return {
    async listAlerts(actor: Actor, establishmentId: string, q: { status?: 'open' | 'resolved' | 'all' | undefined; limit?: number | undefined; cursor?: string | undefined }) {
      const limit = q.limit ?? 50;
      return asOfficer(actor, establishmentId, 'security.alerts.list', { stepUp: false }, async (tx) => {
        const rows = await store.listAlerts(tx, establishmentId, { status: q.status ?? 'open', limit, cursor: q.cursor });
        const page = rows.slice(0, limit);
        return {
          items: page.map((r) => ({
            id: r.id,
            kind: r.kind,
            severity: r.severity,
            actorUserId: r.actor_user_id,
            patientIds: r.patient_ids,
            details: r.details as Record<string, string | number | boolean | null>,
            createdAt: new Date(r.created_at as unknown as Date).toISOString(),
            resolvedAt: r.resolved_at ? new Date(r.resolved_at).toISOString() : null,
            resolvedByUserId: r.resolved_by_user_id,
          })),
          nextCursor: rows.length > limit ? page.at(-1)!.id : null,
        };
      });
    },

    async resolveAlert(actor: Actor, establishmentId: string, alertId: string) {
      const at = now();
      const result = await asOfficer(actor, establishmentId, 'security.alert.resolve', { stepUp: false }, async (tx, userId) => {
        const r = await store.resolveAlert(tx, establishmentId, alertId, userId, at);
        if (r === 'resolved') {
          await appendAuditEvent(tx, { establishmentId, actor, actorRole: 'security_officer', action: 'security.alert.resolve', resourceKind: 'security_alert', resourceIds: [alertId], outcome: 'allowed' });
        }
        return r;
      });
      if (result === 'missing') throw new DomainError('not_found', 'No such alert');
      if (result === 'already') throw new DomainError('conflict', 'This alert is already resolved');
      return { id: alertId, resolvedAt: at.toISOString() };
    },

    /** Lifts the guard's containment of a user in this establishment (the account can log in again). */
    async releaseUser(actor: Actor, establishmentId: string, userId: string) {
      const released = await asOfficer(actor, establishmentId, 'security.user.release', { stepUp: true }, async (tx, officerId) => {
        const key = `user:${userId}`;
        const n = await store.releaseContainments(tx, establishmentId, key, officerId, now());
        if (n > 0) {
          // The officer has reviewed the activity: the account starts again from clean counters.
          await deps.counters.reset(tx, establishmentId, key);
          await store.clearStepUp(tx, establishmentId, key);
          await appendAuditEvent(tx, { establishmentId, actor, actorRole: 'security_officer', action: 'security.user.release', resourceKind: 'user', resourceIds: [userId], outcome: 'allowed' });
        }
        return n;
      });
      if (released === 0) throw new DomainError('not_found', 'This account is not contained here');
      return { userId, released };
    },

    /** Plants decoy files (step-up); answers their count only, so the decoys' ids stay with the database. */
    async plantDecoys(actor: Actor, establishmentId: string, count: number) {
      return asOfficer(actor, establishmentId, 'security.decoys.plant', { stepUp: true }, async (tx) => {
        if (!deps.writeDecoyFile) throw new Error('planting decoys needs the records module\'s file writer');
        const ids = await plantDecoys(tx, deps.writeDecoyFile, establishmentId, count);
        await appendAuditEvent(tx, { establishmentId, actor, actorRole: 'security_officer', action: 'security.decoys.plant', resourceKind: 'guard_decoy', outcome: 'allowed' });
        return { planted: ids.length };
      });
    },

    async getThresholds(actor: Actor, establishmentId: string) {
      return asOfficer(actor, establishmentId, 'security.thresholds.read', { stepUp: false }, async (tx) => {
        const overrides = (await store.thresholdOverrides(tx, establishmentId)) ?? {};
        return { effective: mergeThresholds(defaults, overrides) as unknown as Record<string, unknown>, overrides };
      });
    },

    async updateThresholds(actor: Actor, establishmentId: string, overrides: ThresholdOverrides) {
      const effective = mergeThresholds(defaults, overrides as never);
      const problems = inconsistentLimits(effective);
      if (problems.length > 0) {
        throw new DomainError('invalid_request', 'Each step-up line must be at or below its contain line', { errors: problems.map((field) => ({ field, message: 'stepUp above contain' })) });
      }
      return asOfficer(actor, establishmentId, 'security.thresholds.update', { stepUp: true }, async (tx, userId) => {
        await store.saveThresholdOverrides(tx, establishmentId, overrides as Record<string, unknown>, userId);
        await appendAuditEvent(tx, { establishmentId, actor, actorRole: 'security_officer', action: 'security.thresholds.update', resourceKind: 'guard_settings', outcome: 'allowed' });
        // Other officers see every change of the guard's lines (a lenient change is an attack path).
        await raiseAlert(tx, { establishmentId, kind: 'guard_thresholds_changed', severity: 'info', actorUserId: userId });
        return { effective: effective as unknown as Record<string, unknown>, overrides: overrides as Record<string, unknown> };
      });
    },
  };
}
export type SecurityService = ReturnType<typeof createSecurityService>;

function inconsistentLimits(t: Thresholds): string[] {
  const out: string[] = [];
  const bad = (l: Limits) => l.stepUp > l.contain;
  for (const [role, limits] of Object.entries(t.roles)) {
    for (const kind of ['unexplained', 'explained'] as const) {
      for (const w of WINDOWS) if (bad(limits[kind][w])) out.push(`body.roles.${role}.${kind}.${w}`);
    }
  }
  if (bad(t.misses5m)) out.push('body.misses5m');
  if (t.openingHours.from >= t.openingHours.to) out.push('body.openingHours');
  return out;
}

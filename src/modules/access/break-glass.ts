// Break-the-glass: a practitioner without a care relationship opens one patient's medical file
// for four hours, with a written reason, a fresh second factor, an alert to the security
// officers and an entry the patient will read in their access log.
import { v7 as uuidv7 } from 'uuid';
import type { Database } from '../../platform/db/database.js';
import type { Actor } from '../../platform/http/context.js';
import { DomainError } from '../../platform/http/errors.js';
import { appendAuditEvent } from '../audit/index.js';
import { raiseAlert } from '../guard/index.js';
import type { AccessStore } from './store.js';

export const BREAK_GLASS_HOURS = 4;
export const BREAK_GLASS_MIN_REASON = 20;
export const STEP_UP_WINDOW_MS = 5 * 60 * 1000;

/** Sensitive actions need a second factor presented within the last five minutes (ASVS 7.5.3). */
export function requireRecentSecondFactor(actor: Actor, now: Date = new Date()): void {
  if (actor.kind !== 'user') throw new DomainError('forbidden', 'Only a person can do this');
  const at = actor.secondFactorAt;
  if (!at || now.getTime() - at.getTime() > STEP_UP_WINDOW_MS) {
    throw new DomainError('step_up_required', 'Confirm with your second factor to continue');
  }
}

export function createBreakGlass(deps: { db: Database; store: AccessStore; now?: () => Date }) {
  const now = deps.now ?? (() => new Date());
  return {
    async open(input: { actor: Actor; establishmentId: string; patientId: string; reason: string; ip: string | null }) {
      const reason = input.reason.trim().replace(/\s+/g, ' ');
      if (reason.length < BREAK_GLASS_MIN_REASON) {
        throw new DomainError('invalid_request', `The reason must be at least ${BREAK_GLASS_MIN_REASON} characters`, {
          errors: [{ field: 'body.reason', message: `at least ${BREAK_GLASS_MIN_REASON} characters` }],
        });
      }
      const actor = input.actor;
      requireRecentSecondFactor(actor, now());
      if (actor.kind !== 'user') throw new DomainError('forbidden');
      const expiresAt = new Date(now().getTime() + BREAK_GLASS_HOURS * 3600_000);
      const outcome = await deps.db.withTenant(input.establishmentId, async (tx) => {
        const role = await deps.store.findRole(tx, actor.userId);
        const exists = (await deps.store.existingPatients(tx, [input.patientId])).has(input.patientId);
        if (role !== 'practitioner' || !exists) {
          await appendAuditEvent(tx, {
            establishmentId: input.establishmentId,
            actor,
            actorRole: role ?? null,
            ip: input.ip,
            action: 'access.break_glass',
            resourceKind: 'patient',
            patientIds: exists ? [input.patientId] : [],
            outcome: 'denied',
          });
          return role === 'practitioner' ? 'not_found' : 'forbidden';
        }
        const id = uuidv7();
        await deps.store.insertBreakGlass(tx, { id, establishmentId: input.establishmentId, patientId: input.patientId, userId: actor.userId, reason, expiresAt });
        await raiseAlert(tx, {
          establishmentId: input.establishmentId,
          kind: 'break_glass',
          severity: 'warning',
          actorUserId: actor.userId,
          patientIds: [input.patientId],
          details: { grantId: id, hours: BREAK_GLASS_HOURS },
        });
        await appendAuditEvent(tx, {
          establishmentId: input.establishmentId,
          actor,
          actorRole: role,
          ip: input.ip,
          action: 'access.break_glass',
          resourceKind: 'patient',
          resourceIds: [id],
          patientIds: [input.patientId],
          purpose: 'break_glass',
          reason,
          outcome: 'allowed',
        });
        return { id, expiresAt };
      });
      if (outcome === 'not_found') throw new DomainError('not_found', 'No such patient');
      if (outcome === 'forbidden') throw new DomainError('forbidden', 'Only a practitioner of this establishment can break the glass');
      return { grantId: outcome.id, expiresAt: outcome.expiresAt.toISOString() };
    },
  };
}
export type BreakGlass = ReturnType<typeof createBreakGlass>;

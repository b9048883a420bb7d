// A gate wired to the real guard, with fakes for identity's revocation and notifier and a clock
// the test moves by hand.
import type { Redis } from 'ioredis';
import { createAccessModule, type AccessGate } from '../../src/modules/access/index.js';
import { createGuardModule, type ExplanationSource, type GuardModule } from '../../src/modules/guard/index.js';
import type { Database } from '../../src/platform/db/database.js';
import type { Actor } from '../../src/platform/http/context.js';
import type { DataCategory } from '../../src/modules/audit/index.js';
import { DomainError } from '../../src/platform/http/errors.js';

export class TestClock {
  constructor(public t: Date = new Date('2026-11-23T09:00:00Z')) {}
  now = (): Date => new Date(this.t);
  advance(ms: number): void {
    this.t = new Date(this.t.getTime() + ms);
  }
}

export interface GuardedGate {
  gate: AccessGate;
  guard: GuardModule;
  revoked: Array<{ kind: string; id: string }>;
  notified: Array<{ alertId: string; kind: string; severity: string }>;
}

export function guardedGate(db: Database, opts: { clock: TestClock; redis?: Redis; explanationSources?: ExplanationSource[] }): GuardedGate {
  const revoked: GuardedGate['revoked'] = [];
  const notified: GuardedGate['notified'] = [];
  const guard = createGuardModule({
    db,
    now: opts.clock.now,
    ...(opts.redis ? { redis: opts.redis } : {}),
    ...(opts.explanationSources ? { explanationSources: opts.explanationSources } : {}),
    revokeAllForActor: async (_tx, target) => {
      revoked.push({ kind: target.kind, id: target.kind === 'user' ? target.userId : target.apiKeyId });
    },
    notifier: {
      async alertRaised(_tx, alert) {
        notified.push(alert);
      },
    },
  });
  const gate = createAccessModule({ db, meter: guard.meter, now: opts.clock.now }).gate;
  return { gate, guard, revoked, notified };
}

/** Reads patients through the gate; answers 'allowed' or the refusal code. */
export async function readThrough(gate: AccessGate, actor: Actor, establishmentId: string, patientIds: string[], categories: DataCategory[] = ['identity'], action: 'read' | 'write' = 'read', resourceKind = 'patient'): Promise<string> {
  try {
    await gate.access({ actor, establishmentId, action, resourceKind, categories, patientIds, ip: '192.0.2.10' }, async () => undefined);
    return 'allowed';
  } catch (error) {
    if (error instanceof DomainError) return error.code;
    throw error;
  }
}

export function withSecondFactor(actor: Actor, at: Date): Actor {
  return actor.kind === 'user' ? { ...actor, secondFactorAt: at } : actor;
}

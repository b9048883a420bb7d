// The access module's public face: the gate (every personal-data access goes through it),
// break-the-glass, and care relationships.
import { v7 as uuidv7 } from 'uuid';
import type { Database, Tx } from '../../platform/db/database.js';
import type { AccessMeter } from '../guard/index.js';
import { createAccessStore } from './store.js';
import { createAccessGate, type RelationshipSource } from './gate.js';
import { createBreakGlass } from './break-glass.js';
import { accessPlugin } from './routes.js';

export type { AccessGate, AccessRequest, AccessResult, RelationshipSource } from './gate.js';
export { decide, SCOPES, type ActorContext, type Subject, type Decision, type AccessAction } from './policy.js';
export { requireRecentSecondFactor, BREAK_GLASS_HOURS } from './break-glass.js';

export function createAccessModule(deps: { db: Database; meter: AccessMeter; relationshipSources?: RelationshipSource[]; now?: () => Date }) {
  const store = createAccessStore();
  const gate = createAccessGate({ db: deps.db, store, meter: deps.meter, relationshipSources: deps.relationshipSources ?? [] });
  const breakGlass = createBreakGlass({ db: deps.db, store, ...(deps.now ? { now: deps.now } : {}) });
  return { gate, breakGlass, routes: accessPlugin(breakGlass) };
}

/** Adds a practitioner to a patient's care team (or records a grant), in the caller's tenant transaction. */
export async function addCareRelationship(
  tx: Tx,
  r: { establishmentId: string; patientId: string; practitionerUserId: string; kind: 'care_team' | 'grant'; grantedByUserId?: string | null; validUntil?: Date | null },
): Promise<string> {
  const id = uuidv7();
  await createAccessStore().insertCareRelationship(tx, {
    id,
    establishmentId: r.establishmentId,
    patientId: r.patientId,
    practitionerUserId: r.practitionerUserId,
    kind: r.kind,
    grantedByUserId: r.grantedByUserId ?? null,
    validUntil: r.validUntil ?? null,
  });
  return id;
}

// The guard's public face. The access gate reports every exposure to the meter before data
// leaves the server; the meter may refuse the request (step-up, containment). Until the guard
// issue lands, the meter only lets requests through; alerts already work.
import { v7 as uuidv7 } from 'uuid';
import type { Tx } from '../../platform/db/database.js';
import type { Actor } from '../../platform/http/context.js';
import type { DataCategory } from '../audit/index.js';

export interface Exposure {
  actor: Actor;
  /** The actor's role in the establishment, when staff. */
  role: string | null;
  establishmentId: string;
  action: 'read' | 'write';
  resourceKind: string;
  categories: DataCategory[];
  /** Every patient whose data this request would show. */
  patientIds: string[];
  /** The subset explained by a care relationship, the patient's own access or a booking. */
  explainedPatientIds: string[];
  /** Patients reached through break-the-glass. */
  breakGlassPatientIds: string[];
  ip: string | null;
}

export interface AccessMeter {
  /**
   * Called inside the gate's transaction, before the data is returned. Throws a DomainError
   * (`step_up_required`, `account_contained`) to refuse the request.
   */
  meter(tx: Tx, exposure: Exposure): Promise<void>;
}

export const passThroughMeter: AccessMeter = {
  async meter() {
    // Deliberately empty until the guard issue: every exposure is still audited by the gate.
  },
};

export interface AlertInput {
  establishmentId: string;
  kind: string;
  severity: 'info' | 'warning' | 'critical';
  actorUserId: string | null;
  patientIds?: string[];
  /** Ids, counts and codes only: never personal values. */
  details?: Record<string, string | number | boolean | null>;
}

/** Records an alert for the establishment's security officers, in the caller's transaction. */
export async function raiseAlert(tx: Tx, alert: AlertInput): Promise<string> {
  const id = uuidv7();
  await tx
    .insertInto('security_alerts')
    .values({
      id,
      establishment_id: alert.establishmentId,
      kind: alert.kind,
      severity: alert.severity,
      actor_user_id: alert.actorUserId,
      patient_ids: alert.patientIds ?? [],
      details: JSON.stringify(alert.details ?? {}),
      resolved_at: null,
      resolved_by_user_id: null,
    })
    .execute();
  return id;
}

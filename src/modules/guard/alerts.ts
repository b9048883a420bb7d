// Alerts for the establishment's security officers (console, and e-mail through the notifier).
import { v7 as uuidv7 } from 'uuid';
import type { Tx } from '../../platform/db/database.js';

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

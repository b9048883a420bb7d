// The audit module's public face. Every security event and every access to personal data is
// appended here, in the caller's transaction: if the append fails, the caller's work fails too.
import { v7 as uuidv7 } from 'uuid';
import type { Tx } from '../../platform/db/database.js';
import type { Actor } from '../../platform/http/context.js';

export type DataCategory = 'identity' | 'contact' | 'insurance' | 'clinical' | 'genetic' | 'certificate' | 'administrative';
export type AuditOutcome = 'allowed' | 'denied' | 'contained' | 'failed';

export interface AuditEventInput {
  /** The establishment whose stream receives the event; null for the platform stream. */
  establishmentId: string | null;
  /** Who acted; undefined for an anonymous request (a failed login, a sign-up). */
  actor?: Actor | undefined;
  /** The actor's role in that establishment, when it is a staff membership. */
  actorRole?: string | null;
  ip?: string | null;
  /** What happened, as a dotted verb: 'auth.login', 'patient.read', 'agenda.list'. */
  action: string;
  resourceKind?: string | null;
  resourceIds?: string[];
  /** Patients whose data was touched: ids only, never values. */
  patientIds?: string[];
  categories?: DataCategory[];
  purpose?: string | null;
  reason?: string | null;
  outcome: AuditOutcome;
}

/**
 * Appends one event in the given transaction. The transaction must be scoped to the event's
 * establishment (withTenant) or, for the platform stream, be a platform transaction.
 */
export async function appendAuditEvent(tx: Tx, event: AuditEventInput): Promise<string> {
  const id = uuidv7();
  const actor = event.actor;
  await tx
    .insertInto('audit_events')
    .values({
      id,
      establishment_id: event.establishmentId,
      actor_kind: actor ? (actor.kind === 'api_key' ? 'api_key' : actor.kind) : 'anonymous',
      actor_user_id: actor?.kind === 'user' ? actor.userId : null,
      actor_role: event.actorRole ?? null,
      session_id: actor?.kind === 'user' ? actor.sessionId : null,
      api_key_id: actor?.kind === 'api_key' ? actor.apiKeyId : null,
      ip: event.ip ?? null,
      action: event.action,
      resource_kind: event.resourceKind ?? null,
      resource_ids: event.resourceIds ?? [],
      patient_ids: event.patientIds ?? [],
      categories: event.categories ?? [],
      purpose: event.purpose ?? null,
      reason: event.reason ?? null,
      outcome: event.outcome,
    })
    .execute();
  return id;
}

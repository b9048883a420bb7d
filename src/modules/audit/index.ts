// The audit module's public face. Every security event and every access to personal data is
// appended here, in the caller's transaction: if the append fails, the caller's work fails too.
// Appending takes no shared lock: the sealer chains and signs the events shortly after
// (sealer.ts), `hygie audit verify` checks them (verify.ts), patients read their access log
// (access-log.ts), and forwarders ship sealed events elsewhere (forward.ts).
import { v7 as uuidv7 } from 'uuid';
import type { Database, Exec } from '../../platform/db/database.js';
import type { Actor } from '../../platform/http/context.js';
import type { AuditEventsTable } from '../../platform/db/schema.js';
import { sql, type Insertable, type RawBuilder } from 'kysely';
import { PREPARED } from '../../platform/db/database.js';
import { createAccessLogService, type ActorNames } from './access-log.js';
import { auditPlugin } from './routes.js';
import { createAuditStore } from './store.js';
import { createAuditSearchService, type OfficerCheck } from './search.js';
import type { AuditKeyring } from './keys.js';

export { createAuditSealer, sealPending, signCheckpoints, appendCheckpointRecords, type AuditSealer, type CheckpointRecord, type SealResult } from './sealer.js';
export { verifyAuditLog, readCheckpointsFile, formatVerifyReport, VerifyAccessError, type VerifyReport, type VerifyProblem } from './verify.js';
export { keyringFromConfig, fileKeyring, derivedKeyring, type AuditKeyring } from './keys.js';
export { sealedEventsSince, type SealedEvent } from './forward.js';
export { createAccessLogService, type AccessLogService, type AccessLogPage, type ActorNames } from './access-log.js';
export { PLATFORM_STREAM } from './store.js';
export { AUDIT_SEARCH_ACTION, type AuditSearchService, type OfficerCheck } from './search.js';
export { exportCheckpoints } from './export.js';

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
 * The row of one event, for a caller that writes it in the same statement as the change it
 * records (the booking's single insert). Same rules as appendAuditEvent: the statement must run
 * in a transaction scoped to the event's establishment.
 */
export function auditEventRow(event: AuditEventInput): Insertable<AuditEventsTable> {
  return toRow(event);
}

/** An event's row, every column given (the time is the database's: `at` defaults to now()). */
type AuditRow = { [K in Exclude<keyof AuditEventsTable, 'at'>]-?: Exclude<Insertable<AuditEventsTable>[K], undefined> };

function toRow(event: AuditEventInput): AuditRow {
  const actor = event.actor;
  return {
    id: uuidv7(),
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
  };
}

/**
 * Appends one event in the given transaction. The transaction must be scoped to the event's
 * establishment (withTenant) or, for the platform stream, be a platform transaction.
 */
export async function appendAuditEvent(tx: Exec, event: AuditEventInput): Promise<string> {
  return (await appendAuditEvents(tx, [event]))[0]!;
}

/** Appends several events in one statement (same rules as appendAuditEvent); returns their ids. */
export async function appendAuditEvents(tx: Exec, events: AuditEventInput[]): Promise<string[]> {
  if (events.length === 0) return [];
  const { statement, ids, prepared } = auditInsert(events);
  await (prepared ? sql`${PREPARED}${statement}` : statement).execute(tx);
  return ids;
}

const AUDIT_COLUMNS = sql.raw(
  'id, establishment_id, actor_kind, actor_user_id, actor_role, session_id, api_key_id, ip, action, resource_kind, resource_ids, patient_ids, categories, purpose, reason, outcome',
);
/** Up to this many rows, an append is a prepared statement (one text per row count). */
const PREPARED_ROWS = 3;

/**
 * The INSERT of these events (no RETURNING), of fixed text for a given number of events so that it
 * can run as a prepared statement; the gate also folds it into the statement that reads the data
 * it records (`with audit as (insert …) select …`). Same rules as appendAuditEvent.
 */
export function auditInsert(events: AuditEventInput[]): { statement: RawBuilder<unknown>; ids: string[]; prepared: boolean } {
  if (events.length === 0) throw new TypeError('auditInsert needs at least one event');
  const rows = events.map(toRow);
  const values = rows.map(
    (r) => sql`(${r.id}, ${r.establishment_id}, ${r.actor_kind}, ${r.actor_user_id}, ${r.actor_role}, ${r.session_id}, ${r.api_key_id}, ${r.ip}, ${r.action},
      ${r.resource_kind}, ${r.resource_ids}, ${r.patient_ids}, ${r.categories}, ${r.purpose}, ${r.reason}, ${r.outcome})`,
  );
  return {
    statement: sql`insert into audit_events (${AUDIT_COLUMNS}) values ${sql.join(values)}`,
    ids: rows.map((r) => r.id),
    // Whether the statement (alone or with a caller's select) should run prepared (PREPARED).
    prepared: rows.length <= PREPARED_ROWS,
  };
}

/**
 * GET /api/v1/me/access-log and, given the security-officer rule (guard's, injected to keep the
 * audit module below guard), GET /api/v1/establishments/:eid/security/audit. Staff names are
 * decrypted by identity (injected: identity writes audit events, so audit does not import it).
 */
export function auditRoutes(deps: { db: Database; actorNames: ActorNames; isSecurityOfficer?: OfficerCheck; keyring?: AuditKeyring | undefined }) {
  const store = createAuditStore();
  const search = deps.isSecurityOfficer
    ? createAuditSearchService({ db: deps.db, store, actorNames: deps.actorNames, isSecurityOfficer: deps.isSecurityOfficer, keyring: deps.keyring })
    : undefined;
  return auditPlugin(createAccessLogService({ db: deps.db, store, actorNames: deps.actorNames }), search);
}

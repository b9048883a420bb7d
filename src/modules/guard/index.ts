// The guard's public face. The access gate reports every exposure to the meter before data
// leaves the server; the meter may refuse the request (step-up, containment). Identity checks
// `isContained` in its authenticator and at login, and provides `revokeAllForActor`.
import type { Redis } from 'ioredis';
import { sql, type RawBuilder } from 'kysely';
import type { Database, Tx } from '../../platform/db/database.js';
import type { Actor } from '../../platform/http/context.js';
import type { AccessMeter } from './exposure.js';
import { postgresCounters, redisCounters } from './counters.js';
import { createMeter, type ExplanationSource, type RevokeAllForActor, type SecurityNotifier } from './meter.js';
import { createSecurityService } from './security.js';
import { securityPlugin } from './routes.js';
import { createGuardStore } from './store.js';
import type { Thresholds, Verdict } from './signals.js';
import type { AccessGate } from '../access/index.js';
import { exportProviders, type ExportProvider } from './export-provider.js';
import { createExportService } from './exports.js';
import { createExportStore } from './export-store.js';
import { exportsPlugin } from './routes.js';

export type { Exposure, AccessMeter, MissReport } from './exposure.js';
export { raiseAlert, type AlertInput } from './alerts.js';
export type { ExplanationSource, RevokeAllForActor, SecurityNotifier } from './meter.js';
export { actorKeyOf } from './meter.js';
export { plantDecoys, type DecoyFileWriter } from './decoys.js';
import type { DecoyFileWriter } from './decoys.js';
export { createSyslogForwarder, createWebhookForwarder, verifyWebhook, allNotifiers, formatSyslog, type SyslogForwarder, type WebhookForwarder } from './forward.js';
export { registerForwarding, outboxAlertNotifier, forwardSealedEvents, forwardedEvent, formatAuditSyslog, type Forwarding, type ForwardingTargets, type ForwardedAuditEvent } from './forward-audit.js';
export { connectGuardRedis } from './redis.js';
export { officerMailNotifier, alertMail } from './alert-mail.js';
export { invalidParam, toCsv, type ExportProvider, type ExportRow, type ExportParams } from './export-provider.js';
export { EXPORT_DECISION_HOURS, EXPORT_DOWNLOAD_HOURS, MAX_OPEN_EXPORTS, type ExportView } from './exports.js';
export { DEFAULT_THRESHOLDS, decideEscalation, checkAgendaRange, type AgendaRangeVerdict, type Thresholds, type Verdict, type GuardRole } from './signals.js';

export const passThroughMeter: AccessMeter = {
  async meter() {
    // For tests of the gate alone: every exposure is still audited by the gate.
  },
};

export interface GuardModuleDeps {
  db: Database;
  /** When set (REDIS_URL), sliding-window counters live in Redis, shared by every instance. */
  redis?: Redis | undefined;
  explanationSources?: ExplanationSource[];
  revokeAllForActor?: RevokeAllForActor;
  notifier?: SecurityNotifier;
  /** Writes decoy patient files (records' encrypted writer; app.ts wires it). */
  writeDecoyFile?: DecoyFileWriter;
  now?: () => Date;
  defaults?: Thresholds;
  /** What two-person bulk exports can produce (scheduling's appointments; records' files later). */
  exportProviders?: ExportProvider[];
  /** Rows one export may hold (default 100,000). */
  maxExportRows?: number;
}

export function createGuardModule(deps: GuardModuleDeps) {
  const store = createGuardStore();
  const counters = deps.redis ? redisCounters(deps.redis) : postgresCounters();
  const m = createMeter({
    store,
    counters,
    ...(deps.explanationSources ? { explanationSources: deps.explanationSources } : {}),
    ...(deps.revokeAllForActor ? { revokeAllForActor: deps.revokeAllForActor } : {}),
    ...(deps.notifier ? { notifier: deps.notifier } : {}),
    ...(deps.now ? { now: deps.now } : {}),
    ...(deps.defaults ? { defaults: deps.defaults } : {}),
  });
  const security = createSecurityService({ db: deps.db, store, counters, ...(deps.writeDecoyFile ? { writeDecoyFile: deps.writeDecoyFile } : {}), ...(deps.now ? { now: deps.now } : {}), ...(deps.defaults ? { defaults: deps.defaults } : {}) });
  return {
    meter: m.meter,
    /**
     * For routes that answer a miss (a search that found nobody, an id answered not_found): counts
     * it for the enumeration signal, in its own transaction, and returns the verdict; the route
     * answers 401 step_up_required / 423 account_contained instead of its 404 when not 'allow'.
     */
    noteMiss(m2: { actor: Actor; establishmentId: string; role: string | null; kind: 'search_miss' | 'not_found'; count?: number; ip?: string | null }): Promise<Verdict> {
      return deps.db.withTenant(m2.establishmentId, (tx) => m.noteMiss(tx, m2));
    },
    security,
    routes: securityPlugin(security),
    /** The export routes, once the access gate exists (the gate needs this module's meter first). */
    exportRoutes(gate: AccessGate) {
      const service = createExportService({
        db: deps.db,
        gate,
        store: createExportStore(),
        guardStore: store,
        providers: exportProviders(deps.exportProviders ?? []),
        notifier: deps.notifier,
        ...(deps.now ? { now: deps.now } : {}),
        ...(deps.maxExportRows ? { maxRows: deps.maxExportRows } : {}),
      });
      return exportsPlugin(service);
    },
    counterKind: deps.redis ? ('redis' as const) : ('postgres' as const),
  };
}
export type GuardModule = ReturnType<typeof createGuardModule>;

/**
 * The same answer as isContained, as an expression over a user id column, for a caller that reads
 * it in a statement it runs anyway (the authenticator's session lookup, on every request).
 */
export function userContainedExpression(userIdColumn: string): RawBuilder<boolean> {
  return sql<boolean>`hygie_actor_contained('user:' || ${sql.ref(userIdColumn)}::text)`;
}

/** True while a security officer has not released the user (identity: authenticator and login). */
export async function isContained(tx: Tx, userId: string): Promise<boolean> {
  const { rows } = await sql<{ c: boolean }>`select hygie_actor_contained(${`user:${userId}`}) as c`.execute(tx);
  return rows[0]?.c === true;
}

/** True while the API key's containment stands (identity revokes the key itself at containment). */
export async function isApiKeyContained(tx: Tx, apiKeyId: string): Promise<boolean> {
  const { rows } = await sql<{ c: boolean }>`select hygie_actor_contained(${`key:${apiKeyId}`}) as c`.execute(tx);
  return rows[0]?.c === true;
}

/** The guard's containments of an actor in the transaction's establishment (for incident reports). */
export async function containmentHistory(tx: Tx, actor: { kind: 'user'; userId: string } | { kind: 'api_key'; apiKeyId: string }) {
  const key = actor.kind === 'user' ? `user:${actor.userId}` : `key:${actor.apiKeyId}`;
  const rows = await tx.selectFrom('contained_actors').select(['contained_at', 'released_at', 'signals']).where('actor_key', '=', key).orderBy('contained_at').execute();
  return rows.map((r) => ({ containedAt: new Date(r.contained_at), releasedAt: r.released_at ? new Date(r.released_at) : null, signals: r.signals }));
}

/** Alerts about an actor in the transaction's establishment, between two instants. */
export async function alertsAbout(tx: Tx, actor: { kind: 'user'; userId: string } | { kind: 'api_key'; apiKeyId: string }, from: Date, to: Date) {
  let q = tx.selectFrom('security_alerts').select(['created_at', 'kind', 'severity']).where(sql<boolean>`created_at >= ${from} and created_at <= ${to}`);
  q = actor.kind === 'user' ? q.where('actor_user_id', '=', actor.userId) : q.where(sql<boolean>`details->>'apiKeyId' = ${actor.apiKeyId}`);
  const rows = await q.orderBy('created_at').execute();
  return rows.map((r) => ({ at: new Date(r.created_at as unknown as Date), kind: r.kind, severity: r.severity }));
}

/** The acting user's role when they are a security officer of the transaction's establishment. */
export async function isSecurityOfficer(tx: Tx, actor: Actor): Promise<boolean> {
  if (actor.kind !== 'user') return false;
  const row = await tx.selectFrom('memberships').select('role').where('user_id', '=', actor.userId).executeTakeFirst();
  return row?.role === 'security_officer';
}

// Shipping alerts and audit events to the external collectors (syslog, signed webhook) through the
// job outbox, at least once (ASVS 16.4.3):
// - an alert becomes one job per collector, written in the transaction that raised it, so it is
//   sent exactly when the alert exists and retried with back-off until the collector takes it;
// - audit events are read from the sealed chain (audit's sealedEventsSince) after a cursor per
//   collector and stream, and the cursor moves only once the collector has taken the batch: a
//   crash or an outage means the batch is sent again, never skipped. A recurring job does this,
//   so the outbox's lease keeps two instances from shipping the same stream at once.
// What leaves: ids (pseudonymous: users, patient files, resources), codes, categories, counts,
// the chain position and hash. Never the IP address, the break-the-glass reason (free text that
// can name a patient's condition) or a session id (see docs/security.md › Forwarding).
import { hostname } from 'node:os';
import { sql } from 'kysely';
import type { Database, Tx } from '../../platform/db/database.js';
import { enqueueJob, type JobRunner } from '../../platform/jobs.js';
import { PLATFORM_STREAM, sealedEventsSince, type SealedEvent } from '../audit/index.js';
import type { SecurityNotifier } from './meter.js';
import { UDP_MAX_MESSAGE, type ForwardedAlert, type SyslogForwarder, type WebhookForwarder } from './forward.js';

export type Destination = 'syslog' | 'webhook';

export interface ForwardedAuditEvent {
  type: 'audit_event';
  stream: string;
  seq: string;
  /** Chain hash (hex): the collector can keep verifying the chain on its own. */
  hash: string;
  id: string;
  at: string;
  establishmentId: string | null;
  actorKind: string;
  actorUserId: string | null;
  actorRole: string | null;
  apiKeyId: string | null;
  action: string;
  resourceKind: string | null;
  resourceIds: string[];
  patientIds: string[];
  categories: string[];
  purpose: string | null;
  outcome: string;
  /** A written reason exists (break-the-glass); its text stays in Hygie. */
  hasReason: boolean;
}

/** The forwarded form of a sealed event: pseudonymous ids and codes only (pure). */
export function forwardedEvent(e: SealedEvent): ForwardedAuditEvent {
  const v = e.event;
  return {
    type: 'audit_event',
    stream: e.stream,
    seq: e.seq.toString(),
    hash: e.hash,
    id: v.id,
    at: `${v.at}Z`,
    establishmentId: v.establishmentId,
    actorKind: v.actorKind,
    actorUserId: v.actorUserId,
    actorRole: v.actorRole,
    apiKeyId: v.apiKeyId,
    action: v.action,
    resourceKind: v.resourceKind,
    resourceIds: v.resourceIds,
    patientIds: v.patientIds,
    categories: v.categories,
    purpose: v.purpose,
    outcome: v.outcome,
    hasReason: v.reason !== null && v.reason !== '',
  };
}

function sdValue(v: string): string {
  return v.replace(/[\\"\]]/g, (c) => `\\${c}`);
}
function token(v: string, max: number): string {
  const t = v.replace(/[^\x21-\x7e]/g, '').slice(0, max);
  return t === '' ? '-' : t;
}

/**
 * One RFC 5424 message per audit event: facility log-audit, severity notice (warning when refused
 * or contained), MSGID = the action, structured data with the scalar fields and the number of
 * patients, and the whole event as JSON in MSG. Over UDP, where a datagram should stay within
 * 2,048 octets, long id lists are left out of MSG (`"truncated":true`; counts stay in SD).
 */
export function formatAuditSyslog(e: ForwardedAuditEvent, opts: { host?: string; app?: string; maxBytes?: number } = {}): string {
  const severity = e.outcome === 'allowed' ? 5 : 4;
  const pri = 13 * 8 + severity;
  const sd =
    `[hygie@32473 type="audit" stream="${sdValue(e.stream)}" seq="${e.seq}" event="${sdValue(e.id)}" action="${sdValue(e.action)}" outcome="${sdValue(e.outcome)}"` +
    ` actorKind="${sdValue(e.actorKind)}" actor="${sdValue(e.actorUserId ?? e.apiKeyId ?? '-')}" patients="${e.patientIds.length}" categories="${sdValue(e.categories.join(','))}" hash="${e.hash}"]`;
  const head = `<${pri}>1 ${e.at} ${token(opts.host ?? hostname(), 255)} ${token(opts.app ?? 'hygie', 48)} ${process.pid} ${token(e.action, 32)} ${sd} `;
  let msg = `\uFEFF${JSON.stringify(e)}`;
  if (opts.maxBytes !== undefined && Buffer.byteLength(head + msg) > opts.maxBytes) {
    msg = `\uFEFF${JSON.stringify({ ...e, resourceIds: [], patientIds: [], truncated: true })}`;
  }
  return head + msg;
}

export interface ForwardingTargets {
  syslog?: SyslogForwarder | undefined;
  webhook?: WebhookForwarder | undefined;
}

const ALERT_JOB = 'guard.forward.alert';
const AUDIT_JOB = 'guard.forward.audit';
/** Audit events per syslog burst / per webhook request. */
const BATCH = 200;

async function sendAlert(targets: ForwardingTargets, destination: Destination, alert: ForwardedAlert): Promise<void> {
  const target = destination === 'syslog' ? targets.syslog : targets.webhook;
  if (!target) throw new Error(`no ${destination} collector configured`);
  await target.send(alert);
}

async function sendEvents(targets: ForwardingTargets, destination: Destination, events: ForwardedAuditEvent[]): Promise<void> {
  if (destination === 'syslog') {
    const s = targets.syslog;
    if (!s) throw new Error('no syslog collector configured');
    const maxBytes = s.transport === 'udp' ? UDP_MAX_MESSAGE : undefined;
    for (const e of events) await s.sendMessage(formatAuditSyslog(e, { host: s.hostName, ...(maxBytes !== undefined ? { maxBytes } : {}) }));
    return;
  }
  const w = targets.webhook;
  if (!w) throw new Error('no webhook collector configured');
  await w.post({ type: 'audit_events', events });
}

/**
 * Ships the sealed audit events of every stream that the collector has not taken yet; returns how
 * many were sent. Runs as the owner (like the sealer): it reads the chain and the cursors.
 */
export async function forwardSealedEvents(db: Database, targets: ForwardingTargets, destination: Destination): Promise<number> {
  const establishments = await db.owner.selectFrom('establishments').select('id').orderBy('id').execute();
  const cursors = new Map(
    (await db.owner.selectFrom('audit_forward_cursors').select(['stream', 'last_seq']).where('destination', '=', destination).execute()).map((c) => [c.stream, BigInt(c.last_seq)]),
  );
  let sent = 0;
  for (const establishmentId of [null, ...establishments.map((e) => e.id)]) {
    const stream = establishmentId ?? PLATFORM_STREAM;
    let batch: ForwardedAuditEvent[] = [];
    let lastSeq = cursors.get(stream) ?? 0n;
    const flush = async () => {
      if (batch.length === 0) return;
      await sendEvents(targets, destination, batch);
      // Only now, once the collector has the batch, does the cursor move.
      lastSeq = BigInt(batch.at(-1)!.seq);
      await db.owner
        .insertInto('audit_forward_cursors')
        .values({ destination, stream, last_seq: lastSeq.toString() })
        .onConflict((oc) => oc.columns(['destination', 'stream']).doUpdateSet({ last_seq: lastSeq.toString(), updated_at: new Date() }))
        .execute();
      sent += batch.length;
      batch = [];
    };
    for await (const e of sealedEventsSince(db, { establishmentId, afterSeq: lastSeq })) {
      batch.push(forwardedEvent(e));
      if (batch.length >= BATCH) await flush();
    }
    await flush();
  }
  return sent;
}

function destinationsOf(targets: ForwardingTargets): Destination[] {
  return [...(targets.syslog ? ['syslog' as const] : []), ...(targets.webhook ? ['webhook' as const] : [])];
}

/** Alerts as outbox jobs, one per configured collector, written in the alert's own transaction. */
export function outboxAlertNotifier(targets: ForwardingTargets): SecurityNotifier {
  const destinations = destinationsOf(targets);
  return {
    async alertRaised(tx: Tx, alert) {
      const at = new Date().toISOString();
      for (const destination of destinations) {
        // Collectors may be down for hours: keep retrying (5 s, 10 s, … capped at an hour).
        await enqueueJob(tx, { kind: ALERT_JOB, payload: { destination, alert: { ...alert, at } }, maxAttempts: 1000 });
      }
    },
  };
}

export interface Forwarding {
  /** Queues an audit-forwarding run per collector unless one is already queued. */
  schedule(): Promise<void>;
  /** Schedules a run every intervalMs until stop(). */
  start(intervalMs?: number): void;
  stop(): void;
}

/**
 * Registers the forwarding jobs on the outbox worker. `auditEvents` names the collectors that
 * also receive the audit events (HYGIE_FORWARD_AUDIT); alerts go to every configured collector.
 */
export function registerForwarding(jobs: JobRunner, deps: { db: Database; targets: ForwardingTargets; auditEvents: Destination[] }): Forwarding {
  const destinations = destinationsOf(deps.targets);
  const auditDestinations = deps.auditEvents.filter((d) => destinations.includes(d));
  jobs.register(ALERT_JOB, async (payload) => {
    const p = payload as { destination: Destination; alert: Omit<ForwardedAlert, 'at'> & { at: string } };
    await sendAlert(deps.targets, p.destination, { ...p.alert, at: new Date(p.alert.at) });
  });
  jobs.register(AUDIT_JOB, async (payload) => {
    await forwardSealedEvents(deps.db, deps.targets, (payload as { destination: Destination }).destination);
  });
  let timer: NodeJS.Timeout | undefined;
  const schedule = async () => {
    for (const destination of auditDestinations) {
      await deps.db.withPlatform(async (tx) => {
        const queued = await tx
          .selectFrom('jobs')
          .select('id')
          .where('kind', '=', AUDIT_JOB)
          .where('failed_at', 'is', null)
          .where(sql<boolean>`payload->>'destination' = ${destination}`)
          .executeTakeFirst();
        if (!queued) await enqueueJob(tx, { kind: AUDIT_JOB, payload: { destination }, maxAttempts: 1000 });
      });
    }
  };
  return {
    schedule,
    start(intervalMs = 5000) {
      if (timer || auditDestinations.length === 0) return;
      const tick = () => void schedule().catch(() => undefined);
      timer = setInterval(tick, intervalMs);
      timer.unref();
      tick();
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
    },
  };
}

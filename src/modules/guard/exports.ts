// Two-person bulk export (ASVS 2.3.5, design principle 5). Never available to one person alone:
//   1. a member whose role the provider allows asks for it, with a written purpose (step-up);
//   2. a security officer of the establishment — never the requester (a CHECK constraint holds
//      that even against a bug here) — approves it within 72 hours (step-up), or rejects it;
//   3. the requester downloads it once, within 24 hours of the approval (step-up). The file is
//      produced at that moment through the access gate (policy per patient, guard, audit in one
//      transaction) and never stored, so there is no copy at rest to steal or to forget.
// Every step is audited and raises an alert to the security officers (console and notifier).
import { v7 as uuidv7 } from 'uuid';
import type { Database, Tx } from '../../platform/db/database.js';
import type { Actor } from '../../platform/http/context.js';
import { DomainError } from '../../platform/http/errors.js';
import { appendAuditEvent } from '../audit/index.js';
import type { AccessGate } from '../access/index.js';
import { requireRecentSecondFactor } from '../access/index.js';
import { raiseAlert } from './alerts.js';
import type { SecurityNotifier } from './meter.js';
import type { GuardStore } from './store.js';
import { toCsv, type ExportProvider, type ExportRow } from './export-provider.js';
import type { ExportRowDb, ExportStore } from './export-store.js';

export const EXPORT_DECISION_HOURS = 72;
export const EXPORT_DOWNLOAD_HOURS = 24;
/** Open requests (pending or approved, not expired) one person may hold in an establishment. */
export const MAX_OPEN_EXPORTS = 3;
/** Rows one export may hold; a larger extract must be split (and each part approved). */
export const DEFAULT_MAX_EXPORT_ROWS = 100_000;

export interface ExportView {
  id: string;
  kind: string;
  params: Record<string, unknown>;
  purpose: string;
  status: 'pending' | 'approved' | 'rejected' | 'downloaded' | 'expired';
  requestedBy: string;
  requestedAt: string;
  decidedBy: string | null;
  decidedAt: string | null;
  expiresAt: string;
  downloadedAt: string | null;
  patientCount: number | null;
}

type Refusal = { refused: DomainError };

export function createExportService(deps: {
  db: Database;
  gate: AccessGate;
  store: ExportStore;
  guardStore: GuardStore;
  providers: Map<string, ExportProvider>;
  notifier?: SecurityNotifier | undefined;
  now?: () => Date;
  maxRows?: number;
}) {
  const { db, store } = deps;
  const now = deps.now ?? (() => new Date());
  const maxRows = deps.maxRows ?? DEFAULT_MAX_EXPORT_ROWS;

  function present(r: ExportRowDb, at: Date): ExportView {
    const expired = (r.status === 'pending' || r.status === 'approved') && new Date(r.expires_at).getTime() <= at.getTime();
    return {
      id: r.id,
      kind: r.kind,
      params: r.params,
      purpose: r.purpose,
      status: expired ? 'expired' : r.status,
      requestedBy: r.requested_by,
      requestedAt: new Date(r.requested_at).toISOString(),
      decidedBy: r.decided_by,
      decidedAt: r.decided_at ? new Date(r.decided_at).toISOString() : null,
      expiresAt: new Date(r.expires_at).toISOString(),
      downloadedAt: r.downloaded_at ? new Date(r.downloaded_at).toISOString() : null,
      patientCount: r.patient_count,
    };
  }

  async function roleOf(tx: Tx, actor: Actor): Promise<string | null> {
    if (actor.kind !== 'user') return null;
    return (await tx.selectFrom('memberships').select('role').where('user_id', '=', actor.userId).executeTakeFirst())?.role ?? null;
  }

  async function alert(tx: Tx, establishmentId: string, kind: string, userId: string, details: Record<string, string | number>): Promise<void> {
    const alertId = await raiseAlert(tx, { establishmentId, kind, severity: 'warning', actorUserId: userId, details });
    await deps.notifier?.alertRaised(tx, { establishmentId, alertId, kind, severity: 'warning' });
  }

  /**
   * Runs fn in a tenant transaction; a refusal it returns is audited (outcome denied) and
   * committed before it is thrown, like every other refused decision.
   */
  async function decided<T>(actor: Actor, establishmentId: string, action: string, exportId: string | null, fn: (tx: Tx, role: string | null) => Promise<T | Refusal>): Promise<T> {
    const r = await db.withTenant(establishmentId, async (tx) => {
      const role = await roleOf(tx, actor);
      const out = await fn(tx, role);
      if (out && typeof out === 'object' && 'refused' in out) {
        await appendAuditEvent(tx, { establishmentId, actor, actorRole: role, action, resourceKind: 'bulk_export', resourceIds: exportId ? [exportId] : [], outcome: 'denied' });
      }
      return out;
    });
    if (r && typeof r === 'object' && 'refused' in r) throw (r as Refusal).refused;
    return r as T;
  }

  function stepUpRefusal(actor: Actor): Refusal | null {
    try {
      requireRecentSecondFactor(actor, now());
      return null;
    } catch (e) {
      return { refused: e as DomainError };
    }
  }

  return {
    providerKinds: () => [...deps.providers.keys()],

    async request(actor: Actor, establishmentId: string, body: { kind: string; purpose: string; params?: Record<string, string> | undefined }): Promise<ExportView> {
      const provider = deps.providers.get(body.kind);
      if (!provider) throw new DomainError('invalid_request', 'Unknown export kind', { errors: [{ field: 'body.kind', message: `one of ${[...deps.providers.keys()].join(', ')}` }] });
      const purpose = body.purpose.trim().replace(/\s+/g, ' ');
      if (purpose.length < 20) throw new DomainError('invalid_request', 'State the purpose in at least 20 characters', { errors: [{ field: 'body.purpose', message: 'at least 20 characters' }] });
      const params = provider.parseParams(body.params ?? {});
      const at = now();
      return decided<ExportView>(actor, establishmentId, 'security.export.request', null, async (tx, role) => {
        if (actor.kind !== 'user' || !role || !(provider.requesterRoles as string[]).includes(role)) return { refused: new DomainError('forbidden', 'Your role cannot request this export') };
        const stepUp = stepUpRefusal(actor);
        if (stepUp) return stepUp;
        if ((await store.openCount(tx, establishmentId, actor.userId, at)) >= MAX_OPEN_EXPORTS) {
          return { refused: new DomainError('conflict', `At most ${MAX_OPEN_EXPORTS} open export requests per person`) };
        }
        const id = uuidv7();
        await store.insert(tx, { id, establishmentId, kind: provider.kind, params, purpose, requestedBy: actor.userId, at, expiresAt: new Date(at.getTime() + EXPORT_DECISION_HOURS * 3600_000) });
        await appendAuditEvent(tx, { establishmentId, actor, actorRole: role, action: 'security.export.request', resourceKind: 'bulk_export', resourceIds: [id], categories: provider.categories, purpose: 'bulk_export', outcome: 'allowed' });
        await alert(tx, establishmentId, 'export_requested', actor.userId, { exportId: id, kind: provider.kind });
        return present((await store.find(tx, establishmentId, id))!, at);
      });
    },

    /** Security officers see every request of the establishment; anyone else only their own. */
    async list(actor: Actor, establishmentId: string, q: { limit?: number | undefined; cursor?: string | undefined }) {
      const limit = q.limit ?? 50;
      const at = now();
      return decided<{ items: ExportView[]; nextCursor: string | null }>(actor, establishmentId, 'security.export.list', null, async (tx, role) => {
        if (actor.kind !== 'user' || !role) return { refused: new DomainError('forbidden') };
        const rows = await store.list(tx, establishmentId, { ...(role === 'security_officer' ? {} : { requestedBy: actor.userId }), limit, cursor: q.cursor });
        const page = rows.slice(0, limit);
        return { items: page.map((r) => present(r, at)), nextCursor: rows.length > limit ? page.at(-1)!.id : null };
      });
    },

    async approve(actor: Actor, establishmentId: string, id: string): Promise<ExportView> {
      return decide(actor, establishmentId, id, 'approved');
    },

    async reject(actor: Actor, establishmentId: string, id: string): Promise<ExportView> {
      return decide(actor, establishmentId, id, 'rejected');
    },

    /**
     * The single download: claims the export, produces its rows through the gate (policy for each
     * patient, the guard's meter, the audit event naming every patient), and answers CSV.
     */
    async download(actor: Actor, establishmentId: string, id: string, ip: string | null): Promise<{ filename: string; csv: string; patients: number }> {
      const at = now();
      const checked = await decided<{ provider: ExportProvider }>(actor, establishmentId, 'security.export.download', id, async (tx) => {
        const row = await store.find(tx, establishmentId, id);
        // Someone else's export is answered like one that does not exist.
        if (!row || actor.kind !== 'user' || row.requested_by !== actor.userId) return { refused: new DomainError('not_found', 'No such export') };
        const stepUp = stepUpRefusal(actor);
        if (stepUp) return stepUp;
        const view = present(row, at);
        if (view.status !== 'approved') return { refused: new DomainError('conflict', `This export is ${view.status}: it cannot be downloaded`) };
        const provider = deps.providers.get(row.kind);
        if (!provider) return { refused: new DomainError('conflict', 'This kind of export is no longer available') };
        return { provider };
      });
      const { provider } = checked;
      const rows = await deps.gate.list<ExportRow>(
        {
          actor,
          establishmentId,
          action: 'read',
          resourceKind: 'bulk_export',
          categories: provider.categories,
          resourceIds: [id],
          purpose: 'bulk_export',
          ip,
          auditAction: 'security.export.download',
          exportId: id,
        },
        async (tx) => {
          const params = await store.claimDownload(tx, establishmentId, id, (actor as Extract<Actor, { kind: 'user' }>).userId, at);
          // Lost a race with a concurrent download (or expired in between): nothing leaves.
          if (!params) throw new DomainError('conflict', 'This export has already been downloaded');
          const produced = await provider.fetch(tx, { establishmentId, params: params as Record<string, string>, limit: maxRows + 1 });
          if (produced.length > maxRows) throw new DomainError('conflict', `More than ${maxRows} rows: ask for a narrower export`);
          // Decoy files are fake: they never go out in an export (and would contain the requester).
          const ids = [...new Set(produced.map((r) => r.patientId).filter((p): p is string => p !== null))];
          const decoys = new Set(await deps.guardStore.decoysAmong(tx, establishmentId, ids));
          // The gate audits the download with every patient it names; an export naming nobody
          // is recorded here instead, so that every download leaves a trace.
          if (ids.length === decoys.size) {
            await appendAuditEvent(tx, { establishmentId, actor, actorRole: null, action: 'security.export.download', resourceKind: 'bulk_export', resourceIds: [id], purpose: 'bulk_export', outcome: 'allowed' });
          }
          return produced.filter((r) => r.patientId === null || !decoys.has(r.patientId));
        },
        (r) => r.patientId,
      );
      const patients = new Set(rows.map((r) => r.patientId).filter((p) => p !== null)).size;
      const date = at.toISOString().slice(0, 10);
      return { filename: `hygie-export-${provider.kind}-${date}.csv`, csv: toCsv(provider.columns, rows.map((r) => r.values)), patients };
    },
  };

  async function decide(actor: Actor, establishmentId: string, id: string, status: 'approved' | 'rejected'): Promise<ExportView> {
    const at = now();
    const action = status === 'approved' ? 'security.export.approve' : 'security.export.reject';
    return decided<ExportView>(actor, establishmentId, action, id, async (tx, role) => {
      if (actor.kind !== 'user' || role !== 'security_officer') return { refused: new DomainError('forbidden', 'Security officers only') };
      const stepUp = status === 'approved' ? stepUpRefusal(actor) : null;
      if (stepUp) return stepUp;
      const row = await store.find(tx, establishmentId, id);
      if (!row) return { refused: new DomainError('not_found', 'No such export') };
      // The second person is a second person (the database refuses it too).
      if (row.requested_by === actor.userId) return { refused: new DomainError('forbidden', 'The requester cannot decide their own export') };
      const expiresAt = status === 'approved' ? new Date(at.getTime() + EXPORT_DOWNLOAD_HOURS * 3600_000) : new Date(row.expires_at);
      if (!(await store.decide(tx, establishmentId, id, { status, by: actor.userId, at, expiresAt }))) {
        return { refused: new DomainError('conflict', `This export is ${present(row, at).status}: it cannot be decided`) };
      }
      await appendAuditEvent(tx, { establishmentId, actor, actorRole: role, action, resourceKind: 'bulk_export', resourceIds: [id], outcome: 'allowed' });
      await alert(tx, establishmentId, status === 'approved' ? 'export_approved' : 'export_rejected', actor.userId, { exportId: id, requestedBy: row.requested_by });
      return present((await store.find(tx, establishmentId, id))!, at);
    });
  }
}
export type ExportService = ReturnType<typeof createExportService>;

// Incident response: the impact report of an actor over a window (from the audit log), kept as an
// incident with its 72-hour clock, and the drafts for the CNIL and the patients.
import { v7 as uuidv7 } from 'uuid';
import type { Database, Tx } from '../../platform/db/database.js';
import type { Actor } from '../../platform/http/context.js';
import { DomainError } from '../../platform/http/errors.js';
import { appendAuditEvent } from '../audit/index.js';
import { alertsAbout, containmentHistory, isSecurityOfficer } from '../guard/index.js';
import { requireRecentSecondFactor } from '../access/index.js';
import { computeImpact, GDPR_NOTIFICATION_HOURS, type Impact, type IncidentActor } from './impact.js';
import { cnilNotification, patientLetter, type Lang } from './drafts.js';
import { cnilNotificationPdf, patientLetterPdf } from './pdf.js';
import type { IncidentStore } from './store.js';
import { storePatientNotice } from './notices.js';

/**
 * Delivers one patient's letter (identity's outbox e-mails it with the patient's name merged in,
 * and the patient portal shows it), in the caller's transaction.
 */
export type LetterSender = (tx: Tx, letter: { establishmentId: string; incidentId: string; patientId: string; lang: Lang; markdown: string }) => Promise<void>;

export function createIncidentService(deps: { db: Database; store: IncidentStore; now?: () => Date; sendLetter?: LetterSender }) {
  const { db, store } = deps;
  const now = deps.now ?? (() => new Date());

  /** Computes the impact inside a tenant transaction (used by the API and the CLI). */
  async function impactIn(tx: Tx, establishmentId: string, actor: IncidentActor, from: Date, to: Date): Promise<Impact> {
    const [events, containments, alerts] = [await store.actorEvents(tx, actor, from, to), await containmentHistory(tx, actor), await alertsAbout(tx, actor, from, new Date(to.getTime() + 24 * 3600_000))];
    return computeImpact({ establishmentId, actor, from, to, events, containments, alerts, openedAt: now() });
  }

  async function officerTx<T>(actor: Actor, establishmentId: string, action: string, fn: (tx: Tx, userId: string) => Promise<T>, stepUp = false): Promise<T> {
    const r = await db.withTenant(establishmentId, async (tx) => {
      let error: DomainError | null = null;
      if (!(await isSecurityOfficer(tx, actor))) error = new DomainError('forbidden', 'Security officers only');
      else if (stepUp) {
        try {
          requireRecentSecondFactor(actor, now());
        } catch (e) {
          error = e as DomainError;
        }
      }
      if (error) {
        await appendAuditEvent(tx, { establishmentId, actor, action, outcome: 'denied' });
        return { error };
      }
      return { value: await fn(tx, (actor as Extract<Actor, { kind: 'user' }>).userId) };
    });
    if ('error' in r) throw r.error;
    return r.value;
  }

  async function load(tx: Tx, id: string) {
    const row = await store.findIncident(tx, id);
    if (!row) return null;
    const impact = row.report as unknown as Impact;
    const events = await store.incidentEvents(tx, id);
    return { id: row.id, impact, events };
  }

  function present(i: { id: string; impact: Impact; events: Array<{ kind: string; at: unknown; reference: string | null }> }) {
    const recorded = i.events.map((e) => ({ at: new Date(e.at as Date).toISOString(), kind: e.kind, ...(e.reference ? { detail: e.reference } : {}) }));
    const cnil = recorded.find((e) => e.kind === 'cnil_notified');
    return {
      id: i.id,
      ...i.impact,
      timeline: [...i.impact.timeline, ...recorded].sort((a, b) => a.at.localeCompare(b.at)),
      clock: {
        hours: GDPR_NOTIFICATION_HOURS,
        deadline: i.impact.notificationDeadline,
        cnilNotifiedAt: cnil?.at ?? null,
        overdue: !cnil && now().getTime() > new Date(i.impact.notificationDeadline).getTime(),
      },
    };
  }

  return {
    impactIn,

    async open(actor: Actor, establishmentId: string, body: { actorUserId?: string | undefined; apiKeyId?: string | undefined; from: string; to: string }) {
      const subject: IncidentActor | null = body.actorUserId ? { kind: 'user', userId: body.actorUserId } : body.apiKeyId ? { kind: 'api_key', apiKeyId: body.apiKeyId } : null;
      const from = new Date(body.from);
      const to = new Date(body.to);
      if (!subject || (body.actorUserId && body.apiKeyId) || !(from < to)) {
        throw new DomainError('invalid_request', 'Give exactly one of actorUserId and apiKeyId, and from before to', { errors: [{ field: 'body', message: 'actorUserId | apiKeyId, from < to' }] });
      }
      return officerTx(actor, establishmentId, 'security.incident.open', async (tx, userId) => {
        const impact = await impactIn(tx, establishmentId, subject, from, to);
        const id = uuidv7();
        await store.insertIncident(tx, { id, establishmentId, impact, createdByUserId: userId });
        await appendAuditEvent(tx, { establishmentId, actor, actorRole: 'security_officer', action: 'security.incident.open', resourceKind: 'incident', resourceIds: [id], outcome: 'allowed' });
        return present({ id, impact, events: [] });
      });
    },

    async get(actor: Actor, establishmentId: string, id: string) {
      const found = await officerTx(actor, establishmentId, 'security.incident.read', async (tx) => load(tx, id));
      if (!found) throw new DomainError('not_found', 'No such incident');
      return present(found);
    },

    async notification(actor: Actor, establishmentId: string, id: string, lang: Lang) {
      const r = await officerTx(actor, establishmentId, 'security.incident.read', async (tx) => ({ found: await load(tx, id), est: await store.establishment(tx, establishmentId) }));
      if (!r.found || !r.est) throw new DomainError('not_found', 'No such incident');
      return { lang, markdown: cnilNotification(r.found.impact, r.est, lang) };
    },

    /** The CNIL draft as a PDF. */
    async notificationPdf(actor: Actor, establishmentId: string, id: string, lang: Lang): Promise<Uint8Array> {
      const r = await officerTx(actor, establishmentId, 'security.incident.read', async (tx) => ({ found: await load(tx, id), est: await store.establishment(tx, establishmentId) }));
      if (!r.found || !r.est) throw new DomainError('not_found', 'No such incident');
      return cnilNotificationPdf(r.found.impact, r.est, lang);
    },

    /** One affected patient's letter as a PDF; a patient the incident does not list is not_found. */
    async letterPdf(actor: Actor, establishmentId: string, id: string, patientId: string, lang: Lang): Promise<Uint8Array> {
      const r = await officerTx(actor, establishmentId, 'security.incident.read', async (tx) => ({ found: await load(tx, id), est: await store.establishment(tx, establishmentId) }));
      const patient = r.found?.impact.patients.find((p) => p.patientId === patientId);
      if (!r.found || !r.est || !patient) throw new DomainError('not_found', 'No such letter');
      return patientLetterPdf(r.found.impact, patient, r.est, lang);
    },

    async letters(actor: Actor, establishmentId: string, id: string, lang: Lang, limit: number, cursor: string | undefined) {
      const r = await officerTx(actor, establishmentId, 'security.incident.read', async (tx) => ({ found: await load(tx, id), est: await store.establishment(tx, establishmentId) }));
      if (!r.found || !r.est) throw new DomainError('not_found', 'No such incident');
      const all = r.found.impact.patients.filter((p) => !cursor || p.patientId > cursor);
      const page = all.slice(0, limit);
      return {
        items: page.map((p) => ({ patientId: p.patientId, lang, markdown: patientLetter(r.found!.impact, p, r.est!, lang) })),
        nextCursor: all.length > limit ? page.at(-1)!.patientId : null,
      };
    },

    /** Queues every affected patient's letter (step-up), audits it per patient, and records the step. */
    async notifyPatients(actor: Actor, establishmentId: string, id: string, lang: Lang) {
      const found = await officerTx(
        actor,
        establishmentId,
        'security.incident.notify',
        async (tx, userId) => {
          const incident = await load(tx, id);
          const est = await store.establishment(tx, establishmentId);
          if (!incident || !est) return null;
          // Checked once the caller is an officer here and the incident exists: others get 404.
          const send = deps.sendLetter;
          if (!send) throw new DomainError('service_unavailable', 'Letter delivery is not configured on this instance');
          for (const p of incident.impact.patients) {
            const letter = { establishmentId, incidentId: id, patientId: p.patientId, lang, markdown: patientLetter(incident.impact, p, est, lang) };
            await send(tx, letter);
            // The same letter in the patient's portal, when the file is linked to an account.
            await storePatientNotice(tx, letter);
          }
          // The patients see this in their access log: the breach letter is about their data.
          await appendAuditEvent(tx, {
            establishmentId,
            actor,
            actorRole: 'security_officer',
            action: 'security.incident.notify',
            resourceKind: 'incident',
            resourceIds: [id],
            patientIds: incident.impact.patients.map((p) => p.patientId),
            purpose: 'breach_notification',
            outcome: 'allowed',
          });
          await store.insertIncidentEvent(tx, { id: uuidv7(), establishmentId, incidentId: id, kind: 'patients_notified', at: now(), reference: `${incident.impact.patients.length} letters`, userId });
          return load(tx, id);
        },
        true,
      );
      if (!found) throw new DomainError('not_found', 'No such incident');
      return present(found);
    },

    /** Records a step of the incident's timeline (CNIL notified with its reference, complaint filed, …). */
    async record(actor: Actor, establishmentId: string, id: string, e: { kind: 'cnil_notified' | 'complaint_filed' | 'patients_notified' | 'note'; at?: string | undefined; reference?: string | undefined }) {
      const found = await officerTx(
        actor,
        establishmentId,
        'security.incident.record',
        async (tx, userId) => {
          if (!(await store.findIncident(tx, id))) return null;
          await store.insertIncidentEvent(tx, { id: uuidv7(), establishmentId, incidentId: id, kind: e.kind, at: e.at ? new Date(e.at) : now(), reference: e.reference ?? null, userId });
          await appendAuditEvent(tx, { establishmentId, actor, actorRole: 'security_officer', action: `security.incident.${e.kind}`, resourceKind: 'incident', resourceIds: [id], outcome: 'allowed' });
          return load(tx, id);
        },
        true,
      );
      if (!found) throw new DomainError('not_found', 'No such incident');
      return present(found);
    },
  };
}
export type IncidentService = ReturnType<typeof createIncidentService>;

// Confirmations, reminders, cancellation notices and waiting-list offers, as outbox jobs.
//
// The jobs are queued in the transaction that books, cancels or moves the appointment, so a
// notice exists exactly when the change was committed, and survives a crash until a worker sends
// it (retried with backoff by the job runner). A job carries ids only — never an address, a name
// or a text — so the jobs table holds no personal data; the worker reads the contact and renders
// the message when it sends, and first checks that the notice is still true (a reminder of an
// appointment that was cancelled or moved is dropped, even if it was claimed before the change).
// What the messages say is messages.ts: date, time, place and practitioner, never the motive.
import type { Database, Tx } from '../../platform/db/database.js';
import { enqueueJobs, withdrawJobs, type JobHandler, type JobInput } from '../../platform/jobs.js';
import type { Logger } from '../../platform/log.js';
import type { Mailer } from '../../platform/mail.js';
import type { SmsSender } from '../../platform/sms.js';
import { appendAuditEvent } from '../audit/index.js';
import { appointmentIcs } from './ics.js';
import { DEFAULT_REMINDER_OFFSETS_HOURS, reminderTimes, renderNotice, type NoticeKind } from './messages.js';
import type { SchedulingStore } from './store.js';
import type { Vault } from '../vault/index.js';
import { patientContacts } from '../records/index.js';

export const NOTICE_JOB = 'scheduling.notice';

type Channel = 'mail' | 'sms';

interface NoticePayload {
  appointmentId: string;
  establishmentId: string;
  kind: NoticeKind;
  channel: Channel;
  /** The start the notice announces (epoch ms): a notice about another start is stale. */
  start: number;
}

interface Subject {
  id: string;
  establishmentId: string;
  start: number;
}

function job(a: Subject, kind: NoticeKind, channel: Channel, runAt?: number): JobInput {
  const payload: NoticePayload = { appointmentId: a.id, establishmentId: a.establishmentId, kind, channel, start: a.start };
  return { kind: NOTICE_JOB, subject: a.id, payload: { ...payload }, ...(runAt !== undefined ? { runAt: new Date(runAt) } : {}) };
}

/**
 * The jobs of an appointment just booked or moved: a confirmation now, reminders before it.
 * Every notice goes by mail; by SMS only what is worth a text message on a phone: the last
 * reminder (the day before, by default) and the 15-minute waiting-list offer.
 */
export function bookedNoticeJobs(a: Subject, reminderOffsetsHours: readonly number[] | null | undefined, now: number): JobInput[] {
  const jobs = [job(a, 'confirmation', 'mail')];
  const offsets = reminderOffsetsHours && reminderOffsetsHours.length > 0 ? reminderOffsetsHours : DEFAULT_REMINDER_OFFSETS_HOURS;
  const times = reminderTimes(a.start, offsets, now);
  times.forEach((at, i) => {
    jobs.push(job(a, 'reminder', 'mail', at));
    if (i === times.length - 1) jobs.push(job(a, 'reminder', 'sms', at));
  });
  return jobs;
}

/** In the booking transaction: queue the confirmation and the reminders (one round trip). */
export async function queueBookedNotices(tx: Tx, a: Subject, reminderOffsetsHours: readonly number[] | null | undefined, now: number): Promise<void> {
  await enqueueJobs(tx, bookedNoticeJobs(a, reminderOffsetsHours, now));
}

/** In the rescheduling transaction: the old notices go, a confirmation and reminders of the new time come. */
export async function queueMovedNotices(tx: Tx, a: Subject, reminderOffsetsHours: readonly number[] | null | undefined, now: number): Promise<void> {
  await withdrawJobs(tx, a.id, [NOTICE_JOB]);
  await queueBookedNotices(tx, a, reminderOffsetsHours, now);
}

/** In the cancelling transaction: pending reminders go; a cancellation notice comes, unless the patient needs none. */
export async function queueCancelledNotices(tx: Tx, a: Subject, options: { notify: boolean }): Promise<void> {
  await withdrawJobs(tx, a.id, [NOTICE_JOB]);
  if (options.notify) await enqueueJobs(tx, [job(a, 'cancellation', 'mail')]);
}

/** In the transaction that holds a freed slot for a waiting patient: tell them at once. */
export async function queueOfferNotices(tx: Tx, hold: Subject): Promise<void> {
  await enqueueJobs(tx, [job(hold, 'waitlist_offer', 'mail'), job(hold, 'waitlist_offer', 'sms')]);
}

function parsePayload(raw: Record<string, unknown>): NoticePayload | undefined {
  const { appointmentId, establishmentId, kind, channel, start } = raw;
  if (typeof appointmentId !== 'string' || typeof establishmentId !== 'string' || typeof start !== 'number') return undefined;
  if (kind !== 'confirmation' && kind !== 'reminder' && kind !== 'cancellation' && kind !== 'waitlist_offer') return undefined;
  if (channel !== 'mail' && channel !== 'sms') return undefined;
  return { appointmentId, establishmentId, kind, channel, start };
}

type NoticeContext = NonNullable<Awaited<ReturnType<SchedulingStore['findNoticeContext']>>>;

/** Whether the notice is still true when it is about to leave. */
export function stillWanted(p: NoticePayload, a: Pick<NoticeContext, 'status' | 'starts_at' | 'hold_expires_at'>, now: number): boolean {
  const sameStart = a.starts_at.getTime() === p.start;
  switch (p.kind) {
    case 'confirmation':
      return a.status === 'confirmed' && sameStart;
    case 'reminder':
      return a.status === 'confirmed' && sameStart && now < p.start;
    case 'cancellation':
      return a.status === 'cancelled';
    case 'waitlist_offer':
      return a.status === 'held' && sameStart && a.hold_expires_at !== null && a.hold_expires_at.getTime() > now;
  }
}

export interface NoticeDeps {
  db: Database;
  store: SchedulingStore;
  mailer: Mailer;
  sms: SmsSender;
  /** Opens the contact of a patient file without an account (records encrypts it). */
  vault: Vault;
  /** Base of the link to the patient's appointments page. */
  publicUrl: string;
  now: () => number;
  logger?: Logger;
}

/** The worker side: renders and sends one notice, or drops it when it no longer holds. */
export function noticeHandler(deps: NoticeDeps): JobHandler {
  return async (raw) => {
    const p = parsePayload(raw);
    if (!p) {
      deps.logger?.warn({ kind: NOTICE_JOB }, 'malformed notice job dropped');
      return;
    }
    const now = deps.now();
    const found = await deps.db.withTenant(p.establishmentId, async (tx) => {
      const a = await deps.store.findNoticeContext(tx, p.appointmentId);
      if (!a || !stillWanted(p, a, now)) return undefined;
      const contact = (await patientContacts(tx, deps.vault, [a.patient_id])).get(a.patient_id);
      const to = p.channel === 'mail' ? contact?.email : contact?.phone;
      if (!to) return undefined;
      // The patient's access history shows that their contact was read to send this notice.
      await appendAuditEvent(tx, {
        establishmentId: p.establishmentId,
        actor: { kind: 'system', name: 'notifier' },
        action: `appointment.notice.${p.kind}`,
        resourceKind: 'appointment',
        resourceIds: [a.id],
        patientIds: [a.patient_id],
        categories: ['administrative'],
        outcome: 'allowed',
      });
      return { a, to };
    });
    if (!found) return;
    const { a, to } = found;
    const place = { name: a.establishment_name, addressLine: a.address_line, postalCode: a.postal_code, city: a.city };
    const practitionerName = `${a.practitioner_first_name} ${a.practitioner_last_name}`;
    const rendered = renderNotice({
      kind: p.kind,
      start: a.starts_at.getTime(),
      timeZone: a.time_zone,
      practitionerName,
      place,
      ...(a.hold_expires_at ? { offerExpiresAt: a.hold_expires_at.getTime() } : {}),
      link: `${deps.publicUrl}/mes-rendez-vous`,
    });
    const template = `scheduling.${p.kind}`;
    if (p.channel === 'sms') {
      await deps.sms.send({ to, text: rendered.sms, template });
      return;
    }
    const withCalendar = p.kind === 'confirmation' || p.kind === 'cancellation';
    await deps.mailer.send({
      to,
      subject: rendered.subject,
      text: rendered.text,
      template,
      ...(withCalendar
        ? {
            attachments: [
              {
                filename: 'rendez-vous.ics',
                contentType: `text/calendar; charset=utf-8; method=${p.kind === 'cancellation' ? 'CANCEL' : 'PUBLISH'}`,
                content: appointmentIcs(
                  { id: a.id, start: a.starts_at, end: a.ends_at, cancelled: p.kind === 'cancellation', practitionerName, place, stamp: a.updated_at },
                  { method: p.kind === 'cancellation' ? 'cancel' : 'publish' },
                ),
              },
            ],
          }
        : {}),
    });
  };
}

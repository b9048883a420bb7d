// The waiting list: a patient asks for an earlier slot with a practitioner and motive (earlier
// than their current appointment, or any). When an appointment of that motive is cancelled, the
// first in line gets the freed slot held for 15 minutes (a 'held' appointment, which the
// exclusion constraint counts like any other); accepting confirms it and cancels the later one.
// The offer is told to the patient by mail and SMS through the outbox (notices.ts), queued in the
// transaction that makes it.
import { v7 as uuidv7 } from 'uuid';
import type { Database, Tx } from '../../platform/db/database.js';
import type { Actor } from '../../platform/http/context.js';
import { DomainError } from '../../platform/http/errors.js';
import { appendAuditEvent } from '../audit/index.js';
import { userActor } from './access.js';
import { onceMoreIfFileMadeMeanwhile, patientFileForAccount } from './patients.js';
import type { Vault } from '../vault/index.js';
import type { SchedulingStore } from './store.js';
import type { PublicCache } from '../../platform/cache.js';
import { practitionerTag } from './public.js';
import { DAY, MINUTE, formatInstant } from './time.js';
import { queueBookedNotices, queueCancelledNotices, queueOfferNotices } from './notices.js';

export const OFFER_MINUTES = 15;

interface Freed {
  id: string;
  establishment_id: string;
  agenda_id: string;
  practitioner_id: string;
  motive_id: string;
  starts_at: Date;
}

/**
 * Offers a freed slot to the first patient waiting for its motive, in the transaction that freed
 * it. Returns the entry offered, if any.
 */
export async function offerFreedSlot(store: SchedulingStore, tx: Tx, freed: Freed, now: number): Promise<string | undefined> {
  if (freed.starts_at.getTime() <= now) return undefined;
  const motive = await store.findMotive(tx, freed.motive_id);
  if (!motive || !motive.active) return undefined;
  const entry = await store.firstInLine(tx, freed.motive_id, freed.starts_at);
  if (!entry) return undefined;
  const start = freed.starts_at.getTime();
  const end = start + motive.duration_minutes * MINUTE;
  const holdId = uuidv7();
  const expiresAt = new Date(now + OFFER_MINUTES * MINUTE);
  await store.insertHold(tx, {
    id: holdId,
    establishmentId: freed.establishment_id,
    agendaId: freed.agenda_id,
    practitionerId: freed.practitioner_id,
    motiveId: freed.motive_id,
    patientId: entry.patient_id,
    start,
    end,
    occupiedUntil: end + motive.buffer_minutes * MINUTE,
    expiresAt,
  });
  await store.updateWaitlistEntry(tx, entry.id, { status: 'offered', offered_appointment_id: holdId, offer_expires_at: expiresAt });
  await queueOfferNotices(tx, { id: holdId, establishmentId: freed.establishment_id, start });
  await appendAuditEvent(tx, {
    establishmentId: freed.establishment_id,
    actor: { kind: 'system', name: 'waitlist' },
    action: 'waitlist.offer',
    resourceKind: 'appointment',
    resourceIds: [holdId, entry.id],
    patientIds: [entry.patient_id],
    categories: ['administrative'],
    outcome: 'allowed',
  });
  return entry.id;
}

export function createWaitlist(deps: { db: Database; store: SchedulingStore; vault: Vault; now: () => number; cache: PublicCache }) {
  const { db, store } = deps;

  async function withOwnEntry<T>(actor: Actor, entryId: string, fn: (tx: Tx, entry: NonNullable<Awaited<ReturnType<SchedulingStore['findWaitlistEntry']>>>) => Promise<T>): Promise<T> {
    const user = userActor(actor);
    const linked = await db.withPlatform(async (tx) => (await store.linkedEstablishments(tx, user.userId)).map((r) => r.linked_establishment_id));
    for (const establishmentId of linked) {
      const marker = Symbol('absent');
      const result = await db.withTenant(establishmentId, async (tx): Promise<T | typeof marker> => {
        const entry = await store.findWaitlistEntry(tx, entryId);
        if (!entry) return marker;
        const files = await store.patientFilesOfAccount(tx, user.userId);
        if (!files.some((f) => f.id === entry.patient_id)) return marker;
        return fn(tx, entry);
      });
      if (result !== marker) return result as T;
    }
    throw new DomainError('not_found');
  }

  const audit = (tx: Tx, actor: Actor, establishmentId: string, action: string, ids: string[], patientId: string) =>
    appendAuditEvent(tx, { establishmentId, actor, actorRole: 'patient', action, resourceKind: 'waitlist', resourceIds: ids, patientIds: [patientId], categories: ['administrative'], outcome: 'allowed' });

  return {
    async join(actor: Actor, body: { practitionerId: string; motiveId: string; appointmentId?: string }) {
      const user = userActor(actor);
      const { motive, agenda } = await db.withPlatform(async (tx) => {
        const m = await store.findMotive(tx, body.motiveId);
        const a = m ? await store.findAgendaById(tx, m.agenda_id) : undefined;
        if (!m || !m.active || !a || !a.published || a.practitioner_id !== body.practitionerId) throw new DomainError('not_found');
        return { motive: m, agenda: a };
      });
      const attempt = () =>
        db.withTenant(agenda.establishment_id, async (tx) => {
          const patientId = await patientFileForAccount(store, deps.vault, tx, agenda.establishment_id, user);
          let wantedBefore = new Date(deps.now() + motive.horizon_days * DAY);
          if (body.appointmentId) {
            const current = await store.findAppointment(tx, body.appointmentId);
            if (!current || current.patient_id !== patientId || current.status !== 'confirmed' || current.practitioner_id !== agenda.practitioner_id) {
              throw new DomainError('not_found');
            }
            wantedBefore = current.starts_at;
          }
          const id = uuidv7();
          await store.insertWaitlistEntry(tx, { id, establishmentId: agenda.establishment_id, agendaId: agenda.agenda_id, motiveId: motive.id, patientId, currentAppointmentId: body.appointmentId ?? null, wantedBefore });
          await audit(tx, actor, agenda.establishment_id, 'waitlist.join', [id], patientId);
          return { id, status: 'waiting' as const, wantedBefore: formatInstant(wantedBefore.getTime(), agenda.time_zone) };
        });
      try {
        // Two first entries of one account here at once (two tabs): done again, this one finds
        // the file the other made.
        return await onceMoreIfFileMadeMeanwhile(attempt);
      } catch (error) {
        if ((error as { code?: string }).code === '23505') throw new DomainError('conflict', 'You are already on the waiting list for this motive');
        throw error;
      }
    },

    async mine(actor: Actor) {
      const user = userActor(actor);
      const linked = await db.withPlatform(async (tx) => (await store.linkedEstablishments(tx, user.userId)).map((r) => r.linked_establishment_id));
      const items: Array<{ id: string; practitionerId: string; motiveId: string; status: 'waiting' | 'offered'; wantedBefore: string; offer: { appointmentId: string; start: string; end: string; expiresAt: string } | null }> = [];
      const now = deps.now();
      for (const establishmentId of linked) {
        await db.withTenant(establishmentId, async (tx) => {
          const files = await store.patientFilesOfAccount(tx, user.userId);
          if (files.length === 0) return;
          for (const e of await store.listWaitlistOfPatients(tx, files.map((f) => f.id))) {
            const agenda = (await store.findAgendaById(tx, e.agenda_id))!;
            const live = e.status === 'offered' && e.offer_expires_at !== null && e.offer_expires_at.getTime() > now && e.offer_start && e.offer_end;
            if (e.status === 'offered' && !live) continue; // an expired offer is over
            items.push({
              id: e.id,
              practitionerId: agenda.practitioner_id,
              motiveId: e.motive_id,
              status: e.status as 'waiting' | 'offered',
              wantedBefore: formatInstant(e.wanted_before.getTime(), agenda.time_zone),
              offer: live
                ? {
                    appointmentId: e.offered_appointment_id!,
                    start: formatInstant(e.offer_start!.getTime(), agenda.time_zone),
                    end: formatInstant(e.offer_end!.getTime(), agenda.time_zone),
                    expiresAt: formatInstant(e.offer_expires_at!.getTime(), agenda.time_zone),
                  }
                : null,
            });
          }
        });
      }
      return { items };
    },

    async accept(actor: Actor, entryId: string) {
      const user = userActor(actor);
      let practitionerId: string | undefined;
      const result = await withOwnEntry(actor, entryId, async (tx, entry) => {
        const now = deps.now();
        if (entry.status !== 'offered' || !entry.offered_appointment_id || !entry.offer_expires_at || entry.offer_expires_at.getTime() <= now) {
          throw new DomainError('conflict', 'There is no open offer on this waiting-list entry');
        }
        const confirmed = await store.confirmHold(tx, entry.offered_appointment_id, user.userId);
        if (Number(confirmed.numUpdatedRows) !== 1) throw new DomainError('conflict', 'This offer is no longer open');
        await store.updateWaitlistEntry(tx, entry.id, { status: 'accepted' });
        if (entry.current_appointment_id) {
          const current = await store.findAppointment(tx, entry.current_appointment_id);
          if (current && current.status === 'confirmed') {
            await store.setStatus(tx, current.id, 'cancelled', 'patient');
            // The patient moved it themselves: its reminders go, no cancellation notice.
            await queueCancelledNotices(tx, { id: current.id, establishmentId: current.establishment_id, start: current.starts_at.getTime() }, { notify: false });
            await offerFreedSlot(store, tx, current, now);
          }
        }
        await audit(tx, actor, entry.establishment_id, 'waitlist.accept', [entry.id, entry.offered_appointment_id], entry.patient_id);
        const appointment = (await store.findAppointment(tx, entry.offered_appointment_id))!;
        const agenda = (await store.findAgendaById(tx, appointment.agenda_id))!;
        practitionerId = appointment.practitioner_id;
        await queueBookedNotices(tx, { id: appointment.id, establishmentId: appointment.establishment_id, start: appointment.starts_at.getTime() }, agenda.reminder_offsets_hours, now);
        return {
          id: appointment.id,
          status: 'confirmed' as const,
          start: formatInstant(appointment.starts_at.getTime(), agenda.time_zone),
          end: formatInstant(appointment.ends_at.getTime(), agenda.time_zone),
        };
      });
      // The later appointment was cancelled (and maybe offered on): public free time changed.
      if (practitionerId) await deps.cache.invalidate(practitionerTag(practitionerId));
      return result;
    },

    async withdraw(actor: Actor, entryId: string) {
      let practitionerId: string | undefined;
      await withOwnEntry(actor, entryId, async (tx, entry) => {
        if (entry.status !== 'waiting' && entry.status !== 'offered') throw new DomainError('conflict', 'This entry is closed');
        await store.updateWaitlistEntry(tx, entry.id, { status: 'withdrawn', offered_appointment_id: null, offer_expires_at: null });
        if (entry.status === 'offered' && entry.offered_appointment_id) {
          const hold = await store.findAppointment(tx, entry.offered_appointment_id);
          if (hold && hold.status === 'held') {
            practitionerId = hold.practitioner_id;
            await store.releaseHold(tx, hold.id);
            await queueCancelledNotices(tx, { id: hold.id, establishmentId: hold.establishment_id, start: hold.starts_at.getTime() }, { notify: false });
            await offerFreedSlot(store, tx, hold, deps.now());
          }
        }
        await audit(tx, actor, entry.establishment_id, 'waitlist.withdraw', [entry.id], entry.patient_id);
      });
      if (practitionerId) await deps.cache.invalidate(practitionerTag(practitionerId));
    },
  };
}
export type Waitlist = ReturnType<typeof createWaitlist>;

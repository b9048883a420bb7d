// Booking, cancelling, rescheduling and no-shows. The exclusion constraint on appointments is
// what makes double booking impossible; the availability check before it only gives a precise
// answer (not a slot vs. taken). Every read or write of an appointment is audited in its own
// transaction, with the patient's id.
import { createHash } from 'node:crypto';
import { v7 as uuidv7 } from 'uuid';
import type { Database, Exec, Tx } from '../../platform/db/database.js';
import type { Actor } from '../../platform/http/context.js';
import { DomainError } from '../../platform/http/errors.js';
import { appendAuditEvent, auditEventRow, type AuditEventInput } from '../audit/index.js';
import { CARE_ROLES, requireRole, roleIn, userActor, type UserActor } from './access.js';
import { freeSlots, openTime, type Interval } from './availability.js';
import { motiveRules, motiveWithAgendaCached, practitionerTag } from './public.js';
import type { BookBody } from './schemas.js';
import type { AgendaRow, MotiveRow, SchedulingStore } from './store.js';
import { DAY, MINUTE, formatInstant, invalid, parseInstant } from './time.js';
import { newPatientFileForAccount, onceMoreIfFileMadeMeanwhile } from './patients.js';
import { sealedProfileColumn } from '../identity/index.js';
import type { Vault } from '../vault/index.js';
import { offerFreedSlot } from './waitlist.js';
import { bookedNoticeJobs, queueCancelledNotices, queueMovedNotices } from './notices.js';
import { jobRows } from '../../platform/jobs.js';
import type { PublicCache } from '../../platform/cache.js';

const IDEMPOTENCY_KEY = /^[A-Za-z0-9_.:-]{1,200}$/;

export type BookResult = { id: string; status: 'confirmed'; start: string; end: string };

type Appointment = NonNullable<Awaited<ReturnType<SchedulingStore['findAppointment']>>>;

interface Located {
  tx: Tx;
  appointment: Appointment;
  /** How the actor reaches this appointment: as its patient, or as staff of its establishment. */
  as: 'patient' | 'staff';
  role: string | null;
}

function isPgError(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === code;
}

export function createBooking(deps: { db: Database; store: SchedulingStore; vault: Vault; now: () => number; cache: PublicCache }) {
  const { db, store } = deps;

  /** Exceptions and busy time around a slot: the window checkSlot needs loaded. */
  const slotWindow = (start: number) => ({ start: start - DAY, end: start + 2 * DAY });

  /**
   * Checks that `start` is a slot of the motive, from the agenda's exceptions and busy time around
   * it (slotWindow). Staff are not bound by minimum notice or horizon. Throws invalid_request when
   * it is not a slot at all, slot_taken when it is busy. Answers whether a lapsed waiting-list hold
   * overlaps it (to be released before the insert).
   */
  function checkSlot(
    details: { exceptions: Array<Interval & { kind: string }>; busy: Array<Interval & { appointmentId: string; expiresAt: number | null }> },
    agenda: AgendaRow,
    motive: MotiveRow,
    start: number,
    staff: boolean,
    exceptAppointmentId?: string,
  ): boolean {
    const now = deps.now();
    const rules = staff ? { ...motiveRules(motive), minNoticeMinutes: 0, horizonDays: 366 } : motiveRules(motive);
    const window = { start, end: start + 1 };
    const open = openTime({
      timeZone: agenda.time_zone,
      weeklyHours: agenda.weekly_hours,
      openings: details.exceptions.filter((e) => e.kind === 'opening'),
      absences: details.exceptions.filter((e) => e.kind === 'absence'),
      from: window.start,
      to: window.end,
    });
    const offered = freeSlots({ open, busy: [], motive: rules, from: window.start, to: window.end, now: staff ? Math.min(now, start) : now });
    if (offered.length === 0 || start < now) throw invalid('body.start', 'is not a bookable slot of this motive (opening hours, notice, horizon)');
    // Lapsed holds (waiting-list offers) no longer count; a booking releases one only when it is in its way.
    const live = details.busy.filter((b) => b.expiresAt === null || b.expiresAt > now);
    const busy = live.filter((b) => b.appointmentId !== exceptAppointmentId);
    const free = freeSlots({ open, busy, motive: rules, from: window.start, to: window.end, now: staff ? Math.min(now, start) : now });
    if (free.length === 0) throw new DomainError('slot_taken');
    const occupiedUntil = start + (motive.duration_minutes + motive.buffer_minutes) * MINUTE;
    return details.busy.some((h) => h.expiresAt !== null && h.expiresAt <= now && h.start < occupiedUntil && start < h.end);
  }

  /** The motive and its agenda, from the public cache (no transaction) or the database. */
  async function publicMotive(practitionerId: string, motiveId: string) {
    const found = await motiveWithAgendaCached(deps.cache, store, db, motiveId);
    if (!found || !found.motive.active || found.agenda.practitioner_id !== practitionerId) throw new DomainError('not_found');
    return found;
  }

  /**
   * Public search and availability show this practitioner's time afresh (after a commit, or a lost
   * race); awaited, so that with Redis the other instances have been told before the caller hears back.
   */
  const changed = (practitionerId: string) => deps.cache.invalidate(practitionerTag(practitionerId));

  async function ownPractitionerId(tx: Exec, actor: UserActor): Promise<string | undefined> {
    return (await store.findPractitionerIdByUser(tx, actor.userId))?.id;
  }

  /**
   * Runs fn on an appointment the actor may reach, in a tenant transaction of its establishment.
   * A patient reaches the appointments of their own files; staff those of their establishments
   * (a practitioner only their own agenda). Anything else, existing or not, is not_found.
   */
  async function withReachableAppointment<T>(actor: Actor, appointmentId: string, fn: (found: Located) => Promise<T>): Promise<T> {
    const user = userActor(actor);
    const staffEstablishments = user.memberships.filter((m) => CARE_ROLES.includes(m.role)).map((m) => m.establishmentId);
    const linked = await db.withPlatform(async (tx) => (await store.linkedEstablishments(tx, user.userId)).map((r) => r.linked_establishment_id));
    for (const establishmentId of [...new Set([...linked, ...staffEstablishments])]) {
      const marker = Symbol('absent');
      const result = await db.withTenant(establishmentId, async (tx): Promise<T | typeof marker> => {
        const appointment = await store.findAppointment(tx, appointmentId);
        if (!appointment) return marker;
        const role = roleIn(actor, establishmentId);
        if (role && CARE_ROLES.includes(role)) {
          if (role !== 'practitioner' || (await ownPractitionerId(tx, user)) === appointment.practitioner_id) {
            return fn({ tx, appointment, as: 'staff', role });
          }
        }
        const files = await store.patientFilesOfAccount(tx, user.userId);
        if (files.some((f) => f.id === appointment.patient_id)) return fn({ tx, appointment, as: 'patient', role: null });
        return marker;
      });
      if (result !== marker) return result as T;
    }
    throw new DomainError('not_found');
  }

  const auditEvent = (actor: Actor, found: { establishmentId: string; role: string | null }, action: string, appointmentId: string, patientId: string): AuditEventInput => ({
    establishmentId: found.establishmentId,
    actor,
    actorRole: found.role ?? 'patient',
    action,
    resourceKind: 'appointment',
    resourceIds: [appointmentId],
    patientIds: [patientId],
    categories: ['administrative'],
    outcome: 'allowed',
  });

  async function audit(tx: Tx, actor: Actor, found: { establishmentId: string; role: string | null }, action: string, appointmentId: string, patientId: string) {
    await appendAuditEvent(tx, auditEvent(actor, found, action, appointmentId, patientId));
  }

  const present = (a: { id: string; status: string; starts_at: Date; ends_at: Date }, zone: string) => ({
    id: a.id,
    status: a.status as 'confirmed' | 'cancelled' | 'no_show' | 'held',
    start: formatInstant(a.starts_at.getTime(), zone),
    end: formatInstant(a.ends_at.getTime(), zone),
  });

  return {
    withReachableAppointment,

    async book(actor: Actor, body: BookBody, idempotencyKey: string | undefined): Promise<BookResult> {
      const user = userActor(actor);
      if (idempotencyKey !== undefined && !IDEMPOTENCY_KEY.test(idempotencyKey)) {
        throw invalid('headers.idempotency-key', 'use 1 to 200 letters, digits or _ . : -');
      }
      const start = parseInstant(body.start, 'body.start');
      const byStaff = body.patientId !== undefined;
      const { motive, agenda } = await publicMotive(body.practitionerId, body.motiveId);
      if (byStaff) requireRole(actor, agenda.establishment_id, CARE_ROLES);
      else if (!agenda.published) throw new DomainError('not_found');
      const establishmentId = agenda.establishment_id;
      const end = start + motive.duration_minutes * MINUTE;
      const occupiedUntil = end + motive.buffer_minutes * MINUTE;
      const fingerprint = createHash('sha256')
        .update(JSON.stringify([body.practitionerId, body.motiveId, start, body.patientId ?? null]))
        .digest('base64url');

      const replay = (tx: Exec, key: string) =>
        store.findByIdempotencyKey(tx, establishmentId, user.userId, key).then((row) => {
          if (!row) return undefined;
          if (row.idempotency_fingerprint !== fingerprint) throw new DomainError('conflict', 'This Idempotency-Key was used for a different request');
          return row.idempotency_response as BookResult;
        });

      // The hot path is two statements, each its own transaction with the role and tenant in its
      // round trip (withTenantAutocommit): what the booking checks (loadBookingContext), then the
      // appointment, its notices and its audit event together (insertBooking), whose exclusion
      // constraint is the guarantee against double booking. The motive and agenda come from the
      // public cache. An account's first booking here reads its sealed profile with the context
      // and writes its file and the file's data key in the same statement; the release of a
      // lapsed hold in the way is written in one transaction with the booking.
      try {
        const attempt = () => db.withTenantAutocommit(establishmentId, async (exec) => {
          if (idempotencyKey !== undefined) {
            const previous = await replay(exec, idempotencyKey);
            if (previous) return previous;
          }
          const role = byStaff ? (roleIn(actor, establishmentId) ?? null) : null;
          if (role === 'practitioner' && (await ownPractitionerId(exec, user)) !== agenda.practitioner_id) {
            throw new DomainError('forbidden', 'A practitioner books only in their own agenda');
          }
          const context = await store.loadBookingContext(exec, {
            agendaId: agenda.agenda_id,
            practitionerId: agenda.practitioner_id,
            window: slotWindow(start),
            userId: user.userId,
            patientId: body.patientId,
            // A patient's first booking here needs their profile for the file: read with the context.
            accountProfile: byStaff ? undefined : sealedProfileColumn(deps.vault, user.userId),
          });
          if (!byStaff && !context.verified) throw new DomainError('forbidden', 'Verify your e-mail address before booking');
          const releaseHold = checkSlot(context, agenda, motive, start, byStaff);
          const known = context.patientFileId !== null && context.known;
          if (motive.patient_kind === 'new_only' && known) throw new DomainError('forbidden', 'This motive is reserved for new patients of this practitioner');
          if (motive.patient_kind === 'known_only' && !known) throw new DomainError('forbidden', 'This motive is reserved for patients already followed by this practitioner');
          if (byStaff && !context.patientFileId) throw new DomainError('not_found', 'No such patient file in this establishment');
          const id = uuidv7();
          const result: BookResult = { id, status: 'confirmed', start: formatInstant(start, agenda.time_zone), end: formatInstant(end, agenda.time_zone) };
          const write = (w: Exec, patientId: string, newFile?: Awaited<ReturnType<typeof newPatientFileForAccount>>) =>
            store.insertBooking(
              w,
              {
                id,
                establishmentId,
                agendaId: agenda.agenda_id,
                practitionerId: agenda.practitioner_id,
                motiveId: motive.id,
                patientId,
                start,
                end,
                occupiedUntil,
                bookedByUserId: user.userId,
                bookedBy: byStaff ? 'staff' : 'patient',
                idempotency: idempotencyKey !== undefined ? { key: idempotencyKey, fingerprint, response: result } : null,
              },
              // In this statement: the confirmation and reminders exist if and only if the booking does.
              jobRows(bookedNoticeJobs({ id, establishmentId, start }, agenda.reminder_offsets_hours, deps.now())),
              auditEventRow(auditEvent(actor, { establishmentId, role }, 'appointment.book', id, patientId)),
              newFile ? { row: newFile.row, key: deps.vault.preparedKeyInsert(newFile.key) } : undefined,
            );
          const fileId = context.patientFileId;
          if (fileId !== null && !releaseHold) {
            await write(exec, fileId);
            return result;
          }
          if (fileId === null && !releaseHold) {
            // An account's first booking here creates its (encrypted) patient file and the file's
            // data key, written in the booking's statement: the three exist together or not at all.
            const newFile = await newPatientFileForAccount(deps.vault, exec, establishmentId, user, { sealedProfile: context.accountProfile });
            try {
              await write(exec, newFile.id, newFile);
              return result;
            } catch (error) {
              // A rotation switched the key version meanwhile: the transaction below reads the new one.
              if (!deps.vault.isStaleKeyVersion(error, newFile.key)) throw error;
            }
          }
          await exec.transaction().execute(async (tx) => {
            // Lapsed holds (waiting-list offers) no longer count; one in the way is released with the booking.
            if (releaseHold) await store.releaseExpiredHolds(tx, agenda.practitioner_id, { start, end: occupiedUntil }, deps.now());
            if (fileId !== null) return write(tx, fileId);
            // In a transaction, the key version read for the new file's key stays locked until commit.
            const newFile = await newPatientFileForAccount(deps.vault, tx, establishmentId, user, { inTransaction: true, sealedProfile: context.accountProfile });
            return write(tx, newFile.id, newFile);
          });
          return result;
        });
        // Two first bookings of one account here at once (two tabs): booked again, the account is
        // a known one with the file the other made.
        const result = await onceMoreIfFileMadeMeanwhile(attempt);
        await changed(agenda.practitioner_id);
        return result;
      } catch (error) {
        // Retries of one request that raced each other: the first one took the slot (or the key),
        // the others return its result instead of slot_taken.
        const lostRace = isPgError(error, '23P01') || isPgError(error, '23505') || (error instanceof DomainError && error.code === 'slot_taken');
        if (lostRace && idempotencyKey !== undefined) {
          const previous = await db.withTenant(establishmentId, (tx) => replay(tx, idempotencyKey));
          if (previous) return previous;
        }
        if (isPgError(error, '23P01') || (error instanceof DomainError && error.code === 'slot_taken')) {
          // Someone took it, maybe through another instance: what this one shows is stale.
          await changed(agenda.practitioner_id);
          throw error instanceof DomainError ? error : new DomainError('slot_taken');
        }
        throw error;
      }
    },

    /**
     * Cancels. With an Idempotency-Key, cancelling an appointment already cancelled answers its
     * current state (a retried request gets the first result) instead of 409.
     */
    async cancel(actor: Actor, appointmentId: string, idempotencyKey?: string) {
      let practitionerId: string | undefined;
      const result = await withReachableAppointment(actor, appointmentId, async ({ tx, appointment, as, role }) => {
        practitionerId = appointment.practitioner_id;
        const agenda = (await store.findAgendaById(tx, appointment.agenda_id))!;
        if (appointment.status === 'cancelled' && idempotencyKey !== undefined) return present(appointment, agenda.time_zone);
        if (appointment.status !== 'confirmed') throw new DomainError('conflict', `This appointment is ${appointment.status.replace('_', '-')}`);
        if (as === 'patient') {
          const motive = (await store.findMotive(tx, appointment.motive_id))!;
          const deadline = appointment.starts_at.getTime() - motive.cancel_cutoff_hours * 3_600_000;
          if (deps.now() > deadline) throw new DomainError('forbidden', 'The online cancellation deadline has passed; please call the practice');
        }
        await store.setStatus(tx, appointment.id, 'cancelled', as);
        await queueCancelledNotices(tx, { id: appointment.id, establishmentId: appointment.establishment_id, start: appointment.starts_at.getTime() }, { notify: true });
        await audit(tx, actor, { establishmentId: appointment.establishment_id, role }, 'appointment.cancel', appointment.id, appointment.patient_id);
        await offerFreedSlot(store, tx, appointment, deps.now());
        return present({ ...appointment, status: 'cancelled' }, agenda.time_zone);
      });
      if (practitionerId) await changed(practitionerId);
      return result;
    },

    /** Moves to another slot; with an Idempotency-Key, a retry that finds it already there answers its state. */
    async reschedule(actor: Actor, appointmentId: string, startValue: string, idempotencyKey?: string) {
      const start = parseInstant(startValue, 'body.start');
      let practitionerId: string | undefined;
      try {
        const result = await withReachableAppointment(actor, appointmentId, async ({ tx, appointment, as, role }) => {
          practitionerId = appointment.practitioner_id;
          const agenda = (await store.findAgendaById(tx, appointment.agenda_id))!;
          const motive = (await store.findMotive(tx, appointment.motive_id))!;
          if (appointment.status !== 'confirmed') throw new DomainError('conflict', `This appointment is ${appointment.status.replace('_', '-')}`);
          if (idempotencyKey !== undefined && appointment.starts_at.getTime() === start) return present(appointment, agenda.time_zone);
          if (as === 'patient') {
            const deadline = appointment.starts_at.getTime() - motive.cancel_cutoff_hours * 3_600_000;
            if (deps.now() > deadline) throw new DomainError('forbidden', 'The online change deadline has passed; please call the practice');
            if (!motive.active) throw new DomainError('conflict', 'This motive is no longer offered online');
          }
          const end = start + motive.duration_minutes * MINUTE;
          const details = await store.loadAgendaDetails(tx, [agenda.agenda_id], [agenda.practitioner_id], slotWindow(start), false, deps.now());
          if (checkSlot({ exceptions: details.exceptions, busy: [...details.busy, ...details.lapsedHolds] }, agenda, motive, start, as === 'staff', appointment.id)) {
            await store.releaseExpiredHolds(tx, agenda.practitioner_id, { start, end: end + motive.buffer_minutes * MINUTE }, deps.now());
          }
          await store.moveAppointment(tx, appointment.id, start, end, end + motive.buffer_minutes * MINUTE);
          await queueMovedNotices(tx, { id: appointment.id, establishmentId: appointment.establishment_id, start }, agenda.reminder_offsets_hours, deps.now());
          await audit(tx, actor, { establishmentId: appointment.establishment_id, role }, 'appointment.reschedule', appointment.id, appointment.patient_id);
          return present({ ...appointment, starts_at: new Date(start), ends_at: new Date(end) }, agenda.time_zone);
        });
        if (practitionerId) await changed(practitionerId);
        return result;
      } catch (error) {
        if (isPgError(error, '23P01') || (error instanceof DomainError && error.code === 'slot_taken')) {
          if (practitionerId) await changed(practitionerId);
          throw error instanceof DomainError ? error : new DomainError('slot_taken');
        }
        throw error;
      }
    },

    async markNoShow(actor: Actor, establishmentId: string, appointmentId: string) {
      const role = requireRole(actor, establishmentId, CARE_ROLES);
      return db.withTenant(establishmentId, async (tx) => {
        const appointment = await store.findAppointment(tx, appointmentId);
        if (!appointment) throw new DomainError('not_found');
        if (role === 'practitioner' && (await ownPractitionerId(tx, userActor(actor))) !== appointment.practitioner_id) throw new DomainError('not_found');
        if (appointment.status !== 'confirmed') throw new DomainError('conflict', `This appointment is ${appointment.status.replace('_', '-')}`);
        if (appointment.starts_at.getTime() > deps.now()) throw new DomainError('conflict', 'An appointment can be marked missed only once it has started');
        await store.setStatus(tx, appointment.id, 'no_show', null);
        await audit(tx, actor, { establishmentId, role }, 'appointment.no_show', appointment.id, appointment.patient_id);
        const agenda = (await store.findAgendaById(tx, appointment.agenda_id))!;
        return present({ ...appointment, status: 'no_show' }, agenda.time_zone);
      });
    },
  };
}
export type Booking = ReturnType<typeof createBooking>;

// SQL for patients, appointments, holds and the waiting list: every function needs a tenant
// transaction (withTenant), where row-level security limits it to one establishment.
import { sql, type Insertable, type RawBuilder } from 'kysely';
import type { Exec, Tx } from '../../platform/db/database.js';
import type { AppointmentStatus, AppointmentsTable, AuditEventsTable, PatientsTable } from '../../platform/db/schema.js';
import type { jobRows } from '../../platform/jobs.js';
import type { Interval } from './availability.js';
import { range } from './ranges.js';

/** What every new appointment row needs; the rest depends on how it is made (booked, held, generated). */
export interface NewAppointment {
  id: string;
  establishmentId: string;
  agendaId: string;
  practitionerId: string;
  motiveId: string;
  patientId: string;
  start: number;
  end: number;
  /** End of the busy range: the end plus the motive's buffer. */
  occupiedUntil: number;
}

/** The row of a new appointment: one mapping for bookings, holds and generated data. */
function appointmentValues(row: NewAppointment, rest: Partial<Insertable<AppointmentsTable>> & { status: AppointmentStatus }): Insertable<AppointmentsTable> {
  return {
    id: row.id,
    establishment_id: row.establishmentId,
    agenda_id: row.agendaId,
    practitioner_id: row.practitionerId,
    motive_id: row.motiveId,
    patient_id: row.patientId,
    starts_at: new Date(row.start),
    ends_at: new Date(row.end),
    period: range({ start: row.start, end: row.occupiedUntil }),
    booked_by_user_id: null,
    booked_by: 'staff',
    cancelled_at: null,
    cancelled_by: null,
    idempotency_key: null,
    idempotency_fingerprint: null,
    idempotency_response: null,
    ...rest,
  };
}

export function appointmentStore() {
  return {
    // --- patients and appointments (tenant transaction) ---------------------------------------
    findPatientFileOfAccount(tx: Tx, userId: string) {
      return tx.selectFrom('patients').select(['id']).where('account_user_id', '=', userId).executeTakeFirst();
    },

    patientFilesOfAccount(tx: Tx, userId: string) {
      return tx.selectFrom('patients').select(['id', 'establishment_id']).where('account_user_id', '=', userId).execute();
    },

    findPatient(tx: Tx, patientId: string) {
      return tx.selectFrom('patients').select(['id', 'account_user_id']).where('id', '=', patientId).executeTakeFirst();
    },

    async isKnownPatient(tx: Tx, patientId: string, practitionerId: string): Promise<boolean> {
      const row = await tx
        .selectFrom('appointments')
        .select('id')
        .where('patient_id', '=', patientId)
        .where('practitioner_id', '=', practitionerId)
        .where('status', '<>', 'cancelled')
        .limit(1)
        .executeTakeFirst();
      return row !== undefined;
    },

    findByIdempotencyKey(tx: Exec, establishmentId: string, userId: string, key: string) {
      return tx
        .selectFrom('appointments')
        .select(['id', 'idempotency_fingerprint', 'idempotency_response'])
        .where('establishment_id', '=', establishmentId)
        .where('booked_by_user_id', '=', userId)
        .where('idempotency_key', '=', key)
        .executeTakeFirst();
    },

    /**
     * Everything a booking checks, in one round trip: the agenda's absences and openings and the
     * practitioner's busy time around the slot, whether the booking account's e-mail is verified,
     * the patient file (the account's, or the one staff named), and whether that patient has an
     * appointment with this practitioner already (new/known-patient motives). Times in epoch ms.
     */
    /**
     * What a booking checks, in one statement. `accountProfile`: a column (identity's
     * sealedProfileColumn) read only when the account has no file here, for the file its first
     * booking creates.
     */
    async loadBookingContext(
      tx: Exec,
      q: { agendaId: string; practitionerId: string; window: Interval; userId: string; patientId: string | undefined; accountProfile?: RawBuilder<unknown> },
    ) {
      const from = new Date(q.window.start);
      const to = new Date(q.window.end);
      const ms = (e: string) => sql.raw(`(extract(epoch from ${e}) * 1000)::bigint`);
      const file =
        q.patientId !== undefined
          ? sql`select id from patients where id = ${q.patientId}::uuid`
          : sql`select id from patients where account_user_id = ${q.userId}::uuid limit 1`;
      const { rows } = await sql<{
        exceptions: Array<['absence' | 'opening', number, number]> | null;
        busy: Array<[number, number, string, number | null]> | null;
        verified: boolean | null;
        file_id: string | null;
        known: boolean;
        account_profile: unknown;
      }>`
        with file as (${file})
        select
          (select json_agg(json_build_array(kind, ${ms('lower(period)')}, ${ms('upper(period)')}))
             from agenda_exceptions where agenda_id = ${q.agendaId}::uuid and upper(period) > ${from} and lower(period) < ${to}) as exceptions,
          (select json_agg(json_build_array(${ms('lower(period)')}, ${ms('upper(period)')}, appointment_id, ${ms('expires_at')}))
             from practitioner_busy where practitioner_id = ${q.practitionerId}::uuid and upper(period) > ${from} and lower(period) < ${to}) as busy,
          (select email_verified_at is not null from users where id = ${q.userId}::uuid) as verified,
          (select id from file) as file_id,
          exists (select 1 from appointments where patient_id = (select id from file) and practitioner_id = ${q.practitionerId}::uuid and status <> 'cancelled') as known,
          ${q.accountProfile !== undefined ? sql`case when (select id from file) is null then ${q.accountProfile} end` : sql`null`} as account_profile`.execute(tx);
      const row = rows[0]!;
      const busy = (row.busy ?? []).map(([start, end, appointmentId, expiresAt]) => ({
        start: Number(start),
        end: Number(end),
        appointmentId,
        expiresAt: expiresAt === null ? null : Number(expiresAt),
      }));
      return {
        exceptions: (row.exceptions ?? []).map(([kind, start, end]) => ({ kind, start: Number(start), end: Number(end) })),
        busy,
        verified: row.verified === true,
        patientFileId: row.file_id,
        known: row.known,
        /** The account's sealed profile when it has no file here and it was asked for. */
        accountProfile: row.account_profile,
      };
    },

    /**
     * The booking's writes in one statement: the appointment, the jobs it asks for (notices), its
     * audit event and, on an account's first booking at the establishment, its new patient file
     * (sealed by records). If the exclusion constraint refuses the appointment, none of them
     * exists. (The appointment's foreign key to the file is checked at the end of the statement.)
     */
    async insertBooking(
      tx: Exec,
      row: NewAppointment & {
        bookedByUserId: string | null;
        bookedBy: 'patient' | 'staff';
        idempotency: { key: string; fingerprint: string; response: unknown } | null;
      },
      jobs: ReturnType<typeof jobRows>,
      audit: Insertable<AuditEventsTable>,
      newPatient?: { row: Insertable<PatientsTable>; key: RawBuilder<{ id: string }> },
    ) {
      const appointment = appointmentValues(row, {
        status: 'confirmed',
        booked_by_user_id: row.bookedByUserId,
        booked_by: row.bookedBy,
        idempotency_key: row.idempotency?.key ?? null,
        idempotency_fingerprint: row.idempotency?.fingerprint ?? null,
        idempotency_response: row.idempotency ? JSON.stringify(row.idempotency.response) : null,
      });
      // jobs is never empty: a booking always asks for its confirmation.
      if (newPatient) {
        // The file and its data key too: the key, the file and the booking exist together or not at all.
        await tx
          .with('keyed', () => sql<{ id: string }>`(${newPatient.key})`)
          .with('filed', (db) => db.insertInto('patients').values(newPatient.row))
          .with('booked', (db) => db.insertInto('appointments').values(appointment))
          .with('queued', (db) => db.insertInto('jobs').values(jobs))
          .insertInto('audit_events')
          .values(audit)
          .execute();
        return;
      }
      await tx
        .with('booked', (db) => db.insertInto('appointments').values(appointment))
        .with('queued', (db) => db.insertInto('jobs').values(jobs))
        .insertInto('audit_events')
        .values(audit)
        .execute();
    },

    /** Bulk insert for generated data sets (demo, scale); no idempotency, booked by staff. */
    async insertAppointmentRows(tx: Tx, rows: Array<NewAppointment & { status: AppointmentStatus }>) {
      if (rows.length === 0) return;
      await tx
        .insertInto('appointments')
        .values(
          rows.map((r) =>
            appointmentValues(r, {
              status: r.status,
              cancelled_at: r.status === 'cancelled' ? new Date(r.start - 86_400_000) : null,
              cancelled_by: r.status === 'cancelled' ? ('patient' as const) : null,
            }),
          ),
        )
        .execute();
    },

    findAppointment(tx: Tx, appointmentId: string) {
      return tx
        .selectFrom('appointments')
        .select([
          'id',
          'establishment_id',
          'agenda_id',
          'practitioner_id',
          'motive_id',
          'patient_id',
          'starts_at',
          'ends_at',
          'status',
        ])
        .where('id', '=', appointmentId)
        .executeTakeFirst();
    },

    /**
     * What a notice needs, in one round trip: the appointment's state, place and practitioner
     * (where to reach the patient is records' patientContacts).
     */
    findNoticeContext(tx: Tx, appointmentId: string) {
      return tx
        .selectFrom('appointments')
        .innerJoin('practitioners', 'practitioners.id', 'appointments.practitioner_id')
        .innerJoin('establishments', 'establishments.id', 'appointments.establishment_id')
        .select([
          'appointments.id',
          'appointments.patient_id',
          'appointments.status',
          'appointments.starts_at',
          'appointments.ends_at',
          'appointments.hold_expires_at',
          'appointments.updated_at',
          'practitioners.first_name as practitioner_first_name',
          'practitioners.last_name as practitioner_last_name',
          'establishments.name as establishment_name',
          'establishments.address_line',
          'establishments.postal_code',
          'establishments.city',
          'establishments.time_zone',
        ])
        .where('appointments.id', '=', appointmentId)
        .executeTakeFirst();
    },

    setStatus(tx: Tx, appointmentId: string, status: AppointmentStatus, cancelledBy: 'patient' | 'staff' | null) {
      return tx
        .updateTable('appointments')
        .set({
          status,
          updated_at: new Date(),
          ...(status === 'cancelled' ? { cancelled_at: new Date(), cancelled_by: cancelledBy } : {}),
        })
        .where('id', '=', appointmentId)
        .execute();
    },

    moveAppointment(tx: Tx, appointmentId: string, start: number, end: number, occupiedUntil: number) {
      return tx
        .updateTable('appointments')
        .set({
          starts_at: new Date(start),
          ends_at: new Date(end),
          period: range({ start, end: occupiedUntil }),
          updated_at: new Date(),
        })
        .where('id', '=', appointmentId)
        .execute();
    },

    /** A patient's own appointments, newest first, after a (start, id) cursor. */
    listForPatients(tx: Tx, patientIds: string[], after: { start: Date; id: string } | undefined, limit: number) {
      let q = tx
        .selectFrom('appointments')
        .innerJoin('practitioners', 'practitioners.id', 'appointments.practitioner_id')
        .innerJoin('establishments', 'establishments.id', 'appointments.establishment_id')
        .innerJoin('visit_motives', 'visit_motives.id', 'appointments.motive_id')
        .select([
          'appointments.id',
          'appointments.status',
          'appointments.starts_at',
          'appointments.ends_at',
          'appointments.practitioner_id',
          'appointments.patient_id',
          'practitioners.first_name',
          'practitioners.last_name',
          'establishments.id as establishment_id',
          'establishments.name as establishment_name',
          'establishments.address_line',
          'establishments.city',
          'establishments.postal_code',
          'establishments.time_zone',
          'visit_motives.id as motive_id',
          'visit_motives.label as motive_label',
          'visit_motives.teleconsult',
          'visit_motives.cancel_cutoff_hours',
        ])
        .where('appointments.patient_id', 'in', patientIds);
      if (after) {
        q = q.where((eb) =>
          eb.or([
            eb('appointments.starts_at', '<', after.start),
            eb.and([eb('appointments.starts_at', '=', after.start), eb('appointments.id', '<', after.id)]),
          ]),
        );
      }
      return q.orderBy('appointments.starts_at', 'desc').orderBy('appointments.id', 'desc').limit(limit).execute();
    },

    /** Appointments of the establishment in [from, to) (optionally one practitioner), for a two-person-approved export. */
    listForExport(tx: Tx, q: { from: Date; to: Date; practitionerId: string | null; limit: number }) {
      let query = tx
        .selectFrom('appointments')
        .innerJoin('practitioners', 'practitioners.id', 'appointments.practitioner_id')
        .select([
          'appointments.id',
          'appointments.starts_at',
          'appointments.ends_at',
          'appointments.status',
          'appointments.motive_id',
          'appointments.practitioner_id',
          'practitioners.first_name as practitioner_first_name',
          'practitioners.last_name as practitioner_last_name',
          'appointments.patient_id',
        ])
        .where('appointments.starts_at', '>=', q.from)
        .where('appointments.starts_at', '<', q.to);
      if (q.practitionerId) query = query.where('appointments.practitioner_id', '=', q.practitionerId);
      return query.orderBy('appointments.starts_at').orderBy('appointments.id').limit(q.limit).execute();
    },

    /** A practitioner's appointments in a window, for staff (names come from records, encrypted). */
    listAgenda(tx: Tx, practitionerId: string, window: Interval, after: { start: Date; id: string } | undefined, limit: number) {
      let q = tx
        .selectFrom('appointments')
        .select(['appointments.id', 'appointments.starts_at', 'appointments.ends_at', 'appointments.status', 'appointments.motive_id', 'appointments.patient_id'])
        .where('appointments.practitioner_id', '=', practitionerId)
        .where('appointments.starts_at', '>=', new Date(window.start))
        .where('appointments.starts_at', '<', new Date(window.end));
      if (after) {
        q = q.where((eb) =>
          eb.or([
            eb('appointments.starts_at', '>', after.start),
            eb.and([eb('appointments.starts_at', '=', after.start), eb('appointments.id', '>', after.id)]),
          ]),
        );
      }
      return q.orderBy('appointments.starts_at').orderBy('appointments.id').limit(limit).execute();
    },

    // --- holds and waiting list (tenant transaction) -----------------------------------------
    /** Releases expired holds that overlap a range, so that a booking is not refused for them. */
    async releaseExpiredHolds(tx: Tx, practitionerId: string, window: Interval, now: number) {
      const released = await tx
        .updateTable('appointments')
        .set({ status: 'cancelled', hold_expires_at: null, cancelled_at: new Date(), updated_at: new Date() })
        .where('practitioner_id', '=', practitionerId)
        .where('status', '=', 'held')
        .where('hold_expires_at', '<=', new Date(now))
        .where(sql<boolean>`period && ${range(window)}::tstzrange`)
        .returning('id')
        .execute();
      if (released.length > 0) {
        await tx
          .updateTable('waitlist_entries')
          .set({ status: 'expired' })
          .where('offered_appointment_id', 'in', released.map((r) => r.id))
          .where('status', '=', 'offered')
          .execute();
      }
    },

    insertHold(tx: Tx, row: NewAppointment & { expiresAt: Date }) {
      return tx
        .insertInto('appointments')
        .values(appointmentValues(row, { status: 'held', hold_expires_at: row.expiresAt }))
        .execute();
    },

    releaseHold(tx: Tx, appointmentId: string) {
      return tx
        .updateTable('appointments')
        .set({ status: 'cancelled', hold_expires_at: null, cancelled_at: new Date(), cancelled_by: 'patient', updated_at: new Date() })
        .where('id', '=', appointmentId)
        .where('status', '=', 'held')
        .execute();
    },

    confirmHold(tx: Tx, appointmentId: string, userId: string) {
      return tx
        .updateTable('appointments')
        .set({ status: 'confirmed', hold_expires_at: null, booked_by: 'patient', booked_by_user_id: userId, updated_at: new Date() })
        .where('id', '=', appointmentId)
        .where('status', '=', 'held')
        .executeTakeFirst();
    },

    insertWaitlistEntry(tx: Tx, row: { id: string; establishmentId: string; agendaId: string; motiveId: string; patientId: string; currentAppointmentId: string | null; wantedBefore: Date }) {
      return tx
        .insertInto('waitlist_entries')
        .values({
          id: row.id,
          establishment_id: row.establishmentId,
          agenda_id: row.agendaId,
          motive_id: row.motiveId,
          patient_id: row.patientId,
          current_appointment_id: row.currentAppointmentId,
          wanted_before: row.wantedBefore,
          status: 'waiting',
          offered_appointment_id: null,
          offer_expires_at: null,
        })
        .execute();
    },

    findWaitlistEntry(tx: Tx, entryId: string) {
      return tx.selectFrom('waitlist_entries').selectAll().where('id', '=', entryId).executeTakeFirst();
    },

    listWaitlistOfPatients(tx: Tx, patientIds: string[]) {
      return tx
        .selectFrom('waitlist_entries')
        .leftJoin('appointments', 'appointments.id', 'waitlist_entries.offered_appointment_id')
        .select([
          'waitlist_entries.id',
          'waitlist_entries.agenda_id',
          'waitlist_entries.motive_id',
          'waitlist_entries.patient_id',
          'waitlist_entries.status',
          'waitlist_entries.wanted_before',
          'waitlist_entries.offer_expires_at',
          'waitlist_entries.offered_appointment_id',
          'appointments.starts_at as offer_start',
          'appointments.ends_at as offer_end',
        ])
        .where('waitlist_entries.patient_id', 'in', patientIds)
        .where('waitlist_entries.status', 'in', ['waiting', 'offered'])
        .orderBy('waitlist_entries.created_at')
        .limit(50)
        .execute();
    },

    /** The first patient waiting for this motive who wants a slot before `start`; locked. */
    firstInLine(tx: Tx, motiveId: string, start: Date) {
      return tx
        .selectFrom('waitlist_entries')
        .selectAll()
        .where('motive_id', '=', motiveId)
        .where('status', '=', 'waiting')
        .where('wanted_before', '>', start)
        .orderBy('created_at')
        .limit(1)
        .forUpdate()
        .skipLocked()
        .executeTakeFirst();
    },

    updateWaitlistEntry(tx: Tx, entryId: string, patch: { status: 'waiting' | 'offered' | 'accepted' | 'withdrawn' | 'expired'; offered_appointment_id?: string | null; offer_expires_at?: Date | null }) {
      return tx.updateTable('waitlist_entries').set(patch).where('id', '=', entryId).execute();
    },
  };
}

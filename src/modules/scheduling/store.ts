// SQL of the scheduling module. Public reads (agendas, motives, exceptions, busy ranges) work in
// any transaction; everything about appointments and patient files needs a tenant transaction
// (withTenant), where row-level security limits it to one establishment.
import { sql } from 'kysely';
import type { Tx } from '../../platform/db/database.js';
import type { AppointmentStatus } from '../../platform/db/schema.js';
import type { Interval, WeeklyHours } from './availability.js';

export const range = (i: Interval): string => `[${new Date(i.start).toISOString()},${new Date(i.end).toISOString()})`;

/** Parses a PostgreSQL tstzrange literal as returned by pg ('["2026-…+00","2026-…+00")'). */
export function parseRange(value: string): Interval {
  const m = /^[[(]"?([^",]+)"?,"?([^")]+)"?[)\]]$/.exec(value);
  if (!m) throw new Error('unexpected range literal');
  const instant = (text: string) => Date.parse(text.replace(' ', 'T').replace(/([+-]\d{2})$/, '$1:00'));
  return { start: instant(m[1]!), end: instant(m[2]!) };
}

export interface AgendaRow {
  agenda_id: string;
  establishment_id: string;
  practitioner_id: string;
  weekly_hours: WeeklyHours;
  published: boolean;
  establishment_name: string;
  address_line: string;
  city: string;
  postal_code: string;
  time_zone: string;
}

export interface MotiveRow {
  id: string;
  agenda_id: string;
  owner_establishment_id: string;
  label: string;
  duration_minutes: number;
  buffer_minutes: number;
  patient_kind: 'all' | 'new_only' | 'known_only';
  teleconsult: boolean;
  min_notice_minutes: number;
  horizon_days: number;
  cancel_cutoff_hours: number;
  active: boolean;
}

const MOTIVE_COLUMNS = [
  'visit_motives.id',
  'visit_motives.agenda_id',
  'visit_motives.owner_establishment_id',
  'visit_motives.label',
  'visit_motives.duration_minutes',
  'visit_motives.buffer_minutes',
  'visit_motives.patient_kind',
  'visit_motives.teleconsult',
  'visit_motives.min_notice_minutes',
  'visit_motives.horizon_days',
  'visit_motives.cancel_cutoff_hours',
  'visit_motives.active',
] as const;

function agendaQuery(tx: Tx) {
  return tx
    .selectFrom('agendas')
    .innerJoin('establishments', 'establishments.id', 'agendas.owner_establishment_id')
    .select([
      'agendas.id as agenda_id',
      'agendas.owner_establishment_id as establishment_id',
      'agendas.practitioner_id',
      'agendas.weekly_hours',
      'agendas.published',
      'establishments.name as establishment_name',
      'establishments.address_line',
      'establishments.city',
      'establishments.postal_code',
      'establishments.time_zone',
    ]);
}

export interface SearchRow extends AgendaRow {
  first_name: string;
  last_name: string;
  specialty_code: string;
  label_fr: string;
  languages: string[];
  teleconsult: boolean;
}

export function createSchedulingStore() {
  return {
    // --- public directory reads (any transaction) ------------------------------------------
    findPractitioner(tx: Tx, practitionerId: string) {
      return tx
        .selectFrom('practitioners')
        .innerJoin('specialties', 'specialties.code', 'practitioners.specialty_code')
        .select([
          'practitioners.id',
          'practitioners.user_id',
          'practitioners.first_name',
          'practitioners.last_name',
          'practitioners.specialty_code',
          'practitioners.languages',
          'practitioners.teleconsult',
          'specialties.label_fr',
          'specialties.label_en',
        ])
        .where('practitioners.id', '=', practitionerId)
        .executeTakeFirst();
    },

    findPractitionerIdByUser(tx: Tx, userId: string) {
      return tx.selectFrom('practitioners').select('id').where('user_id', '=', userId).executeTakeFirst();
    },

    listAgendasOfPractitioner(tx: Tx, practitionerId: string, publishedOnly: boolean): Promise<AgendaRow[]> {
      let q = agendaQuery(tx).where('agendas.practitioner_id', '=', practitionerId);
      if (publishedOnly) q = q.where('agendas.published', '=', true);
      return q.orderBy('agendas.id').execute();
    },

    findAgenda(tx: Tx, establishmentId: string, practitionerId: string): Promise<AgendaRow | undefined> {
      return agendaQuery(tx)
        .where('agendas.practitioner_id', '=', practitionerId)
        .where('agendas.owner_establishment_id', '=', establishmentId)
        .executeTakeFirst();
    },

    findAgendaById(tx: Tx, agendaId: string): Promise<AgendaRow | undefined> {
      return agendaQuery(tx).where('agendas.id', '=', agendaId).executeTakeFirst();
    },

    /** Published agendas matching a public search, ordered by agenda id after the cursor. */
    searchAgendas(
      tx: Tx,
      filter: { specialty?: string; postalCode?: string; department?: string; city?: string; teleconsult?: boolean; after?: string; limit: number },
    ): Promise<SearchRow[]> {
      let q = agendaQuery(tx)
        .innerJoin('practitioners', 'practitioners.id', 'agendas.practitioner_id')
        .innerJoin('specialties', 'specialties.code', 'practitioners.specialty_code')
        .select([
          'practitioners.first_name',
          'practitioners.last_name',
          'practitioners.specialty_code',
          'practitioners.languages',
          'practitioners.teleconsult',
          'specialties.label_fr',
        ])
        .where('agendas.published', '=', true);
      if (filter.specialty) q = q.where('practitioners.specialty_code', '=', filter.specialty);
      if (filter.postalCode) q = q.where('establishments.postal_code', '=', filter.postalCode);
      if (filter.department) q = q.where('establishments.postal_code', 'like', `${filter.department}%`);
      if (filter.city) q = q.where(sql<string>`lower(establishments.city)`, '=', filter.city.toLowerCase());
      if (filter.teleconsult) q = q.where('practitioners.teleconsult', '=', true);
      if (filter.after) q = q.where('agendas.id', '>', filter.after);
      return q.orderBy('agendas.id').limit(filter.limit).execute();
    },

    listMotives(tx: Tx, agendaIds: string[], activeOnly: boolean): Promise<MotiveRow[]> {
      if (agendaIds.length === 0) return Promise.resolve([]);
      let q = tx.selectFrom('visit_motives').select(MOTIVE_COLUMNS).where('visit_motives.agenda_id', 'in', agendaIds);
      if (activeOnly) q = q.where('visit_motives.active', '=', true);
      return q.orderBy('visit_motives.created_at').orderBy('visit_motives.id').execute();
    },

    /** A motive with its agenda (one round trip: the hot path of availability and booking). */
    async findMotiveWithAgenda(tx: Tx, motiveId: string): Promise<{ motive: MotiveRow; agenda: AgendaRow } | undefined> {
      const row = await agendaQuery(tx)
        .innerJoin('visit_motives', 'visit_motives.agenda_id', 'agendas.id')
        .select(MOTIVE_COLUMNS)
        .where('visit_motives.id', '=', motiveId)
        .executeTakeFirst();
      if (!row) return undefined;
      const { id, agenda_id: _a, owner_establishment_id, label, duration_minutes, buffer_minutes, patient_kind, teleconsult, min_notice_minutes, horizon_days, cancel_cutoff_hours, active, ...agenda } = row;
      return {
        motive: { id, agenda_id: row.agenda_id, owner_establishment_id, label, duration_minutes, buffer_minutes, patient_kind, teleconsult, min_notice_minutes, horizon_days, cancel_cutoff_hours, active },
        agenda: { ...agenda, agenda_id: row.agenda_id },
      };
    },

    findMotive(tx: Tx, motiveId: string): Promise<MotiveRow | undefined> {
      return tx.selectFrom('visit_motives').select(MOTIVE_COLUMNS).where('visit_motives.id', '=', motiveId).executeTakeFirst();
    },

    async listExceptions(tx: Tx, agendaIds: string[], window: Interval) {
      if (agendaIds.length === 0) return [];
      const rows = await tx
        .selectFrom('agenda_exceptions')
        .select(['id', 'agenda_id', 'kind', sql<string>`period::text`.as('period')])
        .where('agenda_id', 'in', agendaIds)
        .where(sql<boolean>`upper(period) > ${new Date(window.start)} and lower(period) < ${new Date(window.end)}`)
        .orderBy(sql`lower(period)`)
        .limit(2000)
        .execute();
      return rows.map((r) => ({ id: r.id, agendaId: r.agenda_id, kind: r.kind, ...parseRange(r.period) }));
    },

    /**
     * Motives, exceptions and busy time of several agendas in one round trip (search, availability,
     * booking). Busy time comes from the projection that names no patient; times are epoch ms.
     */
    async loadAgendaDetails(tx: Tx, agendaIds: string[], practitionerIds: string[], window: Interval, teleconsultOnly: boolean, now: number) {
      const from = new Date(window.start);
      const to = new Date(window.end);
      const ms = (e: string) => sql.raw(`(extract(epoch from ${e}) * 1000)::bigint`);
      const { rows } = await sql<{ motives: MotiveRow[] | null; exceptions: Array<[string, 'absence' | 'opening', number, number]> | null; busy: Array<[string, number, number, string, number | null]> | null }>`
        select
          (select json_agg(m order by m.created_at, m.id) from (
             select id, agenda_id, owner_establishment_id, label, duration_minutes, buffer_minutes, patient_kind, teleconsult,
                    min_notice_minutes, horizon_days, cancel_cutoff_hours, active, created_at
             from visit_motives where agenda_id = any(${agendaIds}::uuid[]) and active and (not ${teleconsultOnly} or teleconsult)) m) as motives,
          (select json_agg(json_build_array(agenda_id, kind, ${ms('lower(period)')}, ${ms('upper(period)')}))
             from agenda_exceptions where agenda_id = any(${agendaIds}::uuid[]) and upper(period) > ${from} and lower(period) < ${to}) as exceptions,
          (select json_agg(json_build_array(practitioner_id, ${ms('lower(period)')}, ${ms('upper(period)')}, appointment_id, ${ms('expires_at')}))
             from practitioner_busy where practitioner_id = any(${practitionerIds}::uuid[]) and upper(period) > ${from} and lower(period) < ${to}) as busy`.execute(tx);
      const row = rows[0]!;
      const busy = (row.busy ?? []).map(([practitionerId, start, end, appointmentId, expiresAt]) => ({
        practitionerId,
        start: Number(start),
        end: Number(end),
        appointmentId,
        expiresAt: expiresAt === null ? null : Number(expiresAt),
      }));
      return {
        motives: row.motives ?? [],
        exceptions: (row.exceptions ?? []).map(([agendaId, kind, start, end]) => ({ agendaId, kind, start: Number(start), end: Number(end) })),
        // Lapsed holds (waiting-list offers) no longer count; they are listed apart so that a
        // booking releases them only when one is in its way.
        busy: busy.filter((b) => b.expiresAt === null || b.expiresAt > now),
        lapsedHolds: busy.filter((b) => b.expiresAt !== null && b.expiresAt <= now),
      };
    },

    // --- staff configuration (tenant transaction) -------------------------------------------
    practisesIn(tx: Tx, establishmentId: string, practitionerId: string) {
      return tx
        .selectFrom('practitioner_establishments')
        .select('practitioner_id')
        .where('establishment_id', '=', establishmentId)
        .where('practitioner_id', '=', practitionerId)
        .executeTakeFirst();
    },

    insertAgenda(tx: Tx, row: { id: string; establishmentId: string; practitionerId: string; weeklyHours: WeeklyHours; published: boolean }) {
      return tx
        .insertInto('agendas')
        .values({
          id: row.id,
          owner_establishment_id: row.establishmentId,
          practitioner_id: row.practitionerId,
          weekly_hours: JSON.stringify(row.weeklyHours),
          published: row.published,
        })
        .execute();
    },

    updateAgenda(tx: Tx, agendaId: string, weeklyHours: WeeklyHours, published: boolean) {
      return tx
        .updateTable('agendas')
        .set({ weekly_hours: JSON.stringify(weeklyHours), published, updated_at: new Date() })
        .where('id', '=', agendaId)
        .execute();
    },

    insertMotive(tx: Tx, row: Omit<MotiveRow, 'active'>) {
      return tx.insertInto('visit_motives').values(row).execute();
    },

    updateMotive(tx: Tx, motiveId: string, patch: Partial<Omit<MotiveRow, 'id' | 'agenda_id' | 'owner_establishment_id'>>) {
      return tx.updateTable('visit_motives').set(patch).where('id', '=', motiveId).executeTakeFirst();
    },

    insertException(tx: Tx, row: { id: string; establishmentId: string; agendaId: string; kind: 'absence' | 'opening'; period: Interval }) {
      return tx
        .insertInto('agenda_exceptions')
        .values({ id: row.id, owner_establishment_id: row.establishmentId, agenda_id: row.agendaId, kind: row.kind, period: range(row.period) })
        .execute();
    },

    findException(tx: Tx, exceptionId: string) {
      return tx.selectFrom('agenda_exceptions').select(['agenda_id', 'owner_establishment_id', 'kind']).where('id', '=', exceptionId).executeTakeFirst();
    },

    async deleteException(tx: Tx, establishmentId: string, exceptionId: string, kind: 'absence' | 'opening') {
      const r = await tx
        .deleteFrom('agenda_exceptions')
        .where('id', '=', exceptionId)
        .where('owner_establishment_id', '=', establishmentId)
        .where('kind', '=', kind)
        .executeTakeFirst();
      return Number(r.numDeletedRows) > 0;
    },

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

    findAccount(tx: Tx, userId: string) {
      return tx
        .selectFrom('users')
        .select(['id', 'email', 'email_verified_at', 'first_name', 'last_name', 'birth_date', 'phone', 'disabled_at'])
        .where('id', '=', userId)
        .executeTakeFirst();
    },

    /**
     * A minimal patient file for an account booking at an establishment for the first time.
     * The records module owns patient files; this is the one write scheduling makes to them.
     */
    insertPatientFileForAccount(
      tx: Tx,
      row: { id: string; establishmentId: string; userId: string; lastName: string; firstName: string; birthDate: string; email: string; phone: string | null },
    ) {
      return tx
        .insertInto('patients')
        .values({
          id: row.id,
          establishment_id: row.establishmentId,
          account_user_id: row.userId,
          birth_name: row.lastName.toUpperCase(),
          first_names: row.firstName,
          used_name: null,
          sex: 'X',
          birth_date: row.birthDate,
          birth_place_insee: null,
          email: row.email,
          phone: row.phone,
          address_line1: null,
          postal_code: null,
          city: null,
        })
        .execute();
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

    findByIdempotencyKey(tx: Tx, establishmentId: string, userId: string, key: string) {
      return tx
        .selectFrom('appointments')
        .select(['id', 'idempotency_fingerprint', 'idempotency_response'])
        .where('establishment_id', '=', establishmentId)
        .where('booked_by_user_id', '=', userId)
        .where('idempotency_key', '=', key)
        .executeTakeFirst();
    },

    insertAppointment(
      tx: Tx,
      row: {
        id: string;
        establishmentId: string;
        agendaId: string;
        practitionerId: string;
        motiveId: string;
        patientId: string;
        start: number;
        end: number;
        occupiedUntil: number;
        bookedByUserId: string | null;
        bookedBy: 'patient' | 'staff';
        idempotency: { key: string; fingerprint: string; response: unknown } | null;
      },
    ) {
      return tx
        .insertInto('appointments')
        .values({
          id: row.id,
          establishment_id: row.establishmentId,
          agenda_id: row.agendaId,
          practitioner_id: row.practitionerId,
          motive_id: row.motiveId,
          patient_id: row.patientId,
          starts_at: new Date(row.start),
          ends_at: new Date(row.end),
          period: range({ start: row.start, end: row.occupiedUntil }),
          status: 'confirmed',
          booked_by_user_id: row.bookedByUserId,
          booked_by: row.bookedBy,
          cancelled_at: null,
          cancelled_by: null,
          idempotency_key: row.idempotency?.key ?? null,
          idempotency_fingerprint: row.idempotency?.fingerprint ?? null,
          idempotency_response: row.idempotency ? JSON.stringify(row.idempotency.response) : null,
        })
        .execute();
    },

    /** Bulk insert for generated data sets (demo, scale); no idempotency, booked by staff. */
    async insertAppointmentRows(
      tx: Tx,
      rows: Array<{ id: string; establishmentId: string; agendaId: string; practitionerId: string; motiveId: string; patientId: string; start: number; end: number; occupiedUntil: number; status: AppointmentStatus }>,
    ) {
      if (rows.length === 0) return;
      await tx
        .insertInto('appointments')
        .values(
          rows.map((r) => ({
            id: r.id,
            establishment_id: r.establishmentId,
            agenda_id: r.agendaId,
            practitioner_id: r.practitionerId,
            motive_id: r.motiveId,
            patient_id: r.patientId,
            starts_at: new Date(r.start),
            ends_at: new Date(r.end),
            period: range({ start: r.start, end: r.occupiedUntil }),
            status: r.status,
            booked_by_user_id: null,
            booked_by: 'staff' as const,
            cancelled_at: r.status === 'cancelled' ? new Date(r.start - 86_400_000) : null,
            cancelled_by: r.status === 'cancelled' ? ('patient' as const) : null,
            idempotency_key: null,
            idempotency_fingerprint: null,
            idempotency_response: null,
          })),
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

    /** A practitioner's appointments in a window, for staff, with the patient's display name. */
    listAgenda(tx: Tx, practitionerId: string, window: Interval, after: { start: Date; id: string } | undefined, limit: number) {
      let q = tx
        .selectFrom('appointments')
        .innerJoin('patients', 'patients.id', 'appointments.patient_id')
        .select([
          'appointments.id',
          'appointments.starts_at',
          'appointments.ends_at',
          'appointments.status',
          'appointments.motive_id',
          'patients.id as patient_id',
          'patients.first_names',
          'patients.birth_name',
          'patients.used_name',
        ])
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

    insertHold(tx: Tx, row: { id: string; establishmentId: string; agendaId: string; practitionerId: string; motiveId: string; patientId: string; start: number; end: number; occupiedUntil: number; expiresAt: Date }) {
      return tx
        .insertInto('appointments')
        .values({
          id: row.id,
          establishment_id: row.establishmentId,
          agenda_id: row.agendaId,
          practitioner_id: row.practitionerId,
          motive_id: row.motiveId,
          patient_id: row.patientId,
          starts_at: new Date(row.start),
          ends_at: new Date(row.end),
          period: range({ start: row.start, end: row.occupiedUntil }),
          status: 'held',
          hold_expires_at: row.expiresAt,
          booked_by_user_id: null,
          booked_by: 'staff',
          cancelled_at: null,
          cancelled_by: null,
          idempotency_key: null,
          idempotency_fingerprint: null,
          idempotency_response: null,
        })
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

    linkedEstablishments(tx: Tx, userId: string) {
      return tx.selectFrom('account_establishments').select('linked_establishment_id').where('user_id', '=', userId).execute();
    },

    findEstablishment(tx: Tx, establishmentId: string) {
      return tx.selectFrom('establishments').select(['id', 'name', 'address_line', 'city', 'postal_code', 'time_zone']).where('id', '=', establishmentId).executeTakeFirst();
    },
  };
}
export type SchedulingStore = ReturnType<typeof createSchedulingStore>;

// SQL of the scheduling module. Public reads (agendas, motives, exceptions, busy ranges) work in
// any transaction; everything about appointments and patient files needs a tenant transaction
// (withTenant), where row-level security limits it to one establishment.
import { sql } from 'kysely';
import type { Exec, Tx } from '../../platform/db/database.js';
import type { Interval, WeeklyHours } from './availability.js';
import { range, parseRange } from './ranges.js';
import { appointmentStore } from './store-appointments.js';

export { range, parseRange } from './ranges.js';

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
  /** Hours before an appointment at which its reminders go out (per establishment). */
  reminder_offsets_hours: number[];
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

function agendaQuery(tx: Exec) {
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
      'establishments.reminder_offsets_hours',
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
    findPractitioner(tx: Exec, practitionerId: string) {
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

    /**
     * Patients among these with whom the practitioner (by user id) has an appointment in the last
     * twelve months or upcoming, not cancelled: the appointment-based care relationship.
     */
    /** Patients among these with a confirmed appointment starting within [from, to] (optionally with one practitioner). */
    async patientsWithAppointmentsBetween(tx: Tx, patientIds: string[], from: Date, to: Date, practitionerUserId: string | null): Promise<Set<string>> {
      if (patientIds.length === 0) return new Set();
      let q = tx
        .selectFrom('appointments')
        .select('appointments.patient_id')
        .distinct()
        .where('appointments.patient_id', 'in', patientIds)
        .where('appointments.status', '=', 'confirmed')
        .where('appointments.starts_at', '>=', from)
        .where('appointments.starts_at', '<=', to);
      if (practitionerUserId !== null) {
        q = q.where('appointments.practitioner_id', 'in', (eb) => eb.selectFrom('practitioners').select('id').where('user_id', '=', practitionerUserId));
      }
      return new Set((await q.execute()).map((r) => r.patient_id));
    },

    findPractitionerIdByUser(tx: Exec, userId: string) {
      return tx.selectFrom('practitioners').select('id').where('user_id', '=', userId).executeTakeFirst();
    },

    listAgendasOfPractitioner(tx: Exec, practitionerId: string, publishedOnly: boolean): Promise<AgendaRow[]> {
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
      tx: Exec,
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

    listMotives(tx: Exec, agendaIds: string[], activeOnly: boolean): Promise<MotiveRow[]> {
      if (agendaIds.length === 0) return Promise.resolve([]);
      let q = tx.selectFrom('visit_motives').select(MOTIVE_COLUMNS).where('visit_motives.agenda_id', 'in', agendaIds);
      if (activeOnly) q = q.where('visit_motives.active', '=', true);
      return q.orderBy('visit_motives.created_at').orderBy('visit_motives.id').execute();
    },

    /** A motive with its agenda (one round trip: the hot path of availability and booking). */
    async findMotiveWithAgenda(tx: Exec, motiveId: string): Promise<{ motive: MotiveRow; agenda: AgendaRow } | undefined> {
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
    async loadAgendaDetails(tx: Exec, agendaIds: string[], practitionerIds: string[], window: Interval, teleconsultOnly: boolean, now: number) {
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

    ...appointmentStore(),

    linkedEstablishments(tx: Tx, userId: string) {
      return tx.selectFrom('account_establishments').select('linked_establishment_id').where('user_id', '=', userId).execute();
    },

    findEstablishment(tx: Tx, establishmentId: string) {
      return tx.selectFrom('establishments').select(['id', 'name', 'address_line', 'city', 'postal_code', 'time_zone']).where('id', '=', establishmentId).executeTakeFirst();
    },
  };
}
export type SchedulingStore = ReturnType<typeof createSchedulingStore>;

// Staff configuration of agendas: weekly hours, visit motives, absences and one-off openings.
// Configuration holds no patient data, so admins may do it too; a practitioner edits only their
// own agenda. Every change is audited (who changed the offer, when).
import { v7 as uuidv7 } from 'uuid';
import type { Database, Tx } from '../../platform/db/database.js';
import type { PublicCache } from '../../platform/cache.js';
import type { Actor } from '../../platform/http/context.js';
import type { FieldProblem } from '../../platform/http/errors.js';
import { DomainError } from '../../platform/http/errors.js';
import { appendAuditEvent } from '../audit/index.js';
import type { WeeklyHours } from './availability.js';
import { requireRole, userActor } from './access.js';
import type { AgendaRow, MotiveRow, SchedulingStore } from './store.js';
import { DAY, formatInstant, parseInstant, windowFrom } from './time.js';
import { WEEKDAYS, type MotiveCreateBody, type MotivePatchBody, type MotiveStaff, type ScheduleBody, type WeeklyHoursDto } from './schemas.js';

const CONFIG_ROLES = ['practitioner', 'secretary', 'admin'] as const;

const toMinutes = (hhmm: string): number => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
const toHhmm = (minutes: number): string => `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;

/** Validates weekly hours and turns them into ISO-weekday minute ranges; every problem is named. */
export function weeklyHoursFromDto(dto: WeeklyHoursDto): WeeklyHours {
  const problems: FieldProblem[] = [];
  const out: WeeklyHours = {};
  WEEKDAYS.forEach((day, index) => {
    const ranges = dto[day] ?? [];
    const parsed = ranges.map((r, i) => ({ i, start: toMinutes(r.start), end: toMinutes(r.end), label: `${r.start}–${r.end}` }));
    for (const r of parsed) {
      if (r.end <= r.start) problems.push({ field: `body.weeklyHours.${day}[${r.i}]`, message: `end ${toHhmm(r.end)} must be after start ${toHhmm(r.start)}` });
    }
    const sorted = parsed.filter((r) => r.end > r.start).sort((a, b) => a.start - b.start);
    for (let k = 1; k < sorted.length; k++) {
      const prev = sorted[k - 1]!;
      const cur = sorted[k]!;
      if (cur.start < prev.end) problems.push({ field: `body.weeklyHours.${day}[${cur.i}]`, message: `${cur.label} overlaps ${prev.label}` });
    }
    if (sorted.length > 0) out[String(index + 1)] = sorted.map((r) => [r.start, r.end]);
  });
  if (problems.length > 0) {
    throw new DomainError('invalid_request', problems.map((p) => `${p.field}: ${p.message}`).join('; '), { errors: problems });
  }
  return out;
}

export function weeklyHoursToDto(hours: WeeklyHours): WeeklyHoursDto {
  const out: WeeklyHoursDto = {};
  WEEKDAYS.forEach((day, index) => {
    const ranges = hours[String(index + 1)];
    if (ranges && ranges.length > 0) out[day] = ranges.map(([s, e]) => ({ start: toHhmm(s), end: toHhmm(e) }));
  });
  return out;
}

export function motiveToDto(m: MotiveRow, practitionerId: string): MotiveStaff {
  return {
    id: m.id,
    practitionerId,
    label: m.label,
    durationMinutes: m.duration_minutes,
    bufferMinutes: m.buffer_minutes,
    patientKind: m.patient_kind,
    teleconsult: m.teleconsult,
    minNoticeMinutes: m.min_notice_minutes,
    horizonDays: m.horizon_days,
    cancelCutoffHours: m.cancel_cutoff_hours,
    active: m.active,
  };
}

export function createAgendaSettings(deps: { db: Database; store: SchedulingStore; now: () => number; cache: PublicCache }) {
  const { db, store } = deps;

  /**
   * A configuration change: hours, motives, absences and openings feed public search and
   * availability, so the public cache forgets everything once it commits (changes are rare).
   */
  async function write<T>(establishmentId: string, fn: (tx: Tx) => Promise<T>): Promise<T> {
    const result = await db.withTenant(establishmentId, fn);
    await deps.cache.invalidateAll();
    return result;
  }

  /** The configuring actor's right on this practitioner's agenda in this establishment. */
  async function authorize(tx: Tx, actor: Actor, establishmentId: string, practitionerId: string): Promise<string> {
    const role = requireRole(actor, establishmentId, CONFIG_ROLES);
    if (!(await store.practisesIn(tx, establishmentId, practitionerId))) throw new DomainError('not_found');
    if (role === 'practitioner') {
      const own = await store.findPractitionerIdByUser(tx, userActor(actor).userId);
      if (own?.id !== practitionerId) throw new DomainError('forbidden', 'A practitioner edits only their own agenda');
    }
    return role;
  }

  async function agendaOrNotFound(tx: Tx, establishmentId: string, practitionerId: string): Promise<AgendaRow> {
    const agenda = await store.findAgenda(tx, establishmentId, practitionerId);
    if (!agenda) throw new DomainError('not_found', 'This practitioner has no agenda here yet: PUT its schedule first');
    return agenda;
  }

  async function audit(tx: Tx, actor: Actor, establishmentId: string, role: string, action: string, ids: string[]) {
    await appendAuditEvent(tx, { establishmentId, actor, actorRole: role, action, resourceKind: 'agenda', resourceIds: ids, outcome: 'allowed' });
  }

  async function motiveInEstablishment(tx: Tx, establishmentId: string, motiveId: string) {
    const motive = await store.findMotive(tx, motiveId);
    if (!motive || motive.owner_establishment_id !== establishmentId) throw new DomainError('not_found');
    const agenda = await store.findAgendaById(tx, motive.agenda_id);
    if (!agenda) throw new DomainError('not_found');
    return { motive, agenda };
  }

  return {
    async getSchedule(actor: Actor, establishmentId: string, practitionerId: string) {
      return db.withTenant(establishmentId, async (tx) => {
        await authorize(tx, actor, establishmentId, practitionerId);
        const agenda = await agendaOrNotFound(tx, establishmentId, practitionerId);
        return { practitionerId, establishmentId, timeZone: agenda.time_zone, weeklyHours: weeklyHoursToDto(agenda.weekly_hours), published: agenda.published };
      });
    },

    async putSchedule(actor: Actor, establishmentId: string, practitionerId: string, body: ScheduleBody) {
      const hours = weeklyHoursFromDto(body.weeklyHours);
      return write(establishmentId, async (tx) => {
        const role = await authorize(tx, actor, establishmentId, practitionerId);
        const existing = await store.findAgenda(tx, establishmentId, practitionerId);
        const published = body.published ?? existing?.published ?? true;
        if (existing) await store.updateAgenda(tx, existing.agenda_id, hours, published);
        else await store.insertAgenda(tx, { id: uuidv7(), establishmentId, practitionerId, weeklyHours: hours, published });
        const agenda = await agendaOrNotFound(tx, establishmentId, practitionerId);
        await audit(tx, actor, establishmentId, role, 'agenda.schedule.update', [agenda.agenda_id]);
        return { practitionerId, establishmentId, timeZone: agenda.time_zone, weeklyHours: weeklyHoursToDto(agenda.weekly_hours), published: agenda.published };
      });
    },

    async listMotives(actor: Actor, establishmentId: string, practitionerId: string) {
      return db.withTenant(establishmentId, async (tx) => {
        await authorize(tx, actor, establishmentId, practitionerId);
        const agenda = await agendaOrNotFound(tx, establishmentId, practitionerId);
        const rows = await store.listMotives(tx, [agenda.agenda_id], false);
        return { items: rows.map((m) => motiveToDto(m, practitionerId)) };
      });
    },

    async createMotive(actor: Actor, establishmentId: string, practitionerId: string, body: MotiveCreateBody) {
      return write(establishmentId, async (tx) => {
        const role = await authorize(tx, actor, establishmentId, practitionerId);
        const agenda = await agendaOrNotFound(tx, establishmentId, practitionerId);
        const row = {
          id: uuidv7(),
          agenda_id: agenda.agenda_id,
          owner_establishment_id: establishmentId,
          label: body.label.trim(),
          duration_minutes: body.durationMinutes,
          buffer_minutes: body.bufferMinutes ?? 0,
          patient_kind: body.patientKind ?? 'all',
          teleconsult: body.teleconsult ?? false,
          min_notice_minutes: body.minNoticeMinutes ?? 0,
          horizon_days: body.horizonDays ?? 60,
          cancel_cutoff_hours: body.cancelCutoffHours ?? 24,
        };
        if (row.label === '') throw new DomainError('invalid_request', 'body.label: must not be blank', { errors: [{ field: 'body.label', message: 'must not be blank' }] });
        await store.insertMotive(tx, row);
        await audit(tx, actor, establishmentId, role, 'agenda.motive.create', [row.id]);
        return motiveToDto({ ...row, active: true }, practitionerId);
      });
    },

    async patchMotive(actor: Actor, establishmentId: string, motiveId: string, body: MotivePatchBody) {
      return write(establishmentId, async (tx) => {
        const { agenda } = await motiveInEstablishment(tx, establishmentId, motiveId);
        const role = await authorize(tx, actor, establishmentId, agenda.practitioner_id);
        await store.updateMotive(tx, motiveId, {
          ...(body.label !== undefined ? { label: body.label.trim() } : {}),
          ...(body.durationMinutes !== undefined ? { duration_minutes: body.durationMinutes } : {}),
          ...(body.bufferMinutes !== undefined ? { buffer_minutes: body.bufferMinutes } : {}),
          ...(body.patientKind !== undefined ? { patient_kind: body.patientKind } : {}),
          ...(body.teleconsult !== undefined ? { teleconsult: body.teleconsult } : {}),
          ...(body.minNoticeMinutes !== undefined ? { min_notice_minutes: body.minNoticeMinutes } : {}),
          ...(body.horizonDays !== undefined ? { horizon_days: body.horizonDays } : {}),
          ...(body.cancelCutoffHours !== undefined ? { cancel_cutoff_hours: body.cancelCutoffHours } : {}),
        });
        await audit(tx, actor, establishmentId, role, 'agenda.motive.update', [motiveId]);
        const updated = await store.findMotive(tx, motiveId);
        return motiveToDto(updated!, agenda.practitioner_id);
      });
    },

    /** Motives are deactivated, not deleted: past appointments keep pointing at them. */
    async deactivateMotive(actor: Actor, establishmentId: string, motiveId: string) {
      await write(establishmentId, async (tx) => {
        const { agenda } = await motiveInEstablishment(tx, establishmentId, motiveId);
        const role = await authorize(tx, actor, establishmentId, agenda.practitioner_id);
        await store.updateMotive(tx, motiveId, { active: false });
        await audit(tx, actor, establishmentId, role, 'agenda.motive.deactivate', [motiveId]);
      });
    },

    async listExceptions(actor: Actor, establishmentId: string, practitionerId: string, kind: 'absence' | 'opening', query: { from?: string; to?: string }) {
      return db.withTenant(establishmentId, async (tx) => {
        await authorize(tx, actor, establishmentId, practitionerId);
        const agenda = await agendaOrNotFound(tx, establishmentId, practitionerId);
        const window = windowFrom(query, agenda.time_zone, deps.now() - 30 * DAY, 400, 400);
        const rows = (await store.listExceptions(tx, [agenda.agenda_id], window)).filter((e) => e.kind === kind);
        return {
          items: rows.map((e) => ({ id: e.id, practitionerId, kind, start: formatInstant(e.start, agenda.time_zone), end: formatInstant(e.end, agenda.time_zone) })),
        };
      });
    },

    async createException(actor: Actor, establishmentId: string, practitionerId: string, kind: 'absence' | 'opening', body: { start: string; end: string }) {
      const start = parseInstant(body.start, 'body.start');
      const end = parseInstant(body.end, 'body.end');
      if (end <= start) throw new DomainError('invalid_request', 'body.end: must be after start', { errors: [{ field: 'body.end', message: 'must be after start' }] });
      if (end - start > 366 * DAY) {
        throw new DomainError('invalid_request', 'body.end: an absence or opening lasts at most 366 days', { errors: [{ field: 'body.end', message: 'at most 366 days after start' }] });
      }
      return write(establishmentId, async (tx) => {
        const role = await authorize(tx, actor, establishmentId, practitionerId);
        const agenda = await agendaOrNotFound(tx, establishmentId, practitionerId);
        const id = uuidv7();
        await store.insertException(tx, { id, establishmentId, agendaId: agenda.agenda_id, kind, period: { start, end } });
        await audit(tx, actor, establishmentId, role, `agenda.${kind}.create`, [id]);
        return { id, practitionerId, kind, start: formatInstant(start, agenda.time_zone), end: formatInstant(end, agenda.time_zone) };
      });
    },

    async deleteException(actor: Actor, establishmentId: string, exceptionId: string, kind: 'absence' | 'opening') {
      await write(establishmentId, async (tx) => {
        const found = await store.findException(tx, exceptionId);
        if (!found || found.owner_establishment_id !== establishmentId) throw new DomainError('not_found');
        const agenda = await store.findAgendaById(tx, found.agenda_id);
        const role = await authorize(tx, actor, establishmentId, agenda!.practitioner_id);
        if (!(await store.deleteException(tx, establishmentId, exceptionId, kind))) throw new DomainError('not_found');
        await audit(tx, actor, establishmentId, role, `agenda.${kind}.delete`, [exceptionId]);
      });
    },
  };
}
export type AgendaSettings = ReturnType<typeof createAgendaSettings>;

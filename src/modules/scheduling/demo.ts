// Agendas and appointments for generated data sets (the demo, and `hygie seed --scale`):
// deterministic for a given seed and clock, computed with the same availability core as the
// server so that every generated appointment sits on a real slot.
import { v7 as uuidv7 } from 'uuid';
import type { Database } from '../../platform/db/database.js';
import { freeSlots, openTime, type Interval, type WeeklyHours } from './availability.js';
import { createSchedulingStore } from './store.js';
import type { NewAppointment } from './store-appointments.js';

export interface PlanInput {
  agendas: Array<{ establishmentId: string; practitionerId: string; teleconsult: boolean; timeZone?: string }>;
  patientFiles: Array<{ id: string; establishmentId: string; hasAccount: boolean }>;
}

export interface PlannedAgenda {
  id: string;
  establishmentId: string;
  practitionerId: string;
  timeZone: string;
  weeklyHours: WeeklyHours;
  motives: Array<{
    id: string;
    label: string;
    durationMinutes: number;
    bufferMinutes: number;
    patientKind: 'all' | 'new_only' | 'known_only';
    teleconsult: boolean;
    cancelCutoffHours: number;
  }>;
  absences: Interval[];
}

export interface PlannedAppointment extends NewAppointment {
  status: 'confirmed' | 'cancelled' | 'no_show';
}

export interface PlannedWaitlistEntry {
  id: string;
  establishmentId: string;
  agendaId: string;
  motiveId: string;
  patientId: string;
  wantedBefore: number;
}

export interface SchedulingPlan {
  agendas: PlannedAgenda[];
  appointments: PlannedAppointment[];
  waitlist: PlannedWaitlistEntry[];
}

/** mulberry32: a small deterministic generator, enough for plausible demo data. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const DAY = 86_400_000;
const WEEK_TEMPLATES: WeeklyHours[] = [
  { '1': [[510, 720], [840, 1080]], '2': [[510, 720], [840, 1080]], '3': [[510, 720]], '4': [[510, 720], [840, 1080]], '5': [[510, 720], [840, 1020]] },
  { '1': [[540, 780]], '2': [[540, 780], [840, 1140]], '3': [[540, 780], [840, 1140]], '4': [[840, 1140]], '5': [[540, 780]], '6': [[540, 720]] },
  { '1': [[480, 720], [780, 960]], '3': [[480, 720], [780, 960]], '4': [[480, 720], [780, 960]], '5': [[480, 720], [780, 960]] },
];

/**
 * Plans agendas from `from` to `to` around `now`: weekly hours, motives, a past week of leave and
 * an upcoming day off, past appointments (mostly honoured, some cancelled or missed) and upcoming
 * ones, filling at most `fillPast` / `fillFuture` of the slots so that free slots remain.
 */
export function planScheduling(
  input: PlanInput,
  options: { seed: number; now: number; daysBack: number; daysAhead: number; fillPast?: number; fillFuture?: number },
): SchedulingPlan {
  const random = seededRandom(options.seed);
  let tick = 0;
  const newId = (at: number) => {
    tick += 1;
    return uuidv7({ msecs: at, seq: tick % 4096, random: Uint8Array.from({ length: 16 }, () => Math.floor(random() * 256)) });
  };
  const from = options.now - options.daysBack * DAY;
  const to = options.now + options.daysAhead * DAY;
  const agendas: PlannedAgenda[] = [];
  const appointments: PlannedAppointment[] = [];
  const waitlist: PlannedWaitlistEntry[] = [];
  const filesByEstablishment = new Map<string, Array<{ id: string; hasAccount: boolean }>>();
  for (const f of input.patientFiles) {
    const list = filesByEstablishment.get(f.establishmentId) ?? [];
    list.push(f);
    filesByEstablishment.set(f.establishmentId, list);
  }
  // Account holders first, so that every one of them gets appointments.
  for (const list of filesByEstablishment.values()) list.sort((a, b) => Number(b.hasAccount) - Number(a.hasAccount));
  // Each practitioner sees a panel of the establishment's patients (a third of them, or all where
  // fewer practitioners practise), so that most patients have no care relationship with most
  // practitioners, as in a real establishment.
  const agendasPerEstablishment = new Map<string, number>();
  const ordinalOfAgenda = input.agendas.map((a) => {
    const n = agendasPerEstablishment.get(a.establishmentId) ?? 0;
    agendasPerEstablishment.set(a.establishmentId, n + 1);
    return n;
  });
  const cursorByAgenda = new Map<number, number>();
  // A practitioner with agendas in two establishments is one person: five-minute buckets already
  // taken elsewhere are skipped (the exclusion constraint would refuse them anyway).
  const takenBuckets = new Map<string, Set<number>>();
  const BUCKET = 5 * 60_000;

  input.agendas.forEach((a, index) => {
    const timeZone = a.timeZone ?? 'Europe/Paris';
    const weeklyHours = WEEK_TEMPLATES[index % WEEK_TEMPLATES.length]!;
    const mk = (label: string, durationMinutes: number, extra: Partial<PlannedAgenda['motives'][number]> = {}) => ({
      id: newId(options.now - 365 * DAY),
      label,
      durationMinutes,
      bufferMinutes: 0,
      patientKind: 'all' as const,
      teleconsult: false,
      cancelCutoffHours: 24,
      ...extra,
    });
    const motives = [mk('Consultation', 20), mk('Première consultation', 40, { patientKind: 'new_only', bufferMinutes: 5 })];
    if (a.teleconsult) motives.push(mk('Téléconsultation', 15, { teleconsult: true, cancelCutoffHours: 2 }));
    const leaveStart = options.now - (45 + (index % 20)) * DAY;
    const dayOff = options.now + (9 + (index % 7)) * DAY;
    const absences = [
      { start: Math.floor(leaveStart / DAY) * DAY, end: Math.floor(leaveStart / DAY) * DAY + 7 * DAY },
      { start: Math.floor(dayOff / DAY) * DAY, end: Math.floor(dayOff / DAY) * DAY + DAY },
    ];
    const agenda: PlannedAgenda = { id: newId(options.now - 365 * DAY), establishmentId: a.establishmentId, practitionerId: a.practitionerId, timeZone, weeklyHours, motives, absences };
    agendas.push(agenda);

    const everyone = filesByEstablishment.get(a.establishmentId) ?? [];
    const panels = Math.max(1, Math.min(3, agendasPerEstablishment.get(a.establishmentId) ?? 1));
    const files = everyone.filter((_, i) => i % panels === ordinalOfAgenda[index]! % panels);
    if (files.length === 0) return;
    // One patient in two agendas waits for an earlier slot.
    if (index % 2 === 0) {
      const waiting = files[(index * 7) % files.length]!;
      waitlist.push({ id: newId(options.now - DAY), establishmentId: a.establishmentId, agendaId: agenda.id, motiveId: motives[0]!.id, patientId: waiting.id, wantedBefore: options.now + 21 * DAY });
    }
    const open = openTime({ timeZone, weeklyHours, openings: [], absences, from, to });
    const main = motives[0]!;
    const grid = freeSlots({ open, busy: [], motive: { durationMinutes: main.durationMinutes, bufferMinutes: 0, minNoticeMinutes: 0, horizonDays: 10_000 }, from, to, now: from });
    for (const slot of grid) {
      const past = slot.start < options.now;
      if (random() >= (past ? (options.fillPast ?? 0.35) : (options.fillFuture ?? 0.2))) continue;
      const taken = takenBuckets.get(a.practitionerId) ?? new Set<number>();
      takenBuckets.set(a.practitionerId, taken);
      const buckets: number[] = [];
      for (let b = Math.floor(slot.start / BUCKET); b < Math.ceil(slot.end / BUCKET); b++) buckets.push(b);
      if (buckets.some((b) => taken.has(b))) continue;
      for (const b of buckets) taken.add(b);
      const cursor = cursorByAgenda.get(index) ?? 0;
      cursorByAgenda.set(index, cursor + 1);
      const patient = files[cursor % files.length]!;
      const roll = random();
      appointments.push({
        id: newId(slot.start - 7 * DAY),
        establishmentId: a.establishmentId,
        agendaId: agenda.id,
        practitionerId: a.practitionerId,
        motiveId: main.id,
        patientId: patient.id,
        start: slot.start,
        end: slot.end,
        occupiedUntil: slot.end,
        status: past ? (roll < 0.05 ? 'no_show' : roll < 0.12 ? 'cancelled' : 'confirmed') : roll < 0.05 ? 'cancelled' : 'confirmed',
      });
    }
  });
  return { agendas, appointments, waitlist };
}

/** Writes a plan through tenant transactions (the same walls as the server), in batches. */
export async function loadSchedulingPlan(db: Database, plan: SchedulingPlan, onBatch: (n: number) => void = () => undefined): Promise<void> {
  const store = createSchedulingStore();
  const establishments = [...new Set(plan.agendas.map((a) => a.establishmentId))];
  for (const establishmentId of establishments) {
    const agendas = plan.agendas.filter((a) => a.establishmentId === establishmentId);
    await db.withTenant(establishmentId, async (tx) => {
      for (const a of agendas) {
        await store.insertAgenda(tx, { id: a.id, establishmentId, practitionerId: a.practitionerId, weeklyHours: a.weeklyHours, published: true });
        for (const m of a.motives) {
          await store.insertMotive(tx, {
            id: m.id,
            agenda_id: a.id,
            owner_establishment_id: establishmentId,
            label: m.label,
            duration_minutes: m.durationMinutes,
            buffer_minutes: m.bufferMinutes,
            patient_kind: m.patientKind,
            teleconsult: m.teleconsult,
            min_notice_minutes: 60,
            horizon_days: 90,
            cancel_cutoff_hours: m.cancelCutoffHours,
          });
        }
        for (const period of a.absences) await store.insertException(tx, { id: uuidv7(), establishmentId, agendaId: a.id, kind: 'absence', period });
      }
    });
    const appointments = plan.appointments.filter((x) => x.establishmentId === establishmentId);
    for (let i = 0; i < appointments.length; i += 500) {
      const batch = appointments.slice(i, i + 500);
      await db.withTenant(establishmentId, (tx) => store.insertAppointmentRows(tx, batch));
      onBatch(batch.length);
    }
    const waiting = plan.waitlist.filter((w) => w.establishmentId === establishmentId);
    if (waiting.length > 0) {
      await db.withTenant(establishmentId, async (tx) => {
        for (const w of waiting) {
          await store.insertWaitlistEntry(tx, { id: w.id, establishmentId, agendaId: w.agendaId, motiveId: w.motiveId, patientId: w.patientId, currentAppointmentId: null, wantedBefore: new Date(w.wantedBefore) });
        }
      });
    }
  }
}

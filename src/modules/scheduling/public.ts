// Public reads: a practitioner's profile, free slots for a motive, and the search with next free
// slots. They read only the public agenda tables and the busy projection, which name no patient:
// nothing here can tell who took a slot, or that anyone did rather than an absence.
//
// Their answers are kept a few seconds in the public cache (platform/cache.ts), tagged with the
// practitioners they show: a booking, cancel or move invalidates its practitioner once it commits,
// a configuration or directory change everything. They hold no personal data, so one entry
// serves every caller.
import type { PublicCache } from '../../platform/cache.js';
import type { Database, Exec } from '../../platform/db/database.js';
import { DomainError } from '../../platform/http/errors.js';
import { freeSlots, openTime, type Interval } from './availability.js';
import type { AgendaRow, MotiveRow, SchedulingStore } from './store.js';
import { DAY, MINUTE, decodeIdCursor, encodeIdCursor, formatInstant, invalid, windowFrom } from './time.js';
import type { SearchQuery } from './schemas.js';

export const motiveRules = (m: MotiveRow) => ({
  durationMinutes: m.duration_minutes,
  bufferMinutes: m.buffer_minutes,
  minNoticeMinutes: m.min_notice_minutes,
  horizonDays: m.horizon_days,
});

/** Free slots of several motives of one agenda, from already loaded rows (no I/O). */
export function slotsOf(
  agenda: AgendaRow,
  motives: MotiveRow[],
  exceptions: Array<Interval & { agendaId: string; kind: string }>,
  busy: Interval[],
  window: Interval,
  now: number,
  limitPerMotive?: number,
): Array<Interval & { motiveId: string }> {
  const mine = exceptions.filter((e) => e.agendaId === agenda.agenda_id);
  const open = openTime({
    timeZone: agenda.time_zone,
    weeklyHours: agenda.weekly_hours,
    openings: mine.filter((e) => e.kind === 'opening'),
    absences: mine.filter((e) => e.kind === 'absence'),
    from: window.start,
    to: window.end,
  });
  const out: Array<Interval & { motiveId: string }> = [];
  for (const m of motives) {
    for (const s of freeSlots({ open, busy, motive: motiveRules(m), from: window.start, to: window.end, now, limit: limitPerMotive })) {
      out.push({ ...s, motiveId: m.id });
    }
  }
  return out.sort((a, b) => a.start - b.start);
}

/**
 * How long, from `now`, every one of these slots stays offered by the clock alone: until the first
 * one passes its motive's minimum notice. A cached answer must not outlive that (bookings and
 * configuration changes invalidate it besides). Infinity for no slot.
 */
export function offeredFor(slots: ReadonlyArray<Interval & { motiveId: string }>, motives: readonly MotiveRow[], now: number): number {
  let until = Infinity;
  for (const s of slots) {
    const motive = motives.find((m) => m.id === s.motiveId);
    until = Math.min(until, s.start - (motive?.min_notice_minutes ?? 0) * MINUTE);
  }
  return until - now;
}

/** The cache tag of everything public that shows a practitioner's agendas or free time. */
export const practitionerTag = (practitionerId: string): string => `practitioner:${practitionerId}`;

/**
 * A motive with its agenda, from the public cache when it is there (the hot path of availability
 * and booking). Configuration only, no free time: bookings leave it be; configuration and
 * directory changes clear the whole cache.
 */
export async function motiveWithAgenda(cache: PublicCache, store: SchedulingStore, tx: Exec, motiveId: string): Promise<{ motive: MotiveRow; agenda: AgendaRow } | undefined> {
  // Not cache.through(): with Redis, through() first waits for this instance to have applied every
  // published change (up to 200 ms), and here the caller already holds a database connection.
  // Waiting there starved the pool under load (booking p99 1.3 s with Redis against 0.2 s
  // without). Availability calls this inside its own through(), which has already waited; a
  // booking re-checks the slot in its transaction whatever the cache says.
  const key = `motive:${motiveId}`;
  const hit = cache.get<{ motive: MotiveRow; agenda: AgendaRow }>(key);
  if (hit !== undefined) return hit;
  const readAt = cache.mark();
  const found = await store.findMotiveWithAgenda(tx, motiveId);
  if (found) cache.set(key, found, [], readAt);
  return found;
}

/** motiveWithAgenda outside a transaction: reads (one autocommit statement) only when the cache misses. */
export async function motiveWithAgendaCached(cache: PublicCache, store: SchedulingStore, db: Database, motiveId: string): Promise<{ motive: MotiveRow; agenda: AgendaRow } | undefined> {
  return cache.get<{ motive: MotiveRow; agenda: AgendaRow }>(`motive:${motiveId}`) ?? db.withPlatformAutocommit((exec) => motiveWithAgenda(cache, store, exec, motiveId));
}

export function createPublicScheduling(deps: { db: Database; store: SchedulingStore; now: () => number; cache: PublicCache }) {
  const { db, store, cache } = deps;
  return {
    async profile(practitionerId: string) {
      return cache.through(
        `profile:${practitionerId}`,
        () => loadProfile(practitionerId),
        () => [practitionerTag(practitionerId)],
        (answer) => answer.establishments.reduce((n, e) => n + 1 + e.motives.length, 1),
      );
    },

    async availability(practitionerId: string, query: { motiveId: string; from?: string; to?: string }) {
      const key = `availability:${practitionerId}:${query.motiveId}:${query.from ?? ''}:${query.to ?? ''}`;
      const { answer } = await cache.through(
        key,
        () => loadAvailability(practitionerId, query),
        () => [practitionerTag(practitionerId)],
        ({ answer }) => answer.slots.length + 1,
        ({ lifetimeMs }) => lifetimeMs,
      );
      return answer;
    },

    async search(query: SearchQuery) {
      if (!query.specialty && !query.near) throw invalid('querystring', 'give a specialty, a place (near) or both');
      const key = `search:${JSON.stringify([query.specialty ?? '', query.near?.trim().toLowerCase() ?? '', query.from ?? '', query.to ?? '', query.teleconsult ?? '', query.limit ?? '', query.cursor ?? ''])}`;
      const { answer } = await cache.through(
        key,
        () => loadSearch(query),
        ({ answer }) => answer.items.map((i) => practitionerTag(i.practitionerId)),
        ({ answer }) => answer.items.reduce((n, i) => n + 1 + i.nextSlots.length, 1),
        ({ lifetimeMs }) => lifetimeMs,
      );
      return answer;
    },
  };

  async function loadProfile(practitionerId: string) {
    // Reads only: each its own autocommit statement, as a READ COMMITTED transaction would see them.
    return db.withPlatformAutocommit(async (tx) => {
      const p = await store.findPractitioner(tx, practitionerId);
      if (!p) throw new DomainError('not_found');
      const agendas = await store.listAgendasOfPractitioner(tx, practitionerId, true);
      const motives = await store.listMotives(tx, agendas.map((a) => a.agenda_id), true);
      return {
        id: p.id,
        name: `${p.first_name} ${p.last_name}`,
        specialty: { code: p.specialty_code, label: p.label_fr, labelEn: p.label_en },
        languages: p.languages,
        teleconsult: p.teleconsult,
        establishments: agendas.map((a) => ({
          id: a.establishment_id,
          name: a.establishment_name,
          addressLine: a.address_line,
          city: a.city,
          postalCode: a.postal_code,
          timeZone: a.time_zone,
          motives: motives
            .filter((m) => m.agenda_id === a.agenda_id)
            .map((m) => ({ id: m.id, label: m.label, durationMinutes: m.duration_minutes, teleconsult: m.teleconsult, patientKind: m.patient_kind })),
        })),
      };
    });
  }

  async function loadAvailability(practitionerId: string, query: { motiveId: string; from?: string; to?: string }) {
    // Reads only: each its own autocommit statement, as a READ COMMITTED transaction would see them.
    return db.withPlatformAutocommit(async (tx) => {
      const found = await motiveWithAgenda(cache, store, tx, query.motiveId);
      if (!found || !found.motive.active || !found.agenda.published || found.agenda.practitioner_id !== practitionerId) {
        throw new DomainError('not_found');
      }
      const { motive, agenda } = found;
      const now = deps.now();
      const window = windowFrom(query, agenda.time_zone, now, 7, 31);
      const wide = { start: window.start - DAY, end: window.end + DAY };
      const details = await store.loadAgendaDetails(tx, [agenda.agenda_id], [agenda.practitioner_id], wide, false, now);
      const slots = slotsOf(agenda, [motive], details.exceptions, details.busy, window, now);
      return {
        answer: { slots: slots.map((s) => ({ start: formatInstant(s.start, agenda.time_zone), end: formatInstant(s.end, agenda.time_zone) })) },
        lifetimeMs: offeredFor(slots, [motive], now),
      };
    });
  }

  async function loadSearch(query: SearchQuery) {
    const near = query.near?.trim() ?? '';
    const place = /^\d{5}$/.test(near)
      ? { postalCode: near }
      : /^(\d{2}|2[AB])$/i.test(near)
        ? { department: near.toUpperCase() }
        : near !== ''
          ? { city: near }
          : {};
    const limit = query.limit ?? 10;
    const after = decodeIdCursor(query.cursor);
    // Reads only: each its own autocommit statement, as a READ COMMITTED transaction would see them.
    return db.withPlatformAutocommit(async (tx) => {
      const rows = await store.searchAgendas(tx, {
        specialty: query.specialty,
        ...place,
        teleconsult: query.teleconsult,
        after,
        limit: limit + 1,
      });
      const page = rows.slice(0, limit);
      const now = deps.now();
      // The window is computed in Paris time for dates; establishments of other zones get the
      // same instants, which only shifts a 'YYYY-MM-DD' bound by their offset.
      const window = windowFrom(query, 'Europe/Paris', now, 14, 31);
      const wide = { start: window.start - DAY, end: window.end + DAY };
      const { motives, exceptions, busy } = await store.loadAgendaDetails(
        tx,
        page.map((r) => r.agenda_id),
        [...new Set(page.map((r) => r.practitioner_id))],
        wide,
        query.teleconsult === true,
        now,
      );
      let lifetimeMs = Infinity;
      const items = page.map((r) => {
        const own = motives.filter((m) => m.agenda_id === r.agenda_id && (!query.teleconsult || m.teleconsult));
        const next = slotsOf(r, own, exceptions, busy.filter((b) => b.practitionerId === r.practitioner_id), window, now, 3).slice(0, 3);
        lifetimeMs = Math.min(lifetimeMs, offeredFor(next, own, now));
        return {
          practitionerId: r.practitioner_id,
          name: `${r.first_name} ${r.last_name}`,
          specialty: { code: r.specialty_code, label: r.label_fr },
          teleconsult: r.teleconsult,
          languages: r.languages,
          establishment: { id: r.establishment_id, name: r.establishment_name, city: r.city, postalCode: r.postal_code },
          nextSlots: next.map((s) => ({ start: formatInstant(s.start, r.time_zone), end: formatInstant(s.end, r.time_zone), motiveId: s.motiveId })),
        };
      });
      return { answer: { items, nextCursor: rows.length > limit ? encodeIdCursor(page[page.length - 1]!.agenda_id) : null }, lifetimeMs };
    });
  }
}
export type PublicScheduling = ReturnType<typeof createPublicScheduling>;

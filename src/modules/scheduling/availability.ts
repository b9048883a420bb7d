// The pure core of availability: opening hours defined in the establishment's local time, minus
// absences, plus one-off openings, minus the practitioner's busy time, cut into slots aligned on
// the motive's duration. No I/O, no clock: `now` is an argument.
//
// Local times are turned into instants day by day with Luxon in the establishment's time zone,
// and slots are then stepped in absolute time. So on the day clocks go forward a 01:00–04:00
// range lasts two real hours, and on the day they go back it lasts four, with 02:00 and 02:30
// appearing twice (once per offset) — which is what the wall clock in the waiting room shows.
import { DateTime } from 'luxon';

/** ISO weekday (1 = Monday … 7 = Sunday) -> ranges [start, end) in minutes after local midnight. */
export type WeeklyHours = Partial<Record<string, Array<[number, number]>>>;

/** A half-open interval of instants in epoch milliseconds: [start, end). */
export interface Interval {
  start: number;
  end: number;
}

export interface OpenTime {
  /** Where slots start counting from: every weekly range and every one-off opening. */
  anchors: Interval[];
  /** Sorted, merged, with absences removed. */
  open: Interval[];
}

export interface MotiveRules {
  durationMinutes: number;
  bufferMinutes: number;
  minNoticeMinutes: number;
  horizonDays: number;
}

const MINUTE = 60_000;
const DAY = 86_400_000;

export function isValidTimeZone(zone: string): boolean {
  return DateTime.local().setZone(zone).isValid;
}

/** The instant of a local wall-clock time; a time inside a spring-forward gap moves forward. */
export function localInstant(zone: string, date: { year: number; month: number; day: number }, minutes: number): number {
  // Memoised: time-zone arithmetic is the costly part of a search, and the same local times come
  // back on every request. Bounded by clearing, which costs only recomputation.
  const key = `${zone}|${date.year}-${date.month}-${date.day}|${minutes}`;
  const cached = instantCache.get(key);
  if (cached !== undefined) return cached;
  const midnight = DateTime.fromObject({ year: date.year, month: date.month, day: date.day }, { zone });
  const value =
    minutes >= 1440
      ? midnight.plus({ days: 1 }).startOf('day').toMillis()
      : DateTime.fromObject({ year: date.year, month: date.month, day: date.day, hour: Math.floor(minutes / 60), minute: minutes % 60 }, { zone }).toMillis();
  if (instantCache.size >= 200_000) instantCache.clear();
  instantCache.set(key, value);
  return value;
}
const instantCache = new Map<string, number>();

/**
 * A zone's offset from UTC at an instant, in minutes. Looked up once per zone and quarter of an
 * hour: a quarter whose two ends have the same offset is cached (no zone changes offset twice
 * within 15 minutes); one that holds a change is computed exactly each time.
 */
export function zoneOffsetMinutes(zone: string, ms: number): number {
  const quarter = Math.floor(ms / QUARTER);
  const key = `${zone}|${quarter}`;
  const cached = offsetCache.get(key);
  if (cached !== undefined) return cached;
  const atStart = DateTime.fromMillis(quarter * QUARTER, { zone }).offset;
  if (DateTime.fromMillis((quarter + 1) * QUARTER - 1, { zone }).offset !== atStart) return DateTime.fromMillis(ms, { zone }).offset;
  if (offsetCache.size >= 100_000) offsetCache.clear();
  offsetCache.set(key, atStart);
  return atStart;
}
const QUARTER = 15 * MINUTE;
const offsetCache = new Map<string, number>();

/** The local calendar date of an instant in a zone. */
function localDate(zone: string, ms: number): { year: number; month: number; day: number } {
  const local = new Date(ms + zoneOffsetMinutes(zone, ms) * MINUTE);
  return { year: local.getUTCFullYear(), month: local.getUTCMonth() + 1, day: local.getUTCDate() };
}

/** Sorts and merges overlapping or touching intervals. */
export function mergeIntervals(intervals: Interval[]): Interval[] {
  const sorted = intervals.filter((i) => i.end > i.start).sort((a, b) => a.start - b.start || a.end - b.end);
  const out: Interval[] = [];
  for (const i of sorted) {
    const last = out[out.length - 1];
    if (last && i.start <= last.end) last.end = Math.max(last.end, i.end);
    else out.push({ start: i.start, end: i.end });
  }
  return out;
}

/** base minus every interval of cut (both arbitrary; the result is sorted and merged). */
export function subtractIntervals(base: Interval[], cut: Interval[]): Interval[] {
  const cuts = mergeIntervals(cut);
  const out: Interval[] = [];
  for (const b of mergeIntervals(base)) {
    let start = b.start;
    for (const c of cuts) {
      if (c.end <= start) continue;
      if (c.start >= b.end) break;
      if (c.start > start) out.push({ start, end: c.start });
      start = Math.max(start, c.end);
      if (start >= b.end) break;
    }
    if (start < b.end) out.push({ start, end: b.end });
  }
  return out;
}

/**
 * The open time of an agenda between two instants: the weekly hours of every local day that
 * touches [from, to), plus one-off openings, minus absences.
 */
export function openTime(input: {
  timeZone: string;
  weeklyHours: WeeklyHours;
  openings: Interval[];
  absences: Interval[];
  from: number;
  to: number;
}): OpenTime {
  const { timeZone, weeklyHours, from, to } = input;
  const anchors: Interval[] = [];
  if (to > from) {
    // Calendar dates are walked with UTC date arithmetic (no zone involved); only the first and
    // last dates and the local times themselves go through the zone.
    const first = localDate(timeZone, from);
    const last = localDate(timeZone, to);
    const lastKey = Date.UTC(last.year, last.month - 1, last.day);
    for (let cursor = Date.UTC(first.year, first.month - 1, first.day); cursor <= lastKey; cursor += 86_400_000) {
      const calendar = new Date(cursor);
      const date = { year: calendar.getUTCFullYear(), month: calendar.getUTCMonth() + 1, day: calendar.getUTCDate() };
      const isoWeekday = calendar.getUTCDay() === 0 ? 7 : calendar.getUTCDay();
      for (const [s, e] of weeklyHours[String(isoWeekday)] ?? []) {
        const start = localInstant(timeZone, date, s);
        const end = localInstant(timeZone, date, e);
        if (end > start && end > from && start < to) anchors.push({ start, end });
      }
    }
  }
  for (const o of input.openings) if (o.end > from && o.start < to) anchors.push({ start: o.start, end: o.end });
  anchors.sort((a, b) => a.start - b.start || a.end - b.end);
  return { anchors, open: subtractIntervals(anchors, input.absences) };
}

function containedIn(sorted: Interval[], start: number, end: number): boolean {
  // Binary search for the last interval starting at or before `start`.
  let lo = 0;
  let hi = sorted.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]!.start <= start) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found >= 0 && sorted[found]!.end >= end;
}

function overlapsAny(sorted: Interval[], start: number, end: number): boolean {
  // sorted and merged: find the first interval ending after start.
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]!.end <= start) lo = mid + 1;
    else hi = mid;
  }
  const candidate = sorted[lo];
  return candidate !== undefined && candidate.start < end;
}

/**
 * Free slots for one motive: starts in [from, to), no earlier than now + minimum notice and no
 * later than now + horizon, each [start, start + duration) inside open time and
 * [start, start + duration + buffer) clear of busy time. Sorted by start; at most `limit`.
 */
export function freeSlots(input: {
  open: OpenTime;
  busy: Interval[];
  motive: MotiveRules;
  from: number;
  to: number;
  now: number;
  limit?: number;
}): Interval[] {
  const { open, motive } = input;
  const duration = motive.durationMinutes * MINUTE;
  const occupied = duration + motive.bufferMinutes * MINUTE;
  if (duration <= 0) return [];
  const earliest = Math.max(input.from, input.now + motive.minNoticeMinutes * MINUTE);
  const latest = Math.min(input.to, input.now + motive.horizonDays * DAY);
  const limit = input.limit ?? Number.POSITIVE_INFINITY;
  const busy = mergeIntervals(input.busy);
  const starts = new Set<number>();
  const slots: Interval[] = [];
  for (const anchor of open.anchors) {
    // Anchors are sorted by start: once enough slots are found before this anchor starts, no
    // later anchor can offer an earlier one.
    if (slots.length >= limit && anchor.start > slots[slots.length - 1]!.start) break;
    if (anchor.start >= latest) break;
    // Skip whole steps that end before the window.
    const skip = anchor.start < earliest ? Math.ceil((earliest - anchor.start) / duration) : 0;
    for (let t = anchor.start + skip * duration; t + duration <= anchor.end && t < latest; t += duration) {
      if (starts.has(t)) continue;
      if (!containedIn(open.open, t, t + duration)) continue;
      if (overlapsAny(busy, t, t + occupied)) continue;
      starts.add(t);
      slots.push({ start: t, end: t + duration });
    }
    if (slots.length >= limit) {
      slots.sort((a, b) => a.start - b.start);
      slots.length = limit;
    }
  }
  slots.sort((a, b) => a.start - b.start);
  if (slots.length > limit) slots.length = limit;
  return slots;
}

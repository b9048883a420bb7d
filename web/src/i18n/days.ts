// Calendar arithmetic in an establishment's time zone, for grouping slots and agenda items by
// local day and for asking the API for a local day or week.
import { DEFAULT_TIME_ZONE } from './format';

const keyFormatters = new Map<string, Intl.DateTimeFormat>();

/** The local date (YYYY-MM-DD) of an instant in a time zone. */
export function localDay(value: string | Date, timeZone = DEFAULT_TIME_ZONE): string {
  let f = keyFormatters.get(timeZone);
  if (!f) {
    try {
      f = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
    } catch {
      f = new Intl.DateTimeFormat('en-CA', { timeZone: DEFAULT_TIME_ZONE, year: 'numeric', month: '2-digit', day: '2-digit' });
    }
    keyFormatters.set(timeZone, f);
  }
  return f.format(typeof value === 'string' ? new Date(value) : value);
}

/** YYYY-MM-DD plus n days (calendar arithmetic, no time zone involved). */
export function addDays(day: string, n: number): string {
  const d = new Date(`${day}T12:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

/** The Monday of the week of a YYYY-MM-DD date. */
export function mondayOf(day: string): string {
  const weekday = new Date(`${day}T12:00:00Z`).getUTCDay();
  return addDays(day, -((weekday + 6) % 7));
}

/** Groups items by the local day of their start, in order. */
export function groupByDay<T extends { start: string }>(items: T[], timeZone: string): Array<{ day: string; items: T[] }> {
  const groups = new Map<string, T[]>();
  for (const item of [...items].sort((a, b) => a.start.localeCompare(b.start))) {
    const day = localDay(item.start, timeZone);
    const list = groups.get(day) ?? [];
    list.push(item);
    groups.set(day, list);
  }
  return [...groups].map(([day, list]) => ({ day, items: list }));
}

/** Minutes east of UTC of a time zone at an instant (+60 for Paris in winter). */
function offsetMinutes(at: Date, timeZone: string): number {
  const name = new Intl.DateTimeFormat('en-US', { timeZone, timeZoneName: 'longOffset' }).formatToParts(at).find((p) => p.type === 'timeZoneName')?.value ?? 'GMT';
  const m = /GMT([+-])(\d{2}):(\d{2})/.exec(name);
  return m ? (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])) : 0;
}

/** A local wall-clock time ("2026-11-24T09:30") in a zone, as an ISO instant with its offset. */
export function zonedToInstant(local: string, timeZone: string): string {
  const guess = new Date(`${local.length === 16 ? `${local}:00` : local}Z`);
  let at = new Date(guess.getTime() - offsetMinutes(guess, timeZone) * 60_000);
  at = new Date(guess.getTime() - offsetMinutes(at, timeZone) * 60_000);
  const off = offsetMinutes(at, timeZone);
  const sign = off < 0 ? '-' : '+';
  const abs = Math.abs(off);
  const hh = String(Math.floor(abs / 60)).padStart(2, '0');
  const mm = String(abs % 60).padStart(2, '0');
  return `${local.slice(0, 16)}:00${sign}${hh}:${mm}`;
}

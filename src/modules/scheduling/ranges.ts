// PostgreSQL range literals for time intervals.
import type { Interval } from './availability.js';

export const range = (i: Interval): string => `[${new Date(i.start).toISOString()},${new Date(i.end).toISOString()})`;

/** Parses a PostgreSQL tstzrange literal as returned by pg ('["2026-…+00","2026-…+00")'). */
export function parseRange(value: string): Interval {
  const m = /^[[(]"?([^",]+)"?,"?([^")]+)"?[)\]]$/.exec(value);
  if (!m) throw new Error('unexpected range literal');
  const instant = (text: string) => Date.parse(text.replace(' ', 'T').replace(/([+-]\d{2})$/, '$1:00'));
  return { start: instant(m[1]!), end: instant(m[2]!) };
}

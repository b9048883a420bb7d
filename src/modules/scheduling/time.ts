// Parsing and presenting times at the API's edge: dates are local to the establishment, instants
// carry their offset, cursors are opaque.
import { DateTime } from 'luxon';
import { DomainError } from '../../platform/http/errors.js';
import { zoneOffsetMinutes, type Interval } from './availability.js';

export const MINUTE = 60_000;
export const DAY = 86_400_000;

/** 'YYYY-MM-DD' is local midnight in the zone; an instant is taken as is. */
export function parseDateOrInstant(value: string, zone: string, field: string): number {
  const ms = /^\d{4}-\d{2}-\d{2}$/.test(value)
    ? DateTime.fromISO(value, { zone }).toMillis()
    : DateTime.fromISO(value, { setZone: true }).toMillis();
  if (!Number.isFinite(ms)) throw invalid(field, 'not a valid date or instant');
  return ms;
}

export function parseInstant(value: string, field: string): number {
  const ms = DateTime.fromISO(value, { setZone: true }).toMillis();
  if (!Number.isFinite(ms)) throw invalid(field, 'not a valid instant');
  return ms;
}

/**
 * Formatted instants by zone: slot times repeat across agendas and answers (every Paris agenda
 * offers 09:30 on the same days), so an availability answer is mostly hits. Bounded; cleared when
 * full.
 */
const formatted = new Map<string, Map<number, string>>();
let formattedCount = 0;
const MAX_FORMATTED = 100_000;

/** An ISO 8601 instant with the zone's offset, seconds precision: 2026-11-24T09:30:00+01:00. */
export function formatInstant(ms: number, zone: string): string {
  let byInstant = formatted.get(zone);
  if (byInstant === undefined) formatted.set(zone, (byInstant = new Map()));
  let text = byInstant.get(ms);
  if (text === undefined) {
    text = formatInstantUncached(ms, zone);
    if (formattedCount >= MAX_FORMATTED) {
      formatted.clear();
      formattedCount = 0;
      formatted.set(zone, (byInstant = new Map()));
    }
    byInstant.set(ms, text);
    formattedCount += 1;
  }
  return text;
}

function formatInstantUncached(ms: number, zone: string): string {
  const offset = zoneOffsetMinutes(zone, ms);
  const local = new Date(ms + offset * 60_000).toISOString().slice(0, 19);
  const sign = offset < 0 ? '-' : '+';
  const abs = Math.abs(offset);
  const withMs = ms % 1000 !== 0 ? `.${String(((ms % 1000) + 1000) % 1000).padStart(3, '0')}` : '';
  return `${local}${withMs}${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}

/** A window from optional query bounds: defaults to [now or from, from + defaultDays), at most maxDays. */
export function windowFrom(
  query: { from?: string | undefined; to?: string | undefined },
  zone: string,
  now: number,
  defaultDays: number,
  maxDays: number,
): Interval {
  const start = query.from !== undefined ? parseDateOrInstant(query.from, zone, 'querystring.from') : now;
  const end = query.to !== undefined ? parseDateOrInstant(query.to, zone, 'querystring.to') : start + defaultDays * DAY;
  if (end <= start) throw invalid('querystring.to', 'must be after from');
  if (end - start > maxDays * DAY) throw invalid('querystring.to', `the range may cover at most ${maxDays} days`);
  return { start, end };
}

export function invalid(field: string, message: string): DomainError {
  return new DomainError('invalid_request', `${field}: ${message}`, { errors: [{ field, message }] });
}

export interface Cursor {
  start: Date;
  id: string;
}

export function encodeCursor(c: { start: Date; id: string }): string {
  return Buffer.from(JSON.stringify([c.start.toISOString(), c.id])).toString('base64url');
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function decodeCursor(value: string | undefined): Cursor | undefined {
  if (value === undefined) return undefined;
  try {
    const parsed: unknown = JSON.parse(Buffer.from(value, 'base64url').toString('utf8'));
    if (Array.isArray(parsed) && typeof parsed[0] === 'string' && typeof parsed[1] === 'string' && UUID.test(parsed[1])) {
      const start = new Date(parsed[0]);
      if (Number.isFinite(start.getTime())) return { start, id: parsed[1] };
    }
  } catch {
    // fall through
  }
  throw invalid('querystring.cursor', 'not a cursor returned by this API');
}

export function decodeIdCursor(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const id = Buffer.from(value, 'base64url').toString('utf8');
  if (!UUID.test(id)) throw invalid('querystring.cursor', 'not a cursor returned by this API');
  return id;
}

export const encodeIdCursor = (id: string): string => Buffer.from(id).toString('base64url');

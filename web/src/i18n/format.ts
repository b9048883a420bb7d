// Dates and times are shown in the establishment's time zone (agendas are defined there), with
// French conventions in French ("20 nov. 2026 14:02") and day-month order in English too.
import type { Language } from './index';

export const DEFAULT_TIME_ZONE = 'Europe/Paris';

const LOCALES: Record<Language, string> = { fr: 'fr-FR', en: 'en-GB' };

const cache = new Map<string, Intl.DateTimeFormat>();
function formatter(lang: Language, timeZone: string, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = `${lang}|${timeZone}|${JSON.stringify(options)}`;
  let f = cache.get(key);
  if (!f) {
    try {
      f = new Intl.DateTimeFormat(LOCALES[lang], { ...options, timeZone });
    } catch {
      // An unknown zone from the API must not break the page: fall back to the default one.
      f = new Intl.DateTimeFormat(LOCALES[lang], { ...options, timeZone: DEFAULT_TIME_ZONE });
    }
    cache.set(key, f);
  }
  return f;
}

function toDate(value: string | Date): Date | undefined {
  const d = typeof value === 'string' ? new Date(value) : value;
  return Number.isNaN(d.getTime()) ? undefined : d;
}

/** "20 nov. 2026 14:02" (fr) or "20 Nov 2026 14:02" (en). */
export function formatDateTime(value: string | Date, lang: Language, timeZone = DEFAULT_TIME_ZONE): string {
  const d = toDate(value);
  if (!d) return '';
  const date = formatter(lang, timeZone, { day: 'numeric', month: 'short', year: 'numeric' }).format(d);
  return `${date} ${formatTime(d, lang, timeZone)}`;
}

/** "mar. 24 nov. 09:30": a slot, where the year goes without saying. */
export function formatSlot(value: string | Date, lang: Language, timeZone = DEFAULT_TIME_ZONE): string {
  const d = toDate(value);
  if (!d) return '';
  const date = formatter(lang, timeZone, { weekday: 'short', day: 'numeric', month: 'short' }).format(d);
  return `${date} ${formatTime(d, lang, timeZone)}`;
}

/** "mardi 24 novembre 2026 à 09:30": an appointment, spelled out. */
export function formatLongDateTime(value: string | Date, lang: Language, timeZone = DEFAULT_TIME_ZONE): string {
  const d = toDate(value);
  if (!d) return '';
  const date = formatter(lang, timeZone, { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' }).format(d);
  return lang === 'fr' ? `${date} à ${formatTime(d, lang, timeZone)}` : `${date}, ${formatTime(d, lang, timeZone)}`;
}

export function formatTime(value: string | Date, lang: Language, timeZone = DEFAULT_TIME_ZONE): string {
  const d = toDate(value);
  if (!d) return '';
  return formatter(lang, timeZone, { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(d);
}

/** "mardi 24 novembre" for a local calendar day (YYYY-MM-DD): the day is already local, so UTC noon. */
export function formatDay(day: string, lang: Language, withYear = false): string {
  const d = toDate(`${day}T12:00:00Z`);
  if (!d) return day;
  return formatter(lang, 'UTC', { weekday: 'long', day: 'numeric', month: 'long', ...(withYear ? { year: 'numeric' } : {}) }).format(d);
}

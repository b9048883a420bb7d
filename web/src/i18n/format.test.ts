import { describe, expect, it } from 'vitest';
import { formatDateTime, formatLongDateTime, formatSlot, formatTime } from './format';

describe('dates and times in the establishment time zone', () => {
  it('writes an access time the French way, in Paris time', () => {
    expect(formatDateTime('2026-11-20T13:02:00Z', 'fr')).toBe('20 nov. 2026 14:02');
    expect(formatDateTime('2026-11-20T13:02:00Z', 'en')).toBe('20 Nov 2026 14:02');
  });

  it('follows daylight saving time (UTC+2 in summer, UTC+1 in winter)', () => {
    expect(formatTime('2026-03-29T00:30:00Z', 'fr')).toBe('01:30');
    expect(formatTime('2026-03-29T01:30:00Z', 'fr')).toBe('03:30');
    expect(formatTime('2026-10-25T00:30:00Z', 'fr')).toBe('02:30');
    expect(formatTime('2026-10-25T01:30:00Z', 'fr')).toBe('02:30');
  });

  it('uses the zone of the establishment when it is not Paris', () => {
    expect(formatTime('2026-11-20T13:02:00Z', 'fr', 'America/Cayenne')).toBe('10:02');
    expect(formatTime('2026-11-20T13:02:00Z', 'fr', 'Indian/Reunion')).toBe('17:02');
  });

  it('falls back to Paris for an unknown zone and to nothing for a bad date', () => {
    expect(formatTime('2026-11-20T13:02:00Z', 'fr', 'Not/AZone')).toBe('14:02');
    expect(formatDateTime('not a date', 'fr')).toBe('');
  });

  it('spells out appointments and abbreviates slots', () => {
    expect(formatLongDateTime('2026-11-24T08:30:00Z', 'fr')).toBe('mardi 24 novembre 2026 à 09:30');
    expect(formatLongDateTime('2026-11-24T08:30:00Z', 'en')).toBe('Tuesday, 24 November 2026, 09:30');
    expect(formatSlot('2026-11-24T08:30:00Z', 'fr')).toBe('mar. 24 nov. 09:30');
  });
});

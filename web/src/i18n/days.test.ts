import { describe, expect, it } from 'vitest';
import { addDays, groupByDay, localDay, mondayOf, zonedToInstant } from './days';

describe('calendar days in the establishment time zone', () => {
  it('takes the local day of an instant, not the UTC one', () => {
    expect(localDay('2026-11-23T23:30:00Z', 'Europe/Paris')).toBe('2026-11-24');
    expect(localDay('2026-11-23T23:30:00Z', 'Indian/Reunion')).toBe('2026-11-24');
    expect(localDay('2026-11-23T22:30:00Z', 'Europe/Paris')).toBe('2026-11-23');
  });
  it('steps days and finds the Monday of a week', () => {
    expect(addDays('2026-12-31', 1)).toBe('2027-01-01');
    expect(mondayOf('2026-11-22')).toBe('2026-11-16');
    expect(mondayOf('2026-11-23')).toBe('2026-11-23');
  });
  it('groups slots by local day, in order', () => {
    const groups = groupByDay([{ start: '2026-11-24T08:00:00Z' }, { start: '2026-11-23T23:30:00Z' }, { start: '2026-11-23T10:00:00Z' }], 'Europe/Paris');
    expect(groups.map((g) => [g.day, g.items.length])).toEqual([
      ['2026-11-23', 1],
      ['2026-11-24', 2],
    ]);
  });
  it('turns a local wall-clock time into an instant with the right offset across DST', () => {
    expect(zonedToInstant('2026-11-24T09:30', 'Europe/Paris')).toBe('2026-11-24T09:30:00+01:00');
    expect(zonedToInstant('2026-07-01T09:30', 'Europe/Paris')).toBe('2026-07-01T09:30:00+02:00');
    expect(zonedToInstant('2026-07-01T09:30', 'Indian/Reunion')).toBe('2026-07-01T09:30:00+04:00');
  });
});

import { describe, expect, it } from 'vitest';
import { hoursToText, textToHours } from './hours';

describe('opening hours typed as text', () => {
  it('reads ranges separated by commas, spaces allowed, and writes them back', () => {
    expect(textToHours('09:00-12:00, 14:00 - 18:30')).toEqual([
      { start: '09:00', end: '12:00' },
      { start: '14:00', end: '18:30' },
    ]);
    expect(hoursToText([{ start: '08:00', end: '24:00' }])).toBe('08:00-24:00');
    expect(textToHours('')).toEqual([]);
  });
  it('refuses what is not HH:MM-HH:MM', () => {
    expect(textToHours('9h-12h')).toBeUndefined();
    expect(textToHours('09:00-12:00; 14:00-18:00')).toBeUndefined();
    expect(textToHours('25:00-26:00')).toBeUndefined();
  });
});

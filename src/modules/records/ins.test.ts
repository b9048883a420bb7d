import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { compactNir, isValidNir, nirKey, nirProblem, withNirKey } from './ins.js';

describe('NIR / INS validation', () => {
  it('accepts a NIR whose key is 97 − (n mod 97), with spaces or not', () => {
    expect(nirKey('1841276451089')).toBe(97 - Number(1841276451089n % 97n));
    const nir = withNirKey('1841276451089');
    expect(isValidNir(nir)).toBe(true);
    expect(isValidNir(`${nir.slice(0, 1)} ${nir.slice(1, 3)} ${nir.slice(3, 5)} ${nir.slice(5, 7)} ${nir.slice(7, 10)} ${nir.slice(10, 13)} ${nir.slice(13)}`)).toBe(true);
  });

  it('handles Corsica: 2A counts as 19 and 2B as 18 in the key', () => {
    const a = withNirKey('285032A004012');
    expect(nirKey('285032A004012')).toBe(97 - Number(2850319004012n % 97n));
    expect(isValidNir(a)).toBe(true);
    const b = withNirKey('179022B123456');
    expect(nirKey('179022B123456')).toBe(97 - Number(1790218123456n % 97n));
    expect(isValidNir(b)).toBe(true);
    // The same digits with the other Corsican letter fail the key.
    expect(nirProblem(a.replace('2A', '2B'))).toBe('key');
    expect(compactNir('2 85 03 2a 004 012 xx')).toBe('285032A004012XX');
  });

  it('refuses wrong keys, formats and months', () => {
    const nir = withNirKey('1841276451089');
    const wrongKey = `${nir.slice(0, 13)}${String((Number(nir.slice(13)) % 97) + 1).padStart(2, '0')}`;
    expect(nirProblem(wrongKey)).toBe('key');
    expect(nirProblem('123')).toBe('format');
    expect(nirProblem('5841276451089 00')).toBe('format');
    expect(nirProblem(withNirKey('1841376451089'))).toBe('month');
    expect(nirProblem('')).toBe('format');
  });

  it('any 13-digit body with its computed key is valid, and any other key is not', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('1', '2'),
        fc.integer({ min: 0, max: 99 }),
        fc.integer({ min: 1, max: 12 }),
        fc.constantFrom('75', '69', '2A', '2B', '97'),
        fc.integer({ min: 0, max: 999_999 }),
        fc.integer({ min: 1, max: 97 }),
        (sex, yy, mm, dept, rest, otherKey) => {
          const body = `${sex}${String(yy).padStart(2, '0')}${String(mm).padStart(2, '0')}${dept}${String(rest).padStart(6, '0')}`;
          const valid = withNirKey(body);
          expect(isValidNir(valid)).toBe(true);
          if (otherKey !== nirKey(body)) expect(isValidNir(`${body}${String(otherKey).padStart(2, '0')}`)).toBe(false);
        },
      ),
    );
  });
});

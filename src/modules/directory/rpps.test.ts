import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { isValidRpps, luhnCheckDigit, rppsFromPayload } from './rpps.js';

describe('RPPS numbers', () => {
  it('accepts known-valid numbers and rejects their single-digit alterations', () => {
    const valid = rppsFromPayload('1010203040');
    expect(isValidRpps(valid)).toBe(true);
    for (let i = 0; i < 11; i++) {
      const digit = Number(valid[i]);
      const altered = `${valid.slice(0, i)}${(digit + 1) % 10}${valid.slice(i + 1)}`;
      expect(isValidRpps(altered)).toBe(false);
    }
  });

  it('rejects wrong shapes', () => {
    expect(isValidRpps('')).toBe(false);
    expect(isValidRpps('1234567890')).toBe(false);
    expect(isValidRpps('123456789012')).toBe(false);
    expect(isValidRpps('1000353430a')).toBe(false);
  });

  it('computes the standard Luhn digit', () => {
    // Classic Luhn example: 7992739871 -> check digit 3.
    expect(luhnCheckDigit('7992739871')).toBe(3);
  });

  it('every completed payload is valid and unique to its check digit', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^\d{10}$/), (payload) => {
        const rpps = rppsFromPayload(payload);
        expect(isValidRpps(rpps)).toBe(true);
        const wrong = `${payload}${(Number(rpps[10]) + 1) % 10}`;
        expect(isValidRpps(wrong)).toBe(false);
      }),
    );
  });
});

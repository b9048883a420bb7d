import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { randomBytes } from 'node:crypto';
import { blindIndexValue, normaliseDate, normaliseIdentifier, normaliseName, purposeKey } from './blind-index.js';

describe('normaliseName', () => {
  it('folds case and accents: É, é and e are the same letter', () => {
    expect(normaliseName('ÉLODIE')).toBe('elodie');
    expect(normaliseName('élodie')).toBe('elodie');
    expect(normaliseName('Elodie')).toBe('elodie');
    expect(normaliseName('FRANÇOIS')).toBe('francois');
    expect(normaliseName('Hélène Müller')).toBe('helene muller');
    expect(normaliseName('NOËL')).toBe(normaliseName('noel'));
  });

  it('spells out ligatures', () => {
    expect(normaliseName('Lætitia')).toBe('laetitia');
    expect(normaliseName('CŒUR')).toBe('coeur');
  });

  it('treats hyphens, apostrophes and runs of spaces as one space', () => {
    expect(normaliseName('JEAN-PIERRE')).toBe('jean pierre');
    expect(normaliseName('Jean–Pierre')).toBe('jean pierre');
    expect(normaliseName('jean  pierre')).toBe('jean pierre');
    expect(normaliseName('  Jean \t Pierre ')).toBe('jean pierre');
    expect(normaliseName("D'ARTAGNAN")).toBe('d artagnan');
    expect(normaliseName('D’Artagnan')).toBe('d artagnan');
    expect(normaliseName('d - artagnan')).toBe('d artagnan');
  });

  it('keeps names that differ by letters apart', () => {
    expect(normaliseName('DUPONT')).not.toBe(normaliseName('DUPOND'));
    expect(normaliseName('Jean Pierre')).not.toBe(normaliseName('Jeanpierre'));
  });

  it('is idempotent', () => {
    fc.assert(fc.property(fc.string(), (s) => normaliseName(normaliseName(s)) === normaliseName(s)));
  });
});

describe('normaliseDate and normaliseIdentifier', () => {
  it('accepts calendar dates only', () => {
    expect(normaliseDate(' 1970-01-31 ')).toBe('1970-01-31');
    expect(() => normaliseDate('1970-02-30')).toThrow(RangeError);
    expect(() => normaliseDate('31/01/1970')).toThrow(RangeError);
    expect(() => normaliseDate('1970-01')).toThrow(RangeError);
  });

  it('strips separators from identifiers', () => {
    expect(normaliseIdentifier('1 84 12 76 451 089 46')).toBe('184127645108946');
    expect(normaliseIdentifier('2a-123')).toBe('2A123');
  });
});

describe('blindIndexValue', () => {
  const key = randomBytes(32);

  it('is equal for equal normalised parts and differs with the key, the purpose or the split', () => {
    const k1 = purposeKey(key, 'patient.birth_name');
    expect(blindIndexValue(k1, ['dupont'])).toBe(blindIndexValue(k1, ['dupont']));
    expect(blindIndexValue(k1, ['dupont'])).not.toBe(blindIndexValue(purposeKey(randomBytes(32), 'patient.birth_name'), ['dupont']));
    expect(blindIndexValue(k1, ['dupont'])).not.toBe(blindIndexValue(purposeKey(key, 'patient.used_name'), ['dupont']));
    expect(blindIndexValue(k1, ['ab', 'c'])).not.toBe(blindIndexValue(k1, ['a', 'bc']));
    expect(blindIndexValue(k1, ['dupont'])).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('refuses empty components (no empty search)', () => {
    const k1 = purposeKey(key, 'x');
    expect(() => blindIndexValue(k1, [])).toThrow(RangeError);
    expect(() => blindIndexValue(k1, ['dupont', ''])).toThrow(RangeError);
  });
});

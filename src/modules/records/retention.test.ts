import { describe, expect, it } from 'vitest';
import { retentionEnd } from './retention.js';

describe('retention of medical records (R1112-7)', () => {
  it('is 20 years after the last activity for an adult', () => {
    expect(retentionEnd({ lastActivity: new Date('2026-03-01T10:00:00Z'), birthDate: '1970-05-02' }).toISOString().slice(0, 10)).toBe('2046-03-01');
  });
  it('lasts at least until the 28th birthday of a patient seen as a child', () => {
    expect(retentionEnd({ lastActivity: new Date('2026-03-01T10:00:00Z'), birthDate: '2025-06-15' }).toISOString().slice(0, 10)).toBe('2053-06-15');
    // A teenager whose 28th birthday comes before the 20 years: the 20 years win.
    expect(retentionEnd({ lastActivity: new Date('2026-03-01T10:00:00Z'), birthDate: '2010-01-01' }).toISOString().slice(0, 10)).toBe('2046-03-01');
  });
  it('uses 20 years when the birth date is unknown', () => {
    expect(retentionEnd({ lastActivity: new Date('2000-01-01T00:00:00Z'), birthDate: null }).toISOString().slice(0, 10)).toBe('2020-01-01');
  });
});

import { describe, expect, it } from 'vitest';
import { parseRange, range } from './store.js';

describe('range literals', () => {
  it('parses what PostgreSQL prints, whole-hour and half-hour offsets alike', () => {
    expect(parseRange('["2026-08-24 06:50:00+00","2026-08-24 07:10:00+00")')).toEqual({
      start: Date.parse('2026-08-24T06:50:00Z'),
      end: Date.parse('2026-08-24T07:10:00Z'),
    });
    expect(parseRange('["2026-08-24 06:50:00.5+05:30","2026-08-24 07:10:00+05:30")').start).toBe(Date.parse('2026-08-24T01:20:00.5Z'));
  });
  it('round-trips what it writes', () => {
    const i = { start: Date.parse('2026-03-29T00:30:00Z'), end: Date.parse('2026-03-29T01:30:00Z') };
    expect(parseRange(range(i).replace('[', '["').replace(',', '","').replace(')', '")'))).toEqual(i);
  });
});

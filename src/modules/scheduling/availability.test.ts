import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DateTime } from 'luxon';
import { freeSlots, mergeIntervals, openTime, subtractIntervals, zoneOffsetMinutes, type Interval, type MotiveRules, type WeeklyHours } from './availability.js';

const PARIS = 'Europe/Paris';
const at = (iso: string) => Date.parse(iso);
const iso = (ms: number) => new Date(ms).toISOString();
const motive = (over: Partial<MotiveRules> = {}): MotiveRules => ({
  durationMinutes: 30,
  bufferMinutes: 0,
  minNoticeMinutes: 0,
  horizonDays: 366,
  ...over,
});
const FAR_PAST = at('2026-01-01T00:00:00Z');

function slots(weeklyHours: WeeklyHours, from: string, to: string, extra: {
  motive?: Partial<MotiveRules>;
  busy?: Interval[];
  absences?: Interval[];
  openings?: Interval[];
  now?: number;
  limit?: number;
  timeZone?: string;
} = {}) {
  const f = at(from);
  const t = at(to);
  const open = openTime({ timeZone: extra.timeZone ?? PARIS, weeklyHours, openings: extra.openings ?? [], absences: extra.absences ?? [], from: f, to: t });
  return freeSlots({ open, busy: extra.busy ?? [], motive: motive(extra.motive), from: f, to: t, now: extra.now ?? FAR_PAST, limit: extra.limit }).map(
    (s) => [iso(s.start), iso(s.end)] as const,
  );
}

describe('availability in the establishment time zone', () => {
  it('cuts an ordinary winter morning into 30-minute slots at UTC+1', () => {
    // Tuesday 24 November 2026, 09:00–11:00 in Paris = 08:00–10:00 UTC.
    const out = slots({ '2': [[540, 660]] }, '2026-11-24T00:00:00Z', '2026-11-25T00:00:00Z');
    expect(out.map((s) => s[0])).toEqual([
      '2026-11-24T08:00:00.000Z',
      '2026-11-24T08:30:00.000Z',
      '2026-11-24T09:00:00.000Z',
      '2026-11-24T09:30:00.000Z',
    ]);
  });

  it('several ranges a day, and nothing on closed days', () => {
    const out = slots({ '1': [[480, 540], [840, 900]] }, '2026-11-23T00:00:00Z', '2026-11-25T00:00:00Z');
    expect(out.map((s) => s[0])).toEqual([
      '2026-11-23T07:00:00.000Z',
      '2026-11-23T07:30:00.000Z',
      '2026-11-23T13:00:00.000Z',
      '2026-11-23T13:30:00.000Z',
    ]);
  });

  it('last Sunday of March: 01:00–04:00 lasts two real hours and 02:xx does not exist', () => {
    // 29 March 2026: at 02:00 CET clocks jump to 03:00 CEST.
    const out = slots({ '7': [[60, 240]] }, '2026-03-28T12:00:00Z', '2026-03-29T12:00:00Z');
    expect(out).toEqual([
      ['2026-03-29T00:00:00.000Z', '2026-03-29T00:30:00.000Z'], // 01:00 CET
      ['2026-03-29T00:30:00.000Z', '2026-03-29T01:00:00.000Z'], // 01:30 CET
      ['2026-03-29T01:00:00.000Z', '2026-03-29T01:30:00.000Z'], // 03:00 CEST
      ['2026-03-29T01:30:00.000Z', '2026-03-29T02:00:00.000Z'], // 03:30 CEST
    ]);
  });

  it('last Sunday of March: a 09:00 opening is 08:00 UTC before the change and 07:00 UTC after', () => {
    const week = { '6': [[540, 570]], '7': [[540, 570]] } as WeeklyHours;
    const out = slots(week, '2026-03-28T00:00:00Z', '2026-03-30T00:00:00Z');
    expect(out.map((s) => s[0])).toEqual(['2026-03-28T08:00:00.000Z', '2026-03-29T07:00:00.000Z']);
  });

  it('last Sunday of October: 01:00–04:00 lasts four real hours and 02:00, 02:30 happen twice', () => {
    // 25 October 2026: at 03:00 CEST clocks go back to 02:00 CET.
    const out = slots({ '7': [[60, 240]] }, '2026-10-24T12:00:00Z', '2026-10-25T12:00:00Z');
    expect(out.map((s) => s[0])).toEqual([
      '2026-10-24T23:00:00.000Z', // 01:00 CEST
      '2026-10-24T23:30:00.000Z', // 01:30 CEST
      '2026-10-25T00:00:00.000Z', // 02:00 CEST
      '2026-10-25T00:30:00.000Z', // 02:30 CEST
      '2026-10-25T01:00:00.000Z', // 02:00 CET
      '2026-10-25T01:30:00.000Z', // 02:30 CET
      '2026-10-25T02:00:00.000Z', // 03:00 CET
      '2026-10-25T02:30:00.000Z', // 03:30 CET
    ]);
  });

  it('last Sunday of October: a 09:00 opening is 07:00 UTC before the change and 08:00 UTC after', () => {
    const week = { '6': [[540, 570]], '7': [[540, 570]] } as WeeklyHours;
    const out = slots(week, '2026-10-24T00:00:00Z', '2026-10-26T00:00:00Z');
    expect(out.map((s) => s[0])).toEqual(['2026-10-24T07:00:00.000Z', '2026-10-25T08:00:00.000Z']);
  });

  it('an evening range across the October change keeps its real length', () => {
    // 00:00–03:00 local on 25 October 2026 is four real hours: 6 slots of 40 minutes.
    const out = slots({ '7': [[0, 180]] }, '2026-10-24T12:00:00Z', '2026-10-25T12:00:00Z', { motive: { durationMinutes: 40 } });
    expect(out).toHaveLength(6);
    expect(out[0]![0]).toBe('2026-10-24T22:00:00.000Z');
    expect(out[5]![1]).toBe('2026-10-25T02:00:00.000Z');
  });

  it('follows another time zone when the establishment is elsewhere', () => {
    // Réunion is UTC+4 all year.
    const out = slots({ '2': [[540, 570]] }, '2026-11-24T00:00:00Z', '2026-11-25T00:00:00Z', { timeZone: 'Indian/Reunion' });
    expect(out.map((s) => s[0])).toEqual(['2026-11-24T05:00:00.000Z']);
  });
});

describe('what removes a slot', () => {
  const week: WeeklyHours = { '2': [[540, 720]] }; // Tuesday 09:00–12:00 = 08:00–11:00Z
  const day = ['2026-11-24T00:00:00Z', '2026-11-25T00:00:00Z'] as const;

  it('an absence removes the slots it touches and keeps the grid aligned', () => {
    const absence = { start: at('2026-11-24T08:40:00Z'), end: at('2026-11-24T09:10:00Z') };
    const out = slots(week, ...day, { absences: [absence] });
    expect(out.map((s) => s[0].slice(11, 16))).toEqual(['08:00', '09:30', '10:00', '10:30']);
  });

  it('a busy appointment with the motive buffer blocks the slot before it', () => {
    const busy = [{ start: at('2026-11-24T09:00:00Z'), end: at('2026-11-24T09:30:00Z') }];
    expect(slots(week, ...day, { busy }).map((s) => s[0].slice(11, 16))).toEqual(['08:00', '08:30', '09:30', '10:00', '10:30']);
    const withBuffer = slots(week, ...day, { busy, motive: { bufferMinutes: 10 } });
    expect(withBuffer.map((s) => s[0].slice(11, 16))).toEqual(['08:00', '09:30', '10:00', '10:30']);
  });

  it('aligns on the motive duration', () => {
    const out = slots(week, ...day, { motive: { durationMinutes: 45 } });
    expect(out.map((s) => s[0].slice(11, 16))).toEqual(['08:00', '08:45', '09:30', '10:15']);
  });

  it('minimum notice and horizon bound the starts', () => {
    const now = at('2026-11-24T08:10:00Z');
    expect(slots(week, ...day, { now, motive: { minNoticeMinutes: 60 } }).map((s) => s[0].slice(11, 16))).toEqual(['09:30', '10:00', '10:30']);
    const horizon = slots(week, '2026-11-24T00:00:00Z', '2026-12-31T00:00:00Z', { now: at('2026-11-20T10:00:00Z'), motive: { horizonDays: 7 } });
    expect(horizon.every((s) => s[0] < '2026-11-27')).toBe(true);
    expect(horizon).toHaveLength(6);
  });

  it('a one-off opening adds slots on a closed day', () => {
    const openings = [{ start: at('2026-11-28T09:00:00Z'), end: at('2026-11-28T10:00:00Z') }];
    const out = slots({}, '2026-11-28T00:00:00Z', '2026-11-29T00:00:00Z', { openings });
    expect(out.map((s) => s[0].slice(11, 16))).toEqual(['09:00', '09:30']);
  });

  it('limit keeps the earliest slots', () => {
    const out = slots(week, '2026-11-24T00:00:00Z', '2026-12-24T00:00:00Z', { limit: 3 });
    expect(out.map((s) => s[0])).toEqual(['2026-11-24T08:00:00.000Z', '2026-11-24T08:30:00.000Z', '2026-11-24T09:00:00.000Z']);
  });
});

describe('zone offsets (cached per quarter of an hour)', () => {
  // Transitions on the hour (Paris), on the half hour with a 30-minute shift (Lord Howe), and a
  // 45-minute offset (Kathmandu): every minute around each, and twice (the second read is cached).
  const around = [
    ['Europe/Paris', '2026-03-29T01:00:00Z'],
    ['Europe/Paris', '2026-10-25T01:00:00Z'],
    ['Australia/Lord_Howe', '2026-04-04T15:00:00Z'],
    ['Australia/Lord_Howe', '2026-10-03T15:30:00Z'],
    ['Asia/Kathmandu', '2026-06-01T00:00:00Z'],
    ['America/St_Johns', '2026-11-01T04:30:00Z'],
  ] as const;
  it.each(around)('match the zone database minute by minute around a change (%s, %s)', (zone, change) => {
    const mid = Date.parse(change);
    for (let pass = 0; pass < 2; pass++) {
      for (let ms = mid - 90 * 60_000; ms <= mid + 90 * 60_000; ms += 60_000) {
        for (const instant of [ms, ms + 59_999]) expect(zoneOffsetMinutes(zone, instant), `${zone} ${new Date(instant).toISOString()}`).toBe(DateTime.fromMillis(instant, { zone }).offset);
      }
    }
  });
  it('see the change in the quarter that holds it', () => {
    expect(zoneOffsetMinutes('Europe/Paris', Date.parse('2026-03-29T00:59:59.999Z'))).toBe(60);
    expect(zoneOffsetMinutes('Europe/Paris', Date.parse('2026-03-29T01:00:00Z'))).toBe(120);
  });
});

describe('interval arithmetic', () => {
  it('merges and subtracts', () => {
    expect(mergeIntervals([{ start: 5, end: 8 }, { start: 0, end: 3 }, { start: 3, end: 4 }])).toEqual([{ start: 0, end: 4 }, { start: 5, end: 8 }]);
    expect(subtractIntervals([{ start: 0, end: 10 }], [{ start: 2, end: 3 }, { start: 8, end: 12 }])).toEqual([
      { start: 0, end: 2 },
      { start: 3, end: 8 },
    ]);
  });

  it('properties: slots are sorted, unique, in open time, clear of busy time and inside the window', () => {
    const minute = 60_000;
    const base = at('2026-03-23T00:00:00Z'); // the week of the March change
    const range = fc.tuple(fc.integer({ min: 0, max: 1430 }), fc.integer({ min: 5, max: 600 })).map(([s, len]) => [s, Math.min(1440, s + len)] as [number, number]);
    const interval = fc.tuple(fc.integer({ min: 0, max: 14 * 1440 }), fc.integer({ min: 1, max: 600 })).map(([s, len]) => ({ start: base + s * minute, end: base + (s + len) * minute }));
    fc.assert(
      fc.property(
        fc.dictionary(fc.constantFrom('1', '2', '3', '4', '5', '6', '7'), fc.array(range, { maxLength: 3 })),
        fc.array(interval, { maxLength: 5 }),
        fc.array(interval, { maxLength: 8 }),
        fc.integer({ min: 5, max: 90 }),
        fc.integer({ min: 0, max: 30 }),
        (weeklyHours, absences, busy, durationMinutes, bufferMinutes) => {
          const from = base;
          const to = base + 14 * 86_400_000;
          const open = openTime({ timeZone: PARIS, weeklyHours, openings: [], absences, from, to });
          const out = freeSlots({ open, busy, motive: motive({ durationMinutes, bufferMinutes }), from, to, now: FAR_PAST });
          for (let i = 0; i < out.length; i++) {
            const s = out[i]!;
            expect(s.end - s.start).toBe(durationMinutes * minute);
            expect(s.start >= from && s.start < to).toBe(true);
            if (i > 0) expect(s.start).toBeGreaterThan(out[i - 1]!.start);
            expect(open.open.some((o) => o.start <= s.start && s.end <= o.end)).toBe(true);
            expect(absences.some((a) => a.start < s.end && s.start < a.end)).toBe(false);
            expect(busy.some((b) => b.start < s.end + bufferMinutes * minute && s.start < b.end)).toBe(false);
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});

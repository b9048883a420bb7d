import { describe, expect, it } from 'vitest';
import { joinRefusal, joinWindow, participationOf } from './window.js';

const start = new Date('2026-11-24T09:00:00Z');
const end = new Date('2026-11-24T09:20:00Z');
const appointment = { teleconsult: true, status: 'confirmed', startsAt: start, endsAt: end };
const at = (iso: string) => new Date(iso).getTime();

describe('join window', () => {
  it('opens 15 minutes before the start and closes 30 minutes after the planned end', () => {
    expect(joinWindow(start, end)).toEqual({ opensAt: new Date('2026-11-24T08:45:00Z'), closesAt: new Date('2026-11-24T09:50:00Z') });
    expect(joinRefusal(at('2026-11-24T08:44:59Z'), appointment)).toBe('too_early');
    expect(joinRefusal(at('2026-11-24T08:45:00Z'), appointment)).toBeUndefined();
    expect(joinRefusal(at('2026-11-24T09:49:59Z'), appointment)).toBeUndefined();
    expect(joinRefusal(at('2026-11-24T09:50:00Z'), appointment)).toBe('too_late');
  });

  it('refuses on-site motives and appointments that are not confirmed', () => {
    expect(joinRefusal(at('2026-11-24T09:00:00Z'), { ...appointment, teleconsult: false })).toBe('not_teleconsult');
    for (const status of ['cancelled', 'held', 'no_show']) {
      expect(joinRefusal(at('2026-11-24T09:00:00Z'), { ...appointment, status })).toBe('not_active');
    }
  });
});

describe('participants', () => {
  const facts = { practitionerUserId: 'doc', patientAccountUserId: 'pat', guestUserIds: ['colleague'] };
  it('admits the booked patient, the practitioner and an invited colleague only', () => {
    expect(participationOf({ ...facts, userId: 'pat', roleHere: undefined })).toBe('patient');
    expect(participationOf({ ...facts, userId: 'doc', roleHere: 'practitioner' })).toBe('practitioner');
    expect(participationOf({ ...facts, userId: 'colleague', roleHere: 'practitioner' })).toBe('guest');
  });
  it('refuses everyone else, and staff who lost their practitioner role', () => {
    expect(participationOf({ ...facts, userId: 'other-patient', roleHere: undefined })).toBeUndefined();
    expect(participationOf({ ...facts, userId: 'secretary', roleHere: 'secretary' })).toBeUndefined();
    expect(participationOf({ ...facts, userId: 'doc', roleHere: 'admin' })).toBeUndefined();
    expect(participationOf({ ...facts, userId: 'doc', roleHere: undefined })).toBeUndefined();
    expect(participationOf({ ...facts, userId: 'colleague', roleHere: 'secretary' })).toBeUndefined();
    expect(participationOf({ ...facts, patientAccountUserId: null, userId: 'pat', roleHere: undefined })).toBeUndefined();
  });
});

import { describe, expect, it } from 'vitest';
import { DEFAULT_REMINDER_OFFSETS_HOURS, renderNotice, reminderTimes, type AppointmentNotice } from './messages.js';

const notice: AppointmentNotice = {
  kind: 'confirmation',
  start: Date.parse('2026-11-24T08:30:00Z'),
  timeZone: 'Europe/Paris',
  practitionerName: 'Jeanne Roux',
  place: { name: 'Clinique des Cèdres', addressLine: '12 rue Garibaldi', postalCode: '69006', city: 'Lyon' },
  link: 'https://hygie.example/rdv/0190',
};

describe('appointment messages', () => {
  it('say date, local time, place and practitioner', () => {
    const m = renderNotice(notice);
    expect(m.subject).toBe('Votre rendez-vous est confirmé');
    expect(m.text).toContain('mardi 24 novembre 2026 à 09:30 avec Jeanne Roux');
    expect(m.text).toContain('Clinique des Cèdres, 12 rue Garibaldi, 69006 Lyon');
    expect(m.sms).toContain('24/11 09:30');
    expect(renderNotice(notice, 'en').text).toContain('Tuesday 24 November 2026 at 09:30');
  });

  it('never carry the motive, the specialty or the patient, even when the caller passes them', () => {
    const leaky = { ...notice, motive: 'Suivi chimiothérapie', specialty: 'Oncologie médicale', patientName: 'DUPONT Marie' } as AppointmentNotice;
    for (const kind of ['confirmation', 'reminder', 'cancellation', 'waitlist_offer'] as const) {
      for (const lang of ['fr', 'en'] as const) {
        const m = renderNotice({ ...leaky, kind, offerExpiresAt: notice.start - 3_600_000 }, lang);
        const all = `${m.subject}\n${m.text}\n${m.sms}`;
        expect(all).not.toMatch(/chimio|oncolog|DUPONT|Marie/i);
      }
    }
  });

  it('a waiting-list offer says until when the slot is held', () => {
    expect(renderNotice({ ...notice, kind: 'waitlist_offer', offerExpiresAt: Date.parse('2026-11-23T17:15:00Z') }).text).toContain("jusqu'à 18:15");
  });

  it('reminders fall 7 days and 24 hours before by default, future ones only', () => {
    const start = Date.parse('2026-12-10T09:00:00Z');
    expect(reminderTimes(start, DEFAULT_REMINDER_OFFSETS_HOURS, Date.parse('2026-11-01T00:00:00Z')).map((t) => new Date(t).toISOString())).toEqual([
      '2026-12-03T09:00:00.000Z',
      '2026-12-09T09:00:00.000Z',
    ]);
    expect(reminderTimes(start, DEFAULT_REMINDER_OFFSETS_HOURS, Date.parse('2026-12-05T00:00:00Z'))).toEqual([Date.parse('2026-12-09T09:00:00Z')]);
  });
});

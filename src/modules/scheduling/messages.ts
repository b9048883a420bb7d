// What confirmation, reminder, cancellation and waiting-list messages say, for the outbox jobs
// that will send them (mail and SMS). They carry the minimum: date, time, place and the
// practitioner's name. Never the motive or the specialty — "oncology" or "psychiatry" in a
// notification on a lock screen is itself a disclosure — and never a patient's name.
import { DateTime } from 'luxon';

export type NoticeKind = 'confirmation' | 'reminder' | 'cancellation' | 'waitlist_offer';

export interface AppointmentNotice {
  kind: NoticeKind;
  /** Start of the appointment, epoch ms. */
  start: number;
  timeZone: string;
  practitionerName: string;
  place: { name: string; addressLine: string; postalCode: string; city: string };
  /** For a waiting-list offer: until when it is held, epoch ms. */
  offerExpiresAt?: number;
  /** Where the patient manages the appointment (no id of anyone in it but the appointment's). */
  link: string;
}

export interface RenderedNotice {
  subject: string;
  text: string;
  sms: string;
}

const SUBJECTS: Record<NoticeKind, { fr: string; en: string }> = {
  confirmation: { fr: 'Votre rendez-vous est confirmé', en: 'Your appointment is confirmed' },
  reminder: { fr: 'Rappel de votre rendez-vous', en: 'Appointment reminder' },
  cancellation: { fr: 'Votre rendez-vous est annulé', en: 'Your appointment is cancelled' },
  waitlist_offer: { fr: 'Un créneau plus tôt est disponible', en: 'An earlier slot is available' },
};

/** Renders a notice from the allowed fields only; anything else on the object is ignored. */
export function renderNotice(notice: AppointmentNotice, lang: 'fr' | 'en' = 'fr'): RenderedNotice {
  const when = DateTime.fromMillis(notice.start, { zone: notice.timeZone }).setLocale(lang);
  const date = when.toFormat(lang === 'fr' ? "cccc d LLLL yyyy 'à' HH:mm" : "cccc d LLLL yyyy 'at' HH:mm");
  const place = `${notice.place.name}, ${notice.place.addressLine}, ${notice.place.postalCode} ${notice.place.city}`;
  const subject = SUBJECTS[notice.kind][lang];
  const holdUntil =
    notice.kind === 'waitlist_offer' && notice.offerExpiresAt !== undefined
      ? DateTime.fromMillis(notice.offerExpiresAt, { zone: notice.timeZone }).toFormat('HH:mm')
      : undefined;
  const lines =
    lang === 'fr'
      ? [
          `${subject}.`,
          `${date} avec ${notice.practitionerName}.`,
          `Lieu : ${place}.`,
          ...(holdUntil ? [`Ce créneau vous est réservé jusqu'à ${holdUntil}.`] : []),
          `Gérer le rendez-vous : ${notice.link}`,
        ]
      : [
          `${subject}.`,
          `${date} with ${notice.practitionerName}.`,
          `Place: ${place}.`,
          ...(holdUntil ? [`This slot is held for you until ${holdUntil}.`] : []),
          `Manage the appointment: ${notice.link}`,
        ];
  const sms = `${subject} : ${when.toFormat('dd/LL HH:mm')}, ${notice.practitionerName}, ${notice.place.name}. ${notice.link}`;
  return { subject, text: lines.join('\n'), sms: lang === 'fr' ? sms : sms.replace(' : ', ': ') };
}

/** The instants at which reminders are due (offsets in hours before the start), future ones only. */
export function reminderTimes(start: number, offsetsHours: readonly number[], now: number): number[] {
  return [...new Set(offsetsHours)]
    .map((h) => start - h * 3_600_000)
    .filter((t) => t > now)
    .sort((a, b) => a - b);
}

export const DEFAULT_REMINDER_OFFSETS_HOURS: readonly number[] = [168, 24];

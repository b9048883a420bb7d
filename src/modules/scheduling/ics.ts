// The calendar file of an appointment (RFC 5545, ical-generator), for the download route and the
// mail attachments. It carries date, time, place and the practitioner's name only: calendar
// files end up synchronised to third-party clouds, so neither the motive nor the specialty goes in.
import ical, { ICalCalendarMethod, ICalEventStatus } from 'ical-generator';

export interface IcsAppointment {
  id: string;
  start: Date;
  end: Date;
  cancelled: boolean;
  practitionerName: string;
  place: { name: string; addressLine: string; postalCode: string; city: string };
  /** When the file is made; also its SEQUENCE (seconds), which grows with every change sent. */
  stamp: Date;
}

export function appointmentIcs(a: IcsAppointment, options: { method?: 'publish' | 'cancel' } = {}): string {
  const calendar = ical({ prodId: { company: 'Hygie', product: 'Hygie', language: 'FR' }, name: 'Hygie' });
  if (options.method) calendar.method(options.method === 'cancel' ? ICalCalendarMethod.CANCEL : ICalCalendarMethod.PUBLISH);
  calendar.createEvent({
    id: `${a.id}@hygie`,
    start: a.start,
    end: a.end,
    stamp: a.stamp,
    sequence: Math.floor(a.stamp.getTime() / 1000),
    summary: `Rendez-vous — ${a.practitionerName}`,
    location: `${a.place.name}, ${a.place.addressLine}, ${a.place.postalCode} ${a.place.city}`,
    status: a.cancelled ? ICalEventStatus.CANCELLED : ICalEventStatus.CONFIRMED,
  });
  return calendar.toString();
}

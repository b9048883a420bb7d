// The scheduling module's public face: agendas, visit motives, availability, appointments.
import type { FastifyPluginAsync } from 'fastify';
import type { Database } from '../../platform/db/database.js';
import type { AccessGate, RelationshipSource } from '../access/index.js';
import { createSchedulingStore } from './store.js';
import { createPublicScheduling } from './public.js';
import { createBooking } from './booking.js';
import { createAppointmentViews } from './views.js';
import { createAgendaSettings } from './settings.js';
import { schedulingPlugin } from './routes.js';
import { schedulingStaffPlugin } from './routes-staff.js';
import { createWaitlist } from './waitlist.js';
import { waitlistPlugin } from './routes-waitlist.js';

export { freeSlots, openTime, type Interval, type WeeklyHours } from './availability.js';
export { renderNotice, reminderTimes, DEFAULT_REMINDER_OFFSETS_HOURS, type AppointmentNotice, type NoticeKind } from './messages.js';
export { OFFER_MINUTES } from './waitlist.js';

/**
 * The gate's evidence of a care relationship from scheduling: an appointment, not cancelled,
 * in the last twelve months or upcoming, between the practitioner and the patient.
 */
export const appointmentRelationships: RelationshipSource = (tx, { practitionerUserId, patientIds }) =>
  createSchedulingStore().patientsSeenByPractitionerUser(tx, practitionerUserId, patientIds);

export interface SchedulingDeps {
  db: Database;
  /** The access gate: staff agenda views go through it. */
  gate: AccessGate;
  /** The clock, injectable for tests; epoch milliseconds. */
  now?: () => number;
}

export function schedulingRoutes(deps: SchedulingDeps): FastifyPluginAsync {
  const now = deps.now ?? Date.now;
  const store = createSchedulingStore();
  const publicScheduling = createPublicScheduling({ db: deps.db, store, now });
  const booking = createBooking({ db: deps.db, store, now });
  const views = createAppointmentViews({ db: deps.db, store, booking, gate: deps.gate, now });
  const settings = createAgendaSettings({ db: deps.db, store, now });
  const routes = schedulingPlugin({ publicScheduling, booking, views });
  const staff = schedulingStaffPlugin({ settings, booking, views });
  const waitlist = waitlistPlugin(createWaitlist({ db: deps.db, store, now }));
  return async (app) => {
    await app.register(routes);
    await app.register(staff);
    await app.register(waitlist);
  };
}

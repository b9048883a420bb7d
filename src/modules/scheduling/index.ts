// The scheduling module's public face: agendas, visit motives, availability, appointments.
import type { FastifyPluginAsync } from 'fastify';
import type { Database } from '../../platform/db/database.js';
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

export interface SchedulingDeps {
  db: Database;
  /** The clock, injectable for tests; epoch milliseconds. */
  now?: () => number;
}

export function schedulingRoutes(deps: SchedulingDeps): FastifyPluginAsync {
  const now = deps.now ?? Date.now;
  const store = createSchedulingStore();
  const publicScheduling = createPublicScheduling({ db: deps.db, store, now });
  const booking = createBooking({ db: deps.db, store, now });
  const views = createAppointmentViews({ db: deps.db, store, booking, now });
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

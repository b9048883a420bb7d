// The scheduling module's public face: agendas, visit motives, availability, appointments.
import type { FastifyPluginAsync } from 'fastify';
import { sql } from 'kysely';
import type { Database, Tx } from '../../platform/db/database.js';
import type { Actor } from '../../platform/http/context.js';
import type { AccessGate, RelationshipSource } from '../access/index.js';
import type { Vault } from '../vault/index.js';
import { createSchedulingStore } from './store.js';
import { createPublicScheduling } from './public.js';
import { createBooking } from './booking.js';
import { createAppointmentViews } from './views.js';
import { createAgendaSettings } from './settings.js';
import { schedulingPlugin } from './routes.js';
import { schedulingStaffPlugin } from './routes-staff.js';
import { createWaitlist } from './waitlist.js';
import { waitlistPlugin } from './routes-waitlist.js';
import { NOTICE_JOB, noticeHandler } from './notices.js';
import type { JobRunner } from '../../platform/jobs.js';
import type { Logger } from '../../platform/log.js';
import type { Mailer } from '../../platform/mail.js';
import type { SmsSender } from '../../platform/sms.js';
import { createPublicCache, type PublicCache } from '../../platform/cache.js';

export { freeSlots, openTime, type Interval, type WeeklyHours } from './availability.js';
export { renderNotice, reminderTimes, DEFAULT_REMINDER_OFFSETS_HOURS, type AppointmentNotice, type NoticeKind } from './messages.js';
export { OFFER_MINUTES } from './waitlist.js';
export { NOTICE_JOB } from './notices.js';
export { appointmentsExport } from './export.js';

/**
 * The gate's evidence of a care relationship from scheduling: an appointment, not cancelled,
 * in the last twelve months or upcoming, between the practitioner and the patient.
 */
/**
 * The guard's evidence that an exposure is explained: the patients have a confirmed appointment
 * in this establishment within [from, to] — with the acting practitioner when the actor is one,
 * establishment-wide for a secretary or an integration key.
 */
export async function appointmentExplanations(
  tx: Tx,
  query: { actor: Actor; role: string | null; establishmentId: string; patientIds: string[]; from: Date; to: Date },
): Promise<Set<string>> {
  const practitionerUserId = query.role === 'practitioner' && query.actor.kind === 'user' ? query.actor.userId : null;
  if (query.role !== 'practitioner' && query.role !== 'secretary' && query.actor.kind !== 'api_key') return new Set();
  return createSchedulingStore().patientsWithAppointmentsBetween(tx, query.patientIds, query.from, query.to, practitionerUserId);
}

/**
 * A care relationship from the agenda: an appointment (not cancelled) of the patient with the
 * practitioner in the last 12 months or upcoming. Given as SQL, the gate tests it in its one query
 * (one round trip per access instead of one more query).
 */
export const appointmentRelationships: RelationshipSource = {
  sql: (practitionerUserId, patientId) => sql<boolean>`exists (
    select 1 from appointments a join practitioners pr on pr.id = a.practitioner_id
    where pr.user_id = ${practitionerUserId} and a.patient_id = ${patientId}
      and a.status <> 'cancelled' and a.starts_at > now() - interval '12 months')`,
};

export interface SchedulingDeps {
  db: Database;
  /** The access gate: staff agenda views go through it. */
  gate: AccessGate;
  /** Patient files are encrypted: first bookings write them and agendas read names through it. */
  vault: Vault;
  /** The clock, injectable for tests; epoch milliseconds. */
  now?: () => number;
  /**
   * Where confirmations, reminders and offers are sent from: scheduling registers its notice
   * handler on the job runner. Without it, notices are still queued (with the booking) but sent
   * by no one in this process.
   */
  notices?: { jobs: JobRunner; mailer: Mailer; sms: SmsSender; publicUrl: string; logger?: Logger };
  /** The public cache shared with the directory (which invalidates it on its changes); default: one of its own. */
  cache?: PublicCache;
}

export function schedulingRoutes(deps: SchedulingDeps): FastifyPluginAsync {
  const now = deps.now ?? Date.now;
  const store = createSchedulingStore();
  const cache = deps.cache ?? createPublicCache();
  const publicScheduling = createPublicScheduling({ db: deps.db, store, now, cache });
  const booking = createBooking({ db: deps.db, store, vault: deps.vault, now, cache });
  const views = createAppointmentViews({ db: deps.db, store, booking, gate: deps.gate, vault: deps.vault, now });
  const settings = createAgendaSettings({ db: deps.db, store, now, cache });
  const routes = schedulingPlugin({ publicScheduling, booking, views });
  const staff = schedulingStaffPlugin({ settings, booking, views });
  const waitlist = waitlistPlugin(createWaitlist({ db: deps.db, store, vault: deps.vault, now, cache }));
  if (deps.notices) {
    const { jobs, ...senders } = deps.notices;
    jobs.register(NOTICE_JOB, noticeHandler({ db: deps.db, store, vault: deps.vault, now, ...senders }));
  }
  return async (app) => {
    await app.register(routes);
    await app.register(staff);
    await app.register(waitlist);
  };
}

// For other modules (teleconsultation, end-to-end documents): appointment parties and times,
// accounts' establishments, practitioner accounts; names inside the caller's gate call.
export {
  findAppointmentForTeleconsult,
  teleconsultPartyNames,
  practitionerAccountHere,
  practitionerNameOfUser,
  establishmentsOfAccount,
  practitionerUsersHere,
  type TeleconsultAppointment,
} from './lookups.js';

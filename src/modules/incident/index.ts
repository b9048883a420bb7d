// The incident module's public face: impact reports from the audit log, the incident's timeline
// and 72-hour clock, and the drafts for the CNIL and the affected patients.
import type { Database } from '../../platform/db/database.js';
import { createIncidentStore } from './store.js';
import { createIncidentService, type LetterSender } from './service.js';
import { incidentPlugin } from './routes.js';

export { computeImpact, GDPR_NOTIFICATION_HOURS, type Impact, type IncidentActor, type PatientImpact } from './impact.js';
export { cnilNotification, patientLetter, type Lang } from './drafts.js';
export { outboxLetterSender, registerLetterJobs, LETTER_JOB } from './letter-outbox.js';
export { writeIncidentReport } from './report.js';
export { patientLetterPdf, cnilNotificationPdf, markdownToPdf, type LetterRecipient } from './pdf.js';

export type { LetterSender } from './service.js';

export function createIncidentModule(deps: { db: Database; now?: () => Date; sendLetter?: LetterSender }) {
  const store = createIncidentStore();
  const service = createIncidentService({ db: deps.db, store, ...(deps.now ? { now: deps.now } : {}), ...(deps.sendLetter ? { sendLetter: deps.sendLetter } : {}) });
  return { service, store, routes: incidentPlugin(service) };
}
export type IncidentModule = ReturnType<typeof createIncidentModule>;

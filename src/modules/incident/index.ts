// The incident module's public face: impact reports from the audit log, the incident's timeline
// and 72-hour clock, and the drafts for the CNIL and the affected patients.
import type { Database } from '../../platform/db/database.js';
import { createIncidentStore } from './store.js';
import { createIncidentService, type LetterSender } from './service.js';
import { incidentPlugin, noticePlugin } from './routes.js';
import { createNoticeService } from './notices.js';
import type { AccessGate } from '../access/index.js';

export { computeImpact, GDPR_NOTIFICATION_HOURS, type Impact, type IncidentActor, type PatientImpact } from './impact.js';
export { cnilNotification, patientLetter, type Lang } from './drafts.js';
export { outboxLetterSender, registerLetterJobs, LETTER_JOB } from './letter-outbox.js';
export { writeIncidentReport } from './report.js';
export { patientLetterPdf, cnilNotificationPdf, markdownToPdf, type LetterRecipient } from './pdf.js';

export type { LetterSender } from './service.js';
export { storePatientNotice, noticeTitle, type Notice, type NoticeSummary } from './notices.js';

export function createIncidentModule(deps: { db: Database; gate: AccessGate; now?: () => Date; sendLetter?: LetterSender }) {
  const store = createIncidentStore();
  const service = createIncidentService({ db: deps.db, store, ...(deps.now ? { now: deps.now } : {}), ...(deps.sendLetter ? { sendLetter: deps.sendLetter } : {}) });
  const notices = createNoticeService({ db: deps.db, gate: deps.gate });
  const incidents = incidentPlugin(service);
  const portal = noticePlugin(notices);
  return {
    service,
    store,
    notices,
    routes: async (app: Parameters<typeof incidents>[0], opts: Parameters<typeof incidents>[1]) => {
      await incidents(app, opts);
      await portal(app, opts);
    },
  };
}
export type IncidentModule = ReturnType<typeof createIncidentModule>;

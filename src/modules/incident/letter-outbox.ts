// The production delivery of breach letters: `notify` queues one job per patient in its own
// transaction (ids, language and the letter — which names no one but tells what of this patient's
// data was exposed, so it waits sealed under the platform queue key like every queued message),
// and the worker finds the
// patient's e-mail only when it sends: the account's address, or the file's own (encrypted, opened
// by records). A patient with neither is left to the postal letters the security officer prints
// from the PDFs; the job records that, and nothing is lost.
import { v7 as uuidv7 } from 'uuid';
import type { Database, Tx } from '../../platform/db/database.js';
import { enqueueJob, type JobRunner } from '../../platform/jobs.js';
import type { Mailer } from '../../platform/mail.js';
import type { QueueCipher } from '../../platform/queue-cipher.js';
import type { Logger } from 'pino';
import { appendAuditEvent } from '../audit/index.js';
import { patientContacts } from '../records/index.js';
import type { Vault } from '../vault/index.js';
import type { LetterSender } from './service.js';

export const LETTER_JOB = 'incident.letter';

interface LetterJob {
  establishmentId: string;
  incidentId: string;
  patientId: string;
  lang: 'fr' | 'en';
  /** The letter's Markdown, sealed to the job's row. */
  letter: string;
}

const SUBJECT = {
  fr: 'Information importante concernant vos données de santé',
  en: 'Important information about your health data',
} as const;

function parse(raw: Record<string, unknown>): LetterJob | undefined {
  const { establishmentId, incidentId, patientId, lang, letter } = raw;
  if (typeof establishmentId !== 'string' || typeof incidentId !== 'string' || typeof patientId !== 'string' || typeof letter !== 'string') return undefined;
  if (lang !== 'fr' && lang !== 'en') return undefined;
  return { establishmentId, incidentId, patientId, lang, letter };
}

const sealedAt = (jobId: string) => ({ table: 'jobs', column: 'payload', rowId: jobId });

/** The sender `notify` uses: queues the letter, sealed, in the caller's transaction. */
export function outboxLetterSender(cipher: QueueCipher): LetterSender {
  return async (tx: Tx, { markdown, ...ids }) => {
    const id = uuidv7();
    await enqueueJob(tx, { id, kind: LETTER_JOB, payload: { ...ids, letter: await cipher.seal(tx, sealedAt(id), markdown) } });
  };
}

/** Registers the worker that e-mails queued letters. */
export function registerLetterJobs(deps: { jobs: JobRunner; db: Database; vault: Vault; cipher: QueueCipher; mailer: Mailer; logger: Logger }): void {
  deps.jobs.register(LETTER_JOB, async (raw, ctx) => {
    const letter = parse(raw);
    if (!letter) {
      deps.logger.warn({ kind: LETTER_JOB }, 'malformed breach letter job dropped');
      return;
    }
    const found = await deps.db.withTenant(letter.establishmentId, async (tx) => {
      const email = (await patientContacts(tx, deps.vault, [letter.patientId])).get(letter.patientId)?.email ?? null;
      // The patient's access history shows that their contact was read to send the letter.
      if (email) {
        await appendAuditEvent(tx, {
          establishmentId: letter.establishmentId,
          actor: { kind: 'system', name: 'notifier' },
          action: 'incident.letter.sent',
          resourceKind: 'incident',
          resourceIds: [letter.incidentId],
          patientIds: [letter.patientId],
          categories: ['contact'],
          outcome: 'allowed',
        });
      }
      return email ? { to: email, markdown: await deps.cipher.open(tx, sealedAt(ctx.jobId), letter.letter) } : undefined;
    });
    if (!found) {
      deps.logger.info({ kind: LETTER_JOB, incidentId: letter.incidentId }, 'breach letter: no e-mail address, postal letter needed');
      return;
    }
    await deps.mailer.send({ to: found.to, subject: SUBJECT[letter.lang], text: found.markdown, template: 'incident.letter' });
  });
}

// Outgoing mail through nodemailer: SMTP when SMTP_URL is set; otherwise a development transport
// that logs that a message went out (never its recipient or text) and keeps the message in the
// mail_outbox table, where tests and the demo read it. Mail is sent by the job worker, so it is
// queued in the transaction that decided to send it (enqueueMail) and retried on failure.
//
// Neither table holds a message in clear: a queued job carries its template name and one
// ciphertext of the whole message (recipient, subject, text, attachments) bound to the job's row,
// opened by the worker when it sends; the development outbox keeps the same sealed message with a
// keyed index of the recipient. Links in these messages open accounts (reset, invitation): a dump
// must not yield them any more than the addresses.
import nodemailer, { type Transporter } from 'nodemailer';
import { v7 as uuidv7 } from 'uuid';
import type { Config } from '../config.js';
import type { Database, Tx } from './db/database.js';
import { enqueueJob, type JobRunner } from './jobs.js';
import type { Logger } from './log.js';
import { readSealedOutbox, type QueueCipher } from './queue-cipher.js';

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  /** A stable name for logs and metrics ('identity.password_reset'); never personal data. */
  template: string;
  /** Files sent with the message (a calendar file); the development transport keeps the text only. */
  attachments?: MailAttachment[];
}

export interface MailAttachment {
  filename: string;
  content: string;
  contentType: string;
}

export interface Mailer {
  send(message: MailMessage): Promise<void>;
}

const MAIL_JOB = 'mail.send';

export function mailFrom(config: Config): string {
  return `Hygie <no-reply@${new URL(config.publicUrl).hostname}>`;
}

/** The columns of a sealed message: the job's payload or the development outbox's row. */
type Sealed = Pick<MailMessage, 'to' | 'subject' | 'text' | 'attachments'>;

function parseSealed(json: string): Sealed {
  const m = JSON.parse(json) as Partial<Sealed>;
  if (typeof m.to !== 'string' || typeof m.subject !== 'string' || typeof m.text !== 'string') throw new Error('malformed sealed message');
  return { to: m.to, subject: m.subject, text: m.text, ...(m.attachments ? { attachments: m.attachments } : {}) };
}

export function createMailer(config: Config, deps: { db: Database; logger: Logger; cipher: QueueCipher }): Mailer {
  const from = mailFrom(config);
  if (config.smtpUrl) {
    const transport: Transporter = nodemailer.createTransport(config.smtpUrl);
    return {
      async send(message) {
        const info = await transport.sendMail({ from, to: message.to, subject: message.subject, text: message.text, attachments: message.attachments ?? [] });
        deps.logger.info({ template: message.template, messageId: info.messageId }, 'mail sent');
      },
    };
  }
  // jsonTransport builds the message as nodemailer would send it, and sends nothing.
  const transport: Transporter = nodemailer.createTransport({ jsonTransport: true });
  return {
    async send(message) {
      const info = await transport.sendMail({ from, to: message.to, subject: message.subject, text: message.text, attachments: message.attachments ?? [] });
      await deps.db.withPlatform(async (tx) => {
        const id = uuidv7();
        // The text is kept (a developer needs the links); the attachments are not (calendar files).
        const sealed: Sealed = { to: message.to, subject: message.subject, text: message.text };
        await tx
          .insertInto('mail_outbox')
          .values({
            id,
            template: message.template,
            to_bidx: await deps.cipher.addressIndex(tx, 'mail_outbox.to', message.to),
            message_enc: await deps.cipher.seal(tx, { table: 'mail_outbox', column: 'message_enc', rowId: id }, JSON.stringify(sealed)),
          })
          .execute();
      });
      deps.logger.info({ template: message.template, messageId: info.messageId, transport: 'outbox' }, 'mail kept in the outbox (no SMTP_URL)');
    },
  };
}

/**
 * Queues a message in the caller's transaction; the job worker sends it. The job holds the
 * template name in clear (logs, metrics) and the message sealed under the platform queue key.
 */
export async function enqueueMail(tx: Tx, cipher: QueueCipher, message: MailMessage): Promise<string> {
  const id = uuidv7();
  const sealed: Sealed = { to: message.to, subject: message.subject, text: message.text, ...(message.attachments ? { attachments: message.attachments } : {}) };
  const ciphertext = await cipher.seal(tx, { table: 'jobs', column: 'payload', rowId: id }, JSON.stringify(sealed));
  return enqueueJob(tx, { id, kind: MAIL_JOB, payload: { template: message.template, message: ciphertext } });
}

export function registerMailJobs(jobs: JobRunner, mailer: Mailer, deps: { db: Database; cipher: QueueCipher }): void {
  jobs.register(MAIL_JOB, async (payload, ctx) => {
    const { template, message } = payload;
    if (typeof template !== 'string' || typeof message !== 'string') throw new Error('malformed mail job');
    // Opened only now, in a short transaction of its own: the SMTP exchange holds no connection.
    const opened = parseSealed(await deps.db.withPlatform((tx) => deps.cipher.open(tx, { table: 'jobs', column: 'payload', rowId: ctx.jobId }, message)));
    await mailer.send({ ...opened, template });
  });
}

/** Messages the development transport kept for one recipient, newest first (tests, demo). */
export async function readOutbox(db: Database, cipher: QueueCipher, to: string): Promise<Array<{ subject: string; text: string; template: string; createdAt: Date }>> {
  return (await readSealedOutbox(db, cipher, 'mail_outbox', to)).map(({ message, template, createdAt }) => {
    const m = parseSealed(message);
    return { subject: m.subject, text: m.text, template, createdAt };
  });
}

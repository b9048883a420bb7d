// Outgoing mail through nodemailer: SMTP when SMTP_URL is set; otherwise a development transport
// that logs that a message went out (never its recipient or text) and keeps the message in the
// mail_outbox table, where tests and the demo read it. Mail is sent by the job worker, so it is
// queued in the transaction that decided to send it (enqueueMail) and retried on failure.
import nodemailer, { type Transporter } from 'nodemailer';
import { v7 as uuidv7 } from 'uuid';
import type { Config } from '../config.js';
import type { Database, Tx } from './db/database.js';
import { enqueueJob, type JobRunner } from './jobs.js';
import type { Logger } from './log.js';

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

export function createMailer(config: Config, deps: { db: Database; logger: Logger }): Mailer {
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
      await deps.db.withPlatform((tx) =>
        tx.insertInto('mail_outbox').values({ id: uuidv7(), to_address: message.to.toLowerCase(), subject: message.subject, text: message.text }).execute(),
      );
      deps.logger.info({ template: message.template, messageId: info.messageId, transport: 'outbox' }, 'mail kept in the outbox (no SMTP_URL)');
    },
  };
}

/** Queues a message in the caller's transaction; the job worker sends it. */
export function enqueueMail(tx: Tx, message: MailMessage): Promise<string> {
  return enqueueJob(tx, { kind: MAIL_JOB, payload: { ...message } });
}

export function registerMailJobs(jobs: JobRunner, mailer: Mailer): void {
  jobs.register(MAIL_JOB, async (payload) => {
    const { to, subject, text, template } = payload as unknown as MailMessage;
    await mailer.send({ to, subject, text, template });
  });
}

/** Messages the development transport kept for one recipient, newest first (tests, demo). */
export async function readOutbox(db: Database, to: string): Promise<Array<{ subject: string; text: string; createdAt: Date }>> {
  const rows = await db.withPlatform((tx) =>
    tx
      .selectFrom('mail_outbox')
      .select(['subject', 'text', 'created_at'])
      .where('to_address', '=', to.toLowerCase())
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .execute(),
  );
  return rows.map((r) => ({ subject: r.subject, text: r.text, createdAt: r.created_at }));
}

// Outgoing text messages behind one interface. No SMS provider is wired yet: the log transport
// records that a message went out (its template, never the number or the text) and keeps the
// message in the sms_outbox table, where tests and the demo read it — as mail without SMTP does.
// A provider (an HTTP API) plugs in as another SmsSender.
import { v7 as uuidv7 } from 'uuid';
import type { Database } from './db/database.js';
import type { Logger } from './log.js';

export interface SmsMessage {
  /** E.164 or national number, as the patient gave it. */
  to: string;
  text: string;
  /** A stable name for logs and metrics ('scheduling.reminder'); never personal data. */
  template: string;
}

export interface SmsSender {
  send(message: SmsMessage): Promise<void>;
}

export function createLogSmsSender(deps: { db: Database; logger: Logger }): SmsSender {
  return {
    async send(message) {
      await deps.db.withPlatform((tx) => tx.insertInto('sms_outbox').values({ id: uuidv7(), to_number: message.to, text: message.text }).execute());
      deps.logger.info({ template: message.template, transport: 'outbox' }, 'sms kept in the outbox (no SMS provider)');
    },
  };
}

/** Messages the log transport kept for one number, newest first (tests, demo). */
export async function readSmsOutbox(db: Database, to: string): Promise<Array<{ text: string; createdAt: Date }>> {
  const rows = await db.withPlatform((tx) =>
    tx.selectFrom('sms_outbox').select(['text', 'created_at']).where('to_number', '=', to).orderBy('created_at', 'desc').orderBy('id', 'desc').execute(),
  );
  return rows.map((r) => ({ text: r.text, createdAt: r.created_at }));
}

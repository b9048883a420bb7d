// Outgoing text messages behind one interface. No SMS provider is wired yet: the log transport
// records that a message went out (its template, never the number or the text) and keeps the
// message in the sms_outbox table, where tests and the demo read it — as mail without SMTP does,
// sealed the same way: the number and the text as one ciphertext under the platform queue key,
// found by a keyed index of the number. A provider (an HTTP API) plugs in as another SmsSender.
import { v7 as uuidv7 } from 'uuid';
import type { Database } from './db/database.js';
import type { Logger } from './log.js';
import { readSealedOutbox, type QueueCipher } from './queue-cipher.js';

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

const where = (rowId: string) => ({ table: 'sms_outbox', column: 'message_enc', rowId });

export function createLogSmsSender(deps: { db: Database; logger: Logger; cipher: QueueCipher }): SmsSender {
  return {
    async send(message) {
      await deps.db.withPlatform(async (tx) => {
        const id = uuidv7();
        await tx
          .insertInto('sms_outbox')
          .values({
            id,
            template: message.template,
            to_bidx: await deps.cipher.addressIndex(tx, 'sms_outbox.to', message.to),
            message_enc: await deps.cipher.seal(tx, where(id), JSON.stringify({ to: message.to, text: message.text })),
          })
          .execute();
      });
      deps.logger.info({ template: message.template, transport: 'outbox' }, 'sms kept in the outbox (no SMS provider)');
    },
  };
}

/** Messages the log transport kept for one number, newest first (tests, demo). */
export async function readSmsOutbox(db: Database, cipher: QueueCipher, to: string): Promise<Array<{ text: string; template: string; createdAt: Date }>> {
  return (await readSealedOutbox(db, cipher, 'sms_outbox', to)).map(({ message, template, createdAt }) => ({ text: (JSON.parse(message) as { text: string }).text, template, createdAt }));
}

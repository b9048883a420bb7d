// What the platform's queues keep for a while — a message waiting in the job outbox, the
// development outboxes of mail and SMS — is personal data: an address, a name, a link that opens
// an account. Platform code seals it through this interface without knowing the vault; the app
// passes the vault's implementation (`queueCipher(vault)`, one platform key from the key provider),
// so a dump of these tables holds ciphertexts and keyed indexes only.
import type { Database, Tx } from './db/database.js';

/** Where a sealed value lives: it opens only there (associated data). */
export interface QueuedValueBinding {
  table: string;
  column: string;
  rowId: string;
}

export interface QueueCipher {
  seal(tx: Tx, where: QueuedValueBinding, plaintext: string): Promise<string>;
  open(tx: Tx, where: QueuedValueBinding, ciphertext: string): Promise<string>;
  /** A keyed blind index of an address, to find an outbox's messages by recipient (tests, demo). */
  addressIndex(tx: Tx, purpose: 'mail_outbox.to' | 'sms_outbox.to', address: string): Promise<string>;
}

/**
 * The messages a development outbox (mail_outbox, sms_outbox) kept for one recipient, newest
 * first, opened: found by the recipient's keyed index, each opened on its own row (tests, demo,
 * `hygie mail outbox`).
 */
export async function readSealedOutbox(
  db: Database,
  cipher: QueueCipher,
  table: 'mail_outbox' | 'sms_outbox',
  to: string,
): Promise<Array<{ message: string; template: string; createdAt: Date }>> {
  return db.withPlatform(async (tx) => {
    const rows = await tx
      .selectFrom(table)
      .select(['id', 'template', 'message_enc', 'created_at'])
      .where('to_bidx', '=', await cipher.addressIndex(tx, `${table}.to`, to))
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .execute();
    const out = [];
    for (const r of rows) {
      out.push({ message: await cipher.open(tx, { table, column: 'message_enc', rowId: r.id }, r.message_enc), template: r.template, createdAt: r.created_at });
    }
    return out;
  });
}

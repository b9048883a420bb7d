// What the platform's queues keep for a while — a message waiting in the job outbox, the
// development outboxes of mail and SMS — is personal data: an address, a name, a link that opens
// an account. Platform code seals it through this interface without knowing the vault; the app
// passes the vault's implementation (`queueCipher(vault)`, one platform key from the key provider),
// so a dump of these tables holds ciphertexts and keyed indexes only.
import type { Tx } from './db/database.js';

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

// The vault's side of the platform's QueueCipher: values kept by the job outbox and the
// development outboxes are sealed under the platform queue key (owner kind 'platform' in the
// platform keyspace, wrapped by the platform KEK like every other key), each bound to its table,
// column and row; recipients are found by a blind index under the platform index key.
import type { Tx } from '../../platform/db/database.js';
import type { QueueCipher, QueuedValueBinding } from '../../platform/queue-cipher.js';
import { PLATFORM_QUEUE_OWNER, type SecretFieldContext, type Vault } from './service.js';

const fieldOf = (where: QueuedValueBinding): SecretFieldContext => ({ establishmentId: null, ownerKind: 'platform', ownerId: PLATFORM_QUEUE_OWNER, ...where });

export function queueCipher(vault: Vault): QueueCipher {
  return {
    async seal(tx: Tx, where, plaintext) {
      return (await vault.encryptField(tx, fieldOf(where), plaintext))!;
    },
    async open(tx: Tx, where, ciphertext) {
      return (await vault.decryptField(tx, fieldOf(where), ciphertext))!;
    },
    async addressIndex(tx: Tx, purpose, address) {
      // An e-mail is folded (case, spaces); a phone number loses its separators.
      return vault.platformBlindIndex(tx, purpose, [purpose === 'mail_outbox.to' ? { email: address } : { identifier: address }]);
    },
  };
}

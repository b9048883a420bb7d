// What the identity services share: the database, the clock (injected, so tests move time
// instead of sleeping), the sealed-secret box, the throttle and the relying party.
import type { Config } from '../../config.js';
import type { Database, Tx } from '../../platform/db/database.js';
import type { Logger } from '../../platform/log.js';
import { enqueueMail, type MailMessage } from '../../platform/mail.js';
import { queueCipher, type Vault } from '../vault/index.js';
import type { LazySecretBox } from './secret-box.js';
import type { IdentityStore } from './store.js';
import type { Throttle } from './throttle.js';
import type { RelyingParty } from './webauthn.js';

export type Clock = () => Date;

export interface IdentityContext {
  config: Config;
  db: Database;
  logger: Logger;
  clock: Clock;
  /** Accounts' personal fields are vault ciphertexts (account-data.ts). */
  vault: Vault;
  store: IdentityStore;
  secrets: LazySecretBox;
  throttle: Throttle;
  rp: RelyingParty;
}

/** Where a request comes from, as the services need it (never trusted for more than that). */
export interface RequestOrigin {
  ip: string;
  userAgent: string | null;
  /** The raw device cookie, when the browser sent one. */
  deviceToken: string | undefined;
}

export const PRIVILEGED_ROLES = new Set(['admin', 'security_officer']);

export const minutes = (n: number): number => n * 60_000;
export const addMs = (d: Date, ms: number): Date => new Date(d.getTime() + ms);

/** Queues an e-mail in the caller's transaction, sealed in the job (the worker opens it to send). */
export function queueMail(ctx: Pick<IdentityContext, 'vault'>, tx: Tx, message: MailMessage): Promise<string> {
  return enqueueMail(tx, queueCipher(ctx.vault), message);
}

// An invitation holds a person's e-mail and names before they have an account. They are sealed as
// an account's are (account-data.ts): vault ciphertexts in the platform keyspace, under a data key
// of the invitee's own (owner kind 'user', owner id = the invitation's id: the account they may
// become), each bound to `invitations`, its column and the invitation's row. Nothing looks
// invitations up by e-mail (the link's token hash finds them), so there is no blind index. Once
// the invitation is accepted, the account holds the same values: the invitation's key is shredded
// and its copy becomes unreadable for good, backups included once the platform key rotates.
// This file is the one place that seals and opens these columns.
import type { Tx } from '../../platform/db/database.js';
import { normaliseEmail, type RowContext, type Vault } from '../vault/index.js';

export interface Invitee {
  email: string;
  firstName: string;
  lastName: string;
}

export interface SealedInvitee {
  email_enc: string;
  first_name_enc: string;
  last_name_enc: string;
}

type EncColumn = keyof SealedInvitee;

const rowOf = (id: string): RowContext => ({ establishmentId: null, ownerKind: 'user', ownerId: id, table: 'invitations', rowId: id });

/** Encrypts invitees for an insert into `invitations` (the e-mail stored normalised). */
export async function sealInvitees(tx: Tx, vault: Vault, invitees: ReadonlyArray<Invitee & { id: string }>): Promise<SealedInvitee[]> {
  if (invitees.length === 0) return [];
  const sealed = await vault.encryptRows<EncColumn>(
    tx,
    invitees.map((i) => ({ row: rowOf(i.id), values: { email_enc: normaliseEmail(i.email), first_name_enc: i.firstName, last_name_enc: i.lastName } })),
  );
  return sealed.map((s) => ({ email_enc: s.email_enc!, first_name_enc: s.first_name_enc!, last_name_enc: s.last_name_enc! }));
}

/**
 * Decrypts invitations read from `invitations` (batch: one key query). An accepted invitation's
 * key is shredded: its invitee comes back null.
 */
export async function openInvitees(tx: Tx, vault: Vault, rows: ReadonlyArray<SealedInvitee & { id: string }>): Promise<Array<Invitee | null>> {
  const open = await vault.decryptRows<EncColumn>(
    tx,
    rows.map((r) => ({ row: rowOf(r.id), values: { email_enc: r.email_enc, first_name_enc: r.first_name_enc, last_name_enc: r.last_name_enc } })),
    { shredded: 'null' },
  );
  return open.map((o) => (o.email_enc === null ? null : { email: o.email_enc, firstName: o.first_name_enc ?? '', lastName: o.last_name_enc ?? '' }));
}

/** Makes an invitation's copy of the invitee unreadable (it was accepted: the account holds it now). */
export async function shredInvitee(tx: Tx, vault: Vault, invitationId: string): Promise<void> {
  await vault.shredSecretKey(tx, { establishmentId: null, ownerKind: 'user', ownerId: invitationId });
}

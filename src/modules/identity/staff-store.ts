// SQL for an establishment's staff: memberships, invitations, two-person approvals and API keys.
// These tables are establishment-owned: every method runs in a withTenant transaction, and row-level
// security keeps it inside that establishment whatever the query says.
import { sql } from 'kysely';
import type { Tx } from '../../platform/db/database.js';
import type { ApiKeyScope, ApprovalKind, InvitationStatus, StaffRole } from '../../platform/db/schema.js';
import type { Vault } from '../vault/index.js';
import { accountContacts, accountProfiles } from './account-data.js';
import { openInvitees, sealInvitees, shredInvitee, type Invitee } from './invitation-data.js';

export function createStaffStore() {
  return {
    // --- memberships
    findMembership(tx: Tx, userId: string) {
      return tx.selectFrom('memberships').select(['id', 'role', 'user_id']).where('user_id', '=', userId).executeTakeFirst();
    },
    async insertMembership(tx: Tx, m: { id: string; establishmentId: string; userId: string; role: StaffRole }) {
      await tx.insertInto('memberships').values({ id: m.id, establishment_id: m.establishmentId, user_id: m.userId, role: m.role }).execute();
    },
    /** E-mail addresses of the transaction's establishment's security officers (active accounts). */
    async securityOfficerEmails(tx: Tx, vault: Vault): Promise<string[]> {
      const rows = await tx
        .selectFrom('memberships')
        .innerJoin('users', 'users.id', 'memberships.user_id')
        .select('users.id')
        .where('memberships.role', '=', 'security_officer')
        .where('users.disabled_at', 'is', null)
        .execute();
      const contacts = await accountContacts(tx, vault, rows.map((r) => r.id));
      return rows.flatMap((r) => contacts.get(r.id)?.email ?? []);
    },

    async setRole(tx: Tx, userId: string, role: StaffRole): Promise<boolean> {
      const r = await tx.updateTable('memberships').set({ role }).where('user_id', '=', userId).executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    },
    async deleteMembership(tx: Tx, userId: string): Promise<boolean> {
      const r = await tx.deleteFrom('memberships').where('user_id', '=', userId).executeTakeFirst();
      return Number(r.numDeletedRows) === 1;
    },
    /** The members with their names and e-mails decrypted, sorted by last then first name. */
    async listMembers(tx: Tx, vault: Vault) {
      const rows = await tx
        .selectFrom('memberships')
        .innerJoin('users', 'users.id', 'memberships.user_id')
        .select(['users.id', 'memberships.role', 'users.totp_secret', 'users.disabled_at'])
        .select((eb) =>
          eb
            .selectFrom('webauthn_credentials')
            .select((e) => e.fn.countAll<string>().as('n'))
            .whereRef('webauthn_credentials.user_id', '=', 'users.id')
            .as('passkeys'),
        )
        .orderBy('users.id')
        .limit(500)
        .execute();
      const people = await accountProfiles(tx, vault, rows.map((r) => r.id));
      return rows
        .map((r) => {
          const p = people.get(r.id);
          return { ...r, email: p?.email ?? '', first_name: p?.firstName ?? '', last_name: p?.lastName ?? '' };
        })
        .sort((a, b) => a.last_name.localeCompare(b.last_name, 'fr') || a.first_name.localeCompare(b.first_name, 'fr'));
    },

    // --- invitations (the invitee's e-mail and names sealed: invitation-data.ts)
    async insertInvitation(
      tx: Tx,
      vault: Vault,
      i: { id: string; establishmentId: string; email: string; firstName: string; lastName: string; role: StaffRole; invitedBy: string | null; status: 'pending_approval' | 'sent'; tokenHash: Buffer | null; at: Date; expiresAt: Date },
    ) {
      const [sealed] = await sealInvitees(tx, vault, [{ id: i.id, email: i.email, firstName: i.firstName, lastName: i.lastName }]);
      await tx
        .insertInto('invitations')
        .values({
          id: i.id,
          establishment_id: i.establishmentId,
          ...sealed!,
          role: i.role,
          token_hash: i.tokenHash,
          invited_by: i.invitedBy,
          status: i.status,
          created_at: i.at,
          expires_at: i.expiresAt,
          accepted_at: null,
          accepted_user_id: null,
        })
        .execute();
    },
    /** An invitation with its invitee decrypted (null once accepted: the key is shredded). */
    async findInvitation(tx: Tx, vault: Vault, id: string): Promise<(InvitationRow & { invitee: Invitee | null }) | undefined> {
      const row = await tx
        .selectFrom('invitations')
        .select(['id', 'establishment_id', 'role', 'status', 'expires_at', 'email_enc', 'first_name_enc', 'last_name_enc'])
        .where('id', '=', id)
        .executeTakeFirst();
      if (!row) return undefined;
      const [invitee] = await openInvitees(tx, vault, [row]);
      return { id: row.id, establishment_id: row.establishment_id, role: row.role, status: row.status, expires_at: row.expires_at, invitee: invitee ?? null };
    },
    shredInvitee,
    async sendInvitation(tx: Tx, id: string, tokenHash: Buffer, expiresAt: Date) {
      await tx.updateTable('invitations').set({ status: 'sent', token_hash: tokenHash, expires_at: expiresAt }).where('id', '=', id).execute();
    },
    async acceptInvitation(tx: Tx, id: string, userId: string, at: Date): Promise<boolean> {
      const r = await tx
        .updateTable('invitations')
        .set({ status: 'accepted', accepted_at: at, accepted_user_id: userId, token_hash: null })
        .where('id', '=', id)
        .where('status', '=', 'sent')
        .executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    },
    /** A refused invitation (pending its approval) will never be sent; false when it was not pending. */
    async revokeInvitation(tx: Tx, id: string): Promise<boolean> {
      const r = await tx.updateTable('invitations').set({ status: 'revoked', token_hash: null }).where('id', '=', id).where('status', '=', 'pending_approval').executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    },
    /** The invitation a token belongs to, across establishments (ids only, through a definer function). */
    async locateInvitation(tx: Tx, tokenHash: Buffer): Promise<{ id: string; establishmentId: string } | undefined> {
      const { rows } = await sql<{ id: string; establishment_id: string }>`select id, establishment_id from hygie_invitation_lookup(${tokenHash})`.execute(tx);
      return rows[0] ? { id: rows[0].id, establishmentId: rows[0].establishment_id } : undefined;
    },

    // --- approvals
    async insertApproval(
      tx: Tx,
      a: { id: string; establishmentId: string; kind: ApprovalKind; targetUserId: string | null; invitationId: string | null; role: StaffRole | null; requestedBy: string; at: Date; expiresAt: Date },
    ) {
      await tx
        .insertInto('approval_requests')
        .values({
          id: a.id,
          establishment_id: a.establishmentId,
          kind: a.kind,
          target_user_id: a.targetUserId,
          invitation_id: a.invitationId,
          role: a.role,
          requested_by: a.requestedBy,
          status: 'pending',
          created_at: a.at,
          expires_at: a.expiresAt,
          decided_by: null,
          decided_at: null,
        })
        .execute();
    },
    findApproval(tx: Tx, id: string) {
      return tx.selectFrom('approval_requests').selectAll().where('id', '=', id).executeTakeFirst();
    },
    listPendingApprovals(tx: Tx, at: Date) {
      return tx
        .selectFrom('approval_requests')
        .selectAll()
        .where('status', '=', 'pending')
        .where('expires_at', '>', at)
        .orderBy('created_at', 'desc')
        .limit(50)
        .execute();
    },
    /** Records the decision; false when someone decided first. The table refuses decider = requester. */
    async decideApproval(tx: Tx, id: string, by: string, status: 'approved' | 'rejected', at: Date): Promise<boolean> {
      const r = await tx
        .updateTable('approval_requests')
        .set({ status, decided_by: by, decided_at: at })
        .where('id', '=', id)
        .where('status', '=', 'pending')
        .executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    },

    // --- API keys
    async insertApiKey(
      tx: Tx,
      k: { id: string; establishmentId: string; name: string; keyHash: Buffer; prefix: string; scopes: ApiKeyScope[]; allowedIps: string[]; expiresAt: Date | null; createdBy: string; at: Date },
    ) {
      await tx
        .insertInto('api_keys')
        .values({
          id: k.id,
          establishment_id: k.establishmentId,
          name: k.name,
          key_hash: k.keyHash,
          prefix: k.prefix,
          scopes: JSON.stringify(k.scopes),
          allowed_ips: k.allowedIps,
          expires_at: k.expiresAt,
          created_by: k.createdBy,
          created_at: k.at,
          last_used_at: null,
          last_used_ip: null,
          revoked_at: null,
        })
        .execute();
    },
    listApiKeys(tx: Tx) {
      return tx
        .selectFrom('api_keys')
        .select(['id', 'name', 'prefix', 'scopes', 'allowed_ips', 'expires_at', 'created_at', 'last_used_at', 'revoked_at'])
        .orderBy('created_at', 'desc')
        .limit(50)
        .execute();
    },
    findApiKey(tx: Tx, id: string) {
      return tx.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirst();
    },
    async revokeApiKey(tx: Tx, id: string, at: Date): Promise<boolean> {
      const r = await tx.updateTable('api_keys').set({ revoked_at: at }).where('id', '=', id).where('revoked_at', 'is', null).executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    },
    async recordApiKeyUse(tx: Tx, id: string, ip: string, at: Date) {
      await tx.updateTable('api_keys').set({ last_used_at: at, last_used_ip: ip }).where('id', '=', id).execute();
    },
    /** Is the address inside one of the key's allowed ranges? (PostgreSQL's inet containment.) */
    async ipAllowed(tx: Tx, id: string, ip: string): Promise<boolean> {
      const { rows } = await sql<{ ok: boolean }>`
        select coalesce(cardinality(allowed_ips) = 0 or ${ip}::inet <<= any(allowed_ips), false) as ok from api_keys where id = ${id}`.execute(tx);
      return rows[0]?.ok === true;
    },
    async locateApiKey(tx: Tx, keyHash: Buffer): Promise<{ id: string; establishmentId: string } | undefined> {
      const { rows } = await sql<{ id: string; establishment_id: string }>`select id, establishment_id from hygie_api_key_lookup(${keyHash})`.execute(tx);
      return rows[0] ? { id: rows[0].id, establishmentId: rows[0].establishment_id } : undefined;
    },
  };
}

export type StaffStore = ReturnType<typeof createStaffStore>;

export interface InvitationRow {
  id: string;
  establishment_id: string;
  role: StaffRole;
  status: InvitationStatus;
  expires_at: Date;
}

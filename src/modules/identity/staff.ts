// An establishment's staff: invitations, roles, ending sessions, and the two-person rule for the
// keys to the kingdom (ASVS 2.3.5). Granting admin or security_officer, and resetting someone's
// second factors, only take effect when a second admin or security officer of the same
// establishment approves; the database itself refuses an approval by the requester.
import { v7 as uuidv7 } from 'uuid';
import type { Tx } from '../../platform/db/database.js';
import type { StaffRole } from '../../platform/db/schema.js';
import type { Actor } from '../../platform/http/context.js';
import { DomainError } from '../../platform/http/errors.js';
import { appendAuditEvent } from '../audit/index.js';
import { findEstablishment } from '../directory/index.js';
import { addMs, minutes, PRIVILEGED_ROLES, queueMail, type IdentityContext } from './context.js';
import { appLink, assertAcceptablePassword } from './accounts.js';
import { normaliseEmail } from './login.js';
import { invitationMail, secondFactorChangedMail } from './mails.js';
import { hashPassword } from './passwords.js';
import { requireStepUp } from './session-policy.js';
import type { UserActor } from './sessions.js';
import type { Invitee } from './invitation-data.js';
import type { StaffStore } from './staff-store.js';
import { randomToken, sha256 } from './tokens.js';

const INVITATION_TTL_MS = minutes(7 * 24 * 60);
const APPROVAL_TTL_MS = minutes(48 * 60);

export interface StaffContext extends IdentityContext {
  staff: StaffStore;
}

/**
 * The acting user's role in the establishment must be one of `roles`. Someone with no membership
 * there learns nothing (404); a member without the role gets 403.
 */
export function assertRole(actor: Actor, establishmentId: string, roles: StaffRole[]): asserts actor is UserActor {
  if (actor.kind !== 'user') throw new DomainError('forbidden');
  const membership = actor.memberships.find((m) => m.establishmentId === establishmentId);
  if (!membership) throw new DomainError('not_found');
  if (!roles.includes(membership.role)) throw new DomainError('forbidden');
}

const needsTwoPeople = (role: StaffRole) => PRIVILEGED_ROLES.has(role);

async function auditStaff(tx: Tx, establishmentId: string, actor: Actor, action: string, ids: string[], outcome: 'allowed' | 'denied' = 'allowed', reason?: string) {
  const role = actor.kind === 'user' ? (actor.memberships.find((m) => m.establishmentId === establishmentId)?.role ?? null) : null;
  await appendAuditEvent(tx, { establishmentId, actor, actorRole: role, action, resourceKind: 'user', resourceIds: ids, outcome, reason: reason ?? null });
}

async function issueInvitation(ctx: StaffContext, tx: Tx, invitation: { id: string; establishment_id: string; role: StaffRole; invitee: Invitee }) {
  const token = randomToken();
  await ctx.staff.sendInvitation(tx, invitation.id, sha256(token), addMs(ctx.clock(), INVITATION_TTL_MS));
  const establishment = await findEstablishment(tx, invitation.establishment_id);
  const link = appLink(ctx, 'invitation', token);
  await queueMail(ctx, tx, invitationMail(invitation.invitee.email, invitation.invitee.firstName, establishment?.name ?? 'votre établissement', invitation.role, link));
  return link;
}

export interface InvitationInput {
  email: string;
  firstName: string;
  lastName: string;
  role: StaffRole;
}

/**
 * Invites a person into a role. From the API (an admin, after step-up) a privileged role waits for
 * a second approver; from the CLI (the operator, actor 'system') it is sent at once, which is how
 * an establishment gets its first admins. The link is returned only to the CLI.
 */
export async function invite(ctx: StaffContext, actor: Actor, establishmentId: string, input: InvitationInput) {
  if (actor.kind !== 'system') {
    assertRole(actor, establishmentId, ['admin']);
    requireStepUp(actor, ctx.clock());
  }
  return ctx.db.withTenant(establishmentId, async (tx) => {
    if (actor.kind === 'system' && !(await findEstablishment(tx, establishmentId))) throw new DomainError('not_found', 'No such establishment');
    const now = ctx.clock();
    const id = uuidv7();
    const pending = actor.kind === 'user' && needsTwoPeople(input.role);
    const invitee: Invitee = { email: normaliseEmail(input.email), firstName: input.firstName.trim(), lastName: input.lastName.trim() };
    const invitation = { id, establishment_id: establishmentId, role: input.role, invitee };
    await ctx.staff.insertInvitation(tx, ctx.vault, {
      id,
      establishmentId,
      ...invitee,
      role: input.role,
      invitedBy: actor.kind === 'user' ? actor.userId : null,
      status: 'pending_approval',
      tokenHash: null,
      at: now,
      expiresAt: addMs(now, INVITATION_TTL_MS),
    });
    await auditStaff(tx, establishmentId, actor, 'identity.invite', [id], 'allowed', input.role);
    if (pending) {
      const approvalId = uuidv7();
      await ctx.staff.insertApproval(tx, { id: approvalId, establishmentId, kind: 'invite', targetUserId: null, invitationId: id, role: input.role, requestedBy: actor.userId, at: now, expiresAt: addMs(now, APPROVAL_TTL_MS) });
      return { invitationId: id, status: 'pending_approval' as const, approvalId, link: undefined };
    }
    const link = await issueInvitation(ctx, tx, invitation);
    return { invitationId: id, status: 'sent' as const, approvalId: undefined, link: actor.kind === 'system' ? link : undefined };
  });
}

/**
 * Accepts an invitation from its link: a new person chooses a password (their account is created,
 * the e-mail proven by the link); someone who already has an account gains the membership. The
 * next login asks for a second factor, or to enrol one.
 */
export async function acceptInvitation(ctx: StaffContext, input: { token: string; password?: string | undefined }, ip: string) {
  const tokenHash = sha256(input.token);
  const located = await ctx.db.withPlatform((tx) => ctx.staff.locateInvitation(tx, tokenHash));
  const invalid = () => new DomainError('invalid_request', 'This invitation is invalid or has expired.', { errors: [{ field: 'body.token', message: 'invalid or expired' }] });
  if (!located) throw invalid();
  const peek = await ctx.db.withTenant(located.establishmentId, async (tx) => {
    const invitation = await ctx.staff.findInvitation(tx, ctx.vault, located.id);
    const user = invitation?.invitee ? await ctx.store.findUserByEmail(tx, invitation.invitee.email) : undefined;
    return { invitation, user };
  });
  const { invitation } = peek;
  const invitee = invitation?.invitee;
  if (!invitation || !invitee || invitation.status !== 'sent' || invitation.expires_at <= ctx.clock()) throw invalid();
  let hash: string | undefined;
  if (!peek.user) {
    if (!input.password) throw new DomainError('invalid_request', 'Choose a password.', { errors: [{ field: 'body.password', message: 'required' }] });
    assertAcceptablePassword(input.password, invitee);
    hash = await hashPassword(input.password);
  }
  return ctx.db.withTenant(located.establishmentId, async (tx) => {
    const now = ctx.clock();
    let userId = peek.user?.id;
    if (!userId) {
      userId = uuidv7();
      await ctx.store.insertUser(tx, { id: userId, email: invitee.email, passwordHash: hash!, firstName: invitee.firstName, lastName: invitee.lastName, birthDate: null, phone: null, verifiedAt: now, at: now });
    }
    if (!(await ctx.staff.acceptInvitation(tx, invitation.id, userId, now))) throw invalid();
    // The account holds the invitee's e-mail and names now: the invitation's copy is destroyed.
    await ctx.staff.shredInvitee(tx, ctx.vault, invitation.id);
    if (await ctx.staff.findMembership(tx, userId)) throw new DomainError('conflict', 'This account already belongs to the establishment.');
    await ctx.staff.insertMembership(tx, { id: uuidv7(), establishmentId: located.establishmentId, userId, role: invitation.role });
    await ctx.store.setEmailVerified(tx, userId, now);
    await appendAuditEvent(tx, { establishmentId: located.establishmentId, ip, action: 'identity.invitation.accept', actorRole: invitation.role, resourceKind: 'user', resourceIds: [userId], outcome: 'allowed' });
    return { status: 'ok' as const, establishmentId: located.establishmentId, role: invitation.role, newAccount: !peek.user };
  });
}

async function assertMember(ctx: StaffContext, tx: Tx, userId: string) {
  const membership = await ctx.staff.findMembership(tx, userId);
  if (!membership) throw new DomainError('not_found');
  return membership;
}

/** Changes a member's role: at once for practitioner and secretary, after a second approver for admin and security_officer. */
export async function changeRole(ctx: StaffContext, actor: Actor, establishmentId: string, userId: string, role: StaffRole) {
  assertRole(actor, establishmentId, ['admin']);
  requireStepUp(actor, ctx.clock());
  return ctx.db.withTenant(establishmentId, async (tx) => {
    await assertMember(ctx, tx, userId);
    const now = ctx.clock();
    if (needsTwoPeople(role)) {
      const approvalId = uuidv7();
      await ctx.staff.insertApproval(tx, { id: approvalId, establishmentId, kind: 'grant_role', targetUserId: userId, invitationId: null, role, requestedBy: actor.userId, at: now, expiresAt: addMs(now, APPROVAL_TTL_MS) });
      await auditStaff(tx, establishmentId, actor, 'identity.role.request', [userId], 'allowed', role);
      return { status: 'pending_approval' as const, approvalId };
    }
    await ctx.staff.setRole(tx, userId, role);
    await auditStaff(tx, establishmentId, actor, 'identity.role.change', [userId], 'allowed', role);
    return { status: 'ok' as const, approvalId: undefined };
  });
}

/** Asks for a member's second factors to be reset (they lost their phone or key); a second person approves. */
export async function requestMfaReset(ctx: StaffContext, actor: Actor, establishmentId: string, userId: string) {
  assertRole(actor, establishmentId, ['admin', 'security_officer']);
  requireStepUp(actor, ctx.clock());
  return ctx.db.withTenant(establishmentId, async (tx) => {
    await assertMember(ctx, tx, userId);
    const now = ctx.clock();
    const approvalId = uuidv7();
    await ctx.staff.insertApproval(tx, { id: approvalId, establishmentId, kind: 'reset_mfa', targetUserId: userId, invitationId: null, role: null, requestedBy: actor.userId, at: now, expiresAt: addMs(now, APPROVAL_TTL_MS) });
    await auditStaff(tx, establishmentId, actor, 'identity.mfa_reset.request', [userId]);
    return { status: 'pending_approval' as const, approvalId };
  });
}

export async function listApprovals(ctx: StaffContext, actor: Actor, establishmentId: string) {
  assertRole(actor, establishmentId, ['admin', 'security_officer']);
  const rows = await ctx.db.withTenant(establishmentId, (tx) => ctx.staff.listPendingApprovals(tx, ctx.clock()));
  return rows.map((r) => ({
    id: r.id,
    kind: r.kind,
    targetUserId: r.target_user_id,
    invitationId: r.invitation_id,
    role: r.role,
    requestedBy: r.requested_by,
    createdAt: r.created_at.toISOString(),
    expiresAt: r.expires_at.toISOString(),
  }));
}

/** A second admin or security officer approves (or rejects) a pending request; the requester and its target cannot. */
export async function decideApproval(ctx: StaffContext, actor: Actor, establishmentId: string, approvalId: string, decision: 'approved' | 'rejected') {
  assertRole(actor, establishmentId, ['admin', 'security_officer']);
  requireStepUp(actor, ctx.clock());
  return ctx.db.withTenant(establishmentId, async (tx) => {
    const now = ctx.clock();
    const approval = await ctx.staff.findApproval(tx, approvalId);
    if (!approval || approval.status !== 'pending' || approval.expires_at <= now) throw new DomainError('not_found');
    if (approval.requested_by === actor.userId || approval.target_user_id === actor.userId) {
      await auditStaff(tx, establishmentId, actor, `identity.approval.${decision}`, [approval.id], 'denied', 'same_person');
      throw new DomainError('forbidden', 'A second person must decide this request.');
    }
    if (!(await ctx.staff.decideApproval(tx, approval.id, actor.userId, decision, now))) throw new DomainError('not_found');
    await auditStaff(tx, establishmentId, actor, `identity.approval.${decision}`, [approval.id, ...(approval.target_user_id ? [approval.target_user_id] : [])], 'allowed', approval.kind);
    if (decision === 'rejected') {
      // A refused invitation is never sent: its invitee's e-mail and names are destroyed.
      if (approval.kind === 'invite' && (await ctx.staff.revokeInvitation(tx, approval.invitation_id!))) await ctx.staff.shredInvitee(tx, ctx.vault, approval.invitation_id!);
      return { status: 'rejected' as const };
    }

    if (approval.kind === 'grant_role') {
      if (!(await ctx.staff.setRole(tx, approval.target_user_id!, approval.role!))) throw new DomainError('not_found');
      await auditStaff(tx, establishmentId, actor, 'identity.role.change', [approval.target_user_id!], 'allowed', approval.role!);
    } else if (approval.kind === 'invite') {
      const invitation = await ctx.staff.findInvitation(tx, ctx.vault, approval.invitation_id!);
      if (!invitation?.invitee || invitation.status !== 'pending_approval') throw new DomainError('not_found');
      await issueInvitation(ctx, tx, { ...invitation, invitee: invitation.invitee });
    } else {
      const target = await ctx.store.findUserById(tx, approval.target_user_id!);
      if (!target) throw new DomainError('not_found');
      await ctx.store.clearSecondFactors(tx, target.id);
      await ctx.store.revokeUserSessions(tx, target.id, 'mfa_reset', now);
      await queueMail(ctx, tx, secondFactorChangedMail(target.email, target.first_name, "Vos seconds facteurs ont été réinitialisés à la demande de votre établissement : à votre prochaine connexion, vous devrez en enregistrer un nouveau."));
      await auditStaff(tx, establishmentId, actor, 'identity.mfa_reset', [target.id]);
    }
    return { status: 'approved' as const };
  });
}

/** Ends every session of a member at once (ASVS 7.4.5). */
export async function endMemberSessions(ctx: StaffContext, actor: Actor, establishmentId: string, userId: string) {
  assertRole(actor, establishmentId, ['admin', 'security_officer']);
  return ctx.db.withTenant(establishmentId, async (tx) => {
    await assertMember(ctx, tx, userId);
    const revoked = await ctx.store.revokeUserSessions(tx, userId, 'revoked_by_admin', ctx.clock());
    await auditStaff(tx, establishmentId, actor, 'auth.session.revoke_all', [userId]);
    return { revoked };
  });
}

/** Removes a member from the establishment; their sessions end with it (ASVS 7.4.2). */
export async function removeMember(ctx: StaffContext, actor: Actor, establishmentId: string, userId: string) {
  assertRole(actor, establishmentId, ['admin']);
  requireStepUp(actor, ctx.clock());
  return ctx.db.withTenant(establishmentId, async (tx) => {
    // Taking power away needs one person; granting it is what needs two.
    const membership = await assertMember(ctx, tx, userId);
    await ctx.staff.deleteMembership(tx, userId);
    await ctx.store.revokeUserSessions(tx, userId, 'membership_removed', ctx.clock());
    await auditStaff(tx, establishmentId, actor, 'identity.member.remove', [userId], 'allowed', membership.role);
  });
}

export async function listMembers(ctx: StaffContext, actor: Actor, establishmentId: string) {
  assertRole(actor, establishmentId, ['admin', 'security_officer']);
  const rows = await ctx.db.withTenant(establishmentId, (tx) => ctx.staff.listMembers(tx, ctx.vault));
  return rows.map((r) => ({
    userId: r.id,
    email: r.email,
    firstName: r.first_name,
    lastName: r.last_name,
    role: r.role,
    disabled: r.disabled_at !== null,
    secondFactors: { totp: r.totp_secret !== null, passkeys: Number(r.passkeys ?? 0) },
  }));
}

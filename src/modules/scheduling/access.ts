// Who may do what in scheduling, before the access gate takes this over: staff act in an
// establishment through a membership; a practitioner acts on their own agenda only; admins and
// security officers configure nothing here and see no appointment.
import type { Actor } from '../../platform/http/context.js';
import type { StaffRole } from '../../platform/db/schema.js';
import { DomainError } from '../../platform/http/errors.js';

export type UserActor = Extract<Actor, { kind: 'user' }>;

export function userActor(actor: Actor): UserActor {
  // Integration keys do not book or read agendas (no scope for it yet).
  if (actor.kind !== 'user') throw new DomainError('forbidden');
  return actor;
}

export function roleIn(actor: Actor, establishmentId: string): StaffRole | undefined {
  if (actor.kind !== 'user') return undefined;
  return actor.memberships.find((m) => m.establishmentId === establishmentId)?.role;
}

export const CARE_ROLES: readonly StaffRole[] = ['practitioner', 'secretary'];

/** The actor's role in the establishment if it is one of `allowed`; otherwise 403 (or 404 when not a member). */
export function requireRole(actor: Actor, establishmentId: string, allowed: readonly StaffRole[]): StaffRole {
  const role = roleIn(actor, establishmentId);
  // Not a member: the establishment's objects do not exist for this actor.
  if (role === undefined) throw new DomainError('not_found');
  if (!allowed.includes(role)) throw new DomainError('forbidden');
  return role;
}

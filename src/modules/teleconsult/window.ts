// Who may join a video appointment, and when: pure rules, tested beside this file.

/** The join link opens this long before the planned start… */
export const OPENS_BEFORE_MS = 15 * 60_000;
/** …and closes this long after the planned end. */
export const CLOSES_AFTER_MS = 30 * 60_000;

export function joinWindow(startsAt: Date, endsAt: Date): { opensAt: Date; closesAt: Date } {
  return { opensAt: new Date(startsAt.getTime() - OPENS_BEFORE_MS), closesAt: new Date(endsAt.getTime() + CLOSES_AFTER_MS) };
}

export type Participation = 'patient' | 'practitioner' | 'guest';

export interface PartyFacts {
  userId: string;
  practitionerUserId: string | null;
  patientAccountUserId: string | null;
  /** Colleagues the practitioner invited. */
  guestUserIds: readonly string[];
  /** The user's current staff role in the appointment's establishment, if any. */
  roleHere: string | undefined;
}

/**
 * The user's part in the call, or undefined when they have none: the booked patient's account,
 * the appointment's practitioner, or a colleague the practitioner invited who still practises in
 * the establishment. Nobody else — not a secretary, not another practitioner, not an admin.
 */
export function participationOf(f: PartyFacts): Participation | undefined {
  if (f.practitionerUserId !== null && f.userId === f.practitionerUserId && f.roleHere === 'practitioner') return 'practitioner';
  if (f.guestUserIds.includes(f.userId) && f.roleHere === 'practitioner') return 'guest';
  if (f.patientAccountUserId !== null && f.userId === f.patientAccountUserId) return 'patient';
  return undefined;
}

export type JoinRefusal = 'not_teleconsult' | 'not_active' | 'too_early' | 'too_late';

/** Why a party cannot join now, or undefined when they can. */
export function joinRefusal(now: number, a: { teleconsult: boolean; status: string; startsAt: Date; endsAt: Date }): JoinRefusal | undefined {
  if (!a.teleconsult) return 'not_teleconsult';
  if (a.status !== 'confirmed') return 'not_active';
  const { opensAt, closesAt } = joinWindow(a.startsAt, a.endsAt);
  if (now < opensAt.getTime()) return 'too_early';
  if (now >= closesAt.getTime()) return 'too_late';
  return undefined;
}

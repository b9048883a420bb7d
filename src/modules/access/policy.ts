// The access policy: one pure, deny-by-default decision over a batch of patients. Everything the
// decision needs (the actor's role here, care relationships, break-glass grants, the patient's own
// files) is looked up by the gate and passed in, so the rules can be tested row by row.
import type { DataCategory } from '../audit/index.js';
import type { StaffRole } from '../../platform/db/schema.js';

export type AccessAction = 'read' | 'write';

/** Who asks, as the gate resolved it for this establishment. */
export type ActorContext =
  | { kind: 'staff'; userId: string; role: StaffRole }
  | { kind: 'patient'; userId: string }
  | { kind: 'api_key'; apiKeyId: string; scopes: string[] }
  | { kind: 'system'; name: string }
  /** Authenticated, but with no membership in this establishment and no patient file here. */
  | { kind: 'outsider' };

/** What the gate knows about one requested patient. */
export interface Subject {
  patientId: string;
  /** The patient file exists in this establishment. */
  exists: boolean;
  /** The patient file is the acting patient's own. */
  isSelf: boolean;
  /** The acting practitioner is in a care relationship with the patient. */
  careRelationship: boolean;
  /** The acting practitioner holds an unexpired break-the-glass grant for the patient. */
  breakGlass: boolean;
  /** For genetic results: the acting practitioner is named on them. */
  namedOnGenetic: boolean;
}

/** Why an access is allowed. `created`: the actor has just written the file (nothing existing is exposed). */
export type Basis = 'self' | 'administrative' | 'care_relationship' | 'break_glass' | 'named_on_result' | 'scope' | 'system' | 'created';

export interface Decision {
  patientId: string;
  allowed: boolean;
  /** Why it was allowed (for the audit trail and the guard's "explained" weighting). */
  basis?: Basis;
}

/** Administrative categories: what a secretary handles to book and bill. */
const ADMINISTRATIVE: ReadonlySet<DataCategory> = new Set(['identity', 'contact', 'insurance', 'administrative']);
/** Categories that are medical content. */
const MEDICAL: ReadonlySet<DataCategory> = new Set(['clinical', 'certificate', 'genetic']);

/** API key scopes and the (action, categories) each one opens. */
export const SCOPES: Record<string, { actions: AccessAction[]; categories: DataCategory[] }> = {
  'agenda:read': { actions: ['read'], categories: ['administrative', 'identity'] },
  'agenda:write': { actions: ['read', 'write'], categories: ['administrative', 'identity'] },
  'patients:read': { actions: ['read'], categories: ['identity', 'contact', 'insurance'] },
};

export function decide(actor: ActorContext, action: AccessAction, categories: DataCategory[], subjects: Subject[]): Decision[] {
  return subjects.map((s) => {
    const basis = decideOne(actor, action, categories, s);
    return basis ? { patientId: s.patientId, allowed: true, basis } : { patientId: s.patientId, allowed: false };
  });
}

function decideOne(actor: ActorContext, action: AccessAction, categories: DataCategory[], s: Subject): Basis | undefined {
  // Nothing is granted on a patient this establishment does not hold: "elsewhere" and "nowhere"
  // are the same answer.
  if (!s.exists || categories.length === 0) return undefined;
  switch (actor.kind) {
    case 'system':
      return 'system';
    case 'outsider':
      return undefined;
    case 'patient':
      // A patient reaches their own file and nothing else, whatever id they send. Genetic
      // results are released to the patient by their practitioner, not read directly here.
      return s.isSelf && !categories.includes('genetic') && action === 'read' ? 'self' : undefined;
    case 'api_key': {
      const ok = categories.every((c) =>
        actor.scopes.some((scope) => SCOPES[scope]?.actions.includes(action) && SCOPES[scope]?.categories.includes(c)),
      );
      return ok ? 'scope' : undefined;
    }
    case 'staff':
      return decideStaff(actor.role, categories, s);
  }
}

function decideStaff(role: StaffRole, categories: DataCategory[], s: Subject): Basis | undefined {
  switch (role) {
    // Admins run accounts and settings; security officers read audit metadata through the audit
    // module. Neither reads patient data through the gate.
    case 'admin':
    case 'security_officer':
      return undefined;
    case 'secretary':
      return categories.every((c) => ADMINISTRATIVE.has(c)) ? 'administrative' : undefined;
    case 'practitioner': {
      const medical = categories.filter((c) => MEDICAL.has(c));
      if (medical.length === 0) return s.careRelationship ? 'care_relationship' : 'administrative';
      // Genetic results: only the practitioners named on them, break-the-glass or not.
      if (medical.includes('genetic') && !s.namedOnGenetic) return undefined;
      if (medical.every((c) => c === 'genetic')) return 'named_on_result';
      if (s.careRelationship) return 'care_relationship';
      if (s.breakGlass) return 'break_glass';
      return undefined;
    }
  }
}

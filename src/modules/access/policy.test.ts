// The policy table of docs/security.md, row by row, and its negative cases as properties over
// any actor, any categories and any subject.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decide, type ActorContext, type Subject } from './policy.js';
import type { DataCategory } from '../audit/index.js';
import type { StaffRole } from '../../platform/db/schema.js';

const base: Subject = { patientId: 'p', exists: true, isSelf: false, careRelationship: false, breakGlass: false, namedOnGenetic: false };
const staff = (role: StaffRole): ActorContext => ({ kind: 'staff', userId: 'u', role });
const allowed = (actor: ActorContext, categories: DataCategory[], subject: Partial<Subject> = {}, action: 'read' | 'write' = 'read') =>
  decide(actor, action, categories, [{ ...base, ...subject }])[0]!.allowed;

describe('policy table', () => {
  it('admin: no patient data at all', () => {
    for (const c of ['identity', 'contact', 'insurance', 'administrative', 'clinical', 'genetic', 'certificate'] as const) {
      expect(allowed(staff('admin'), [c], { careRelationship: true, breakGlass: true, namedOnGenetic: true })).toBe(false);
    }
  });

  it('security officer: no patient data through the gate', () => {
    expect(allowed(staff('security_officer'), ['identity'])).toBe(false);
    expect(allowed(staff('security_officer'), ['clinical'], { breakGlass: true })).toBe(false);
  });

  it('secretary: administrative file and agenda, never clinical content', () => {
    expect(allowed(staff('secretary'), ['identity', 'contact', 'insurance'])).toBe(true);
    expect(allowed(staff('secretary'), ['administrative'])).toBe(true);
    expect(allowed(staff('secretary'), ['clinical'], { careRelationship: true, breakGlass: true })).toBe(false);
    expect(allowed(staff('secretary'), ['certificate'])).toBe(false);
    expect(allowed(staff('secretary'), ['identity', 'clinical'])).toBe(false);
  });

  it('practitioner: clinical content only in a care relationship or under break-the-glass', () => {
    expect(allowed(staff('practitioner'), ['clinical'])).toBe(false);
    expect(allowed(staff('practitioner'), ['clinical'], { careRelationship: true })).toBe(true);
    expect(allowed(staff('practitioner'), ['certificate'], { breakGlass: true })).toBe(true);
    expect(decide(staff('practitioner'), 'read', ['clinical'], [{ ...base, breakGlass: true }])[0]!.basis).toBe('break_glass');
    // The administrative file is open to practitioners of the establishment, and marked as
    // explained only when a care relationship exists (the guard meters the rest tightly).
    expect(decide(staff('practitioner'), 'read', ['identity'], [base])[0]).toEqual({ patientId: 'p', allowed: true, basis: 'administrative' });
    expect(decide(staff('practitioner'), 'read', ['identity'], [{ ...base, careRelationship: true }])[0]!.basis).toBe('care_relationship');
  });

  it('genetic results: only the practitioners named on them, break-the-glass or not', () => {
    expect(allowed(staff('practitioner'), ['genetic'], { careRelationship: true })).toBe(false);
    expect(allowed(staff('practitioner'), ['genetic'], { breakGlass: true })).toBe(false);
    expect(allowed(staff('practitioner'), ['genetic'], { namedOnGenetic: true })).toBe(true);
    expect(allowed(staff('practitioner'), ['genetic', 'clinical'], { namedOnGenetic: true })).toBe(false);
    expect(allowed(staff('practitioner'), ['genetic', 'clinical'], { namedOnGenetic: true, careRelationship: true })).toBe(true);
  });

  it('patient: their own file only, whatever id they send; no direct genetic read', () => {
    const patient: ActorContext = { kind: 'patient', userId: 'u' };
    expect(allowed(patient, ['identity', 'clinical'], { isSelf: true })).toBe(true);
    expect(allowed(patient, ['identity'], { isSelf: false })).toBe(false);
    expect(allowed(patient, ['genetic'], { isSelf: true })).toBe(false);
    expect(allowed(patient, ['identity'], { isSelf: true }, 'write')).toBe(false);
  });

  it('API keys: only their scopes', () => {
    const key: ActorContext = { kind: 'api_key', apiKeyId: 'k', scopes: ['agenda:read'] };
    expect(allowed(key, ['administrative'])).toBe(true);
    expect(allowed(key, ['administrative'], {}, 'write')).toBe(false);
    expect(allowed(key, ['insurance'])).toBe(false);
    expect(allowed(key, ['clinical'])).toBe(false);
    expect(allowed({ kind: 'api_key', apiKeyId: 'k', scopes: ['unknown:scope'] }, ['identity'])).toBe(false);
  });

  it('an outsider (no membership, no file here) gets nothing', () => {
    expect(allowed({ kind: 'outsider' }, ['identity'])).toBe(false);
  });
});

const categoryArb = fc.subarray(['identity', 'contact', 'insurance', 'administrative', 'clinical', 'genetic', 'certificate'] as DataCategory[], { minLength: 1 });
const subjectArb = fc.record({
  patientId: fc.uuid(),
  exists: fc.boolean(),
  isSelf: fc.boolean(),
  careRelationship: fc.boolean(),
  breakGlass: fc.boolean(),
  namedOnGenetic: fc.boolean(),
});
const actorArb: fc.Arbitrary<ActorContext> = fc.oneof(
  fc.constantFrom<StaffRole>('practitioner', 'secretary', 'admin', 'security_officer').map((role) => ({ kind: 'staff' as const, userId: 'u', role })),
  fc.constant({ kind: 'patient' as const, userId: 'u' }),
  fc.subarray(['agenda:read', 'agenda:write', 'patients:read']).map((scopes) => ({ kind: 'api_key' as const, apiKeyId: 'k', scopes })),
  fc.constant({ kind: 'outsider' as const }),
);

describe('policy properties (any actor, any categories, any subject)', () => {
  it('never grants a patient file that does not exist here', () => {
    fc.assert(
      fc.property(actorArb, categoryArb, subjectArb, fc.constantFrom('read' as const, 'write' as const), (actor, cats, s, action) => {
        expect(decide(actor, action, cats, [{ ...s, exists: false }])[0]!.allowed).toBe(false);
      }),
    );
  });

  it('never grants medical content without care relationship, break-the-glass or a named genetic result', () => {
    fc.assert(
      fc.property(actorArb, categoryArb, subjectArb, (actor, cats, s) => {
        const d = decide(actor, 'read', cats, [s])[0]!;
        const medical = cats.some((c) => c === 'clinical' || c === 'certificate' || c === 'genetic');
        if (d.allowed && medical && actor.kind === 'staff') {
          expect(actor.role).toBe('practitioner');
          expect(s.careRelationship || s.breakGlass || s.namedOnGenetic).toBe(true);
        }
        if (d.allowed && cats.includes('genetic')) {
          expect(actor.kind === 'staff' && s.namedOnGenetic).toBe(true);
        }
        if (d.allowed && actor.kind === 'patient') expect(s.isSelf).toBe(true);
      }),
    );
  });

  it('decides each subject independently of the others in the batch', () => {
    fc.assert(
      fc.property(actorArb, categoryArb, fc.array(subjectArb, { maxLength: 8 }), (actor, cats, subjects) => {
        const batch = decide(actor, 'read', cats, subjects);
        subjects.forEach((s, i) => expect(batch[i]).toEqual(decide(actor, 'read', cats, [s])[0]));
      }),
    );
  });
});

import { describe, expect, it } from 'vitest';
import { passwordProblem, personalInputs } from './password-policy.js';

describe('password policy', () => {
  const inputs = personalInputs({ email: 'camille.durand@example.fr', firstName: 'Camille', lastName: 'Durand' });

  it('accepts a long passphrase without composition rules', () => {
    expect(passwordProblem('marmotte violette sous la pluie', inputs)).toBeUndefined();
  });

  it('refuses short passwords', () => {
    expect(passwordProblem('Tr0ub4dor&3', inputs)?.problem).toBe('too_short');
  });

  it('refuses common and breached passwords even when long enough (ASVS 6.2.12)', () => {
    for (const p of ['123456789012', 'passwordpassword', 'azertyuiopqsd', 'motdepasse123']) {
      expect(['common', 'weak']).toContain(passwordProblem(p, inputs)?.problem);
    }
  });

  it("refuses passwords built from the user's own name or e-mail", () => {
    expect(['personal', 'weak']).toContain(passwordProblem('camilledurand2026', inputs)?.problem);
    expect(['personal', 'weak']).toContain(passwordProblem('durand.camille!!', inputs)?.problem);
  });
});

// What a new password must be (ASVS 6.2.x): at least 12 characters, no composition rules, not a
// common or breached password, not guessable from the user's own name or e-mail. The estimator is
// zxcvbn-ts with its common list (passwords seen in public breaches) and its French dictionaries.
// Checking against a live breach service (HIBP) is not possible here: instances may have no
// outbound network, so the breach corpus is the one shipped in @zxcvbn-ts/language-common.
import { ZxcvbnFactory, type ZxcvbnResult } from '@zxcvbn-ts/core';
import * as common from '@zxcvbn-ts/language-common';
import * as fr from '@zxcvbn-ts/language-fr';

export const MIN_PASSWORD_LENGTH = 12;
export const MAX_PASSWORD_LENGTH = 256;
/** zxcvbn's score, 0-4; 3 is "safely unguessable: moderate protection from offline slow-hash scenario". */
const MIN_SCORE = 3;

export type PasswordProblem = 'too_short' | 'too_long' | 'common' | 'personal' | 'weak';

let factory: ZxcvbnFactory | undefined;
function estimator(): ZxcvbnFactory {
  // Building the ranked dictionaries takes a moment: once per process, on first use.
  factory ??= new ZxcvbnFactory({
    translations: fr.translations,
    graphs: common.adjacencyGraphs,
    dictionary: { ...common.dictionary, ...fr.dictionary },
    useLevenshteinDistance: true,
  });
  return factory;
}

/** The pieces of a user's identity a password must not be built from. */
export function personalInputs(person: { email: string; firstName?: string; lastName?: string }): string[] {
  const [local = '', domain = ''] = person.email.toLowerCase().split('@');
  return [person.email.toLowerCase(), local, ...local.split(/[._+-]/), domain.split('.')[0] ?? '', person.firstName ?? '', person.lastName ?? '']
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s.length >= 3);
}

/** Returns why the password is refused, or undefined when it is acceptable. */
export function passwordProblem(password: string, inputs: string[]): { problem: PasswordProblem; hint: string } | undefined {
  const length = [...password].length;
  if (length < MIN_PASSWORD_LENGTH) return { problem: 'too_short', hint: `Au moins ${MIN_PASSWORD_LENGTH} caractères.` };
  if (length > MAX_PASSWORD_LENGTH) return { problem: 'too_long', hint: `Au plus ${MAX_PASSWORD_LENGTH} caractères.` };
  const result: ZxcvbnResult = estimator().check(password, inputs);
  const dictionaryHits = result.sequence.filter((m) => m.pattern === 'dictionary');
  // Half of the password taken from the user's own name or e-mail is guessable by anyone who
  // knows them, whatever the rest scores.
  if (personalCoverage(password, inputs) * 2 >= length) {
    return { problem: 'personal', hint: 'Le mot de passe ne doit pas reprendre votre nom ou votre adresse e-mail.' };
  }
  if (dictionaryHits.length === 1 && dictionaryHits[0]!.token.length === length && dictionaryHits[0]!.dictionaryName === 'passwords-common') {
    return { problem: 'common', hint: 'Ce mot de passe figure parmi les plus courants ou les plus divulgués.' };
  }
  if (result.score < MIN_SCORE) {
    const hint = [result.feedback.warning, ...result.feedback.suggestions].filter(Boolean).join(' ');
    return { problem: 'weak', hint: hint || 'Mot de passe trop facile à deviner : allongez-le, par exemple avec plusieurs mots.' };
  }
  return undefined;
}

/** How many characters of the password are covered by the personal inputs (or their reversals). */
function personalCoverage(password: string, inputs: string[]): number {
  const fold = (v: string) => v.normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase();
  const text = fold(password);
  const covered = new Array<boolean>(text.length).fill(false);
  for (const input of inputs.map(fold)) {
    for (const needle of [input, [...input].reverse().join('')]) {
      for (let i = text.indexOf(needle); i !== -1; i = text.indexOf(needle, i + 1)) covered.fill(true, i, i + needle.length);
    }
  }
  return covered.filter(Boolean).length;
}

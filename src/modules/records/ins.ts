// The INS (identifiant national de santé) of a person born or registered in France is their NIR:
// 13 characters and a 2-digit key, key = 97 − (n mod 97), where Corsican départements 2A and 2B
// count as 19 and 18 in n. Pure functions, no I/O.

const NIR_RE = /^([12378])(\d{2})(\d{2})(\d{2}|2A|2B)(\d{3})(\d{3})(\d{2})$/;

/** Spaces, dots and dashes removed, upper-cased ("1 84 12 2a 451 089 46" → "184122A45108946"). */
export function compactNir(value: string): string {
  return value.replace(/[\s.\-\u00a0]/g, '').toUpperCase();
}

/** The control key of the first 13 characters of a NIR (Corsica: 2A → 19, 2B → 18). */
export function nirKey(first13: string): number {
  const numeric = first13.toUpperCase().replace('2A', '19').replace('2B', '18');
  if (!/^\d{13}$/.test(numeric)) throw new RangeError('a NIR starts with 13 digits (2A/2B allowed for Corsica)');
  return 97 - Number(BigInt(numeric) % 97n);
}

export type NirProblem = 'format' | 'month' | 'key';

/** Why a NIR/INS is invalid, or undefined when it is valid. */
export function nirProblem(value: string): NirProblem | undefined {
  const nir = compactNir(value);
  const m = NIR_RE.exec(nir);
  if (!m) return 'format';
  const month = Number(m[3]);
  // 01–12, or 20–42 and 50–99 for people whose birth month is unknown (INSEE conventions).
  if (!((month >= 1 && month <= 12) || (month >= 20 && month <= 42) || month >= 50)) return 'month';
  // Corsican codes are valid only for départements 2A/2B, i.e. with the letter.
  if (nirKey(nir.slice(0, 13)) !== Number(m[7])) return 'key';
  return undefined;
}

export function isValidNir(value: string): boolean {
  return nirProblem(value) === undefined;
}

/** Builds a valid NIR from its 13 first characters (demo data, tests). */
export function withNirKey(first13: string): string {
  return `${first13}${String(nirKey(first13)).padStart(2, '0')}`;
}

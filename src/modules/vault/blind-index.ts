// Blind indexes: exact search over encrypted fields. A keyed HMAC-SHA-256 of the normalised value,
// with a key per establishment and per purpose, so the database can answer "DUPONT born
// 1970-01-01" without a plaintext column, and equal names in two establishments (or in two
// purposes) give unrelated index values.
import { createHmac, hkdfSync } from 'node:crypto';
import { encodeParts } from './format.js';

const SEPARATORS = /[\s\u00a0\u2000-\u200b\u202f\u205f\u3000_.,;:/\\'`´ʼ‘’‚‛′"“”«»\-‐‑‒–—―−]+/gu;
const LIGATURES: Record<string, string> = { œ: 'oe', æ: 'ae', ß: 'ss', ø: 'o', đ: 'd', ł: 'l', ı: 'i' };

/**
 * Folds a name for exact matching: accents and case removed (É, é, e), ligatures spelled out
 * (Œ → oe), and every run of spaces, hyphens, apostrophes and punctuation turned into one space,
 * trimmed. "JEAN-PIERRE", "Jean Pierre" and " jean  pierre " are equal; so are "D'ARTAGNAN" and
 * "d artagnan". Letters of other scripts are kept (lower-cased).
 */
export function normaliseName(value: string): string {
  return value
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
    .replace(/[œæßøđłı]/g, (c) => LIGATURES[c] ?? c)
    .replace(SEPARATORS, ' ')
    .trim();
}

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** A calendar date as YYYY-MM-DD; throws on anything else (no partial dates in an exact search). */
export function normaliseDate(value: string): string {
  const trimmed = value.trim();
  const m = DATE_RE.exec(trimmed);
  if (!m) throw new RangeError('a date must be YYYY-MM-DD');
  const d = new Date(`${trimmed}T00:00:00Z`);
  if (Number.isNaN(d.getTime()) || d.toISOString().slice(0, 10) !== trimmed) throw new RangeError('not a calendar date');
  return trimmed;
}

/** Identifiers (INS/NIR, member numbers): spaces and separators removed, upper-cased. */
export function normaliseIdentifier(value: string): string {
  return value.normalize('NFKC').replace(SEPARATORS, '').toUpperCase();
}

/**
 * An e-mail address as accounts are found by it: Unicode-compatibility folded, trimmed and
 * lower-cased (the whole address: providers that treat the local part case-sensitively are rare,
 * and two accounts differing only by case would be a phishing gift). Throws when empty.
 */
export function normaliseEmail(value: string): string {
  const folded = value.normalize('NFKC').trim().toLowerCase();
  if (folded === '') throw new RangeError('an e-mail address cannot be empty');
  return folded;
}

/** The per-purpose HMAC key, derived from the establishment's blind-index key. */
export function purposeKey(indexKey: Buffer, purpose: string): Buffer {
  return Buffer.from(hkdfSync('sha256', indexKey, Buffer.alloc(0), `hygie/blind-index/v1/${purpose}`, 32));
}

/**
 * HMAC-SHA-256 over already-normalised components (length-prefixed, so ("ab","c") ≠ ("a","bc")),
 * base64url. Callers normalise first: this function does not guess what a component is.
 */
export function blindIndexValue(purposeKeyBytes: Buffer, normalisedParts: readonly string[]): string {
  if (normalisedParts.length === 0 || normalisedParts.some((p) => p === '')) {
    throw new RangeError('a blind index needs non-empty components');
  }
  return createHmac('sha256', purposeKeyBytes).update(encodeParts(normalisedParts)).digest('base64url');
}

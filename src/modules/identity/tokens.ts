// Random secrets and their stored forms. Every bearer secret (session, reset link, invitation,
// API key, device cookie) is 32 random bytes shown once and stored as its SHA-256 only: a
// database dump yields nothing that logs in. SHA-256 suffices because the secrets are random
// and long, unlike passwords.
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

export function sha256(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/** The CSRF token of a session: derived from its cookie, so it needs no storage and dies with it. */
export function csrfTokenFor(sessionToken: string): string {
  return createHmac('sha256', sessionToken).update('hygie csrf v1').digest('base64url');
}

export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export const API_KEY_PREFIX = 'hyg_';

export function newApiKey(): string {
  return `${API_KEY_PREFIX}${randomToken(32)}`;
}

/** Shape of a key as we issue it; anything else is refused without a database lookup. */
export function looksLikeApiKey(value: string): boolean {
  return /^hyg_[A-Za-z0-9_-]{43}$/.test(value);
}

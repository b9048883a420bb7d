// Second factors that are codes: RFC 6238 TOTP (SHA-1, 6 digits, 30 s, through otplib) and
// one-time recovery codes. Pure functions; the service stores what they return.
import { randomBytes } from 'node:crypto';
import { generate, generateSecret, generateURI, verify } from 'otplib';
import { sha256 } from './tokens.js';

export const TOTP_PERIOD_SECONDS = 30;

export function newTotpSecret(): string {
  return generateSecret();
}

export function totpUri(secret: string, accountName: string, issuer = 'Hygie'): string {
  return generateURI({ secret, label: accountName, issuer });
}

export function totpCode(secret: string, at: Date): Promise<string> {
  return generate({ secret, epoch: Math.floor(at.getTime() / 1000) });
}

export type TotpCheck = { ok: true; step: number } | { ok: false };

/**
 * Accepts a code of the current 30-second step or the one before or after (clock drift), and
 * only from a step later than `afterStep`, the step of the last accepted code: a code, even one
 * still valid, works once (ASVS 6.5.1).
 */
export async function checkTotp(secret: string, code: string, at: Date, afterStep: number | null): Promise<TotpCheck> {
  if (!/^\d{6}$/.test(code)) return { ok: false };
  const result = await verify({
    secret,
    token: code,
    epoch: Math.floor(at.getTime() / 1000),
    epochTolerance: TOTP_PERIOD_SECONDS,
    ...(afterStep !== null ? { afterTimeStep: afterStep } : {}),
  });
  return result.valid && 'timeStep' in result ? { ok: true, step: result.timeStep } : { ok: false };
}

const RECOVERY_ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';
export const RECOVERY_CODE_COUNT = 10;

/** Ten codes of 16 characters from a 31-letter alphabet (79 bits each), grouped by four. */
export function newRecoveryCodes(count = RECOVERY_CODE_COUNT): string[] {
  return Array.from({ length: count }, () => {
    const bytes = randomBytes(16);
    const chars = [...bytes].map((b) => RECOVERY_ALPHABET[b % RECOVERY_ALPHABET.length]).join('');
    return chars.match(/.{4}/g)!.join('-');
  });
}

export function normaliseRecoveryCode(input: string): string | undefined {
  const compact = input.toLowerCase().replace(/[\s-]/g, '');
  if (!/^[a-z0-9]{16}$/.test(compact)) return undefined;
  return compact.match(/.{4}/g)!.join('-');
}

export function hashRecoveryCode(code: string): Buffer {
  return sha256(`recovery:${code}`);
}

import { describe, expect, it } from 'vitest';
import { base32Encode } from './base32.js';
import { checkTotp, hashRecoveryCode, newRecoveryCodes, normaliseRecoveryCode, totpCode } from './totp.js';
import { createSecretBox } from './secret-box.js';
import { randomBytes } from 'node:crypto';

// RFC 6238 appendix B, SHA-1 secret "12345678901234567890"; 6-digit codes are the last six digits.
const RFC_SECRET = base32Encode(new TextEncoder().encode('12345678901234567890'));

describe('TOTP', () => {
  it('matches the RFC 6238 test vectors', async () => {
    expect(await totpCode(RFC_SECRET, new Date(59_000))).toBe('287082');
    expect(await totpCode(RFC_SECRET, new Date(1111111109_000))).toBe('081804');
    expect(await totpCode(RFC_SECRET, new Date(1234567890_000))).toBe('005924');
  });

  it('accepts one step of drift, and a code only after the last accepted step (ASVS 6.5.1)', async () => {
    const at = new Date(1234567890_000);
    const code = await totpCode(RFC_SECRET, at);
    const first = await checkTotp(RFC_SECRET, code, at, null);
    expect(first.ok).toBe(true);
    const step = first.ok ? first.step : -1;
    expect(await checkTotp(RFC_SECRET, code, new Date(at.getTime() + 30_000), null)).toMatchObject({ ok: true });
    expect(await checkTotp(RFC_SECRET, code, new Date(at.getTime() + 90_000), null)).toEqual({ ok: false });
    expect(await checkTotp(RFC_SECRET, code, at, step)).toEqual({ ok: false });
    expect(await checkTotp(RFC_SECRET, 'abcdef', at, null)).toEqual({ ok: false });
  });
});

describe('recovery codes', () => {
  it('are ten distinct codes, read back whatever the case and dashes, hashed', () => {
    const codes = newRecoveryCodes();
    expect(codes).toHaveLength(10);
    expect(new Set(codes).size).toBe(10);
    for (const c of codes) expect(c).toMatch(/^[a-z2-9]{4}(-[a-z2-9]{4}){3}$/);
    const c = codes[0]!;
    expect(normaliseRecoveryCode(c.toUpperCase().replaceAll('-', ' '))).toBe(c);
    expect(normaliseRecoveryCode('123456')).toBeUndefined();
    expect(hashRecoveryCode(c).equals(hashRecoveryCode(c))).toBe(true);
    expect(hashRecoveryCode(c).toString('hex')).not.toContain(c);
  });
});

describe('secret box', () => {
  it('opens only with the same key and the same row', () => {
    const box = createSecretBox(randomBytes(32));
    const sealed = box.seal('JBSWY3DPEHPK3PXP', 'users.totp_secret:alice');
    expect(sealed).not.toContain('JBSWY3DPEHPK3PXP');
    expect(box.open(sealed, 'users.totp_secret:alice')).toBe('JBSWY3DPEHPK3PXP');
    // Copied onto another user's row, it does not open.
    expect(() => box.open(sealed, 'users.totp_secret:mallory')).toThrow();
    expect(() => createSecretBox(randomBytes(32)).open(sealed, 'users.totp_secret:alice')).toThrow();
  });
});

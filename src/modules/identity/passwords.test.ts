import { describe, expect, it } from 'vitest';
import { hashPassword, needsRehash, verifyPassword } from './passwords.js';

describe('passwords', () => {
  it('hashes with argon2id at the required cost and verifies only the right password', async () => {
    const h = await hashPassword('correct horse battery staple');
    expect(h).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(await verifyPassword(h, 'correct horse battery staple')).toBe(true);
    expect(await verifyPassword(h, 'correct horse battery stapler')).toBe(false);
    expect(needsRehash(h)).toBe(false);
  });

  it('treats weaker or foreign hashes as needing a rehash, and malformed ones as wrong', async () => {
    expect(needsRehash('$argon2id$v=19$m=4096,t=3,p=1$abc$def')).toBe(true);
    expect(needsRehash('$2b$10$abcdefghijklmnopqrstuv')).toBe(true);
    expect(await verifyPassword('not-a-hash', 'whatever')).toBe(false);
  });
});

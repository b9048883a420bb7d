import { describe, expect, it } from 'vitest';
import { base32Encode } from './base32.js';

describe('base32Encode', () => {
  it('matches the RFC 4648 test vectors (without padding)', () => {
    const enc = (s: string) => base32Encode(new TextEncoder().encode(s));
    expect(enc('')).toBe('');
    expect(enc('f')).toBe('MY');
    expect(enc('fo')).toBe('MZXQ');
    expect(enc('foo')).toBe('MZXW6');
    expect(enc('foob')).toBe('MZXW6YQ');
    expect(enc('fooba')).toBe('MZXW6YTB');
    expect(enc('foobar')).toBe('MZXW6YTBOI');
  });
});

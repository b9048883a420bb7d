import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { randomBytes } from 'node:crypto';
import { v7 as uuidv7 } from 'uuid';
import {
  VaultError,
  freshIv,
  encodeParts,
  fieldAad,
  fromText,
  keyIdOf,
  open,
  packCiphertext,
  parseCiphertext,
  seal,
  toText,
  type FieldBinding,
} from './format.js';

const binding: FieldBinding = { scope: uuidv7(), table: 'patients', column: 'birth_name', rowId: uuidv7() };

describe('IVs', () => {
  it('are never repeated, across refills of their buffer, and each sealed value opens', () => {
    const key = randomBytes(32);
    const aad = Buffer.from('aad');
    const seen = new Set<string>();
    // 1,000 seals cross the 4 KiB buffer's refill twice (341 IVs each).
    for (let i = 0; i < 1000; i++) {
      const sealed = seal(key, Buffer.from(`value ${i}`), aad);
      seen.add(sealed.subarray(0, 12).toString('hex'));
      expect(open(key, sealed, aad).toString()).toBe(`value ${i}`);
    }
    expect(seen.size).toBe(1000);
    const a = freshIv();
    const b = freshIv();
    expect(a).toHaveLength(12);
    expect(a.equals(b)).toBe(false);
  });
});

describe('field ciphertexts', () => {
  const key = randomBytes(32);
  const keyId = uuidv7();
  const encrypt = (b: FieldBinding, text: string) => toText(packCiphertext(keyId, seal(key, Buffer.from(text), fieldAad(1, keyId, b))));
  const decrypt = (b: FieldBinding, c: string) => {
    const p = parseCiphertext(fromText(c));
    return open(key, p.sealed, fieldAad(p.version, p.keyId, b)).toString();
  };

  it('round-trips and carries its format version and key id', () => {
    const c = encrypt(binding, 'DUPONT');
    expect(c.startsWith('hv1:')).toBe(true);
    expect(c).not.toContain('DUPONT');
    expect(keyIdOf(c)).toBe(keyId);
    expect(parseCiphertext(fromText(c)).version).toBe(1);
    expect(decrypt(binding, c)).toBe('DUPONT');
  });

  it('uses a fresh IV: the same value encrypts differently', () => {
    expect(encrypt(binding, 'x')).not.toBe(encrypt(binding, 'x'));
  });

  it('fails to decrypt under another row, column, table, keyspace or key', () => {
    const c = encrypt(binding, 'DUPONT');
    for (const other of [
      { ...binding, rowId: uuidv7() },
      { ...binding, column: 'first_names' },
      { ...binding, table: 'patient_contacts' },
      { ...binding, scope: uuidv7() },
    ]) {
      expect(() => decrypt(other, c)).toThrow(VaultError);
    }
    const p = parseCiphertext(fromText(c));
    expect(() => open(randomBytes(32), p.sealed, fieldAad(1, keyId, binding))).toThrow(/authentication failed/);
  });

  it('detects any altered byte, and a forged version', () => {
    const bytes = fromText(encrypt(binding, 'DUPONT'));
    for (let i = 17; i < bytes.length; i++) {
      const copy = Buffer.from(bytes);
      copy[i] = copy[i]! ^ 1;
      expect(() => decrypt(binding, toText(copy))).toThrow(VaultError);
    }
    const forged = Buffer.from(bytes);
    forged[0] = 2;
    expect(() => parseCiphertext(forged)).toThrow(/unknown ciphertext format/);
    expect(() => fromText('DUPONT')).toThrow(/not a vault ciphertext/);
  });

  it('property: any change of keyspace, table, column or row makes decryption fail', () => {
    const part = fc.string({ minLength: 1, maxLength: 12 });
    const bindingArb = fc.record({ scope: part, table: part, column: part, rowId: part });
    fc.assert(
      fc.property(bindingArb, bindingArb, fc.string(), (b1, b2, text) => {
        fc.pre(JSON.stringify(b1) !== JSON.stringify(b2));
        const c = encrypt(b1, text);
        expect(decrypt(b1, c)).toBe(text);
        expect(() => decrypt(b2, c)).toThrow(VaultError);
      }),
      { numRuns: 300 },
    );
  });

  it('rejects an empty binding', () => {
    expect(() => fieldAad(1, keyId, { ...binding, rowId: '' })).toThrow(VaultError);
  });

  it('encodes parts unambiguously', () => {
    expect(encodeParts(['ab', 'c']).equals(encodeParts(['a', 'bc']))).toBe(false);
  });

  it('keeps the stored encoding byte for byte (every ciphertext at rest is bound by it): 4-byte big-endian UTF-8 length, then the bytes', () => {
    expect(encodeParts(['é', Buffer.from([7]), '']).toString('hex')).toBe('00000002c3a9' + '0000000107' + '00000000');
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.string({ unit: 'binary' }), fc.uint8Array().map((u) => Buffer.from(u)))), (parts) => {
        const reference = Buffer.concat(
          parts.flatMap((p) => {
            const bytes = typeof p === 'string' ? Buffer.from(p, 'utf8') : p;
            const len = Buffer.alloc(4);
            len.writeUInt32BE(bytes.length);
            return [len, bytes];
          }),
        );
        expect(encodeParts(parts).equals(reference)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});

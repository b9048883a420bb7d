// The end-to-end scheme, run on Node's WebCrypto (the same API as the browser's).
import { describe, expect, it } from 'vitest';
import { createKeyBundle, openDocument, sealDocument, unlockPrivateKey, type KeyBundle } from './crypto';

const recipientOf = (userId: string, b: KeyBundle) => ({ userId, publicKey: b.publicKey, fingerprint: b.fingerprint });

describe('end-to-end documents', () => {
  it('shares a document with several recipients, each opening it with a key unlocked on another device', async () => {
    const patient = await createKeyBundle('correct horse battery staple');
    const doctor = await createKeyBundle('another long passphrase');
    const content = new TextEncoder().encode('Ordonnance : amoxicilline 1 g, 3 fois par jour, 7 jours.');
    const id = '01935f3c-0000-7000-8000-000000000001';
    const sealed = await sealDocument(id, content, { name: 'ordonnance.txt', type: 'text/plain' }, [recipientOf('p', patient.bundle), recipientOf('d', doctor.bundle)]);
    expect(sealed.keys.map((k) => k.recipientUserId)).toEqual(['p', 'd']);

    // A new device: only the stored bundle and the passphrase, or the recovery code.
    const byPassphrase = await unlockPrivateKey(patient.bundle, 'correct horse battery staple', 'passphrase');
    const byRecovery = await unlockPrivateKey(patient.bundle, patient.recoveryCode.toLowerCase().replace(/-/g, ' '), 'recovery');
    for (const key of [byPassphrase, byRecovery]) {
      const opened = await openDocument({ ...sealed, wrappedKey: sealed.keys[0]!.wrappedKey }, key);
      expect(new TextDecoder().decode(opened.content)).toContain('amoxicilline');
      expect(opened.meta).toEqual({ name: 'ordonnance.txt', type: 'text/plain' });
      expect(key.extractable).toBe(false);
    }
    const byDoctor = await openDocument({ ...sealed, wrappedKey: sealed.keys[1]!.wrappedKey }, doctor.privateKey);
    expect(byDoctor.content).toEqual(content);
  }, 60_000);

  it('refuses a wrong passphrase, a tampered ciphertext, a key moved to another document and a wrong recipient', async () => {
    const patient = await createKeyBundle('correct horse battery staple');
    const other = await createKeyBundle('someone else entirely');
    await expect(unlockPrivateKey(patient.bundle, 'wrong passphrase', 'passphrase')).rejects.toThrow();
    await expect(unlockPrivateKey(patient.bundle, 'AAAA-BBBB-CCCC-DDDD-EEEE-FFFF-GGGG-HHHH', 'recovery')).rejects.toThrow();
    const id = '01935f3c-0000-7000-8000-000000000002';
    const sealed = await sealDocument(id, new TextEncoder().encode('secret'), { name: 'a.txt', type: 'text/plain' }, [recipientOf('p', patient.bundle)]);
    const mine = { ...sealed, wrappedKey: sealed.keys[0]!.wrappedKey };
    const flipped = Uint8Array.from(atob(mine.ciphertext), (c) => c.charCodeAt(0));
    flipped[0]! ^= 1;
    await expect(openDocument({ ...mine, ciphertext: btoa(String.fromCharCode(...flipped)) }, patient.privateKey)).rejects.toThrow();
    await expect(openDocument({ ...mine, id: '01935f3c-0000-7000-8000-000000000003' }, patient.privateKey)).rejects.toThrow();
    await expect(openDocument(mine, other.privateKey)).rejects.toThrow();
    await expect(sealDocument(id, new Uint8Array(1), { name: 'x', type: 'x' }, [{ userId: 'p', publicKey: other.bundle.publicKey, fingerprint: patient.bundle.fingerprint }])).rejects.toThrow(/fingerprint/);
  }, 60_000);
});

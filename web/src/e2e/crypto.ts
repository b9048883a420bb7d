// End-to-end encryption of shared documents, in the browser, with WebCrypto only. The server
// stores what this file produces and can read none of it. Scheme "hygie-e2e-v1":
//
// - Each user has an RSA-OAEP key pair (3072 bits, SHA-256), generated here. The public key (SPKI)
//   is published; its SHA-256 is its fingerprint. The private key leaves this browser only as
//   PKCS#8 wrapped by AES-256-GCM under a key derived by PBKDF2-SHA-256 (600,000 iterations, random
//   16-byte salt) from the passphrase, and a second time from a recovery code (160 random bits)
//   shown once. Losing both loses the private key, and with it every past document.
// - Each document gets a fresh AES-256-GCM key; the content and its metadata (name, media type) are
//   encrypted under it with separate random IVs and the document id as associated data. The key is
//   wrapped with RSA-OAEP for each recipient's public key, labelled with the document id, so that a
//   wrapped key or a ciphertext cannot be moved to another document.
// Unwrapped keys are imported non-extractable and kept in memory only.

export const SCHEME = 'hygie-e2e-v1';
export const ALGORITHM = 'RSA-OAEP-3072-SHA-256';
export const PBKDF2_ITERATIONS = 600_000;

const subtle = globalThis.crypto.subtle;
const text = new TextEncoder();
const RSA = { name: 'RSA-OAEP', hash: 'SHA-256' } as const;

export function toBase64(bytes: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

export function fromBase64(value: string): Uint8Array<ArrayBuffer> {
  const binary = atob(value);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

function random(n: number): Uint8Array<ArrayBuffer> {
  return globalThis.crypto.getRandomValues(new Uint8Array(n));
}

const BASE32 = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';

/** 160 random bits as 32 unambiguous characters in groups of four. */
export function newRecoveryCode(): string {
  const chars = [...random(32)].map((b) => BASE32[b % 32]).join('');
  return chars.match(/.{4}/g)!.join('-');
}

/** Case, spaces and dashes do not matter when a recovery code is typed back. */
export function normaliseRecoveryCode(code: string): string {
  return code.toUpperCase().replace(/[^A-Z0-9]/g, '');
}

async function fingerprintOf(spki: Uint8Array<ArrayBuffer>): Promise<string> {
  const digest = new Uint8Array(await subtle.digest('SHA-256', spki));
  return [...digest].map((b) => b.toString(16).padStart(2, '0')).join('');
}

export interface WrappedPrivateKey {
  wrapped: string;
  salt: string;
  iv: string;
  iterations: number;
}

/** What the server stores for a user: public material and two wrapped copies of the private key. */
export interface KeyBundle {
  algorithm: typeof ALGORITHM;
  publicKey: string;
  fingerprint: string;
  passphrase: WrappedPrivateKey;
  recovery: WrappedPrivateKey;
}

async function keyFromSecret(secret: string, salt: Uint8Array<ArrayBuffer>, iterations: number): Promise<CryptoKey> {
  const material = await subtle.importKey('raw', text.encode(secret.normalize('NFC')), 'PBKDF2', false, ['deriveKey']);
  return subtle.deriveKey({ name: 'PBKDF2', hash: 'SHA-256', salt, iterations }, material, { name: 'AES-GCM', length: 256 }, false, ['wrapKey', 'unwrapKey']);
}

const privateKeyAad = text.encode(`${SCHEME}:private-key`);

async function wrapPrivateKey(privateKey: CryptoKey, secret: string): Promise<WrappedPrivateKey> {
  const salt = random(16);
  const iv = random(12);
  const kek = await keyFromSecret(secret, salt, PBKDF2_ITERATIONS);
  const wrapped = new Uint8Array(await subtle.wrapKey('pkcs8', privateKey, kek, { name: 'AES-GCM', iv, additionalData: privateKeyAad }));
  return { wrapped: toBase64(wrapped), salt: toBase64(salt), iv: toBase64(iv), iterations: PBKDF2_ITERATIONS };
}

/**
 * A new key pair for this user: the bundle to publish, the recovery code to show once, and the
 * private key for this session.
 */
export async function createKeyBundle(passphrase: string): Promise<{ bundle: KeyBundle; recoveryCode: string; privateKey: CryptoKey }> {
  const pair = await subtle.generateKey({ ...RSA, modulusLength: 3072, publicExponent: new Uint8Array([1, 0, 1]) }, true, ['wrapKey', 'unwrapKey']);
  const spki = new Uint8Array(await subtle.exportKey('spki', pair.publicKey));
  const recoveryCode = newRecoveryCode();
  const bundle: KeyBundle = {
    algorithm: ALGORITHM,
    publicKey: toBase64(spki),
    fingerprint: await fingerprintOf(spki),
    passphrase: await wrapPrivateKey(pair.privateKey, passphrase),
    recovery: await wrapPrivateKey(pair.privateKey, normaliseRecoveryCode(recoveryCode)),
  };
  // The session keeps a non-extractable copy: nothing in this page can export it again.
  const privateKey = await unlockPrivateKey(bundle, passphrase, 'passphrase');
  return { bundle, recoveryCode, privateKey };
}

/** Unwraps the private key with the passphrase or the recovery code; throws when it is wrong. */
export async function unlockPrivateKey(bundle: KeyBundle, secret: string, which: 'passphrase' | 'recovery'): Promise<CryptoKey> {
  const copy = bundle[which];
  const kek = await keyFromSecret(which === 'recovery' ? normaliseRecoveryCode(secret) : secret, fromBase64(copy.salt), copy.iterations);
  return subtle.unwrapKey('pkcs8', fromBase64(copy.wrapped), kek, { name: 'AES-GCM', iv: fromBase64(copy.iv), additionalData: privateKeyAad }, RSA, false, ['unwrapKey']);
}

export interface Recipient {
  userId: string;
  publicKey: string;
  fingerprint: string;
}

export interface DocumentMeta {
  name: string;
  type: string;
}

/** What the server stores for a document. */
export interface SealedDocument {
  id: string;
  iv: string;
  ciphertext: string;
  metaIv: string;
  metaCiphertext: string;
  keys: Array<{ recipientUserId: string; wrappedKey: string; fingerprint: string }>;
}

const contentAad = (id: string) => text.encode(`${SCHEME}:content:${id}`);
const metaAad = (id: string) => text.encode(`${SCHEME}:meta:${id}`);
const keyLabel = (id: string) => text.encode(`${SCHEME}:key:${id}`);

/** Encrypts a document for its recipients. The recipients' fingerprints are checked against their keys. */
export async function sealDocument(id: string, content: Uint8Array<ArrayBuffer>, meta: DocumentMeta, recipients: Recipient[]): Promise<SealedDocument> {
  const key = await subtle.generateKey({ name: 'AES-GCM', length: 256 }, true, ['encrypt', 'decrypt']);
  const iv = random(12);
  const metaIv = random(12);
  const ciphertext = new Uint8Array(await subtle.encrypt({ name: 'AES-GCM', iv, additionalData: contentAad(id) }, key, content));
  const metaCiphertext = new Uint8Array(await subtle.encrypt({ name: 'AES-GCM', iv: metaIv, additionalData: metaAad(id) }, key, text.encode(JSON.stringify(meta))));
  const keys = [];
  for (const r of recipients) {
    const spki = fromBase64(r.publicKey);
    if ((await fingerprintOf(spki)) !== r.fingerprint) throw new Error('A recipient key does not match its fingerprint');
    const publicKey = await subtle.importKey('spki', spki, RSA, false, ['wrapKey']);
    const wrapped = new Uint8Array(await subtle.wrapKey('raw', key, publicKey, { name: 'RSA-OAEP', label: keyLabel(id) }));
    keys.push({ recipientUserId: r.userId, wrappedKey: toBase64(wrapped), fingerprint: r.fingerprint });
  }
  return { id, iv: toBase64(iv), ciphertext: toBase64(ciphertext), metaIv: toBase64(metaIv), metaCiphertext: toBase64(metaCiphertext), keys };
}

/** Decrypts a document with the recipient's private key. */
export async function openDocument(
  doc: { id: string; iv: string; ciphertext: string; metaIv: string; metaCiphertext: string; wrappedKey: string },
  privateKey: CryptoKey,
): Promise<{ content: Uint8Array<ArrayBuffer>; meta: DocumentMeta }> {
  const key = await subtle.unwrapKey('raw', fromBase64(doc.wrappedKey), privateKey, { name: 'RSA-OAEP', label: keyLabel(doc.id) }, { name: 'AES-GCM' }, false, ['decrypt']);
  const content = new Uint8Array(await subtle.decrypt({ name: 'AES-GCM', iv: fromBase64(doc.iv), additionalData: contentAad(doc.id) }, key, fromBase64(doc.ciphertext)));
  const metaBytes = await subtle.decrypt({ name: 'AES-GCM', iv: fromBase64(doc.metaIv), additionalData: metaAad(doc.id) }, key, fromBase64(doc.metaCiphertext));
  return { content, meta: JSON.parse(new TextDecoder().decode(metaBytes)) as DocumentMeta };
}

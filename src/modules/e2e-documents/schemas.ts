// Request and response schemas of the end-to-end documents API (TypeBox, shared with OpenAPI).
// Binary values travel as base64; the server checks their sizes, never their content.
import { Type, type Static } from 'typebox';

const Uuid = Type.String({ format: 'uuid' });
const b64 = (maxLength: number) => Type.String({ maxLength, pattern: '^[A-Za-z0-9+/]*={0,2}$' });
const Fingerprint = Type.String({ pattern: '^[0-9a-f]{64}$', description: 'hex SHA-256 of the public key (SPKI)' });

/** 10 MiB of document at most, i.e. about 14 million base64 characters. */
export const MAX_DOCUMENT_BYTES = 10 * 1024 * 1024;

const WrappedPrivateKey = Type.Object(
  {
    wrapped: b64(6000),
    salt: b64(64),
    iv: b64(64),
    iterations: Type.Integer({ minimum: 600_000, maximum: 10_000_000, description: 'PBKDF2-SHA-256 iterations' }),
  },
  { additionalProperties: false },
);

export const KeyBundle = Type.Object(
  {
    algorithm: Type.Literal('RSA-OAEP-3072-SHA-256'),
    publicKey: b64(1000),
    fingerprint: Fingerprint,
    passphrase: WrappedPrivateKey,
    recovery: WrappedPrivateKey,
  },
  { additionalProperties: false, description: 'A user’s public key and private key wrapped in the browser; the server cannot unwrap it' },
);
export type KeyBundle = Static<typeof KeyBundle>;

export const Recipient = Type.Object({ userId: Uuid, publicKey: Type.String(), fingerprint: Fingerprint });
export const RecipientsResponse = Type.Object({ patient: Type.Union([Recipient, Type.Null()]), self: Type.Union([Recipient, Type.Null()]) });

export const ShareBody = Type.Object(
  {
    id: Uuid,
    iv: b64(24),
    ciphertext: b64(Math.ceil((MAX_DOCUMENT_BYTES + 16) / 3) * 4),
    metaIv: b64(24),
    metaCiphertext: b64(2732),
    keys: Type.Array(Type.Object({ recipientUserId: Uuid, wrappedKey: b64(600), fingerprint: Fingerprint }, { additionalProperties: false }), {
      minItems: 1,
      maxItems: 10,
    }),
  },
  { additionalProperties: false },
);
export type ShareBody = Static<typeof ShareBody>;

export const DocumentSummary = Type.Object({
  id: Uuid,
  establishment: Type.Object({ id: Uuid }),
  patientId: Uuid,
  author: Type.Object({ name: Type.String() }),
  createdAt: Type.String({ format: 'date-time' }),
  sizeBytes: Type.Integer(),
});
export const DocumentList = Type.Object({ items: Type.Array(DocumentSummary) });

export const SealedDocumentResponse = Type.Object({
  id: Uuid,
  patientId: Uuid,
  author: Type.Object({ name: Type.String() }),
  createdAt: Type.String({ format: 'date-time' }),
  iv: Type.String(),
  ciphertext: Type.String(),
  metaIv: Type.String(),
  metaCiphertext: Type.String(),
  wrappedKey: Type.String({ description: 'the document key wrapped for the caller’s public key' }),
});

export const EstablishmentPatientParams = Type.Object({ eid: Uuid, pid: Uuid }, { additionalProperties: false });
export const EstablishmentDocumentParams = Type.Object({ eid: Uuid, id: Uuid }, { additionalProperties: false });
export const EstablishmentPractitionerParams = Type.Object({ eid: Uuid, practitionerId: Uuid }, { additionalProperties: false });
export const DocumentParams = Type.Object({ id: Uuid }, { additionalProperties: false });

// End-to-end documents: the server keeps public keys, wrapped keys and ciphertexts, decides who
// may store and fetch them (through the access gate, which audits every access), and can decrypt
// nothing. Encryption happens in the browser (web/src/e2e/crypto.ts).
import { createHash } from 'node:crypto';
import type { Database } from '../../platform/db/database.js';
import type { Actor } from '../../platform/http/context.js';
import { DomainError } from '../../platform/http/errors.js';
import type { AccessGate } from '../access/index.js';
import { establishmentsOfAccount, practitionerAccountHere, practitionerNameOfUser, practitionerUsersHere } from '../scheduling/index.js';
import type { KeyBundle, ShareBody } from './schemas.js';
import type { E2eStore } from './store.js';
import type { E2eUserKeysTable } from './tables.js';

const b64 = (b: Buffer) => b.toString('base64');

function decode(value: string, field: string, length?: { exact?: number; min?: number; max?: number }): Buffer {
  const bytes = Buffer.from(value, 'base64');
  const bad =
    (length?.exact !== undefined && bytes.length !== length.exact) ||
    (length?.min !== undefined && bytes.length < length.min) ||
    (length?.max !== undefined && bytes.length > length.max);
  if (bad) throw new DomainError('invalid_request', `${field} has the wrong length`, { errors: [{ field, message: 'wrong length' }] });
  return bytes;
}

function userOf(actor: Actor) {
  if (actor.kind !== 'user') throw new DomainError('forbidden');
  return actor;
}

const recipientOf = (row: { user_id: string; public_key: Buffer; fingerprint: string }) => ({ userId: row.user_id, publicKey: b64(row.public_key), fingerprint: row.fingerprint });

function bundleOf(row: E2eUserKeysTable): KeyBundle {
  return {
    algorithm: 'RSA-OAEP-3072-SHA-256',
    publicKey: b64(row.public_key),
    fingerprint: row.fingerprint,
    passphrase: { wrapped: b64(row.passphrase_wrapped), salt: b64(row.passphrase_salt), iv: b64(row.passphrase_iv), iterations: row.passphrase_iterations },
    recovery: { wrapped: b64(row.recovery_wrapped), salt: b64(row.recovery_salt), iv: b64(row.recovery_iv), iterations: row.recovery_iterations },
  };
}

export function createE2eService(deps: { db: Database; gate: AccessGate; store: E2eStore }) {
  const { db, gate, store } = deps;

  const authorName = async (tx: Parameters<typeof practitionerNameOfUser>[0], userId: string) => (await practitionerNameOfUser(tx, userId)) ?? '—';

  return {
    /** The caller's own key bundle (to unlock the private key on this device). */
    async myKeys(actor: Actor): Promise<KeyBundle> {
      const user = userOf(actor);
      const row = await db.withPlatform((tx) => store.findKeys(tx, user.userId));
      if (!row) throw new DomainError('not_found', 'No keys yet: create them first');
      return bundleOf(row);
    },

    /** Publishes the caller's new key pair; 409 when they already have one. */
    async createMyKeys(actor: Actor, bundle: KeyBundle): Promise<{ fingerprint: string }> {
      const user = userOf(actor);
      const publicKey = decode(bundle.publicKey, 'body.publicKey', { min: 400, max: 600 });
      // The fingerprint is recomputed here: a recipient's browser checks keys against it.
      if (createHash('sha256').update(publicKey).digest('hex') !== bundle.fingerprint) {
        throw new DomainError('invalid_request', 'The fingerprint is not the SHA-256 of the public key', { errors: [{ field: 'body.fingerprint', message: 'does not match the public key' }] });
      }
      const row = {
        user_id: user.userId,
        algorithm: bundle.algorithm,
        public_key: publicKey,
        fingerprint: bundle.fingerprint,
        passphrase_wrapped: decode(bundle.passphrase.wrapped, 'body.passphrase.wrapped', { min: 1000, max: 4000 }),
        passphrase_salt: decode(bundle.passphrase.salt, 'body.passphrase.salt', { exact: 16 }),
        passphrase_iv: decode(bundle.passphrase.iv, 'body.passphrase.iv', { exact: 12 }),
        passphrase_iterations: bundle.passphrase.iterations,
        recovery_wrapped: decode(bundle.recovery.wrapped, 'body.recovery.wrapped', { min: 1000, max: 4000 }),
        recovery_salt: decode(bundle.recovery.salt, 'body.recovery.salt', { exact: 16 }),
        recovery_iv: decode(bundle.recovery.iv, 'body.recovery.iv', { exact: 12 }),
        recovery_iterations: bundle.recovery.iterations,
      };
      const inserted = await db.withPlatform((tx) => store.insertKeys(tx, row));
      if (!inserted) throw new DomainError('conflict', 'This account already has keys');
      return { fingerprint: bundle.fingerprint };
    },

    /** For a practitioner about to share: the patient's account key (if any) and their own. */
    async recipients(actor: Actor, establishmentId: string, patientId: string, ip: string | null) {
      const user = userOf(actor);
      const { value } = await gate.access(
        { actor, establishmentId, action: 'read', resourceKind: 'e2e_document', auditAction: 'e2e_document.recipients', categories: ['administrative'], patientIds: [patientId], ip },
        async (tx) => {
          const account = await store.accountOfPatientFile(tx, patientId);
          const keys = await store.findPublicKeys(tx, [...(account ? [account] : []), user.userId]);
          const patient = keys.find((k) => k.user_id === account);
          const self = keys.find((k) => k.user_id === user.userId);
          return { patient: patient ? recipientOf(patient) : null, self: self ? recipientOf(self) : null };
        },
      );
      return value;
    },

    /** A colleague's public key, for a practitioner of the same establishment. */
    async colleagueKey(actor: Actor, establishmentId: string, practitionerId: string) {
      const user = userOf(actor);
      if (!user.memberships.some((m) => m.establishmentId === establishmentId && m.role === 'practitioner')) throw new DomainError('not_found');
      return db.withTenant(establishmentId, async (tx) => {
        const colleague = await practitionerAccountHere(tx, establishmentId, practitionerId);
        const key = colleague ? (await store.findPublicKeys(tx, [colleague.userId]))[0] : undefined;
        if (!key) throw new DomainError('not_found', 'No practitioner with keys has this id here');
        return recipientOf(key);
      });
    },

    /**
     * Stores a document sealed in the author's browser. Clinical content written for a patient:
     * the gate lets only practitioners in a care relationship (or break-the-glass) do it. Every
     * recipient is the patient's own account or a practitioner of the establishment, and each
     * wrapped key was made for the key the server holds for them now.
     */
    async share(actor: Actor, establishmentId: string, patientId: string, body: ShareBody, ip: string | null): Promise<{ id: string }> {
      const user = userOf(actor);
      const iv = decode(body.iv, 'body.iv', { exact: 12 });
      const metaIv = decode(body.metaIv, 'body.metaIv', { exact: 12 });
      const ciphertext = decode(body.ciphertext, 'body.ciphertext', { min: 17 });
      const metaCiphertext = decode(body.metaCiphertext, 'body.metaCiphertext', { min: 17, max: 2048 });
      const recipients = body.keys.map((k) => ({ ...k, wrapped: decode(k.wrappedKey, 'body.keys.wrappedKey', { exact: 384 }) }));
      if (new Set(recipients.map((r) => r.recipientUserId)).size !== recipients.length) {
        throw new DomainError('invalid_request', 'A recipient appears twice', { errors: [{ field: 'body.keys', message: 'duplicate recipient' }] });
      }
      await gate.access(
        { actor, establishmentId, action: 'write', resourceKind: 'e2e_document', auditAction: 'e2e_document.share', categories: ['clinical'], patientIds: [patientId], resourceIds: [body.id], ip },
        async (tx) => {
          const account = await store.accountOfPatientFile(tx, patientId);
          const ids = recipients.map((r) => r.recipientUserId);
          const practitioners = await practitionerUsersHere(tx, establishmentId, ids);
          for (const id of ids) {
            if (id !== account && !practitioners.has(id)) throw new DomainError('invalid_request', 'Recipients are the patient or practitioners of this establishment', { errors: [{ field: 'body.keys.recipientUserId', message: 'not an allowed recipient' }] });
          }
          const keys = new Map((await store.findPublicKeys(tx, ids)).map((k) => [k.user_id, k.fingerprint]));
          for (const r of recipients) {
            if (keys.get(r.recipientUserId) !== r.fingerprint) throw new DomainError('conflict', 'A recipient’s key is not the one this document was sealed for');
          }
          if (await store.documentExists(tx, body.id)) throw new DomainError('conflict', 'This document id is taken');
          await store.insertDocument(
            tx,
            { id: body.id, establishment_id: establishmentId, patient_id: patientId, author_user_id: user.userId, ciphertext, iv, meta_ciphertext: metaCiphertext, meta_iv: metaIv, size_bytes: ciphertext.length },
            recipients.map((r) => ({ document_id: body.id, establishment_id: establishmentId, recipient_user_id: r.recipientUserId, wrapped_key: r.wrapped, recipient_fingerprint: r.fingerprint })),
          );
        },
      );
      return { id: body.id };
    },

    /** A patient's documents, across the establishments that hold a file for them. */
    async listMine(actor: Actor) {
      const user = userOf(actor);
      const items = [];
      for (const establishmentId of await establishmentsOfAccount(db, user.userId)) {
        const rows = await gate.list(
          { actor, establishmentId, action: 'read', resourceKind: 'e2e_document', auditAction: 'e2e_document.list_own', categories: ['clinical'] },
          async (tx) => {
            const files = await store.patientFilesOfAccount(tx, user.userId);
            const found = await store.listForRecipient(tx, user.userId, files, 50);
            return Promise.all(found.map(async (r) => ({ ...r, authorName: await authorName(tx, r.author_user_id) })));
          },
          (r) => r.patient_id,
          (r) => r.id,
        );
        items.push(...rows.map((r) => ({ id: r.id, establishment: { id: establishmentId }, patientId: r.patient_id, author: { name: r.authorName }, createdAt: r.created_at.toISOString(), sizeBytes: r.size_bytes })));
      }
      items.sort((a, b) => b.createdAt.localeCompare(a.createdAt));
      return { items: items.slice(0, 50) };
    },

    /** Documents of one patient that the calling practitioner can open. */
    async listForPatient(actor: Actor, establishmentId: string, patientId: string, ip: string | null) {
      const user = userOf(actor);
      const { value } = await gate.access(
        { actor, establishmentId, action: 'read', resourceKind: 'e2e_document', auditAction: 'e2e_document.list', categories: ['clinical'], patientIds: [patientId], ip },
        async (tx) => {
          const rows = await store.listForRecipient(tx, user.userId, [patientId], 50);
          return Promise.all(rows.map(async (r) => ({ id: r.id, establishment: { id: establishmentId }, patientId: r.patient_id, author: { name: await authorName(tx, r.author_user_id) }, createdAt: r.created_at.toISOString(), sizeBytes: r.size_bytes })));
        },
      );
      return { items: value };
    },

    /** One sealed document for one of its recipients: a patient (any establishment) or staff (this one). */
    async open(actor: Actor, documentId: string, establishmentId: string | undefined, ip: string | null) {
      const user = userOf(actor);
      // The staff route is for members of the establishment; patients use /me.
      if (establishmentId && !user.memberships.some((m) => m.establishmentId === establishmentId)) throw new DomainError('not_found');
      const establishments = establishmentId ? [establishmentId] : await establishmentsOfAccount(db, user.userId);
      for (const eid of establishments) {
        const rows = await gate.list(
          { actor, establishmentId: eid, action: 'read', resourceKind: 'e2e_document', auditAction: 'e2e_document.open', categories: ['clinical'], ip },
          async (tx) => {
            const row = await store.findForRecipient(tx, documentId, user.userId);
            return row ? [{ ...row, authorName: await authorName(tx, row.author_user_id) }] : [];
          },
          (r) => r.patient_id,
          (r) => r.id,
        );
        const row = rows[0];
        if (row) {
          return {
            id: row.id,
            patientId: row.patient_id,
            author: { name: row.authorName },
            createdAt: row.created_at.toISOString(),
            iv: b64(row.iv),
            ciphertext: b64(row.ciphertext),
            metaIv: b64(row.meta_iv),
            metaCiphertext: b64(row.meta_ciphertext),
            wrappedKey: b64(row.wrapped_key),
          };
        }
      }
      throw new DomainError('not_found');
    },
  };
}
export type E2eService = ReturnType<typeof createE2eService>;

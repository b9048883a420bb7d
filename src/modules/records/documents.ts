// Documents of a patient file (scanned letters, lab reports, ID cards): the type is sniffed from the
// bytes (never trusted from a name or a header), the size is capped, the bytes and the title are
// sealed by the vault, and every upload, list and download goes through the gate.
import { fileTypeFromBuffer } from 'file-type';
import { v7 as uuidv7 } from 'uuid';
import type { Database } from '../../platform/db/database.js';
import type { Actor } from '../../platform/http/context.js';
import { DomainError } from '../../platform/http/errors.js';
import type { AccessGate } from '../access/index.js';
import type { Vault } from '../vault/index.js';

export const DOCUMENT_MAX_BYTES = 10 * 1024 * 1024;
export const DOCUMENT_TYPES: ReadonlySet<string> = new Set(['application/pdf', 'image/png', 'image/jpeg', 'image/webp']);
export type DocumentCategory = 'administrative' | 'clinical';

export interface DocumentView {
  id: string;
  title: string;
  category: DocumentCategory;
  mediaType: string;
  byteSize: number;
  releasedToPatient: boolean;
  createdAt: string;
}

/** The media type of the bytes, if it is one Hygie accepts. */
export async function sniffDocumentType(bytes: Buffer): Promise<string | undefined> {
  const found = await fileTypeFromBuffer(bytes);
  return found && DOCUMENT_TYPES.has(found.mime) ? found.mime : undefined;
}

export function createDocumentService(deps: { db: Database; gate: AccessGate; vault: Vault }) {
  const { db, gate, vault } = deps;
  const ctx = (establishmentId: string, patientId: string, column: string, rowId: string) => ({ establishmentId, patientId, table: 'patient_documents', column, rowId });
  const isStaff = (actor: Actor, establishmentId: string) => actor.kind === 'user' && actor.memberships.some((m) => m.establishmentId === establishmentId);

  return {
    async upload(
      actor: Actor,
      input: { establishmentId: string; patientId: string; category: DocumentCategory; title: string; releasedToPatient: boolean; bytes: Buffer },
      ip: string | null,
    ): Promise<{ id: string; mediaType: string }> {
      if (actor.kind !== 'user') throw new DomainError('forbidden', 'Documents are uploaded by a person');
      if (input.bytes.length === 0) throw new DomainError('invalid_request', 'The document is empty');
      if (input.bytes.length > DOCUMENT_MAX_BYTES) throw new DomainError('payload_too_large', `Documents are limited to ${DOCUMENT_MAX_BYTES} bytes`);
      const mediaType = await sniffDocumentType(input.bytes);
      if (!mediaType) throw new DomainError('unsupported_media_type', 'Only PDF, PNG, JPEG and WebP documents are accepted');
      const id = uuidv7();
      const { establishmentId, patientId } = input;
      await gate.access(
        { actor, establishmentId, action: 'write', resourceKind: 'document', categories: [input.category], patientIds: [patientId], resourceIds: [id], ip },
        async (tx) => {
          const title = await vault.encryptField(tx, ctx(establishmentId, patientId, 'title_enc', id), input.title);
          const content = await vault.encryptBytes(tx, ctx(establishmentId, patientId, 'content_enc', id), input.bytes);
          await tx
            .insertInto('patient_documents')
            .values({
              id, establishment_id: establishmentId, patient_id: patientId, category: input.category, media_type: mediaType, byte_size: input.bytes.length,
              title_enc: title!, content_enc: content, uploaded_by_user_id: actor.userId, released_to_patient: input.releasedToPatient,
            })
            .execute();
        },
      );
      return { id, mediaType };
    },

    /** Document metadata the actor may see: each category asked of the gate separately. */
    async list(actor: Actor, establishmentId: string, patientId: string, ip: string | null): Promise<DocumentView[]> {
      const out: DocumentView[] = [];
      let allowed = false;
      for (const category of ['administrative', 'clinical'] as const) {
        try {
          const { value } = await gate.access(
            { actor, establishmentId, action: 'read', resourceKind: 'document', categories: [category], patientIds: [patientId], ip },
            async (tx) => {
              let q = tx.selectFrom('patient_documents').select(['id', 'category', 'media_type', 'byte_size', 'released_to_patient', 'created_at', 'title_enc', 'establishment_id', 'patient_id']).where('patient_id', '=', patientId).where('category', '=', category);
              if (!isStaff(actor, establishmentId)) q = q.where('released_to_patient', '=', true);
              const rows = await q.orderBy('id', 'desc').limit(200).execute();
              const titles = await vault.decryptFields(tx, rows.map((r) => ({ ctx: ctx(establishmentId, patientId, 'title_enc', r.id), value: r.title_enc })));
              return rows.map((r, i): DocumentView => ({
                id: r.id, title: titles[i]!, category: r.category, mediaType: r.media_type, byteSize: r.byte_size, releasedToPatient: r.released_to_patient,
                createdAt: new Date(r.created_at as unknown as Date).toISOString(),
              }));
            },
          );
          out.push(...value);
          allowed = true;
        } catch (error) {
          if (!(error instanceof DomainError && error.code === 'not_found')) throw error;
        }
      }
      if (!allowed) throw new DomainError('not_found', 'No such patient');
      return out;
    },

    async download(actor: Actor, establishmentId: string, patientId: string, documentId: string, ip: string | null) {
      const head = await db.withTenant(establishmentId, (tx) =>
        tx.selectFrom('patient_documents').select(['category', 'released_to_patient']).where('id', '=', documentId).where('patient_id', '=', patientId).executeTakeFirst(),
      );
      if (!head || (!isStaff(actor, establishmentId) && !head.released_to_patient)) throw new DomainError('not_found', 'No such document');
      const { value } = await gate.access(
        { actor, establishmentId, action: 'read', resourceKind: 'document', categories: [head.category], patientIds: [patientId], resourceIds: [documentId], ip },
        async (tx) => {
          const row = await tx.selectFrom('patient_documents').select(['media_type', 'content_enc']).where('id', '=', documentId).executeTakeFirstOrThrow();
          return { mediaType: row.media_type, bytes: await vault.decryptBytes(tx, ctx(establishmentId, patientId, 'content_enc', documentId), row.content_enc) };
        },
      );
      return value;
    },
  };
}

export type DocumentService = ReturnType<typeof createDocumentService>;

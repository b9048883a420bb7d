// HTTP routes of documents: raw bytes in (the type is sniffed, the declared one ignored), the
// title in a header (never in the URL: it may name the patient), bytes out with no-store.
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { actorOf } from '../../platform/http/context.js';
import { DomainError } from '../../platform/http/errors.js';
import { DOCUMENT_MAX_BYTES, type DocumentService } from './documents.js';
import { PatientParams } from './schemas.js';

const Uuid = Type.String({ format: 'uuid' });
const DocumentParams = Type.Object({ eid: Uuid, pid: Uuid, id: Uuid }, { additionalProperties: false });
const UploadQuery = Type.Object(
  { category: Type.Union([Type.Literal('administrative'), Type.Literal('clinical')]), released: Type.Optional(Type.Boolean()) },
  { additionalProperties: false },
);
const DocumentView = Type.Object({
  id: Uuid,
  title: Type.String(),
  category: Type.String(),
  mediaType: Type.String(),
  byteSize: Type.Integer(),
  releasedToPatient: Type.Boolean(),
  createdAt: Type.String(),
});
const RAW_TYPES = ['application/pdf', 'image/png', 'image/jpeg', 'image/webp', 'application/octet-stream'];

function titleOf(header: string | string[] | undefined): string {
  const raw = Array.isArray(header) ? header[0] : header;
  let title: string | undefined;
  try {
    title = raw === undefined ? undefined : decodeURIComponent(raw).trim();
  } catch {
    title = undefined;
  }
  if (!title || title.length > 200) {
    throw new DomainError('invalid_request', 'X-Document-Title: a percent-encoded title of 1 to 200 characters', { errors: [{ field: 'headers.x-document-title', message: '1 to 200 characters' }] });
  }
  return title;
}

export function documentRoutes(documents: DocumentService): FastifyPluginAsync {
  return async (base) => {
    const app = base.withTypeProvider<TypeBoxTypeProvider>();
    const tags = ['records'];
    app.addContentTypeParser(RAW_TYPES, { parseAs: 'buffer', bodyLimit: DOCUMENT_MAX_BYTES }, (_request, body, done) => done(null, body));

    app.post(
      '/establishments/:eid/patients/:pid/documents',
      {
        config: { auth: 'session' },
        bodyLimit: DOCUMENT_MAX_BYTES,
        schema: {
          tags,
          summary: 'Upload a document (PDF, PNG, JPEG, WebP; 10 MiB): raw bytes, title in X-Document-Title (percent-encoded)',
          params: PatientParams,
          querystring: UploadQuery,
          response: { 201: Type.Object({ id: Uuid, mediaType: Type.String() }) },
        },
      },
      async (request, reply) => {
        if (!Buffer.isBuffer(request.body)) throw new DomainError('unsupported_media_type', 'Send the document bytes');
        const result = await documents.upload(
          actorOf(request),
          {
            establishmentId: request.params.eid,
            patientId: request.params.pid,
            category: request.query.category,
            releasedToPatient: request.query.released ?? false,
            title: titleOf(request.headers['x-document-title']),
            bytes: request.body,
          },
          request.ip,
        );
        return reply.code(201).send(result);
      },
    );

    app.get(
      '/establishments/:eid/patients/:pid/documents',
      { config: { auth: 'session' }, schema: { tags, summary: 'Documents of a file the actor may see', params: PatientParams, response: { 200: Type.Object({ items: Type.Array(DocumentView) }) } } },
      async (request) => ({ items: await documents.list(actorOf(request), request.params.eid, request.params.pid, request.ip) }),
    );

    app.get(
      '/establishments/:eid/patients/:pid/documents/:id',
      { config: { auth: 'session' }, schema: { tags, summary: 'Download a document', params: DocumentParams } },
      async (request, reply) => {
        const { mediaType, bytes } = await documents.download(actorOf(request), request.params.eid, request.params.pid, request.params.id, request.ip);
        return reply.type(mediaType).header('Content-Disposition', 'attachment').send(bytes);
      },
    );
  };
}

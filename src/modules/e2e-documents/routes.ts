// End-to-end documents over HTTP: thin handlers, session only (integration keys never handle
// these documents), one service call each.
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { actorOf } from '../../platform/http/context.js';
import {
  DocumentList,
  DocumentParams,
  EstablishmentDocumentParams,
  EstablishmentPatientParams,
  EstablishmentPractitionerParams,
  KeyBundle,
  MAX_DOCUMENT_BYTES,
  Recipient,
  RecipientsResponse,
  SealedDocumentResponse,
  ShareBody,
} from './schemas.js';
import type { E2eService } from './service.js';

const tags = ['documents'];

export function e2eDocumentsPlugin(service: E2eService): FastifyPluginAsync {
  return async (base) => {
    const app = base.withTypeProvider<TypeBoxTypeProvider>();

    app.get(
      '/me/e2e-keys',
      { config: { auth: 'session' }, schema: { tags, summary: 'My key pair as stored: public key and the private key wrapped in my browser (404 before I create one)', response: { 200: KeyBundle } } },
      async (request) => service.myKeys(actorOf(request)),
    );

    app.put(
      '/me/e2e-keys',
      {
        config: { auth: 'session' },
        schema: { tags, summary: 'Publish my new key pair (once; 409 when I already have one)', body: KeyBundle, response: { 201: Type.Object({ fingerprint: Type.String() }) } },
      },
      async (request, reply) => reply.code(201).send(await service.createMyKeys(actorOf(request), request.body)),
    );

    app.get(
      '/me/e2e-documents',
      { config: { auth: 'session' }, schema: { tags, summary: 'Documents shared with me, newest first (at most 50)', response: { 200: DocumentList } } },
      async (request) => service.listMine(actorOf(request)),
    );

    app.get(
      '/me/e2e-documents/:id',
      { config: { auth: 'session' }, schema: { tags, summary: 'A document shared with me: ciphertext and its key wrapped for me', params: DocumentParams, response: { 200: SealedDocumentResponse } } },
      async (request) => service.open(actorOf(request), request.params.id, undefined, request.ip),
    );

    app.get(
      '/establishments/:eid/patients/:pid/e2e-recipients',
      {
        config: { auth: 'session' },
        schema: { tags, summary: 'Public keys to seal a document for this patient: the patient’s account and my own', params: EstablishmentPatientParams, response: { 200: RecipientsResponse } },
      },
      async (request) => service.recipients(actorOf(request), request.params.eid, request.params.pid, request.ip),
    );

    app.get(
      '/establishments/:eid/practitioners/:practitionerId/e2e-key',
      { config: { auth: 'session' }, schema: { tags, summary: 'A colleague’s public key (practitioners of the establishment)', params: EstablishmentPractitionerParams, response: { 200: Recipient } } },
      async (request) => service.colleagueKey(actorOf(request), request.params.eid, request.params.practitionerId),
    );

    app.post(
      '/establishments/:eid/patients/:pid/e2e-documents',
      {
        config: { auth: 'session' },
        // A sealed document of up to 10 MiB, in base64.
        bodyLimit: Math.ceil(MAX_DOCUMENT_BYTES * 1.4) + 64 * 1024,
        schema: { tags, summary: 'Store a document sealed in my browser for its recipients', params: EstablishmentPatientParams, body: ShareBody, response: { 201: Type.Object({ id: Type.String() }) } },
      },
      async (request, reply) => reply.code(201).send(await service.share(actorOf(request), request.params.eid, request.params.pid, request.body, request.ip)),
    );

    app.get(
      '/establishments/:eid/patients/:pid/e2e-documents',
      { config: { auth: 'session' }, schema: { tags, summary: 'This patient’s documents that I can open', params: EstablishmentPatientParams, response: { 200: DocumentList } } },
      async (request) => service.listForPatient(actorOf(request), request.params.eid, request.params.pid, request.ip),
    );

    app.get(
      '/establishments/:eid/e2e-documents/:id',
      { config: { auth: 'session' }, schema: { tags, summary: 'A document I am a recipient of, in this establishment', params: EstablishmentDocumentParams, response: { 200: SealedDocumentResponse } } },
      async (request) => service.open(actorOf(request), request.params.id, request.params.eid, request.ip),
    );
  };
}

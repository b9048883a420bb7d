// HTTP routes of the GDPR rights: the patient's export and rectification requests (/me), and the
// staff side (rectification queue, erasure requests and their approval by a second person).
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { actorOf } from '../../platform/http/context.js';
import type { GdprService } from './gdpr.js';
import { EstablishmentParams, PatientParams } from './schemas.js';

const Uuid = Type.String({ format: 'uuid' });
const strict = { additionalProperties: false } as const;
const RequestParams = Type.Object({ eid: Uuid, id: Uuid }, strict);
const RectificationBody = Type.Object(
  {
    establishmentId: Uuid,
    patientId: Uuid,
    fields: Type.Array(Type.String({ pattern: '^[a-zA-Z.]{2,40}$' }), { minItems: 1, maxItems: 20, uniqueItems: true }),
    message: Type.String({ minLength: 5, maxLength: 2000 }),
  },
  strict,
);
const ResolveBody = Type.Object({ status: Type.Union([Type.Literal('done'), Type.Literal('rejected')]) }, strict);
const ErasureBody = Type.Object({ reason: Type.Union([Type.Literal('patient_request'), Type.Literal('created_in_error'), Type.Literal('duplicate')]) }, strict);
const StatusResponse = Type.Object({ id: Uuid, status: Type.String() });

export function gdprRoutes(gdpr: GdprService): FastifyPluginAsync {
  return async (base) => {
    const app = base.withTypeProvider<TypeBoxTypeProvider>();
    const tags = ['gdpr'];

    app.get(
      '/me/export',
      { config: { auth: 'session' }, schema: { tags, summary: 'My data (GDPR access and portability), JSON', response: { 200: Type.Object({}, { additionalProperties: true }) } } },
      async (request, reply) => {
        const body = await gdpr.export(actorOf(request), request.ip);
        return reply.header('Content-Disposition', 'attachment; filename="hygie-export.json"').send(body);
      },
    );

    app.post(
      '/me/rectification-requests',
      { config: { auth: 'session' }, schema: { tags, summary: 'Ask an establishment to correct my file', body: RectificationBody, response: { 201: StatusResponse } } },
      async (request, reply) => {
        const { establishmentId, patientId, fields, message } = request.body;
        return reply.code(201).send(await gdpr.requestRectification(actorOf(request), { establishmentId, patientId, fields, message }, request.ip));
      },
    );

    app.get(
      '/establishments/:eid/rectification-requests',
      {
        config: { auth: 'session' },
        schema: {
          tags,
          summary: 'Open rectification requests',
          params: EstablishmentParams,
          response: { 200: Type.Object({ items: Type.Array(Type.Object({ id: Uuid, patientId: Uuid, fields: Type.Array(Type.String()), message: Type.String(), createdAt: Type.String() })) }) },
        },
      },
      async (request) => gdpr.listRectifications(actorOf(request), request.params.eid, request.ip),
    );

    app.post(
      '/establishments/:eid/rectification-requests/:id/resolve',
      { config: { auth: 'session' }, schema: { tags, summary: 'Close a rectification request', params: RequestParams, body: ResolveBody, response: { 204: Type.Null() } } },
      async (request, reply) => {
        await gdpr.resolveRectification(actorOf(request), request.params.eid, request.params.id, request.body.status, request.ip);
        return reply.code(204).send(null);
      },
    );

    app.post(
      '/establishments/:eid/patients/:pid/erasure-requests',
      { config: { auth: 'session' }, schema: { tags, summary: 'Ask for the erasure of a file (a second person approves)', params: PatientParams, body: ErasureBody, response: { 201: StatusResponse } } },
      async (request, reply) => reply.code(201).send(await gdpr.requestErasure(actorOf(request), request.params.eid, request.params.pid, request.body.reason, request.ip)),
    );

    app.post(
      '/establishments/:eid/erasure-requests/:id/approve',
      {
        config: { auth: 'session' },
        schema: { tags, summary: 'Approve an erasure (another person, fresh second factor): the patient key is destroyed', params: RequestParams, response: { 200: StatusResponse } },
      },
      async (request) => gdpr.approveErasure(actorOf(request), request.params.eid, request.params.id, request.ip),
    );
  };
}

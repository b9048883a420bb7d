// HTTP routes of the administrative file (staff, under /establishments/:eid). Thin: schema,
// authentication decision, one service call.
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { actorOf } from '../../platform/http/context.js';
import type { PatientService } from './patients.js';
import {
  CreatedResponse,
  CreatePatientBody,
  EstablishmentParams,
  PatientFileResponse,
  PatientParams,
  SearchQuery,
  SearchResponse,
  UpdatePatientBody,
} from './schemas.js';

export function patientRoutes(patients: PatientService): FastifyPluginAsync {
  return async (base) => {
    const app = base.withTypeProvider<TypeBoxTypeProvider>();
    const tags = ['records'];

    app.post(
      '/establishments/:eid/patients',
      {
        config: { auth: 'session_or_api_key' },
        schema: { tags, summary: 'Create a patient file (every personal field encrypted)', params: EstablishmentParams, body: CreatePatientBody, response: { 201: CreatedResponse } },
      },
      async (request, reply) => reply.code(201).send(await patients.create(actorOf(request), request.params.eid, request.body, request.ip)),
    );

    app.get(
      '/establishments/:eid/patients',
      {
        config: { auth: 'session_or_api_key' },
        schema: {
          tags,
          summary: 'Exact patient search: lastName (birth or used, case and accents folded) with optional birthDate and firstName, or ins; at most 20 minimal results',
          params: EstablishmentParams,
          querystring: SearchQuery,
          response: { 200: SearchResponse },
        },
      },
      async (request) => patients.search(actorOf(request), request.params.eid, request.query, request.ip),
    );

    app.get(
      '/establishments/:eid/patients/:pid',
      {
        config: { auth: 'session_or_api_key' },
        schema: { tags, summary: 'The administrative file and insurance, with the sections the role may see', params: PatientParams, response: { 200: PatientFileResponse } },
      },
      async (request) => patients.read(actorOf(request), request.params.eid, request.params.pid, request.ip),
    );

    app.patch(
      '/establishments/:eid/patients/:pid',
      {
        config: { auth: 'session_or_api_key' },
        schema: { tags, summary: 'Change allow-listed fields of a patient file', params: PatientParams, body: UpdatePatientBody, response: { 204: Type.Null() } },
      },
      async (request, reply) => {
        await patients.update(actorOf(request), request.params.eid, request.params.pid, request.body, request.ip);
        return reply.code(204).send(null);
      },
    );
  };
}

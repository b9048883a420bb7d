import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { actorOf } from '../../platform/http/context.js';
import type { DirectoryService } from './service.js';
import {
  EstablishmentParams,
  EstablishmentPatchBody,
  EstablishmentPractitionerParams,
  EstablishmentStaffView,
  EstablishmentView,
  PractitionerCreateBody,
  PractitionerPatchBody,
  PractitionerView,
  SpecialtiesQuery,
  SpecialtiesResponse,
} from './schemas.js';

export function directoryPlugin(service: DirectoryService): FastifyPluginAsync {
  return async (base) => {
    const app = base.withTypeProvider<TypeBoxTypeProvider>();
    app.get(
      '/specialties',
      {
        config: { auth: 'public' },
        schema: {
          tags: ['directory'],
          summary: 'Reference list of medical specialties',
          querystring: SpecialtiesQuery,
          response: { 200: SpecialtiesResponse },
        },
      },
      async (request) => ({ items: await service.listSpecialties(request.query.lang ?? 'fr') }),
    );

    app.post(
      '/establishments/:eid/practitioners',
      {
        config: { auth: 'session' },
        schema: { tags: ['directory'], summary: 'Add a practitioner (RPPS checked) to the directory and this establishment (admin)', params: EstablishmentParams, body: PractitionerCreateBody, response: { 201: PractitionerView } },
      },
      async (request, reply) => reply.code(201).send(await service.createPractitioner(actorOf(request), request.params.eid, request.body)),
    );

    app.patch(
      '/establishments/:eid/practitioners/:pid',
      {
        config: { auth: 'session' },
        schema: { tags: ['directory'], summary: "Change a practitioner's specialty, languages or teleconsultation (admin, or the practitioner)", params: EstablishmentPractitionerParams, body: PractitionerPatchBody, response: { 200: PractitionerView } },
      },
      async (request) => service.patchPractitioner(actorOf(request), request.params.eid, request.params.pid, request.body),
    );

    app.get(
      '/establishments/:eid',
      {
        config: { auth: 'session' },
        schema: { tags: ['directory'], summary: 'The establishment and its practitioners, for its staff (the web workspace picks agendas here)', params: EstablishmentParams, response: { 200: EstablishmentStaffView } },
      },
      async (request) => service.describeEstablishment(actorOf(request), request.params.eid),
    );

    app.patch(
      '/establishments/:eid',
      {
        config: { auth: 'session' },
        schema: { tags: ['directory'], summary: "Set the establishment's time zone or reminder times (admin)", params: EstablishmentParams, body: EstablishmentPatchBody, response: { 200: EstablishmentView } },
      },
      async (request) => service.updateEstablishment(actorOf(request), request.params.eid, request.body),
    );
  };
}

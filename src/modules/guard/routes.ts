import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { actorOf } from '../../platform/http/context.js';
import type { SecurityService } from './security.js';
import {
  AlertParams,
  DecoysBody,
  DecoysResponse,
  AlertsQuery,
  AlertsResponse,
  EstablishmentParams,
  ReleaseResponse,
  ResolveResponse,
  ThresholdOverrides,
  ThresholdsResponse,
  UserParams,
} from './schemas.js';

export function securityPlugin(service: SecurityService): FastifyPluginAsync {
  return async (base) => {
    const app = base.withTypeProvider<TypeBoxTypeProvider>();
    const prefix = '/establishments/:eid/security';
    app.get(
      `${prefix}/alerts`,
      { config: { auth: 'session' }, schema: { tags: ['security'], summary: 'Security alerts of the establishment (security officers)', params: EstablishmentParams, querystring: AlertsQuery, response: { 200: AlertsResponse } } },
      async (request) => service.listAlerts(actorOf(request), request.params.eid, request.query),
    );
    app.post(
      `${prefix}/alerts/:id/resolve`,
      { config: { auth: 'session' }, schema: { tags: ['security'], summary: 'Mark an alert resolved', params: AlertParams, response: { 200: ResolveResponse } } },
      async (request) => service.resolveAlert(actorOf(request), request.params.eid, request.params.id),
    );
    app.post(
      `${prefix}/users/:uid/release`,
      { config: { auth: 'session' }, schema: { tags: ['security'], summary: 'Release an account the guard contained (step-up required)', params: UserParams, response: { 200: ReleaseResponse } } },
      async (request) => service.releaseUser(actorOf(request), request.params.eid, request.params.uid),
    );
    app.post(
      `${prefix}/decoys`,
      { config: { auth: 'session' }, schema: { tags: ['security'], summary: 'Plant decoy patient files: touching one contains the account (step-up)', params: EstablishmentParams, body: DecoysBody, response: { 201: DecoysResponse } } },
      async (request, reply) => reply.code(201).send(await service.plantDecoys(actorOf(request), request.params.eid, request.body.count)),
    );
    app.get(
      `${prefix}/thresholds`,
      { config: { auth: 'session' }, schema: { tags: ['security'], summary: "The guard's effective thresholds and this establishment's overrides", params: EstablishmentParams, response: { 200: ThresholdsResponse } } },
      async (request) => service.getThresholds(actorOf(request), request.params.eid),
    );
    app.put(
      `${prefix}/thresholds`,
      {
        config: { auth: 'session' },
        schema: { tags: ['security'], summary: "Replace this establishment's threshold overrides (step-up required)", params: EstablishmentParams, body: ThresholdOverrides, response: { 200: ThresholdsResponse } },
      },
      async (request) => service.updateThresholds(actorOf(request), request.params.eid, request.body),
    );
  };
}

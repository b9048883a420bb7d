import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { actorOf } from '../../platform/http/context.js';
import { Type } from 'typebox';
import type { SecurityService } from './security.js';
import type { ExportService } from './exports.js';
import {
  AlertParams,
  DecoysBody,
  DecoysResponse,
  AlertsQuery,
  AlertsResponse,
  EstablishmentParams,
  ExportParams,
  ExportRequestBody,
  ExportsQuery,
  ExportsResponse,
  ExportView,
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

/** Two-person bulk exports, under the security prefix (request, approve, reject, single download). */
export function exportsPlugin(service: ExportService): FastifyPluginAsync {
  return async (base) => {
    const app = base.withTypeProvider<TypeBoxTypeProvider>();
    const prefix = '/establishments/:eid/security/exports';
    app.post(
      prefix,
      {
        config: { auth: 'session' },
        schema: { tags: ['security'], summary: 'Request a bulk export with its purpose (step-up); a security officer must approve it', params: EstablishmentParams, body: ExportRequestBody, response: { 201: ExportView } },
      },
      async (request, reply) => reply.code(201).send(await service.request(actorOf(request), request.params.eid, request.body)),
    );
    app.get(
      prefix,
      { config: { auth: 'session' }, schema: { tags: ['security'], summary: 'Export requests: all of them for security officers, your own otherwise', params: EstablishmentParams, querystring: ExportsQuery, response: { 200: ExportsResponse } } },
      async (request) => service.list(actorOf(request), request.params.eid, request.query),
    );
    app.post(
      `${prefix}/:id/approve`,
      { config: { auth: 'session' }, schema: { tags: ['security'], summary: 'Approve an export (a security officer other than the requester; step-up); downloadable once for 24 hours', params: ExportParams, response: { 200: ExportView } } },
      async (request) => service.approve(actorOf(request), request.params.eid, request.params.id),
    );
    app.post(
      `${prefix}/:id/reject`,
      { config: { auth: 'session' }, schema: { tags: ['security'], summary: 'Reject an export request (a security officer other than the requester)', params: ExportParams, response: { 200: ExportView } } },
      async (request) => service.reject(actorOf(request), request.params.eid, request.params.id),
    );
    app.get(
      `${prefix}/:id/download`,
      {
        config: { auth: 'session' },
        schema: { tags: ['security'], summary: 'Download an approved export, once, by its requester (step-up); CSV produced through the access gate', params: ExportParams, produces: ['text/csv'], response: { 200: Type.String() } },
      },
      async (request, reply) => {
        const file = await service.download(actorOf(request), request.params.eid, request.params.id, request.ip);
        return reply.type('text/csv; charset=utf-8').header('Content-Disposition', `attachment; filename="${file.filename}"`).send(file.csv);
      },
    );
  };
}

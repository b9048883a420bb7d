import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { actorOf } from '../../platform/http/context.js';
import { DomainError } from '../../platform/http/errors.js';
import type { AccessLogService } from './access-log.js';
import type { AuditSearchService } from './search.js';
import { AccessLogQuery, AccessLogResponse, AuditSearchParams, AuditSearchQuery, AuditSearchResponse } from './schemas.js';

export function auditPlugin(service: AccessLogService, search?: AuditSearchService): FastifyPluginAsync {
  return async (base) => {
    const app = base.withTypeProvider<TypeBoxTypeProvider>();
    app.get(
      '/me/access-log',
      {
        config: { auth: 'session' },
        schema: {
          tags: ['patients'],
          summary: 'Who accessed my data: newest first, across establishments, without my own actions',
          querystring: AccessLogQuery,
          response: { 200: AccessLogResponse },
        },
      },
      async (request) => {
        const actor = actorOf(request);
        // The account is the session's, never a parameter: no id in the request can name another.
        if (actor.kind !== 'user') throw new DomainError('forbidden');
        return service.listAccessLogForPatientAccount(actor.userId, { limit: request.query.limit, cursor: request.query.cursor });
      },
    );
    if (!search) return;
    app.get(
      '/establishments/:eid/security/audit',
      {
        config: { auth: 'session' },
        schema: {
          tags: ['security'],
          summary: "Audit search for the establishment's security officers: events by actor or by patient file, newest first, with their integrity status (the search is audited)",
          params: AuditSearchParams,
          querystring: AuditSearchQuery,
          response: { 200: AuditSearchResponse },
        },
      },
      async (request) => search.search(actorOf(request), request.params.eid, request.query),
    );
  };
}

import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { actorOf } from '../../platform/http/context.js';
import type { BreakGlass } from './break-glass.js';
import { BreakGlassBody, BreakGlassResponse, PatientParams } from './schemas.js';

export function accessPlugin(breakGlass: BreakGlass): FastifyPluginAsync {
  return async (base) => {
    const app = base.withTypeProvider<TypeBoxTypeProvider>();
    app.post(
      '/establishments/:eid/patients/:pid/break-glass',
      {
        config: { auth: 'session' },
        schema: {
          tags: ['access'],
          summary: 'Break the glass: four hours of access to one patient, with a reason (step-up required)',
          params: PatientParams,
          body: BreakGlassBody,
          response: { 201: BreakGlassResponse },
        },
      },
      async (request, reply) => {
        const grant = await breakGlass.open({
          actor: actorOf(request),
          establishmentId: request.params.eid,
          patientId: request.params.pid,
          reason: request.body.reason,
          ip: request.ip,
        });
        return reply.code(201).send(grant);
      },
    );
  };
}

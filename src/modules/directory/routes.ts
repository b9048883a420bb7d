import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { DirectoryService } from './service.js';
import { SpecialtiesQuery, SpecialtiesResponse } from './schemas.js';

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
  };
}

// HTTP routes of clinical entries (under /establishments/:eid/patients/:pid/entries).
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { actorOf } from '../../platform/http/context.js';
import type { EntryService } from './entries.js';
import type { createEntryPdf } from './entry-pdf.js';
import { CreateEntryBody, EntryCreatedResponse, EntryListResponse } from './entry-schemas.js';
import { EntryParams, PatientParams } from './schemas.js';

export function entryRoutes(entries: EntryService, entryPdf: ReturnType<typeof createEntryPdf>): FastifyPluginAsync {
  return async (base) => {
    const app = base.withTypeProvider<TypeBoxTypeProvider>();
    const tags = ['records'];

    app.get(
      '/establishments/:eid/patients/:pid/entries',
      {
        config: { auth: 'session' },
        schema: { tags, summary: 'The current version of every clinical entry the actor may read', params: PatientParams, response: { 200: EntryListResponse } },
      },
      async (request) => ({ items: await entries.list(actorOf(request), request.params.eid, request.params.pid, request.ip) }),
    );

    app.post(
      '/establishments/:eid/patients/:pid/entries',
      {
        config: { auth: 'session' },
        schema: {
          tags,
          summary: 'Add a clinical entry, or a corrected version of one (correctionOf): entries are append-only',
          params: PatientParams,
          body: CreateEntryBody,
          response: { 201: EntryCreatedResponse },
        },
      },
      async (request, reply) => reply.code(201).send(await entries.create(actorOf(request), request.params.eid, request.params.pid, request.body, request.ip)),
    );

    app.get(
      '/establishments/:eid/patients/:pid/entries/:id',
      {
        config: { auth: 'session' },
        schema: { tags, summary: 'One entry with all its versions, newest first', params: EntryParams, response: { 200: EntryListResponse } },
      },
      async (request) => ({ items: await entries.history(actorOf(request), request.params.eid, request.params.pid, request.params.id, request.ip) }),
    );

    app.get(
      '/establishments/:eid/patients/:pid/entries/:id/pdf',
      {
        config: { auth: 'session' },
        schema: { tags, summary: 'A prescription or certificate as a PDF (prescriber name and RPPS)', params: EntryParams, produces: ['application/pdf'] },
      },
      async (request, reply) => {
        const { pdf, kind } = await entryPdf(actorOf(request), request.params.eid, request.params.pid, request.params.id, request.ip);
        return reply.type('application/pdf').header('Content-Disposition', `attachment; filename="${kind}.pdf"`).send(pdf);
      },
    );
  };
}

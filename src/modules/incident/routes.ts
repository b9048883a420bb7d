import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { actorOf } from '../../platform/http/context.js';
import type { IncidentService } from './service.js';
import type { NoticeService } from './notices.js';
import {
  IncidentEstablishmentParams,
  IncidentParams,
  LetterParams,
  PdfFile,
  IncidentResponse,
  LangQuery,
  LettersQuery,
  LettersResponse,
  MarkdownResponse,
  OpenIncidentBody,
  RecordEventBody,
  NoticeParams,
  NoticeResponse,
  NoticesResponse,
} from './schemas.js';

export function incidentPlugin(service: IncidentService): FastifyPluginAsync {
  return async (base) => {
    const app = base.withTypeProvider<TypeBoxTypeProvider>();
    const prefix = '/establishments/:eid/security/incidents';
    app.post(
      prefix,
      { config: { auth: 'session' }, schema: { tags: ['security'], summary: 'Open an incident: impact of an actor over a window, from the audit log', params: IncidentEstablishmentParams, body: OpenIncidentBody, response: { 201: IncidentResponse } } },
      async (request, reply) => reply.code(201).send(await service.open(actorOf(request), request.params.eid, request.body)),
    );
    app.get(
      `${prefix}/:id`,
      { config: { auth: 'session' }, schema: { tags: ['security'], summary: 'An incident: exposed patients by category, containment, timeline and 72-hour clock', params: IncidentParams, response: { 200: IncidentResponse } } },
      async (request) => service.get(actorOf(request), request.params.eid, request.params.id),
    );
    app.get(
      `${prefix}/:id/notification`,
      { config: { auth: 'session' }, schema: { tags: ['security'], summary: 'Draft of the notification to the CNIL (GDPR art. 33), Markdown', params: IncidentParams, querystring: LangQuery, response: { 200: MarkdownResponse } } },
      async (request) => service.notification(actorOf(request), request.params.eid, request.params.id, request.query.lang ?? 'fr'),
    );
    app.get(
      `${prefix}/:id/notification/pdf`,
      { config: { auth: 'session' }, schema: { tags: ['security'], summary: 'Draft of the notification to the CNIL, PDF', params: IncidentParams, querystring: LangQuery, produces: ['application/pdf'], response: { 200: PdfFile } } },
      async (request, reply) => sendPdf(reply, await service.notificationPdf(actorOf(request), request.params.eid, request.params.id, request.query.lang ?? 'fr'), 'notification-cnil.pdf'),
    );
    app.get(
      `${prefix}/:id/letters/:patientId/pdf`,
      { config: { auth: 'session' }, schema: { tags: ['security'], summary: 'One affected patient\'s letter (GDPR art. 34), PDF to print and post', params: LetterParams, querystring: LangQuery, produces: ['application/pdf'], response: { 200: PdfFile } } },
      async (request, reply) => sendPdf(reply, await service.letterPdf(actorOf(request), request.params.eid, request.params.id, request.params.patientId, request.query.lang ?? 'fr'), 'lettre-patient.pdf'),
    );
    app.get(
      `${prefix}/:id/letters`,
      { config: { auth: 'session' }, schema: { tags: ['security'], summary: 'Letters to the affected patients (GDPR art. 34), Markdown, paged', params: IncidentParams, querystring: LettersQuery, response: { 200: LettersResponse } } },
      async (request) => service.letters(actorOf(request), request.params.eid, request.params.id, request.query.lang ?? 'fr', request.query.limit ?? 50, request.query.cursor),
    );
    app.post(
      `${prefix}/:id/notify`,
      { config: { auth: 'session' }, schema: { tags: ['security'], summary: "Queue every affected patient's letter (e-mail and portal; step-up)", params: IncidentParams, querystring: LangQuery, response: { 200: IncidentResponse } } },
      async (request) => service.notifyPatients(actorOf(request), request.params.eid, request.params.id, request.query.lang ?? 'fr'),
    );
    app.post(
      `${prefix}/:id/events`,
      { config: { auth: 'session' }, schema: { tags: ['security'], summary: 'Record a step on the incident timeline (CNIL notified, complaint filed, …; step-up)', params: IncidentParams, body: RecordEventBody, response: { 200: IncidentResponse } } },
      async (request) => service.record(actorOf(request), request.params.eid, request.params.id, request.body),
    );
  };
}

/** The patient portal's breach letters: the session's own, never a parameter naming an account. */
export function noticePlugin(service: NoticeService): FastifyPluginAsync {
  return async (base) => {
    const app = base.withTypeProvider<TypeBoxTypeProvider>();
    app.get(
      '/me/notices',
      { config: { auth: 'session' }, schema: { tags: ['patients'], summary: 'Letters about my data (breach notifications), newest first, across establishments', response: { 200: NoticesResponse } } },
      async (request) => service.list(actorOf(request)),
    );
    app.get(
      '/me/notices/:id',
      { config: { auth: 'session' }, schema: { tags: ['patients'], summary: 'One letter about my data, as Markdown (audited); another patient\'s is 404', params: NoticeParams, response: { 200: NoticeResponse } } },
      async (request) => service.get(actorOf(request), request.params.id, request.ip),
    );
    app.get(
      '/me/notices/:id/pdf',
      { config: { auth: 'session' }, schema: { tags: ['patients'], summary: 'One letter about my data, as PDF (audited)', params: NoticeParams, produces: ['application/pdf'], response: { 200: PdfFile } } },
      async (request, reply) => sendPdf(reply, await service.pdf(actorOf(request), request.params.id, request.ip), 'lettre-information.pdf'),
    );
  };
}

function sendPdf(reply: FastifyReply, pdf: Uint8Array, filename: string) {
  return reply.type('application/pdf').header('Content-Disposition', `attachment; filename="${filename}"`).send(Buffer.from(pdf));
}

// Staff routes under /establishments/:eid: agenda configuration, the agenda view, no-shows.
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { actorOf } from '../../platform/http/context.js';
import type { AgendaSettings } from './settings.js';
import type { Booking } from './booking.js';
import type { AppointmentViews } from './views.js';
import {
  AgendaQuery,
  AgendaResponse,
  EmptyBody,
  EstablishmentObjectParams,
  EstablishmentParams,
  EstablishmentPractitionerParams,
  ExceptionBody,
  ExceptionList,
  ExceptionView,
  MotiveCreateBody,
  MotiveList,
  MotivePatchBody,
  MotiveStaff,
  RangeQuery,
  ScheduleBody,
  ScheduleResponse,
  StatusResponse,
} from './schemas.js';

export function schedulingStaffPlugin(services: { settings: AgendaSettings; booking: Booking; views: AppointmentViews }): FastifyPluginAsync {
  const { settings, booking, views } = services;
  return async (base) => {
    const app = base.withTypeProvider<TypeBoxTypeProvider>();
    const tags = ['scheduling (staff)'];
    const prefix = '/establishments/:eid';

    app.get(
      `${prefix}/agenda`,
      {
        config: { auth: 'session' },
        schema: { tags, summary: "A practitioner's appointments (at most 31 days, paged, audited)", params: EstablishmentParams, querystring: AgendaQuery, response: { 200: AgendaResponse } },
      },
      async (request) => views.agenda(actorOf(request), request.params.eid, request.query, request.ip),
    );

    app.get(
      `${prefix}/practitioners/:pid/schedule`,
      { config: { auth: 'session' }, schema: { tags, summary: 'Weekly opening hours', params: EstablishmentPractitionerParams, response: { 200: ScheduleResponse } } },
      async (request) => settings.getSchedule(actorOf(request), request.params.eid, request.params.pid),
    );

    app.put(
      `${prefix}/practitioners/:pid/schedule`,
      {
        config: { auth: 'session' },
        schema: {
          tags,
          summary: 'Replace the weekly opening hours (several ranges a day, local time of the establishment)',
          params: EstablishmentPractitionerParams,
          body: ScheduleBody,
          response: { 200: ScheduleResponse },
        },
      },
      async (request) => settings.putSchedule(actorOf(request), request.params.eid, request.params.pid, request.body),
    );

    app.get(
      `${prefix}/practitioners/:pid/motives`,
      { config: { auth: 'session' }, schema: { tags, summary: 'Visit motives', params: EstablishmentPractitionerParams, response: { 200: MotiveList } } },
      async (request) => settings.listMotives(actorOf(request), request.params.eid, request.params.pid),
    );

    app.post(
      `${prefix}/practitioners/:pid/motives`,
      { config: { auth: 'session' }, schema: { tags, summary: 'Create a visit motive', params: EstablishmentPractitionerParams, body: MotiveCreateBody, response: { 201: MotiveStaff } } },
      async (request, reply) => reply.code(201).send(await settings.createMotive(actorOf(request), request.params.eid, request.params.pid, request.body)),
    );

    app.patch(
      `${prefix}/motives/:id`,
      { config: { auth: 'session' }, schema: { tags, summary: 'Change a visit motive', params: EstablishmentObjectParams, body: MotivePatchBody, response: { 200: MotiveStaff } } },
      async (request) => settings.patchMotive(actorOf(request), request.params.eid, request.params.id, request.body),
    );

    app.delete(
      `${prefix}/motives/:id`,
      { config: { auth: 'session' }, schema: { tags, summary: 'Withdraw a visit motive (kept for past appointments)', params: EstablishmentObjectParams, response: { 204: Type.Null() } } },
      async (request, reply) => {
        await settings.deactivateMotive(actorOf(request), request.params.eid, request.params.id);
        return reply.code(204).send(null);
      },
    );

    for (const [path, kind] of [
      ['absences', 'absence'],
      ['openings', 'opening'],
    ] as const) {
      app.get(
        `${prefix}/practitioners/:pid/${path}`,
        {
          config: { auth: 'session' },
          schema: { tags, summary: kind === 'absence' ? 'Absences' : 'One-off extra openings', params: EstablishmentPractitionerParams, querystring: RangeQuery, response: { 200: ExceptionList } },
        },
        async (request) => settings.listExceptions(actorOf(request), request.params.eid, request.params.pid, kind, request.query),
      );
      app.post(
        `${prefix}/practitioners/:pid/${path}`,
        {
          config: { auth: 'session' },
          schema: { tags, summary: kind === 'absence' ? 'Add an absence' : 'Add a one-off opening', params: EstablishmentPractitionerParams, body: ExceptionBody, response: { 201: ExceptionView } },
        },
        async (request, reply) => reply.code(201).send(await settings.createException(actorOf(request), request.params.eid, request.params.pid, kind, request.body)),
      );
      app.delete(
        `${prefix}/${path}/:id`,
        { config: { auth: 'session' }, schema: { tags, summary: kind === 'absence' ? 'Remove an absence' : 'Remove a one-off opening', params: EstablishmentObjectParams, response: { 204: Type.Null() } } },
        async (request, reply) => {
          await settings.deleteException(actorOf(request), request.params.eid, request.params.id, kind);
          return reply.code(204).send(null);
        },
      );
    }

    app.post(
      `${prefix}/appointments/:id/no-show`,
      {
        config: { auth: 'session' },
        schema: { tags, summary: 'Mark a started appointment as missed', params: EstablishmentObjectParams, body: Type.Optional(EmptyBody), response: { 200: StatusResponse } },
      },
      async (request) => booking.markNoShow(actorOf(request), request.params.eid, request.params.id),
    );
  };
}

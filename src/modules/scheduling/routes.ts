// Public and patient routes of scheduling. Handlers validate, authenticate (config.auth), call one
// service function and present its result.
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { actorOf } from '../../platform/http/context.js';
import type { PublicScheduling } from './public.js';
import type { Booking } from './booking.js';
import type { AppointmentViews } from './views.js';
import {
  AppointmentCreated,
  AppointmentParams,
  AvailabilityQuery,
  AvailabilityResponse,
  BookBody,
  EmptyBody,
  MyAppointmentsQuery,
  MyAppointmentsResponse,
  PractitionerParams,
  ProfileResponse,
  RescheduleBody,
  SearchQuery,
  SearchResponse,
  StatusResponse,
} from './schemas.js';

/**
 * Public answers come from the public cache as the same object on every hit: their JSON (from the
 * route's response schema, fast-json-stringify) is kept beside them, so that a hit is not
 * serialised again. Weakly held: it goes when the cache drops the entry.
 */
const serialized = new WeakMap<object, string>();
function sendPublic(reply: FastifyReply, answer: object): FastifyReply {
  let json = serialized.get(answer);
  if (json === undefined) {
    // The route's schema serialiser returns a string (only custom serialisers return buffers).
    json = String(reply.serialize(answer));
    serialized.set(answer, json);
  }
  return reply.type('application/json; charset=utf-8').send(json);
}

const IdempotencyHeaders = Type.Object({ 'idempotency-key': Type.Optional(Type.String({ maxLength: 200 })) });

export function schedulingPlugin(services: { publicScheduling: PublicScheduling; booking: Booking; views: AppointmentViews }): FastifyPluginAsync {
  const { publicScheduling, booking, views } = services;
  return async (base) => {
    const app = base.withTypeProvider<TypeBoxTypeProvider>();

    app.get(
      '/search/practitioners',
      {
        config: { auth: 'public' },
        schema: {
          tags: ['directory'],
          summary: 'Find practitioners by specialty and place, with their next free slots',
          querystring: SearchQuery,
          response: { 200: SearchResponse },
        },
      },
      async (request, reply) => sendPublic(reply, await publicScheduling.search(request.query)),
    );

    app.get(
      '/practitioners/:id',
      {
        config: { auth: 'public' },
        schema: { tags: ['directory'], summary: 'Public profile of a practitioner, with visit motives', params: PractitionerParams, response: { 200: ProfileResponse } },
      },
      async (request, reply) => sendPublic(reply, await publicScheduling.profile(request.params.id)),
    );

    app.get(
      '/practitioners/:id/availability',
      {
        config: { auth: 'public' },
        schema: {
          tags: ['scheduling'],
          summary: 'Free slots of a motive (at most 31 days; default: the next 7 days)',
          params: PractitionerParams,
          querystring: AvailabilityQuery,
          response: { 200: AvailabilityResponse },
        },
      },
      async (request, reply) => sendPublic(reply, await publicScheduling.availability(request.params.id, request.query)),
    );

    app.post(
      '/appointments',
      {
        config: { auth: 'session' },
        schema: {
          tags: ['scheduling'],
          summary: 'Book a slot (a verified patient for themselves; staff for a patient file with patientId)',
          headers: IdempotencyHeaders,
          body: BookBody,
          response: { 201: AppointmentCreated },
        },
      },
      async (request, reply) => {
        const result = await booking.book(actorOf(request), request.body, request.headers['idempotency-key']);
        return reply.code(201).send(result);
      },
    );

    app.get(
      '/me/appointments',
      {
        config: { auth: 'session' },
        schema: { tags: ['scheduling'], summary: 'My appointments, newest first', querystring: MyAppointmentsQuery, response: { 200: MyAppointmentsResponse } },
      },
      async (request) => views.myAppointments(actorOf(request), request.query),
    );

    app.post(
      '/appointments/:id/cancel',
      {
        config: { auth: 'session' },
        schema: {
          tags: ['scheduling'],
          summary: 'Cancel (patients until the motive cut-off, staff any time)',
          params: AppointmentParams,
          headers: IdempotencyHeaders,
          body: Type.Optional(EmptyBody),
          response: { 200: StatusResponse },
        },
      },
      async (request) => booking.cancel(actorOf(request), request.params.id, request.headers['idempotency-key']),
    );

    app.post(
      '/appointments/:id/reschedule',
      {
        config: { auth: 'session' },
        schema: {
          tags: ['scheduling'],
          summary: 'Move to another slot of the same motive',
          params: AppointmentParams,
          headers: IdempotencyHeaders,
          body: RescheduleBody,
          response: { 200: StatusResponse },
        },
      },
      async (request) => booking.reschedule(actorOf(request), request.params.id, request.body.start, request.headers['idempotency-key']),
    );

    app.get(
      '/appointments/:id/ics',
      {
        config: { auth: 'session' },
        schema: {
          tags: ['scheduling'],
          summary: 'The appointment as an iCalendar file (RFC 5545): date, time, place, practitioner',
          params: AppointmentParams,
          produces: ['text/calendar'],
          response: { 200: Type.String() },
        },
      },
      async (request, reply) => {
        const body = await views.icsFile(actorOf(request), request.params.id);
        return reply
          .type('text/calendar; charset=utf-8')
          .header('Content-Disposition', 'attachment; filename="rendez-vous.ics"')
          .send(body);
      },
    );
  };
}

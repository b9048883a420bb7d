// Waiting-list routes (patients).
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { actorOf } from '../../platform/http/context.js';
import type { Waitlist } from './waitlist.js';
import { AppointmentCreated, EmptyBody, WaitlistJoinBody, WaitlistJoined, WaitlistMine, WaitlistParams } from './schemas.js';

export function waitlistPlugin(waitlist: Waitlist): FastifyPluginAsync {
  return async (base) => {
    const app = base.withTypeProvider<TypeBoxTypeProvider>();
    const tags = ['scheduling'];
    app.post(
      '/waitlist',
      { config: { auth: 'session' }, schema: { tags, summary: 'Ask to be offered an earlier slot with this practitioner and motive', body: WaitlistJoinBody, response: { 201: WaitlistJoined } } },
      async (request, reply) => reply.code(201).send(await waitlist.join(actorOf(request), request.body)),
    );
    app.get(
      '/me/waitlist',
      { config: { auth: 'session' }, schema: { tags, summary: 'My waiting-list entries, with any open offer (held 15 minutes)', response: { 200: WaitlistMine } } },
      async (request) => waitlist.mine(actorOf(request)),
    );
    app.post(
      '/waitlist/:id/accept',
      {
        config: { auth: 'session' },
        schema: { tags, summary: 'Take the offered slot (the later appointment, if any, is cancelled)', params: WaitlistParams, body: Type.Optional(EmptyBody), response: { 200: AppointmentCreated } },
      },
      async (request) => waitlist.accept(actorOf(request), request.params.id),
    );
    app.delete(
      '/waitlist/:id',
      { config: { auth: 'session' }, schema: { tags, summary: 'Leave the waiting list', params: WaitlistParams, response: { 204: Type.Null() } } },
      async (request, reply) => {
        await waitlist.withdraw(actorOf(request), request.params.id);
        return reply.code(204).send(null);
      },
    );
  };
}

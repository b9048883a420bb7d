// Teleconsultation HTTP and WebSocket routes. The signalling socket is a GET upgrade on the same
// origin: the session cookie authenticates it like any request (config.auth), the Origin must be
// this server's (no cross-site WebSocket hijacking), and the participant and join window are
// checked before the upgrade, so a refusal is an ordinary problem+json answer.
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import websocket from '@fastify/websocket';
import type { WebSocket } from 'ws';
import { actorOf, type Authenticator } from '../../platform/http/context.js';
import { DomainError } from '../../platform/http/errors.js';
import { parseClientMessage } from './protocol.js';
import { MAX_REFUSALS, newPeerId, type Peer, type RoomRegistry } from './rooms.js';
import { AppointmentParams, InviteBody, InviteResponse, TeleconsultInfoResponse } from './schemas.js';
import type { Admission, TeleconsultService } from './service.js';

/** How often an open call re-checks its session (a revoked or contained session is cut off). */
export const SESSION_RECHECK_MS = 10_000;
/** Largest signalling frame (an SDP offer is a few kilobytes). */
const MAX_FRAME_BYTES = 64 * 1024;

function sameOrigin(request: FastifyRequest): boolean {
  const origin = request.headers.origin;
  // Browsers always send Origin on a WebSocket handshake; other clients cannot borrow a cookie.
  if (origin === undefined) return true;
  try {
    return new URL(origin).host === request.headers.host;
  } catch {
    return false;
  }
}

export function teleconsultPlugin(deps: { service: TeleconsultService; rooms: RoomRegistry; authenticate: Authenticator }): FastifyPluginAsync {
  const { service, rooms } = deps;
  const admissions = new WeakMap<FastifyRequest, Admission>();
  return async (base) => {
    await base.register(websocket, { options: { maxPayload: MAX_FRAME_BYTES } });
    base.addHook('onClose', async () => rooms.closeAll());
    // A refused handshake (401 before the plugin's own hooks ran, 403, 404) must not leave its
    // socket open: nothing else would close it, and the server would wait for it on shutdown.
    base.addHook('onResponse', async (request) => {
      if (request.raw.headers.upgrade?.toLowerCase() === 'websocket') request.raw.socket.destroy();
    });
    const app = base.withTypeProvider<TypeBoxTypeProvider>();

    app.get(
      '/teleconsultations/:appointmentId',
      {
        config: { auth: 'session' },
        schema: {
          tags: ['teleconsultation'],
          summary: 'A video appointment for one of its parties: times, join window, ICE servers while it is open',
          params: AppointmentParams,
          response: { 200: TeleconsultInfoResponse },
        },
      },
      async (request) => service.info(actorOf(request), request.params.appointmentId, request.ip),
    );

    app.post(
      '/teleconsultations/:appointmentId/guests',
      {
        config: { auth: 'session' },
        schema: {
          tags: ['teleconsultation'],
          summary: 'The appointment’s practitioner invites a colleague of the establishment into the call',
          params: AppointmentParams,
          body: InviteBody,
          response: { 201: InviteResponse },
        },
      },
      async (request, reply) => reply.code(201).send(await service.inviteGuest(actorOf(request), request.params.appointmentId, request.body.practitionerId, request.ip)),
    );

    app.route({
      method: 'GET',
      url: '/teleconsultations/:appointmentId/signal',
      config: { auth: 'session' },
      schema: {
        tags: ['teleconsultation'],
        summary:
          'WebSocket (upgrade) carrying the call’s signalling: waiting room, admit, SDP and ICE relay, chat (relayed, never stored). 404 for anyone but the patient, the practitioner and invited colleagues; 403 outside the window (15 min before the start to 30 min after the end); 426 without an upgrade.',
        params: AppointmentParams,
      },
      preHandler: async (request) => {
        if (!sameOrigin(request)) throw new DomainError('forbidden', 'Cross-origin WebSocket refused');
        admissions.set(request, await service.admit(actorOf(request), request.params.appointmentId, request.ip));
      },
      // A plain GET (no upgrade) after the checks above.
      handler: async (_request, reply) => reply.code(426).header('Upgrade', 'websocket').send(),
      wsHandler: (socket: WebSocket, request) => {
        const admission = admissions.get(request);
        const actor = request.actor;
        if (!admission || actor?.kind !== 'user') {
          socket.close(1011, 'not admitted');
          return;
        }
        const peer: Peer = {
          peerId: newPeerId(),
          userId: actor.userId,
          role: admission.role,
          name: admission.name,
          context: actor,
          send(message) {
            if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(message));
          },
          close(code, reason) {
            if (socket.readyState === socket.OPEN || socket.readyState === socket.CONNECTING) socket.close(code, reason);
          },
        };
        let invalid = 0;
        socket.on('message', (data, isBinary) => {
          const message = isBinary ? undefined : parseClientMessage(data.toString());
          if (!message) {
            peer.send({ type: 'error', code: 'invalid_message' });
            if (++invalid >= MAX_REFUSALS) {
              rooms.leave(peer);
              peer.close(1008, 'too many invalid messages');
            }
            return;
          }
          rooms.handle(peer, message);
        });
        // The session is checked again while the call lasts: logging out elsewhere, a revocation
        // or a containment ends the call within SESSION_RECHECK_MS.
        const recheck = setInterval(() => {
          deps.authenticate(request, 'session').catch(() => {
            peer.send({ type: 'ended', reason: 'session_ended' });
            rooms.leave(peer);
            peer.close(4001, 'session ended');
          });
        }, SESSION_RECHECK_MS);
        recheck.unref();
        socket.on('close', () => {
          clearInterval(recheck);
          rooms.leave(peer);
        });
        rooms.join(admission.room, peer);
      },
    });
  };
}

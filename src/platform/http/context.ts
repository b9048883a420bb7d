// Every route states its authentication decision in its config; a route without one makes the
// server refuse to start. Deny by default: only `auth: 'public'` routes are reachable without an
// authenticated actor (the identity module supplies the others).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { StaffRole } from '../db/schema.js';
import { DomainError } from './errors.js';

export type AuthMode = 'public' | 'session' | 'session_or_api_key';

/** Who is acting: set on the request by the authenticator, passed down to services and the gate. */
export type Actor =
  | {
      kind: 'user';
      userId: string;
      sessionId: string;
      /** Staff memberships; empty for a patient-only account. */
      memberships: Array<{ establishmentId: string; role: StaffRole }>;
      /** When the last second factor was presented in this session (step-up). */
      secondFactorAt: Date | null;
    }
  | { kind: 'api_key'; apiKeyId: string; establishmentId: string; scopes: string[] }
  | { kind: 'system'; name: string };

declare module 'fastify' {
  interface FastifyContextConfig {
    auth?: AuthMode;
    /** Reachable by a staff session that has not presented a second factor yet (enrolment, logout). */
    allowIncompleteMfa?: boolean;
  }
  interface FastifyRequest {
    actor?: Actor;
  }
}

/** The authenticated actor of a non-public route (the auth hook guarantees it is set). */
export function actorOf(request: FastifyRequest): Actor {
  if (!request.actor) throw new DomainError('unauthenticated');
  return request.actor;
}

export type Authenticator = (request: FastifyRequest, mode: Exclude<AuthMode, 'public'>) => Promise<void>;

export interface RouteEntry {
  method: string;
  url: string;
  auth: AuthMode;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Every route with its authentication decision, for tests that walk all routes. */
    routeTable: RouteEntry[];
  }
}

export function registerAuthDecision(app: FastifyInstance, authenticate: Authenticator | undefined): void {
  const routeTable: RouteEntry[] = [];
  app.decorate('routeTable', routeTable);
  app.addHook('onRoute', (route) => {
    const auth = (route.config as { auth?: AuthMode } | undefined)?.auth;
    if (auth === undefined) {
      throw new Error(`Route ${String(route.method)} ${route.url} has no authentication decision (config.auth)`);
    }
    for (const method of [route.method].flat()) {
      if (method !== 'HEAD') routeTable.push({ method: String(method), url: route.url, auth });
    }
  });
  app.addHook('onRequest', async (request) => {
    const auth = request.routeOptions.config.auth;
    // Unmatched URLs reach the not-found handler, which reveals nothing.
    if (auth === undefined || auth === 'public') return;
    if (!authenticate) throw new DomainError('unauthenticated');
    await authenticate(request, auth);
  });
}

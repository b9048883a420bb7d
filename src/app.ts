// Composes the Fastify server from the platform pieces and the domain modules.
import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import cookie from '@fastify/cookie';
import swagger from '@fastify/swagger';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import helmet, { type HelmetOptions } from 'helmet';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Config } from './config.js';
import type { Database } from './platform/db/database.js';
import type { Logger } from './platform/log.js';
import { registerErrorHandling } from './platform/http/errors.js';
import { registerAuthDecision, type Authenticator } from './platform/http/context.js';
import { registerOps } from './platform/http/ops.js';
import { registerWeb } from './platform/http/web.js';
import { directoryRoutes } from './modules/directory/index.js';
import { accountDisplayNames, createIdentity, securityOfficerEmails, type Clock } from './modules/identity/index.js';
import { createJobRunner, type JobRunner } from './platform/jobs.js';
import { createMailer, enqueueMail, registerMailJobs } from './platform/mail.js';
import { createLogSmsSender } from './platform/sms.js';
import { createPublicCache } from './platform/cache.js';
import { createAccessModule } from './modules/access/index.js';
import { allNotifiers, createGuardModule, isSecurityOfficer, officerMailNotifier, type GuardModuleDeps } from './modules/guard/index.js';
import { createIncidentModule, outboxLetterSender, registerLetterJobs, type LetterSender } from './modules/incident/index.js';
import { queueCipher, type Vault } from './modules/vault/index.js';
import { auditRoutes, keyringFromConfig, type AuditKeyring } from './modules/audit/index.js';
import { appointmentExplanations, appointmentRelationships, appointmentsExport, schedulingRoutes } from './modules/scheduling/index.js';
import { createRecordsModule, insertPatientFile } from './modules/records/index.js';
import { createTeleconsultModule } from './modules/teleconsult/index.js';
import { e2eDocumentsRoutes } from './modules/e2e-documents/index.js';

/** Lifetime of public cache entries when Redis tells every instance of each change. */
export const PUBLIC_CACHE_TTL_SHARED_MS = 60_000;
/** Lifetime of public cache entries without Redis: how long another instance's change may go unseen. */
export const PUBLIC_CACHE_TTL_LOCAL_MS = 5_000;

export interface AppDeps {
  config: Config;
  db: Database;
  logger: Logger;
  /**
   * Sets request.actor for non-public routes. Default: the identity module's session and API-key
   * check; tests of other modules may inject actors instead.
   */
  authenticate?: Authenticator;
  /** Envelope encryption for personal fields (opened by server.ts with the configured key provider). */
  vault: Vault;
  /** The clock of time-dependent modules (scheduling), epoch milliseconds; tests pin it. */
  now?: () => number;
  /**
   * The guard's collaborators: `redis` (shared counters, from REDIS_URL), `notifier`, a test clock.
   * Identity's revocation and scheduling's explanation source are wired here.
   */
  guard?: Omit<GuardModuleDeps, 'db'>;
  /** Identity's delivery of a breach letter to a patient (outbox e-mail and portal). */
  sendLetter?: LetterSender;
  /** Tests inject a clock to move time (session expiry) instead of sleeping. */
  clock?: Clock;
  /** Tests inject the key that seals TOTP secrets instead of a key file. */
  identityKey?: Buffer;
  /**
   * The audit keyring whose public keys the audit search trusts (server.ts passes the sealer's);
   * default: the configured one, read only (no key is created).
   */
  auditKeyring?: AuditKeyring;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The job outbox worker: startServer() starts it; tests run it step by step (runOnce). */
    jobs: JobRunner;
  }
}

export async function buildApp({ config, db, logger, authenticate, vault, now, guard: guardDeps, sendLetter, clock, identityKey, auditKeyring }: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    // pino's Logger is a FastifyBaseLogger; the cast keeps FastifyInstance's default generics.
    loggerInstance: logger as FastifyBaseLogger,
    // Client-supplied X-Forwarded-For is honoured only from the configured proxies (ASVS 4.1.3).
    trustProxy: config.trustProxy.length > 0 ? config.trustProxy : false,
    bodyLimit: config.bodyLimit,
    // Request ids are ours, never taken from the client.
    genReqId: () => randomUUID(),
    requestIdHeader: false,
    routerOptions: { ignoreTrailingSlash: false, maxParamLength: 200 },
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', allErrors: true } },
  }).withTypeProvider<TypeBoxTypeProvider>();

  registerErrorHandling(app);
  // The API speaks JSON only: other bodies get 415 instead of reaching a handler as a string.
  app.removeContentTypeParser(['text/plain']);
  await app.register(cookie);

  const jobs = createJobRunner({ db, logger });
  // Queued mail and the development outboxes are sealed under the vault's platform queue key.
  const cipher = queueCipher(vault);
  const mailer = createMailer(config, { db, logger, cipher });
  registerMailJobs(jobs, mailer, { db, cipher });
  app.decorate('jobs', jobs);
  app.addHook('onClose', () => jobs.stop());
  const identity = await createIdentity({ config, db, logger, jobs, vault, ...(clock ? { clock } : {}), ...(identityKey ? { identityKey } : {}) });
  app.addHook('onClose', () => identity.close());

  const https = config.publicUrl.startsWith('https://');
  // Security headers on every response, the 404 and error answers included.
  const headers = securityHeaders({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:', 'blob:'],
        fontSrc: ["'self'"],
        connectSrc: ["'self'"],
        mediaSrc: ["'self'", 'blob:'],
        objectSrc: ["'none'"],
        baseUri: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        ...(https ? { upgradeInsecureRequests: [] } : {}),
      },
    },
    hsts: https ? { maxAge: 63072000, includeSubDomains: true, preload: false } : false,
    crossOriginEmbedderPolicy: false,
    referrerPolicy: { policy: 'no-referrer' },
    frameguard: { action: 'deny' },
  });
  app.addHook('onRequest', (_request, reply, done) => {
    reply.headers(headers);
    done();
  });

  app.addHook('onSend', async (request, reply, payload) => {
    reply.header('X-Request-Id', request.id);
    // Personal data must not be kept by browsers or intermediaries (ASVS 14.3.2).
    if (request.url.startsWith('/api/') || request.url === '/health' || request.url === '/metrics') {
      reply.header('Cache-Control', 'no-store');
      reply.header('Pragma', 'no-cache');
    }
    return payload;
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Hygie API',
        version: '1',
        description: 'Medical appointment booking, teleconsultation and patient records. Errors are application/problem+json.',
      },
      servers: [{ url: config.publicUrl }],
      components: {
        securitySchemes: {
          session: { type: 'apiKey', in: 'cookie', name: 'hygie_session' },
          apiKey: { type: 'http', scheme: 'bearer', description: 'hyg_… integration key' },
        },
      },
    },
  });

  registerAuthDecision(app, authenticate ?? identity.authenticate);
  registerOps(app, db);
  // Appointments explain agenda views to the guard and are care relationships for the gate.
  // One clock for the whole app: a pinned scheduling clock (tests) is the guard's clock too.
  const guardNow = guardDeps?.now ?? (now ? () => new Date(now()) : undefined);
  const guard = createGuardModule({
    db,
    explanationSources: [appointmentExplanations],
    // Containment revokes every session and API key of the actor at once, in its transaction.
    revokeAllForActor: identity.revokeAllForActor,
    // What a two-person bulk export can produce; the records module adds its provider here.
    exportProviders: [appointmentsExport(vault)],
    writeDecoyFile: (tx, establishmentId, file) => insertPatientFile(tx, vault, { establishmentId, accountUserId: null, file }),
    ...guardDeps,
    // Security officers hear of every alert by e-mail too, besides the console and the collectors.
    notifier: allNotifiers(officerMailNotifier({ officerEmails: securityOfficerEmails(vault), enqueueMail: (tx, message) => enqueueMail(tx, cipher, message), publicUrl: config.publicUrl }), guardDeps?.notifier),
    ...(guardNow ? { now: guardNow } : {}),
  });
  const access = createAccessModule({ db, meter: guard.meter, relationshipSources: [appointmentRelationships] });
  // Public directory and availability answers, shared by the directory (which invalidates it on
  // its changes) and scheduling; with Redis, invalidations reach the other instances at once, so
  // entries may live a minute (PUBLIC_CACHE_TTL_SHARED_MS); without it, another instance's booking
  // may stay unseen here until the entry ages out, so they live 5 s.
  const publicCache = createPublicCache(
    guardDeps?.redis ? { redis: guardDeps.redis, ttlMs: PUBLIC_CACHE_TTL_SHARED_MS, logger } : { ttlMs: PUBLIC_CACHE_TTL_LOCAL_MS, logger },
  );
  app.addHook('onClose', () => publicCache.close());
  await app.register(directoryRoutes({ db, cache: publicCache }), { prefix: '/api/v1' });
  await app.register(identity.routes, { prefix: '/api/v1' });
  await app.register(access.routes, { prefix: '/api/v1' });
  await app.register(
    auditRoutes({ db, actorNames: (tx, ids) => accountDisplayNames(tx, vault, ids), isSecurityOfficer, keyring: auditKeyring ?? keyringFromConfig(config) }),
    { prefix: '/api/v1' },
  );
  const notices = { jobs, mailer, sms: createLogSmsSender({ db, logger, cipher }), publicUrl: config.publicUrl, logger };
  await app.register(schedulingRoutes({ db, gate: access.gate, vault, now, notices, cache: publicCache }), { prefix: '/api/v1' });
  await app.register(guard.routes, { prefix: '/api/v1' });
  await app.register(guard.exportRoutes(access.gate), { prefix: '/api/v1' });
  // Breach letters go by e-mail through the outbox unless a test injects its own sender.
  registerLetterJobs({ jobs, db, vault, cipher, mailer, logger });
  await app.register(createIncidentModule({ db, gate: access.gate, ...(guardNow ? { now: guardNow } : {}), sendLetter: sendLetter ?? outboxLetterSender(cipher) }).routes, { prefix: '/api/v1' });
  await app.register(createRecordsModule({ db, vault, gate: access.gate }).routes, { prefix: '/api/v1' });
  const teleconsult = createTeleconsultModule({ config, db, gate: access.gate, vault, logger, authenticate: authenticate ?? identity.authenticate, ...(now ? { now } : {}) });
  await app.register(teleconsult.routes, { prefix: '/api/v1' });
  await app.register(e2eDocumentsRoutes({ db, gate: access.gate }), { prefix: '/api/v1' });
  await registerWeb(app);

  return app;
}

/**
 * The security headers helmet sets for these options, worked out once: every option here is
 * static (no per-request CSP nonce), so every response carries the same set. (@fastify/helmet
 * rebuilt helmet's middleware, CSP parsing included, on every request: about a tenth of the CPU
 * of a cached public read.)
 */
export function securityHeaders(options: HelmetOptions): Record<string, string> {
  const headers: Record<string, string> = {};
  const response = {
    setHeader: (name: string, value: string) => void (headers[name.toLowerCase()] = value),
    removeHeader: (name: string) => void delete headers[name.toLowerCase()],
  };
  let finished = false;
  helmet(options)({} as IncomingMessage, response as unknown as ServerResponse, (error?: unknown) => {
    if (error) throw error instanceof Error ? error : new Error(String(error));
    finished = true;
  });
  if (!finished || Object.keys(headers).length === 0) throw new Error('helmet did not set its headers synchronously');
  return headers;
}

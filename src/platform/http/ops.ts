// Operational endpoints: health (with a database check), Prometheus metrics for loopback only,
// and the OpenAPI description generated from the routes' TypeBox schemas.
import { isIP } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { collectDefaultMetrics, Histogram, Registry } from 'prom-client';
import { DomainError } from './errors.js';
import type { Database } from '../db/database.js';

const Health = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('degraded')]),
  database: Type.Union([Type.Literal('ok'), Type.Literal('unavailable')]),
});

export function isLoopback(ip: string): boolean {
  if (isIP(ip) === 4) return ip.startsWith('127.');
  const lower = ip.toLowerCase();
  return lower === '::1' || lower.startsWith('::ffff:127.');
}

export function registerOps(app: FastifyInstance, db: Database): void {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const duration = new Histogram({
    name: 'hygie_http_request_duration_seconds',
    help: 'HTTP request duration by route and status',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  app.addHook('onResponse', async (request, reply) => {
    // The route pattern, never the raw URL: ids and search terms must not become label values.
    const route = request.routeOptions.url ?? 'unmatched';
    duration.observe({ method: request.method, route, status: String(reply.statusCode) }, reply.elapsedTime / 1000);
  });

  app.get(
    '/health',
    {
      config: { auth: 'public' },
      schema: {
        tags: ['ops'],
        summary: 'Liveness and database check',
        response: { 200: Health, 503: Health },
      },
    },
    async (_request, reply) => {
      const ok = await db.ping();
      return reply.code(ok ? 200 : 503).send({ status: ok ? 'ok' : 'degraded', database: ok ? 'ok' : 'unavailable' });
    },
  );

  app.get(
    '/metrics',
    {
      config: { auth: 'public' },
      schema: {
        tags: ['ops'],
        summary: 'Prometheus metrics (loopback only)',
        produces: ['text/plain'],
        response: { 200: Type.String() },
      },
    },
    async (request, reply) => {
      // request.ip honours X-Forwarded-For only from HYGIE_TRUST_PROXY, so a client cannot
      // pretend to be local.
      if (!isLoopback(request.ip)) throw new DomainError('forbidden', 'Metrics are served to loopback only');
      return reply.type(registry.contentType).send(await registry.metrics());
    },
  );

  app.get(
    '/api/docs',
    {
      config: { auth: 'public' },
      schema: { tags: ['ops'], summary: 'This OpenAPI description', response: { 200: Type.Object({}, { additionalProperties: true }) } },
    },
    async () => app.swagger(),
  );
}

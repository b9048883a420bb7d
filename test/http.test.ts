// HTTP basics: problem+json errors, security headers, no-store, request ids, body limits,
// metrics for loopback only, X-Forwarded-For from trusted proxies only, OpenAPI, deny by default.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { buildApp } from '../src/app.js';
import { createLogger } from '../src/platform/log.js';
import { DomainError } from '../src/platform/http/errors.js';
import { createTestDatabase, testConfig, type TestDatabase } from './helpers/db.js';

let t: TestDatabase;
const logger = createLogger('silent');

async function appWith(env: Record<string, string> = {}): Promise<FastifyInstance> {
  const app = await buildApp({ config: testConfig(env), db: t.db, vault: t.vault, logger });
  // Routes that exercise the generic machinery (body parsing, validation, error mapping).
  app.post(
    '/api/v1/test/echo',
    {
      config: { auth: 'public' },
      schema: { body: Type.Object({ name: Type.String({ maxLength: 20 }), n: Type.Integer({ minimum: 0 }) }, { additionalProperties: false }) },
    },
    async (request) => request.body,
  );
  app.get('/api/v1/test/boom', { config: { auth: 'public' } }, async () => {
    throw new Error('secret internal detail: connection string postgres://admin:pw@db');
  });
  app.get('/api/v1/test/domain', { config: { auth: 'public' } }, async () => {
    throw new DomainError('rate_limited', 'slow down', { retryAfterSeconds: 7.2 });
  });
  app.get('/api/v1/test/private', { config: { auth: 'session' } }, async () => ({ secret: 'data' }));
  return app;
}

beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(async () => t?.drop());

describe('health and ops', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await appWith();
  });
  afterAll(async () => app.close());

  it('GET /health checks the database', async () => {
    const res = await app.inject({ method: 'GET', url: '/health' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ok', database: 'ok' });
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it('serves /metrics to loopback only, and a forged X-Forwarded-For from an untrusted peer does not help', async () => {
    const local = await app.inject({ method: 'GET', url: '/metrics', remoteAddress: '127.0.0.1' });
    expect(local.statusCode).toBe(200);
    expect(local.body).toContain('hygie_http_request_duration_seconds');
    const remote = await app.inject({ method: 'GET', url: '/metrics', remoteAddress: '203.0.113.7' });
    expect(remote.statusCode).toBe(403);
    expect(remote.json().code).toBe('forbidden');
    const forged = await app.inject({
      method: 'GET',
      url: '/metrics',
      remoteAddress: '203.0.113.7',
      headers: { 'x-forwarded-for': '127.0.0.1' },
    });
    expect(forged.statusCode).toBe(403);
  });

  it('labels metrics by route pattern, never by raw URL', async () => {
    await app.inject({ method: 'GET', url: '/api/v1/specialties?lang=en' });
    const metrics = (await app.inject({ method: 'GET', url: '/metrics', remoteAddress: '127.0.0.1' })).body;
    expect(metrics).toContain('route="/api/v1/specialties"');
    expect(metrics).not.toContain('lang=en');
  });

  it('publishes an OpenAPI 3.1 description that lists every API route', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/docs' });
    expect(res.statusCode).toBe(200);
    const doc = res.json() as { openapi: string; paths: Record<string, Record<string, unknown>> };
    expect(doc.openapi).toMatch(/^3\.1/);
    const documented = new Set(Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`)));
    const apiRoutes = app.routeTable.filter((r) => (r.url.startsWith('/api/') || r.url === '/health' || r.url === '/metrics') && !r.url.startsWith('/api/v1/test/'));
    expect(apiRoutes.length).toBeGreaterThan(3);
    for (const r of apiRoutes) expect(documented).toContain(`${r.method} ${r.url.replace(/:(\w+)/g, '{$1}')}`);
  });
});

describe('errors are problem+json', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await appWith({ HYGIE_BODY_LIMIT: '2048' });
  });
  afterAll(async () => app.close());

  it('answers an unknown URL with 404 not_found and the request id', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/v1/nothing-here' });
    expect(res.statusCode).toBe(404);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    const body = res.json();
    expect(body).toMatchObject({ status: 404, code: 'not_found', title: expect.any(String), type: expect.any(String), detail: expect.any(String) });
    expect(body.requestId).toBe(res.headers['x-request-id']);
  });

  it('ignores a client-supplied request id', async () => {
    const res = await app.inject({ method: 'GET', url: '/health', headers: { 'x-request-id': 'attacker-chosen' } });
    expect(res.headers['x-request-id']).not.toBe('attacker-chosen');
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('refuses unknown fields, wrong types and bad query values with 400 invalid_request naming the fields', async () => {
    const extra = await app.inject({ method: 'POST', url: '/api/v1/test/echo', payload: { name: 'a', n: 1, isAdmin: true } });
    expect(extra.statusCode).toBe(400);
    expect(extra.json().code).toBe('invalid_request');
    expect(extra.json().errors).toEqual(expect.arrayContaining([expect.objectContaining({ field: 'body.isAdmin' })]));
    const wrong = await app.inject({ method: 'POST', url: '/api/v1/test/echo', payload: { name: 'a', n: -3 } });
    expect(wrong.statusCode).toBe(400);
    expect(wrong.json().errors).toEqual(expect.arrayContaining([expect.objectContaining({ field: 'body.n' })]));
    const missing = await app.inject({ method: 'POST', url: '/api/v1/test/echo', payload: {} });
    expect(missing.json().errors.map((e: { field: string }) => e.field)).toEqual(expect.arrayContaining(['body.name', 'body.n']));
    const query = await app.inject({ method: 'GET', url: '/api/v1/specialties?lang=de' });
    expect(query.statusCode).toBe(400);
    expect(query.json().code).toBe('invalid_request');
  });

  it('answers malformed JSON, prototype pollution, wrong media types and oversize bodies with 4xx', async () => {
    const bad = await app.inject({ method: 'POST', url: '/api/v1/test/echo', headers: { 'content-type': 'application/json' }, payload: '{"name": ' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().code).toBe('invalid_request');
    const proto = await app.inject({
      method: 'POST',
      url: '/api/v1/test/echo',
      headers: { 'content-type': 'application/json' },
      payload: '{"name":"a","n":1,"__proto__":{"isAdmin":true}}',
    });
    expect(proto.statusCode).toBe(400);
    const media = await app.inject({ method: 'POST', url: '/api/v1/test/echo', headers: { 'content-type': 'text/plain' }, payload: 'hello' });
    expect(media.statusCode).toBe(415);
    expect(media.json().code).toBe('unsupported_media_type');
    const big = await app.inject({ method: 'POST', url: '/api/v1/test/echo', payload: { name: 'a'.repeat(5000), n: 1 } });
    expect(big.statusCode).toBe(413);
    expect(big.json().code).toBe('payload_too_large');
  });

  it('hides internal errors behind 500 internal_error without details', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/v1/test/boom' });
    expect(res.statusCode).toBe(500);
    expect(res.json().code).toBe('internal_error');
    expect(res.body).not.toContain('secret internal detail');
    expect(res.body).not.toContain('postgres://');
    expect(res.body).not.toContain('at ');
  });

  it('maps domain errors to their status, with Retry-After when given', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/v1/test/domain' });
    expect(res.statusCode).toBe(429);
    expect(res.headers['retry-after']).toBe('8');
    expect(res.json()).toMatchObject({ code: 'rate_limited', detail: 'slow down' });
  });

  it('denies by default: a non-public route without an authenticated actor is 401', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/v1/test/private' });
    expect(res.statusCode).toBe(401);
    expect(res.json().code).toBe('unauthenticated');
    expect(res.body).not.toContain('data');
  });

  it('refuses to register a route without an authentication decision', async () => {
    const app2 = await appWith();
    expect(() => app2.get('/api/v1/test/undecided', async () => ({}))).toThrow(/no authentication decision/);
    await app2.close();
  });
});

describe('security headers', () => {
  it('sends a strict CSP, no-sniff, frame denial and no HSTS on plain HTTP', async () => {
    const app = await appWith();
    const res = await app.inject({ method: 'GET', url: '/' });
    expect(res.statusCode).toBe(200);
    const csp = String(res.headers['content-security-policy']);
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("object-src 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['x-frame-options']).toBe('DENY');
    expect(res.headers['strict-transport-security']).toBeUndefined();
    // The page itself is cacheable-but-revalidated; API answers are never stored.
    expect(res.headers['cache-control']).toBe('no-cache');
    await app.close();
  });

  it('sends HSTS when served over HTTPS', async () => {
    const app = await appWith({ HYGIE_PUBLIC_URL: 'https://rdv.example.fr' });
    const res = await app.inject({ method: 'GET', url: '/health' });
    expect(res.headers['strict-transport-security']).toMatch(/max-age=\d+; includeSubDomains/);
    expect(String(res.headers['content-security-policy'])).toContain('upgrade-insecure-requests');
    await app.close();
  });

  it('sends the same headers on API answers, problems, unknown routes and refusals', async () => {
    const app = await appWith();
    const page = await app.inject({ method: 'GET', url: '/' });
    const expected = ['content-security-policy', 'x-content-type-options', 'x-frame-options', 'referrer-policy', 'cross-origin-opener-policy', 'cross-origin-resource-policy'];
    for (const url of ['/health', '/api/v1/test/boom', '/api/v1/nothing-here', '/api/v1/test/private', '/api/v1/test/domain']) {
      const res = await app.inject({ method: 'GET', url });
      for (const name of expected) expect([url, name, res.headers[name]]).toEqual([url, name, page.headers[name]]);
      expect(res.headers['referrer-policy']).toBe('no-referrer');
      expect(res.headers['x-powered-by']).toBeUndefined();
    }
    const bad = await app.inject({ method: 'POST', url: '/api/v1/test/echo', headers: { 'content-type': 'application/json' }, payload: '{"name":' });
    expect(bad.statusCode).toBe(400);
    expect(bad.headers['content-security-policy']).toBe(page.headers['content-security-policy']);
    await app.close();
  });
});

describe('X-Forwarded-For from configured proxies only', () => {
  it('takes the client address from a trusted proxy, and only from it', async () => {
    const app = await appWith({ HYGIE_TRUST_PROXY: '10.0.0.5' });
    const viaProxy = await app.inject({ method: 'GET', url: '/metrics', remoteAddress: '10.0.0.5', headers: { 'x-forwarded-for': '198.51.100.4' } });
    expect(viaProxy.statusCode).toBe(403); // the real client is remote
    const localViaProxy = await app.inject({ method: 'GET', url: '/metrics', remoteAddress: '10.0.0.5', headers: { 'x-forwarded-for': '127.0.0.1' } });
    expect(localViaProxy.statusCode).toBe(200);
    const otherPeer = await app.inject({ method: 'GET', url: '/metrics', remoteAddress: '10.0.0.6', headers: { 'x-forwarded-for': '127.0.0.1' } });
    expect(otherPeer.statusCode).toBe(403);
    await app.close();
  });
});

describe('health when the database is gone', () => {
  it('answers 503 degraded instead of failing', async () => {
    const own = await createTestDatabase();
    const app = await buildApp({ config: testConfig(), db: own.db, vault: own.vault, logger });
    await own.drop();
    const res = await app.inject({ method: 'GET', url: '/health' });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toEqual({ status: 'degraded', database: 'unavailable' });
    await app.close();
  });
});

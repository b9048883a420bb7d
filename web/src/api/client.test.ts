import { describe, expect, it } from 'vitest';
import { ApiError, parseProblem, parseRetryAfter } from './client';

const problemResponse = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(typeof body === 'string' ? body : JSON.stringify(body), { status, headers: { 'Content-Type': 'application/problem+json', ...headers } });

describe('problem+json answers become typed errors', () => {
  it('keeps the stable code, the detail, the field errors and the request id', async () => {
    const error = await parseProblem(
      problemResponse(400, { type: 't', title: 'The request is not valid', status: 400, detail: 'email: invalid', code: 'invalid_request', errors: [{ field: 'email', message: 'invalid' }], requestId: 'r1' }),
    );
    expect(error).toBeInstanceOf(ApiError);
    expect(error.code).toBe('invalid_request');
    expect(error.status).toBe(400);
    expect(error.problem.errors).toEqual([{ field: 'email', message: 'invalid' }]);
    expect(error.problem.requestId).toBe('r1');
  });

  it('reads Retry-After on rate_limited', async () => {
    const error = await parseProblem(problemResponse(429, { status: 429, code: 'rate_limited' }, { 'Retry-After': '42' }));
    expect(error.code).toBe('rate_limited');
    expect(error.retryAfterSeconds).toBe(42);
  });

  it('derives a code from the status when the body is not a problem (a proxy error page)', async () => {
    expect((await parseProblem(problemResponse(502, '<html>Bad gateway</html>'))).code).toBe('internal_error');
    expect((await parseProblem(problemResponse(423, ''))).code).toBe('account_contained');
    expect((await parseProblem(problemResponse(429, 'slow down'))).code).toBe('rate_limited');
  });

  it('the status of the response wins over a status in the body', async () => {
    const error = await parseProblem(problemResponse(403, { status: 200, code: 'forbidden' }));
    expect(error.status).toBe(403);
  });
});

describe('Retry-After', () => {
  it('accepts seconds or an HTTP date', () => {
    const now = Date.parse('2026-11-20T13:00:00Z');
    expect(parseRetryAfter('120', now)).toBe(120);
    expect(parseRetryAfter('Fri, 20 Nov 2026 13:01:30 GMT', now)).toBe(90);
    expect(parseRetryAfter('Fri, 20 Nov 2026 12:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter(null, now)).toBeUndefined();
    expect(parseRetryAfter('soon', now)).toBeUndefined();
  });
});

// The one way the browser talks to the Hygie API: same-origin fetch with the session cookie, the
// CSRF token on unsafe methods, and problem+json answers turned into typed errors.
//
// Rules kept here so that pages cannot forget them:
// - personal data never goes into a URL: `query` is only for public, non-personal parameters
//   (practitioner search, language, paging); patient search sends a POST body;
// - nothing is stored in localStorage or sessionStorage (the CSRF token lives in memory only);
// - a `step_up_required` answer asks the registered handler (the step-up dialog) for a fresh
//   second factor and replays the request once; `account_contained` is broadcast so that the
//   application shows the contained-account screen.

export type ProblemCode =
  | 'invalid_request'
  | 'unauthenticated'
  | 'invalid_credentials'
  | 'step_up_required'
  | 'csrf_failed'
  | 'forbidden'
  | 'not_found'
  | 'method_not_allowed'
  | 'conflict'
  | 'slot_taken'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'account_contained'
  | 'rate_limited'
  | 'internal_error'
  | 'service_unavailable';

export interface FieldProblem {
  field: string;
  message: string;
}

export interface Problem {
  type?: string;
  title?: string;
  status: number;
  detail?: string;
  code: ProblemCode | (string & {});
  requestId?: string;
  errors?: FieldProblem[];
}

/** An answer of the API with an error status, parsed from problem+json. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: Problem['code'];
  readonly problem: Problem;
  /** Seconds to wait before retrying, from `Retry-After` (rate_limited). */
  readonly retryAfterSeconds: number | undefined;

  constructor(problem: Problem, retryAfterSeconds?: number) {
    super(problem.detail ?? problem.title ?? problem.code);
    this.name = 'ApiError';
    this.status = problem.status;
    this.code = problem.code;
    this.problem = problem;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** The server could not be reached (offline, server down) or answered something unreadable. */
export class NetworkError extends Error {
  constructor(cause: unknown) {
    super('network_error', { cause });
    this.name = 'NetworkError';
  }
}

export type QueryValue = string | number | boolean | undefined;

export interface RequestOptions {
  /** Public, non-personal parameters only (see the header comment). */
  query?: Record<string, QueryValue>;
  body?: unknown;
  /** Do not run the step-up dialog on `step_up_required` (the step-up request itself). */
  noStepUp?: boolean;
  signal?: AbortSignal;
  /** Extra request headers (e.g. `Idempotency-Key`). */
  headers?: Record<string, string>;
}

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const API_PREFIX = '/api/v1';

let csrfToken: string | undefined;
let stepUpHandler: (() => Promise<boolean>) | undefined;
const containedListeners = new Set<() => void>();
const signedOutListeners = new Set<() => void>();

/** Set by the session after `GET /auth/me`; cleared on logout. Kept in memory only. */
export function setCsrfToken(token: string | undefined): void {
  csrfToken = token;
}

/** The step-up dialog registers here; it resolves true once a fresh second factor was accepted. */
export function setStepUpHandler(handler: (() => Promise<boolean>) | undefined): void {
  stepUpHandler = handler;
}

export function onAccountContained(listener: () => void): () => void {
  containedListeners.add(listener);
  return () => containedListeners.delete(listener);
}

/** The session expired or was revoked while a page was open (a 401 `unauthenticated`). */
export function onSignedOut(listener: () => void): () => void {
  signedOutListeners.add(listener);
  return () => signedOutListeners.delete(listener);
}

export function buildUrl(path: string, query?: Record<string, QueryValue>): string {
  const url = new URL(API_PREFIX + path, window.location.origin);
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value !== undefined && value !== '') url.searchParams.set(key, String(value));
  }
  return url.pathname + url.search;
}

async function send(method: string, path: string, options: RequestOptions): Promise<Response> {
  const headers: Record<string, string> = { ...options.headers, Accept: 'application/json, application/problem+json' };
  if (options.body !== undefined) headers['Content-Type'] = 'application/json';
  if (UNSAFE.has(method) && csrfToken) headers['X-CSRF-Token'] = csrfToken;
  try {
    return await fetch(buildUrl(path, options.query), {
      method,
      headers,
      credentials: 'same-origin',
      cache: 'no-store',
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: options.signal,
    });
  } catch (error) {
    if (error instanceof DOMException && error.name === 'AbortError') throw error;
    throw new NetworkError(error);
  }
}

export async function parseProblem(response: Response): Promise<ApiError> {
  let problem: Problem = { status: response.status, code: fallbackCode(response.status) };
  try {
    const body = (await response.json()) as Partial<Problem> | null;
    if (body && typeof body === 'object' && typeof body.code === 'string') {
      problem = { ...body, status: response.status, code: body.code };
    }
  } catch {
    // Not JSON (a proxy's error page): keep the code derived from the status.
  }
  const retryAfter = parseRetryAfter(response.headers.get('Retry-After'));
  return new ApiError(problem, retryAfter);
}

function fallbackCode(status: number): ProblemCode {
  if (status === 401) return 'unauthenticated';
  if (status === 403) return 'forbidden';
  if (status === 404) return 'not_found';
  if (status === 409) return 'conflict';
  if (status === 423) return 'account_contained';
  if (status === 429) return 'rate_limited';
  if (status === 503) return 'service_unavailable';
  if (status >= 500) return 'internal_error';
  return 'invalid_request';
}

/** `Retry-After` is either seconds or an HTTP date. */
export function parseRetryAfter(value: string | null, now: number = Date.now()): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - now) / 1000));
}

export async function request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
  let response = await send(method, path, options);
  if (!response.ok) {
    let error = await parseProblem(response);
    if (error.code === 'csrf_failed' && UNSAFE.has(method) && (await renewCsrfToken())) {
      // The token changed (a new session, a rotation): take the current one and try once more.
      response = await send(method, path, options);
      if (response.ok) return readBody<T>(response);
      error = await parseProblem(response);
    }
    if (error.code === 'step_up_required' && !options.noStepUp && stepUpHandler) {
      if (await stepUpHandler()) {
        response = await send(method, path, options);
        if (response.ok) return readBody<T>(response);
        error = await parseProblem(response);
      }
    }
    if (error.code === 'account_contained') for (const listener of containedListeners) listener();
    if (error.code === 'unauthenticated') for (const listener of signedOutListeners) listener();
    throw error;
  }
  return readBody<T>(response);
}

async function renewCsrfToken(): Promise<boolean> {
  const response = await send('GET', '/auth/me', {});
  if (!response.ok) return false;
  const me = await readBody<{ csrfToken?: unknown }>(response);
  if (typeof me?.csrfToken !== 'string') return false;
  csrfToken = me.csrfToken;
  return true;
}

async function readBody<T>(response: Response): Promise<T> {
  if (response.status === 204) return undefined as T;
  const type = response.headers.get('Content-Type') ?? '';
  if (!type.includes('json')) return undefined as T;
  try {
    return (await response.json()) as T;
  } catch (error) {
    throw new NetworkError(error);
  }
}

export const api = {
  get: <T>(path: string, options?: Omit<RequestOptions, 'body'>) => request<T>('GET', path, options),
  post: <T>(path: string, body?: unknown, options?: Omit<RequestOptions, 'body'>) =>
    request<T>('POST', path, { ...options, body: body ?? {} }),
  put: <T>(path: string, body?: unknown, options?: Omit<RequestOptions, 'body'>) => request<T>('PUT', path, { ...options, body }),
  patch: <T>(path: string, body?: unknown, options?: Omit<RequestOptions, 'body'>) => request<T>('PATCH', path, { ...options, body }),
  delete: <T>(path: string, options?: Omit<RequestOptions, 'body'>) => request<T>('DELETE', path, options),
};

// One error vocabulary: domain code throws DomainError with a stable snake_case code; one Fastify
// error handler turns every error into application/problem+json. Internal details never reach the
// client; 5xx are logged with the request id.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

export type ErrorCode =
  | 'invalid_request'
  | 'unauthenticated'
  | 'invalid_credentials'
  | 'invalid_code'
  | 'step_up_required'
  | 'mfa_enrolment_required'
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

const STATUS: Record<ErrorCode, number> = {
  invalid_request: 400,
  unauthenticated: 401,
  invalid_credentials: 401,
  invalid_code: 401,
  step_up_required: 401,
  mfa_enrolment_required: 403,
  csrf_failed: 403,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  slot_taken: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  account_contained: 423,
  rate_limited: 429,
  internal_error: 500,
  service_unavailable: 503,
};

const TITLES: Record<ErrorCode, string> = {
  invalid_request: 'The request is not valid',
  unauthenticated: 'Authentication required',
  invalid_credentials: 'Invalid e-mail or password',
  invalid_code: 'The second factor was not accepted',
  step_up_required: 'A fresh second factor is required',
  mfa_enrolment_required: 'Enrol a second factor before using this account',
  csrf_failed: 'CSRF token missing or invalid',
  forbidden: 'Not allowed',
  not_found: 'Not found',
  method_not_allowed: 'Method not allowed',
  conflict: 'Conflict',
  slot_taken: 'This slot has just been booked',
  payload_too_large: 'Request body too large',
  unsupported_media_type: 'Unsupported media type',
  account_contained: 'This account has been contained by the security guard',
  rate_limited: 'Too many requests',
  internal_error: 'Internal error',
  service_unavailable: 'Service unavailable',
};

export interface FieldProblem {
  field: string;
  message: string;
}

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ErrorCode;
  requestId?: string;
  errors?: FieldProblem[];
  [extension: string]: unknown;
}

export class DomainError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    detail?: string,
    readonly extra: { errors?: FieldProblem[]; retryAfterSeconds?: number; [k: string]: unknown } = {},
  ) {
    super(detail ?? TITLES[code]);
    this.name = 'DomainError';
    this.status = STATUS[code];
  }
}

export function problem(code: ErrorCode, detail?: string, extra: Record<string, unknown> = {}): Problem {
  return {
    type: `https://hygie.example/problems/${code.replaceAll('_', '-')}`,
    title: TITLES[code],
    status: STATUS[code],
    detail: detail ?? TITLES[code],
    code,
    ...extra,
  };
}

export function sendProblem(reply: FastifyReply, p: Problem): FastifyReply {
  return reply.code(p.status).type('application/problem+json; charset=utf-8').send(p);
}

interface ValidationItem {
  instancePath?: string;
  message?: string;
  params?: Record<string, unknown>;
}

function validationProblems(error: FastifyError): FieldProblem[] {
  const items = (error.validation ?? []) as ValidationItem[];
  const context = error.validationContext ?? 'body';
  return items.map((item) => {
    const missing = item.params?.['missingProperty'] ?? item.params?.['requiredProperties'];
    const extra = item.params?.['additionalProperty'];
    const base = (item.instancePath ?? '').replace(/^\//, '').replaceAll('/', '.');
    const leaf = typeof missing === 'string' ? missing : typeof extra === 'string' ? extra : '';
    const field = [context, base, leaf].filter((s) => s !== '').join('.');
    const message = typeof extra === 'string' ? 'unknown field' : (item.message ?? 'invalid value');
    return { field, message };
  });
}

export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError | DomainError | Error, request: FastifyRequest, reply: FastifyReply) => {
    const requestId = request.id;
    if (error instanceof DomainError) {
      const { retryAfterSeconds, ...extra } = error.extra;
      if (retryAfterSeconds !== undefined) reply.header('Retry-After', String(Math.max(1, Math.ceil(retryAfterSeconds))));
      return sendProblem(reply, problem(error.code, error.message, { ...extra, requestId }));
    }
    const fe = error as FastifyError;
    if (fe.validation) {
      const errors = validationProblems(fe);
      const detail = errors.map((e) => `${e.field}: ${e.message}`).join('; ') || 'invalid request';
      return sendProblem(reply, problem('invalid_request', detail, { errors, requestId }));
    }
    const mapped = mapFrameworkError(fe);
    if (mapped) return sendProblem(reply, problem(mapped.code, mapped.detail, { requestId }));

    request.log.error({ err: error, reqId: requestId }, 'unhandled error');
    return sendProblem(reply, problem('internal_error', 'An internal error occurred; quote the request id to support.', { requestId }));
  });

  app.setNotFoundHandler((request, reply) =>
    sendProblem(reply, problem('not_found', 'No such resource', { requestId: request.id })),
  );
}

function mapFrameworkError(error: FastifyError): { code: ErrorCode; detail: string } | undefined {
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { code: 'payload_too_large', detail: 'The request body exceeds the size limit' };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return { code: 'unsupported_media_type', detail: 'Send application/json' };
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return { code: 'invalid_request', detail: 'The JSON body is empty' };
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return { code: 'invalid_request', detail: 'The body is not valid JSON' };
    default:
      break;
  }
  // Errors Fastify raises for the client (bad JSON, bad headers) carry a 4xx statusCode.
  if (typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500) {
    if (error.statusCode === 404) return { code: 'not_found', detail: 'No such resource' };
    if (error.statusCode === 413) return { code: 'payload_too_large', detail: 'The request body exceeds the size limit' };
    if (error.statusCode === 415) return { code: 'unsupported_media_type', detail: 'Unsupported media type' };
    if (error.statusCode === 429) return { code: 'rate_limited', detail: 'Too many requests' };
    return { code: 'invalid_request', detail: 'The request could not be understood' };
  }
  return undefined;
}

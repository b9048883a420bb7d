// pino with personal data redaction. Logs leave the database's protection (they are shipped,
// grepped, kept longer), so no personal value may ever be written to them: only ids.
import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import type { LogLevel } from '../config.js';

/** Keys whose values are personal data or secrets, wherever they appear in a logged object. */
export const REDACTED_KEYS = [
  'name',
  'firstName',
  'firstNames',
  'lastName',
  'birthName',
  'usedName',
  'fullName',
  'email',
  'phone',
  'mobile',
  'birthDate',
  'dateOfBirth',
  'address',
  'ins',
  'nir',
  'password',
  'newPassword',
  'currentPassword',
  'passwordHash',
  'token',
  'accessToken',
  'refreshToken',
  'csrfToken',
  'secret',
  'totpSecret',
  'otp',
  'totpCode',
  'recoveryCode',
  'apiKey',
  'authorization',
  'cookie',
  'set-cookie',
  'x-csrf-token',
  'reason',
] as const;

/** Keys are matched exactly, at any depth. */
const REDACTED = new Set<string>(REDACTED_KEYS);
const CENSOR = '[redacted]';
/** Objects nested deeper than this are replaced whole: a log line has no business going there. */
const MAX_DEPTH = 8;
const TOO_DEEP = '[redacted: too deep]';

/**
 * `value` with every property named in REDACTED_KEYS, at any depth, replaced by "[redacted]".
 * One walk of the value; only the objects on the way to a redacted key are copied (with their
 * prototype, so that an Error stays an Error), everything else is shared, and a value with
 * nothing to redact comes back as is. Values that serialise themselves (Date, Buffer: toJSON)
 * and typed arrays are not entered.
 *
 * It replaced pino's path-based `redact` option, whose 148 wildcard paths (each key at depths 0
 * to 4) were walked one by one on every logged object *and* on every child logger's bindings —
 * a fifth of the CPU of a cached public read, spent on the request id of its child logger.
 */
export function redactPersonal(value: unknown, depth = 0, leave?: ReadonlySet<string>): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (ArrayBuffer.isView(value) || typeof (value as { toJSON?: unknown }).toJSON === 'function') return value;
  if (depth >= MAX_DEPTH) return TOO_DEEP;
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      const redacted = redactPersonal(item, depth + 1);
      if (redacted !== item) (copy ??= value.slice())[i] = redacted;
    }
    return copy ?? value;
  }
  let copy: Record<string, unknown> | undefined;
  const source = value as Record<string, unknown>;
  for (const key of Object.keys(source)) {
    if (leave?.has(key)) continue;
    const item = source[key];
    const redacted = REDACTED.has(key) ? (item === undefined ? item : CENSOR) : redactPersonal(item, depth + 1);
    if (redacted === item) continue;
    copy ??= Object.create(Object.getPrototypeOf(source) as object | null, Object.getOwnPropertyDescriptors(source)) as Record<string, unknown>;
    Object.defineProperty(copy, key, { value: redacted, enumerable: true, writable: true, configurable: true });
  }
  return copy ?? value;
}

const redactObject = <T extends object>(value: T): T => redactPersonal(value) as T;

/**
 * Keys that have a serializer below: `formatters.log` runs before the serializers, so their values
 * are left to them (walking Fastify's request or reply, sockets and streams, would be slow and
 * pointless: the serializers keep ids only, and the error serializer's output is redacted).
 */
const SERIALIZED: ReadonlySet<string> = new Set(['req', 'res', 'err']);

const redactLogObject = (obj: Record<string, unknown>): Record<string, unknown> => redactPersonal(obj, 0, SERIALIZED) as Record<string, unknown>;

export function createLogger(level: LogLevel, destination?: DestinationStream): Logger {
  const options: LoggerOptions = {
    level,
    base: { service: 'hygie' },
    // Every logged object and every child logger's bindings; serializers run after `log`, so
    // the error serializer's output is redacted too.
    formatters: { log: redactLogObject, bindings: redactObject },
    serializers: {
      // URLs may carry search terms (API.md puts lastName in a query string for staff search):
      // log the path only.
      req: (req: { id?: string; method?: string; url?: string; routeOptions?: { url?: string } }) => ({
        id: req.id,
        method: req.method,
        path: stripQuery(req.url),
        route: req.routeOptions?.url,
      }),
      res: (res: { statusCode?: number }) => ({ statusCode: res.statusCode }),
      err: (err: Error) => redactPersonal(pino.stdSerializers.err(err)),
    },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  const logger = destination ? pino(options, destination) : pino(options);
  // `formatters.bindings` applies to the root's bindings only (pino resets it for children), so
  // children's bindings are redacted here; every descendant inherits this `child`.
  const proto = Object.getPrototypeOf(logger) as Pick<Logger, 'child'>;
  logger.child = function (this: Logger, bindings, childOptions) {
    return proto.child.call(this, redactObject(bindings), childOptions);
  } as Logger['child'];
  return logger;
}

export function stripQuery(url: string | undefined): string | undefined {
  if (url === undefined) return undefined;
  const i = url.indexOf('?');
  return i === -1 ? url : url.slice(0, i);
}

export type { Logger };

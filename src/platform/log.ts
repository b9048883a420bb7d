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

const DEPTH = 4;

/** fast-redact paths for every redacted key at the top level and up to DEPTH levels below it. */
export function redactionPaths(): string[] {
  const paths: string[] = [];
  for (const key of REDACTED_KEYS) {
    const segment = /^[A-Za-z_$][\w$]*$/.test(key) ? key : `["${key}"]`;
    for (let depth = 0; depth <= DEPTH; depth++) {
      const prefix = '*.'.repeat(depth);
      paths.push(segment.startsWith('[') ? `${prefix.slice(0, -1)}${segment}` : `${prefix}${segment}`);
    }
  }
  // A top-level bracket path cannot start with an empty prefix: keep only valid forms.
  return paths.filter((p) => !p.startsWith('['));
}

export function createLogger(level: LogLevel, destination?: DestinationStream): Logger {
  const options: LoggerOptions = {
    level,
    base: { service: 'hygie' },
    redact: { paths: redactionPaths(), censor: '[redacted]' },
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
    },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return destination ? pino(options, destination) : pino(options);
}

export function stripQuery(url: string | undefined): string | undefined {
  if (url === undefined) return undefined;
  const i = url.indexOf('?');
  return i === -1 ? url : url.slice(0, i);
}

export type { Logger };

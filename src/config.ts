// The one place that reads the environment. Everything else receives a validated Config.
import { isIP } from 'node:net';
import path from 'node:path';
import { inspect } from 'node:util';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface Config {
  /** TCP port of the HTTP server (PORT, default 3000). */
  port: number;
  /** Interface to listen on (HOST, default 127.0.0.1). */
  host: string;
  /** PostgreSQL URL (DATABASE_URL); undefined means the embedded PGlite database. */
  databaseUrl: string | undefined;
  /** Directory of the embedded database, key files and demo accounts (HYGIE_DATA_DIR, default ./.hygie). */
  dataDir: string;
  /** Redis URL for counters shared between instances (REDIS_URL, optional). */
  redisUrl: string | undefined;
  /** Public base URL of this instance, used in links and to decide on HSTS (HYGIE_PUBLIC_URL). */
  publicUrl: string;
  /** SMTP URL for outgoing mail (SMTP_URL); undefined writes mail to the log and the outbox. */
  smtpUrl: string | undefined;
  /** Proxies whose X-Forwarded-For is trusted (HYGIE_TRUST_PROXY: comma-separated IPs/CIDRs). */
  trustProxy: string[];
  /** pino level (HYGIE_LOG_LEVEL, default info). */
  logLevel: LogLevel;
  /** Maximum request body size in bytes (HYGIE_BODY_LIMIT, default 1 MiB). */
  bodyLimit: number;
  /** Database role the application runs as (HYGIE_DB_APP_ROLE, default hygie_app). */
  dbAppRole: string;
  /**
   * Where the vault's root keys come from (HYGIE_KEY_PROVIDER): 'local', a keyring file
   * <dataDir>/vault-keyring.json created on first start with mode 0600 (the default, also with
   * DATABASE_URL), or 'env', the keys in HYGIE_MASTER_KEY (the default when it is set).
   */
  keyProvider: 'local' | 'env';
  /**
   * Root keys for the env provider (HYGIE_MASTER_KEY: comma-separated base64 of 32 random bytes,
   * newest first; `openssl rand -base64 32` makes one). The first derives new keys, the others
   * still decrypt until a rotation has moved everything off them.
   */
  masterKeys: SecretKeys | undefined;
  /** Secret seed (base64, at least 32 bytes) from which the audit checkpoint signing keys are
   * derived (HYGIE_AUDIT_KEY_SEED); unset: one key file per stream under <dataDir>/audit-keys. */
  auditKeySeed: Buffer | undefined;
  /** File to which every signed audit checkpoint is appended, to keep them outside the database
   * (HYGIE_AUDIT_CHECKPOINTS_FILE, optional; ideally on another disk or an append-only mount). */
  auditCheckpointsFile: string | undefined;
  /** Collector for security alerts (HYGIE_SYSLOG_URL: tcp://, tls:// or udp://host:port, RFC 5424; optional). */
  syslogUrl: string | undefined;
  /** Webhook receiving security alerts, signed with HMAC-SHA256 (HYGIE_WEBHOOK_URL and HYGIE_WEBHOOK_SECRET, both or neither). */
  webhook: { url: string; secret: string } | undefined;
  /** Collectors that also receive every sealed audit event (HYGIE_FORWARD_AUDIT: "syslog", "webhook" or both; default none). */
  forwardAudit: Array<'syslog' | 'webhook'>;
  /** ICE servers handed to teleconsultation browsers (see TeleconsultConfig). */
  teleconsult: TeleconsultConfig;
}

/**
 * STUN/TURN for WebRTC video calls. Unset, browsers connect directly (same network or loopback).
 * HYGIE_STUN_URLS: comma-separated stun: URLs. HYGIE_TURN_URLS: comma-separated turn:/turns: URLs,
 * with HYGIE_TURN_SECRET, the TURN server's shared secret (coturn `static-auth-secret`), from which
 * short-lived credentials are derived per call. HYGIE_TURN_TTL: their lifetime in seconds
 * (default 14400). HYGIE_TELECONSULT_RELAY_ONLY=true: media only through TURN, so that neither
 * party learns the other's IP address.
 */
export interface TeleconsultConfig {
  stunUrls: string[];
  turnUrls: string[];
  turnSecret: SecretKeys | undefined;
  turnTtlSeconds: number;
  relayOnly: boolean;
}

/** Key material read from the environment: never serialised, printed or logged. */
export class SecretKeys {
  readonly #keys: readonly Buffer[];
  constructor(keys: readonly Buffer[]) {
    this.#keys = keys.map((k) => Buffer.from(k));
  }
  get keys(): readonly Buffer[] {
    return this.#keys;
  }
  toJSON(): string {
    return '[redacted]';
  }
  [inspect.custom](): string {
    return `SecretKeys(${this.#keys.length})`;
  }
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

type Env = Readonly<Record<string, string | undefined>>;

const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** Parses and validates the environment; throws ConfigError listing one line per bad value. */
export function loadConfig(env: Env, cwd: string = process.cwd()): Config {
  const problems: string[] = [];
  const get = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value === undefined || value === '' ? undefined : value;
  };

  const port = parseInteger(get('PORT') ?? '3000', 0, 65535);
  if (port === undefined) problems.push(`PORT must be an integer between 0 and 65535, got "${get('PORT')}"`);

  const host = get('HOST') ?? '127.0.0.1';

  const databaseUrl = get('DATABASE_URL');
  if (databaseUrl !== undefined && !isUrlWithProtocol(databaseUrl, ['postgres:', 'postgresql:'])) {
    problems.push('DATABASE_URL must be a postgres:// or postgresql:// URL (unset it to use the embedded database)');
  }

  const dataDir = path.resolve(cwd, get('HYGIE_DATA_DIR') ?? '.hygie');

  const redisUrl = get('REDIS_URL');
  if (redisUrl !== undefined && !isUrlWithProtocol(redisUrl, ['redis:', 'rediss:'])) {
    problems.push('REDIS_URL must be a redis:// or rediss:// URL');
  }

  const smtpUrl = get('SMTP_URL');
  if (smtpUrl !== undefined && !isUrlWithProtocol(smtpUrl, ['smtp:', 'smtps:'])) {
    problems.push('SMTP_URL must be an smtp:// or smtps:// URL');
  }

  const trustProxy = (get('HYGIE_TRUST_PROXY') ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  for (const entry of trustProxy) {
    if (!isIpOrCidr(entry)) problems.push(`HYGIE_TRUST_PROXY entry "${entry}" is not an IP address or CIDR range`);
  }

  const logLevel = (get('HYGIE_LOG_LEVEL') ?? 'info') as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) problems.push(`HYGIE_LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}`);

  const bodyLimit = parseInteger(get('HYGIE_BODY_LIMIT') ?? String(1024 * 1024), 1024, 100 * 1024 * 1024);
  if (bodyLimit === undefined) problems.push('HYGIE_BODY_LIMIT must be a number of bytes between 1024 and 104857600');

  const dbAppRole = get('HYGIE_DB_APP_ROLE') ?? 'hygie_app';
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(dbAppRole)) {
    problems.push('HYGIE_DB_APP_ROLE must be a lower-case SQL identifier');
  }

  const seedText = get('HYGIE_AUDIT_KEY_SEED');
  const auditKeySeed = seedText === undefined ? undefined : Buffer.from(seedText, 'base64');
  if (seedText !== undefined && (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(seedText) || auditKeySeed!.length < 32)) {
    problems.push('HYGIE_AUDIT_KEY_SEED must be at least 32 random bytes in base64');
  }
  const checkpointsText = get('HYGIE_AUDIT_CHECKPOINTS_FILE');
  const auditCheckpointsFile = checkpointsText === undefined ? undefined : path.resolve(cwd, checkpointsText);
  const syslogUrl = get('HYGIE_SYSLOG_URL');
  if (syslogUrl !== undefined && !isUrlWithProtocol(syslogUrl, ['tcp:', 'tls:', 'udp:'])) {
    problems.push('HYGIE_SYSLOG_URL must be a tcp://, tls:// or udp:// URL');
  }

  const webhookUrl = get('HYGIE_WEBHOOK_URL');
  const webhookSecret = get('HYGIE_WEBHOOK_SECRET');
  if (webhookUrl !== undefined && !isUrlWithProtocol(webhookUrl, ['http:', 'https:'])) problems.push('HYGIE_WEBHOOK_URL must be an http:// or https:// URL');
  if ((webhookUrl === undefined) !== (webhookSecret === undefined)) problems.push('HYGIE_WEBHOOK_URL and HYGIE_WEBHOOK_SECRET go together');
  else if (webhookSecret !== undefined && webhookSecret.length < 32) problems.push('HYGIE_WEBHOOK_SECRET must be at least 32 characters');

  const forwardText = get('HYGIE_FORWARD_AUDIT');
  const forwardAudit = (forwardText ?? '').split(',').map((v) => v.trim()).filter((v) => v !== '') as Array<'syslog' | 'webhook'>;
  for (const d of forwardAudit) {
    if (d !== 'syslog' && d !== 'webhook') problems.push('HYGIE_FORWARD_AUDIT is a comma-separated list of "syslog" and "webhook"');
    else if (d === 'syslog' && syslogUrl === undefined) problems.push('HYGIE_FORWARD_AUDIT names syslog but HYGIE_SYSLOG_URL is not set');
    else if (d === 'webhook' && webhookUrl === undefined) problems.push('HYGIE_FORWARD_AUDIT names webhook but HYGIE_WEBHOOK_URL is not set');
  }

  const defaultPublicUrl = `http://${host.includes(':') ? `[${host}]` : host}:${port ?? 3000}`;
  const publicUrl = (get('HYGIE_PUBLIC_URL') ?? defaultPublicUrl).replace(/\/+$/, '');
  if (!isUrlWithProtocol(publicUrl, ['http:', 'https:'])) {
    problems.push('HYGIE_PUBLIC_URL must be an http:// or https:// URL');
  }

  const keyProviderName = get('HYGIE_KEY_PROVIDER');
  const masterKeyText = get('HYGIE_MASTER_KEY');
  const keyProvider: 'local' | 'env' = (keyProviderName ?? (masterKeyText === undefined ? 'local' : 'env')) as 'local' | 'env';
  if (keyProvider !== 'local' && keyProvider !== 'env') problems.push('HYGIE_KEY_PROVIDER must be local or env');
  let masterKeys: SecretKeys | undefined;
  if (masterKeyText !== undefined) {
    const keys = masterKeyText.split(',').map((k) => k.trim());
    // Never echo the value: only its position.
    const bad = keys.findIndex((k) => !/^[A-Za-z0-9+/]{43}=$/.test(k) || Buffer.from(k, 'base64').length !== 32);
    if (bad !== -1) problems.push(`HYGIE_MASTER_KEY key #${bad + 1} is not the base64 of 32 bytes (make one with: openssl rand -base64 32)`);
    else masterKeys = new SecretKeys(keys.map((k) => Buffer.from(k, 'base64')));
  }
  if (keyProvider === 'env' && masterKeyText === undefined) problems.push('HYGIE_KEY_PROVIDER=env needs HYGIE_MASTER_KEY');
  if (keyProvider === 'local' && masterKeyText !== undefined) {
    problems.push('HYGIE_MASTER_KEY is set but HYGIE_KEY_PROVIDER=local: unset one of them');
  }

  const teleconsult = parseTeleconsult(get, problems);

  if (problems.length > 0) throw new ConfigError(problems);
  return {
    port: port ?? 3000,
    host,
    databaseUrl,
    dataDir,
    redisUrl,
    publicUrl,
    smtpUrl,
    trustProxy,
    logLevel,
    bodyLimit: bodyLimit ?? 1024 * 1024,
    dbAppRole,
    keyProvider,
    masterKeys,
    auditKeySeed,
    auditCheckpointsFile,
    syslogUrl,
    webhook: webhookUrl && webhookSecret ? { url: webhookUrl, secret: webhookSecret } : undefined,
    forwardAudit: [...new Set(forwardAudit)],
    teleconsult,
  };
}

function parseTeleconsult(get: (name: string) => string | undefined, problems: string[]): TeleconsultConfig {
  const list = (name: string) =>
    (get(name) ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
  const stunUrls = list('HYGIE_STUN_URLS');
  for (const url of stunUrls) if (!/^stuns?:[^\s]+$/.test(url)) problems.push(`HYGIE_STUN_URLS entry "${url}" must start with stun: or stuns:`);
  const turnUrls = list('HYGIE_TURN_URLS');
  for (const url of turnUrls) if (!/^turns?:[^\s]+$/.test(url)) problems.push(`HYGIE_TURN_URLS entry "${url}" must start with turn: or turns:`);
  const secret = get('HYGIE_TURN_SECRET');
  if ((turnUrls.length > 0) !== (secret !== undefined)) problems.push('HYGIE_TURN_URLS and HYGIE_TURN_SECRET go together');
  else if (secret !== undefined && secret.length < 32) problems.push('HYGIE_TURN_SECRET must be at least 32 characters');
  const turnTtlSeconds = parseInteger(get('HYGIE_TURN_TTL') ?? '14400', 60, 86400);
  if (turnTtlSeconds === undefined) problems.push('HYGIE_TURN_TTL must be a number of seconds between 60 and 86400');
  const relay = get('HYGIE_TELECONSULT_RELAY_ONLY') ?? 'false';
  if (relay !== 'true' && relay !== 'false') problems.push('HYGIE_TELECONSULT_RELAY_ONLY must be true or false');
  if (relay === 'true' && turnUrls.length === 0) problems.push('HYGIE_TELECONSULT_RELAY_ONLY=true needs HYGIE_TURN_URLS');
  return {
    stunUrls,
    turnUrls,
    turnSecret: secret === undefined ? undefined : new SecretKeys([Buffer.from(secret, 'utf8')]),
    turnTtlSeconds: turnTtlSeconds ?? 14400,
    relayOnly: relay === 'true',
  };
}

/** The process environment, read here and nowhere else. */
export function loadConfigFromProcess(overrides: Env = {}): Config {
  return loadConfig({ ...process.env, ...overrides });
}

/** Environment variables that test helpers and benches may read (documented in the README). */
export function readTestSettings(): { databaseUrl: string | undefined; chromiumPath: string | undefined } {
  return { databaseUrl: process.env['DATABASE_URL'] || undefined, chromiumPath: process.env['CHROMIUM_PATH'] || undefined };
}

function parseInteger(value: string, min: number, max: number): number | undefined {
  if (!/^\d+$/.test(value)) return undefined;
  const n = Number(value);
  return Number.isSafeInteger(n) && n >= min && n <= max ? n : undefined;
}

function isUrlWithProtocol(value: string, protocols: string[]): boolean {
  try {
    return protocols.includes(new URL(value).protocol);
  } catch {
    return false;
  }
}

function isIpOrCidr(value: string): boolean {
  const [address, bits, ...rest] = value.split('/');
  if (rest.length > 0 || address === undefined) return false;
  const family = isIP(address);
  if (family === 0) return false;
  if (bits === undefined) return true;
  const n = parseInteger(bits, 0, family === 4 ? 32 : 128);
  return n !== undefined;
}

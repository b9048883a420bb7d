// An application over a fresh test database with the demo data, an injectable clock and an HTTP
// client that keeps cookies like a browser (and sends the CSRF token once it knows it).
import { randomBytes } from 'node:crypto';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { buildApp } from '../../src/app.js';
import { sealStoredTotpSecrets, totpCode } from '../../src/modules/identity/index.js';
import { readOutbox } from '../../src/platform/mail.js';
import { queueCipher } from '../../src/modules/vault/index.js';
import { createLogger } from '../../src/platform/log.js';
import { seedDemo } from '../../src/seed/demo.js';
import type { DemoData } from '../../src/seed/demo-data.js';
import { createTestDatabase, testConfig, type TestDatabase } from './db.js';

export interface TestClock {
  now(): Date;
  advance(ms: number): void;
}

export interface TestApp {
  app: FastifyInstance;
  t: TestDatabase;
  data: DemoData;
  clock: TestClock;
  client(ip?: string): TestClient;
  /** Runs the job worker until the queue is empty, then reads the newest mail to `to`. */
  lastMail(to: string): Promise<{ subject: string; text: string } | undefined>;
  close(): Promise<void>;
}

export async function createTestApp(env: Record<string, string> = {}, options: { routes?: (app: FastifyInstance) => void } = {}): Promise<TestApp> {
  const t = await createTestDatabase();
  const { data } = await seedDemo(t.db, undefined, t.vault);
  let now = new Date('2026-03-02T08:00:00Z').getTime();
  const clock: TestClock = { now: () => new Date(now), advance: (ms) => (now += ms) };
  const config = testConfig({ HYGIE_PUBLIC_URL: 'http://localhost:3000', ...env });
  const identityKey = randomBytes(32);
  await sealStoredTotpSecrets({ config, db: t.db, logger: createLogger('silent'), identityKey });
  const app = await buildApp({ config, db: t.db, vault: t.vault, logger: createLogger('silent'), clock: clock.now, identityKey });
  options.routes?.(app);
  await app.ready();
  return {
    app,
    t,
    data,
    clock,
    client: (ip = '198.51.100.7') => new TestClient(app, clock, ip),
    async lastMail(to) {
      while ((await app.jobs.runOnce()) > 0);
      return (await readOutbox(t.db, queueCipher(t.vault), to))[0];
    },
    async close() {
      await app.close();
      await t.drop();
    },
  };
}

export class TestClient {
  readonly cookies = new Map<string, string>();
  csrfToken: string | undefined;

  constructor(
    private readonly app: FastifyInstance,
    private readonly clock: TestClock,
    readonly ip: string,
  ) {}

  async request(method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, body?: unknown, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
    const cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const res = await this.app.inject({
      method,
      url,
      remoteAddress: this.ip,
      headers: {
        ...(cookie ? { cookie } : {}),
        ...(this.csrfToken && method !== 'GET' ? { 'x-csrf-token': this.csrfToken } : {}),
        'user-agent': 'vitest',
        ...headers,
      },
      ...(body !== undefined ? { payload: body as object } : {}),
    });
    for (const c of res.cookies as Array<{ name: string; value: string; maxAge?: number; expires?: Date }>) {
      if (c.value === '' || c.maxAge === 0 || (c.expires && c.expires.getTime() <= Date.now())) this.cookies.delete(c.name);
      else this.cookies.set(c.name, c.value);
    }
    return res;
  }

  get = (url: string, headers?: Record<string, string>) => this.request('GET', url, undefined, headers);
  post = (url: string, body: unknown = {}, headers?: Record<string, string>) => this.request('POST', url, body, headers);
  put = (url: string, body: unknown = {}, headers?: Record<string, string>) => this.request('PUT', url, body, headers);
  delete = (url: string, headers?: Record<string, string>) => this.request('DELETE', url, undefined, headers);

  /** Fetches /me and remembers the CSRF token. */
  async me(): Promise<LightMyRequestResponse> {
    const res = await this.get('/api/v1/auth/me');
    if (res.statusCode === 200) this.csrfToken = res.json().csrfToken;
    return res;
  }

  /** A TOTP code of a step not used yet: the clock moves 30 s first (a code works once). */
  async nextCode(secret: string): Promise<string> {
    this.clock.advance(30_000);
    return totpCode(secret, this.clock.now());
  }

  /** Password then TOTP; returns the final response. */
  async loginStaff(email: string, password: string, totpSecret: string): Promise<LightMyRequestResponse> {
    const first = await this.post('/api/v1/auth/login', { email, password });
    if (first.statusCode !== 200 || first.json().status !== 'mfa_required') return first;
    const res = await this.post('/api/v1/auth/login/mfa', { challengeId: first.json().challengeId, code: await this.nextCode(totpSecret) });
    if (res.statusCode === 200) await this.me();
    return res;
  }

  async loginPatient(email: string, password: string): Promise<LightMyRequestResponse> {
    const res = await this.post('/api/v1/auth/login', { email, password });
    if (res.statusCode === 200) await this.me();
    return res;
  }

  /** A fresh second factor in this session (for sensitive actions). */
  async stepUp(totpSecret: string): Promise<LightMyRequestResponse> {
    return this.post('/api/v1/auth/step-up', { code: await this.nextCode(totpSecret) });
  }
}

/** The demo staff member with this role in this establishment (first establishment by default). */
export function staffOf(data: DemoData, role: 'practitioner' | 'secretary' | 'admin' | 'security_officer', establishmentIndex = 0) {
  const establishmentId = data.establishments[establishmentIndex]!.id;
  const s = data.staff.find((x) => x.memberships.some((m) => m.establishmentId === establishmentId && m.role === role));
  if (!s) throw new Error(`no demo ${role} in establishment ${establishmentIndex}`);
  return { ...s, establishmentId };
}

// Forwarding of audit events and alerts to external collectors through the job outbox, against
// real local receivers: a TCP syslog listener (octet-counted RFC 5424), a UDP one (RFC 5426) and
// an HTTP webhook receiver that checks the HMAC signature. At least once: a collector outage
// delays delivery, never loses an event. Pseudonymous ids only: no IP, no written reason.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import dgram from 'node:dgram';
import http from 'node:http';
import net from 'node:net';
import { sql } from 'kysely';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { insertEstablishments, testKeyring } from './helpers/audit.js';
import { appendAuditEvent, sealPending, type AuditKeyring } from '../src/modules/audit/index.js';
import { createJobRunner, type JobRunner } from '../src/platform/jobs.js';
import { createLogger } from '../src/platform/log.js';
import {
  createSyslogForwarder,
  createWebhookForwarder,
  formatAuditSyslog,
  outboxAlertNotifier,
  registerForwarding,
  verifyWebhook,
  type Forwarding,
  type SyslogForwarder,
} from '../src/modules/guard/index.js';

const SECRET = 's'.repeat(40);
const IP = '203.0.113.77';
const REASON = 'Patient unconscious in the emergency room, cardiac history suspected';
const P1 = '0190a000-0000-7000-8000-0000000000c1';
const P2 = '0190a000-0000-7000-8000-0000000000c2';

interface Receivers {
  syslog: string[];
  udp: string[];
  webhook: Array<{ body: string; valid: boolean }>;
  failWebhook: number;
  tcpPort: number;
  udpPort: number;
  httpPort: number;
  close(): Promise<void>;
}

async function startReceivers(): Promise<Receivers> {
  const r = { syslog: [] as string[], udp: [] as string[], webhook: [] as Array<{ body: string; valid: boolean }>, failWebhook: 0 };
  const tcp = net.createServer((s) => {
    let buffer = Buffer.alloc(0);
    s.on('data', (d) => {
      buffer = Buffer.concat([buffer, d]);
      for (;;) {
        const space = buffer.indexOf(0x20);
        if (space < 0) break;
        const len = Number(buffer.subarray(0, space).toString());
        if (buffer.length < space + 1 + len) break;
        r.syslog.push(buffer.subarray(space + 1, space + 1 + len).toString('utf8'));
        buffer = buffer.subarray(space + 1 + len);
      }
    });
  });
  const udp = dgram.createSocket('udp4');
  udp.on('message', (m) => r.udp.push(m.toString('utf8')));
  const web = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      if (r.failWebhook > 0) {
        r.failWebhook--;
        res.writeHead(503).end();
        return;
      }
      const valid = verifyWebhook(SECRET, String(req.headers['x-hygie-signature'] ?? ''), body, Math.floor(Date.now() / 1000));
      r.webhook.push({ body, valid });
      res.writeHead(valid ? 204 : 401).end();
    });
  });
  const tcpPort = await new Promise<number>((res) => tcp.listen(0, '127.0.0.1', () => res((tcp.address() as net.AddressInfo).port)));
  const udpPort = await new Promise<number>((res) => udp.bind(0, '127.0.0.1', () => res(udp.address().port)));
  const httpPort = await new Promise<number>((res) => web.listen(0, '127.0.0.1', () => res((web.address() as net.AddressInfo).port)));
  return Object.assign(r, {
    tcpPort,
    udpPort,
    httpPort,
    async close() {
      tcp.close();
      web.close();
      web.closeAllConnections();
      await new Promise<void>((res) => udp.close(() => res()));
    },
  });
}

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`gave up waiting: ${what}`);
}

let t: TestDatabase;
let rx: Receivers;
let keyring: AuditKeyring;
let a: string;
let b: string;
let jobs: JobRunner;
let forwarding: Forwarding;
let syslog: SyslogForwarder;

beforeAll(async () => {
  t = await createTestDatabase();
  keyring = testKeyring();
  [a, b] = (await insertEstablishments(t.db)) as [string, string];
  rx = await startReceivers();
  syslog = createSyslogForwarder(`tcp://127.0.0.1:${rx.tcpPort}`, { host: 'hygie-test' });
  const webhook = createWebhookForwarder(`http://127.0.0.1:${rx.httpPort}/hook`, SECRET);
  jobs = createJobRunner({ db: t.db, logger: createLogger('silent') });
  forwarding = registerForwarding(jobs, { db: t.db, targets: { syslog, webhook }, auditEvents: ['syslog', 'webhook'] });
});
afterAll(async () => {
  forwarding?.stop();
  await syslog?.close();
  await rx?.close();
  await t?.drop();
});

const user = { kind: 'user' as const, userId: '0190a000-0000-7000-8000-0000000000d1', sessionId: '0190a000-0000-7000-8000-0000000000d2', memberships: [], secondFactorAt: null };

async function appendSamples(): Promise<void> {
  await t.db.withTenant(a, async (tx) => {
    await appendAuditEvent(tx, { establishmentId: a, actor: user, actorRole: 'practitioner', ip: IP, action: 'patient.read', resourceKind: 'patient', patientIds: [P1], categories: ['identity'], outcome: 'allowed' });
    await appendAuditEvent(tx, { establishmentId: a, actor: user, actorRole: 'practitioner', ip: IP, action: 'clinical_entry.read', resourceKind: 'clinical_entry', patientIds: [P2], categories: ['clinical'], purpose: 'break_glass', reason: REASON, outcome: 'allowed' });
  });
  await t.db.withTenant(b, (tx) => appendAuditEvent(tx, { establishmentId: b, actor: user, actorRole: 'secretary', ip: IP, action: 'agenda.list', resourceKind: 'agenda', patientIds: [P1], categories: ['administrative'], outcome: 'denied' }));
  await t.db.withPlatform((tx) => appendAuditEvent(tx, { establishmentId: null, actor: user, ip: IP, action: 'auth.login', outcome: 'allowed' }));
}
async function runForwarding(): Promise<void> {
  await forwarding.schedule();
  while ((await jobs.runOnce()) > 0);
}
const parsedWebhookEvents = () =>
  rx.webhook
    .filter((w) => w.valid)
    .map((w) => JSON.parse(w.body) as { type: string; events?: Array<{ id: string; seq: string; stream: string }> })
    .filter((d) => d.type === 'audit_events')
    .flatMap((d) => d.events!);

describe('forwarding audit events', () => {
  it('ships every sealed event of every stream, once, in chain order, to syslog and to the signed webhook, without IP or reason', async () => {
    await appendSamples();
    await runForwarding();
    // Not sealed yet: nothing leaves (the collector gets chained, checkpointed events).
    expect(rx.syslog).toEqual([]);
    await sealPending(t.db, keyring);
    await runForwarding();
    await until(() => rx.syslog.length >= 4, 'syslog messages');
    const ids = await t.db.owner.selectFrom('audit_events').select(['id', 'establishment_id']).orderBy('id').execute();
    expect(rx.syslog).toHaveLength(ids.length);
    const received = rx.syslog.map((m) => JSON.parse(m.slice(m.indexOf('\uFEFF') + 1)) as { id: string; stream: string; seq: string; hash: string; patientIds: string[]; hasReason: boolean });
    expect(received.map((e) => e.id).sort()).toEqual(ids.map((e) => e.id).sort());
    for (const stream of new Set(received.map((e) => e.stream))) {
      const seqs = received.filter((e) => e.stream === stream).map((e) => Number(e.seq));
      expect(seqs).toEqual(seqs.map((_, i) => i + 1));
    }
    expect(rx.syslog[0]).toMatch(/^<(108|109)>1 \d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z hygie-test hygie \d+ \S+ \[hygie@32473 type="audit" stream="[0-9a-f-]{36}" seq="\d+" /);
    const denied = rx.syslog.find((m) => m.includes('action="agenda.list"'))!;
    expect(denied.startsWith('<108>1 ')).toBe(true);
    expect(received.find((e) => e.patientIds.includes(P2))!.hasReason).toBe(true);

    const viaWebhook = parsedWebhookEvents();
    expect(viaWebhook.map((e) => e.id).sort()).toEqual(ids.map((e) => e.id).sort());
    expect(rx.webhook.every((w) => w.valid)).toBe(true);

    // Pseudonymous ids and codes only.
    for (const text of [...rx.syslog, ...rx.webhook.map((w) => w.body)]) {
      expect(text).not.toContain(IP);
      expect(text).not.toContain(REASON);
      expect(text).not.toContain(user.sessionId);
    }

    // A second run sends nothing new.
    const before = [rx.syslog.length, rx.webhook.length];
    await runForwarding();
    expect([rx.syslog.length, rx.webhook.length]).toEqual(before);
  });

  it('at least once: a collector outage delays the events and the cursor waits; nothing is lost', async () => {
    const webhookBefore = parsedWebhookEvents().length;
    rx.failWebhook = 1;
    await appendSamples();
    await sealPending(t.db, keyring);
    await runForwarding();
    const failed = await t.db.owner.selectFrom('jobs').select(['last_error', 'run_at']).where('kind', '=', 'guard.forward.audit').execute();
    expect(failed).toHaveLength(1);
    expect(failed[0]!.last_error).toMatch(/503/);
    expect(parsedWebhookEvents().length).toBe(webhookBefore);
    // The collector is back; the outbox retries the job (made due now instead of waiting its back-off).
    await sql`update jobs set run_at = now() where kind = 'guard.forward.audit'`.execute(t.db.owner);
    await runForwarding();
    const all = parsedWebhookEvents();
    const ids = await t.db.owner.selectFrom('audit_events').select('id').execute();
    expect(new Set(all.map((e) => e.id))).toEqual(new Set(ids.map((e) => e.id)));
    const cursors = await t.db.owner.selectFrom('audit_forward_cursors').select(['destination', 'stream', 'last_seq']).where('destination', '=', 'webhook').execute();
    expect(cursors.map((c) => Number(c.last_seq)).reduce((x, y) => x + y, 0)).toBe(ids.length);
  });
});

describe('forwarding alerts through the outbox', () => {
  const alert = { establishmentId: '', alertId: '0190a000-0000-7000-8000-0000000000a9', kind: 'export_requested', severity: 'warning' as const };

  it('queues one job per collector in the alert transaction (none when it rolls back) and delivers it', async () => {
    const notifier = outboxAlertNotifier({ syslog, webhook: createWebhookForwarder(`http://127.0.0.1:${rx.httpPort}/hook`, SECRET) });
    await expect(
      t.db.withTenant(a, async (tx) => {
        await notifier.alertRaised(tx, { ...alert, establishmentId: a, alertId: '0190a000-0000-7000-8000-0000000000aa' });
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    await t.db.withTenant(a, (tx) => notifier.alertRaised(tx, { ...alert, establishmentId: a }));
    expect(await t.db.owner.selectFrom('jobs').select('id').where('kind', '=', 'guard.forward.alert').execute()).toHaveLength(2);
    while ((await jobs.runOnce()) > 0);
    await until(() => rx.syslog.some((m) => m.includes(`alert="${alert.alertId}"`)), 'alert over syslog');
    expect(rx.syslog.some((m) => m.includes('0190a000-0000-7000-8000-0000000000aa'))).toBe(false);
    const hook = rx.webhook.map((w) => JSON.parse(w.body) as { type: string; alertId?: string }).filter((d) => d.type === 'security_alert');
    expect(hook.map((d) => d.alertId)).toEqual([alert.alertId]);
  });
});

describe('syslog over UDP', () => {
  it('sends one RFC 5424 datagram per event to a local UDP listener, leaving long id lists out of the message', async () => {
    const udp = createSyslogForwarder(`udp://127.0.0.1:${rx.udpPort}`, { host: 'hygie-test' });
    try {
      const many = Array.from({ length: 300 }, (_, i) => `0190a000-0000-7000-8000-${String(i).padStart(12, '0')}`);
      const event = {
        type: 'audit_event' as const, stream: a, seq: '7', hash: 'ab'.repeat(32), id: '0190a000-0000-7000-8000-0000000000e7', at: '2026-11-23T09:30:00.123456Z',
        establishmentId: a, actorKind: 'user', actorUserId: user.userId, actorRole: 'secretary', apiKeyId: null, action: 'security.export.download',
        resourceKind: 'bulk_export', resourceIds: [], patientIds: many, categories: ['administrative', 'identity'], purpose: 'bulk_export', outcome: 'allowed', hasReason: false,
      };
      await udp.sendMessage(formatAuditSyslog(event, { host: 'hygie-test', maxBytes: 2048 }));
      await udp.sendMessage(formatAuditSyslog({ ...event, patientIds: [P1] }, { host: 'hygie-test', maxBytes: 2048 }));
      await until(() => rx.udp.length >= 2, 'UDP datagrams');
      expect(Buffer.byteLength(rx.udp[0]!)).toBeLessThanOrEqual(2048);
      expect(rx.udp[0]).toContain('patients="300"');
      expect(JSON.parse(rx.udp[0]!.slice(rx.udp[0]!.indexOf('\uFEFF') + 1))).toMatchObject({ truncated: true, patientIds: [] });
      expect(JSON.parse(rx.udp[1]!.slice(rx.udp[1]!.indexOf('\uFEFF') + 1)).patientIds).toEqual([P1]);
    } finally {
      await udp.close();
    }
  });
});

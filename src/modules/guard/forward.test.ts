import { afterEach, describe, expect, it } from 'vitest';
import net from 'node:net';
import { createSyslogForwarder, formatSyslog, frame } from './forward.js';

const alert = { at: new Date('2026-11-23T09:30:00.000Z'), establishmentId: '0190a000-0000-7000-8000-0000000000e1', alertId: '0190a000-0000-7000-8000-0000000000a1', kind: 'guard_containment', severity: 'critical' as const };

describe('syslog forwarding', () => {
  let server: net.Server | undefined;
  afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

  it('formats RFC 5424 with structured data and escapes its values', () => {
    expect(formatSyslog(alert, { host: 'hygie-1', app: 'hygie' })).toBe(
      `<106>1 2026-11-23T09:30:00.000Z hygie-1 hygie ${process.pid} guard_containment [hygie@32473 establishment="${alert.establishmentId}" alert="${alert.alertId}" kind="guard_containment" severity="critical"] security alert guard_containment`,
    );
    expect(formatSyslog({ ...alert, kind: 'a"b]c', severity: 'info' }, { host: 'h' })).toContain('kind="a\\"b\\]c"');
    expect(frame('héllo')).toBe('6 héllo');
  });

  it('delivers octet-counted messages to a local TCP listener', async () => {
    const received: string[] = [];
    let buffer = '';
    const listen = () =>
      new Promise<number>((resolve) => {
        server = net.createServer((s) =>
          s.on('data', (d) => {
            buffer += d.toString('utf8');
            for (;;) {
              const m = /^(\d+) /.exec(buffer);
              if (!m) break;
              const len = Number(m[1]);
              const start = m[0].length;
              if (Buffer.byteLength(buffer.slice(start)) < len) break;
              received.push(buffer.slice(start, start + len));
              buffer = buffer.slice(start + len);
            }
          }),
        );
        server.listen(0, '127.0.0.1', () => resolve((server!.address() as net.AddressInfo).port));
      });
    const port = await listen();
    const forwarder = createSyslogForwarder(`tcp://127.0.0.1:${port}`, { host: 'hygie-test' });
    await forwarder.send(alert);
    await forwarder.alertRaised(undefined as never, { establishmentId: alert.establishmentId, alertId: alert.alertId, kind: 'guard_step_up', severity: 'warning' });
    await new Promise((r) => setTimeout(r, 100));
    expect(received).toHaveLength(2);
    expect(received[0]).toMatch(/^<106>1 2026-11-23T09:30:00.000Z hygie-test hygie \d+ guard_containment \[hygie@32473 /);
    expect(received[1]).toMatch(/^<108>1 .* guard_step_up /);
    await forwarder.close();
  });

  it('never fails the reporting request when the collector is down', async () => {
    const forwarder = createSyslogForwarder('tcp://127.0.0.1:1');
    await expect(forwarder.alertRaised(undefined as never, { establishmentId: alert.establishmentId, alertId: alert.alertId, kind: 'x', severity: 'info' })).resolves.toBeUndefined();
    await expect(forwarder.send(alert)).rejects.toThrow();
  });
});

describe('signed webhook', () => {
  it('POSTs the alert with a signature the receiver verifies, and refuses a tampered or stale one', async () => {
    const { createServer } = await import('node:http');
    const { createWebhookForwarder, verifyWebhook } = await import('./forward.js');
    const got: Array<{ sig: string; body: string }> = [];
    const srv = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += String(c)));
      req.on('end', () => {
        got.push({ sig: String(req.headers['x-hygie-signature']), body });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    try {
      const port = (srv.address() as net.AddressInfo).port;
      const hook = createWebhookForwarder(`http://127.0.0.1:${port}/hook`, 'shared-secret', { now: () => alert.at });
      await hook.send(alert);
      expect(got).toHaveLength(1);
      const t = Math.floor(alert.at.getTime() / 1000);
      expect(JSON.parse(got[0]!.body)).toMatchObject({ type: 'security_alert', kind: 'guard_containment', alertId: alert.alertId });
      expect(verifyWebhook('shared-secret', got[0]!.sig, got[0]!.body, t)).toBe(true);
      expect(verifyWebhook('other-secret', got[0]!.sig, got[0]!.body, t)).toBe(false);
      expect(verifyWebhook('shared-secret', got[0]!.sig, got[0]!.body.replace('critical', 'info'), t)).toBe(false);
      expect(verifyWebhook('shared-secret', got[0]!.sig, got[0]!.body, t + 3600)).toBe(false);
    } finally {
      await new Promise<void>((r) => srv.close(() => r()));
    }
  });
});

// Forwarding of security alerts (and audit events, forward-audit.ts) to an external collector:
// syslog (RFC 5424 messages, octet-counted framing of RFC 6587 over TCP, TLS when the URL says
// tls://, one message per datagram over UDP as RFC 5426), so that the establishment's, the
// hoster's and the editor's security teams see the same events. Ids, codes and counts only.
import dgram from 'node:dgram';
import net from 'node:net';
import tls from 'node:tls';
import { hostname } from 'node:os';
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { SecurityNotifier } from './meter.js';

export interface ForwardedAlert {
  at: Date;
  establishmentId: string;
  alertId: string;
  kind: string;
  severity: 'info' | 'warning' | 'critical';
}

const SEVERITY: Record<ForwardedAlert['severity'], number> = { critical: 2, warning: 4, info: 6 };
/** Facility 13: log audit. */
const FACILITY = 13;
/** Private enterprise number placeholder for structured data (RFC 5424 §7.2.2). */
const SD_ID = 'hygie@32473';

function sdValue(v: string): string {
  return v.replace(/[\\"\]]/g, (c) => `\\${c}`);
}
function token(v: string, max: number): string {
  const t = v.replace(/[^\x21-\x7e]/g, '').slice(0, max);
  return t === '' ? '-' : t;
}

/** One RFC 5424 message for an alert. */
export function formatSyslog(alert: ForwardedAlert, opts: { host?: string; app?: string } = {}): string {
  const pri = FACILITY * 8 + SEVERITY[alert.severity];
  const sd = `[${SD_ID} establishment="${sdValue(alert.establishmentId)}" alert="${sdValue(alert.alertId)}" kind="${sdValue(alert.kind)}" severity="${alert.severity}"]`;
  return `<${pri}>1 ${alert.at.toISOString()} ${token(opts.host ?? hostname(), 255)} ${token(opts.app ?? 'hygie', 48)} ${process.pid} ${token(alert.kind, 32)} ${sd} security alert ${alert.kind}`;
}

/** Octet-counting framing (RFC 6587 §3.4.1): "LEN SP MSG". */
export function frame(message: string): string {
  return `${Buffer.byteLength(message, 'utf8')} ${message}`;
}

export interface SyslogForwarder extends SecurityNotifier {
  send(alert: ForwardedAlert): Promise<void>;
  /** Sends one RFC 5424 message; resolves once written to the socket (TCP/TLS) or sent (UDP). */
  sendMessage(message: string): Promise<void>;
  readonly transport: 'tcp' | 'tls' | 'udp';
  /** HOSTNAME field of the messages (the machine's name unless configured). */
  readonly hostName: string;
  close(): Promise<void>;
}

/** RFC 5426 asks receivers to take at least 2,048 octets; longer messages are for TCP/TLS. */
export const UDP_MAX_MESSAGE = 2048;

/** A forwarder to `tcp://host:port`, `tls://host:port` or `udp://host:port`; reconnects on the next message after a failure. */
export function createSyslogForwarder(url: string, opts: { host?: string; ca?: string } = {}): SyslogForwarder {
  const u = new URL(url);
  if (u.protocol !== 'tcp:' && u.protocol !== 'tls:' && u.protocol !== 'udp:') throw new Error('syslog URL must be tcp://, tls:// or udp://');
  const port = Number(u.port || (u.protocol === 'tls:' ? 6514 : u.protocol === 'udp:' ? 514 : 601));
  if (u.protocol === 'udp:') return udpForwarder(u.hostname.replace(/^\[|\]$/g, ''), port, opts);
  let socket: net.Socket | null = null;
  const connect = (): Promise<net.Socket> =>
    new Promise((resolve, reject) => {
      const s =
        u.protocol === 'tls:'
          ? tls.connect({ host: u.hostname, port, servername: u.hostname, ...(opts.ca ? { ca: opts.ca } : {}) }, () => resolve(s))
          : net.connect({ host: u.hostname, port }, () => resolve(s));
      s.once('error', (e) => {
        socket = null;
        reject(e);
      });
      s.on('close', () => {
        socket = null;
      });
    });
  const forwarder: SyslogForwarder = {
    transport: u.protocol === 'tls:' ? 'tls' : 'tcp',
    hostName: opts.host ?? hostname(),
    async sendMessage(message) {
      socket ??= await connect();
      const s = socket;
      await new Promise<void>((resolve, reject) => s.write(frame(message), (e) => (e ? reject(e) : resolve())));
    },
    async send(alert) {
      await forwarder.sendMessage(formatSyslog(alert, opts));
    },
    async alertRaised(_tx, alert) {
      // Forwarding must never break the access it reports on: a collector outage is logged by
      // the operator's monitoring, not turned into a refused request.
      await forwarder.send({ ...alert, at: new Date() }).catch(() => undefined);
    },
    async close() {
      socket?.end();
      socket = null;
    },
  };
  return forwarder;
}

function udpForwarder(host: string, port: number, opts: { host?: string }): SyslogForwarder {
  const socket = dgram.createSocket(net.isIPv6(host) ? 'udp6' : 'udp4');
  socket.unref();
  const forwarder: SyslogForwarder = {
    transport: 'udp',
    hostName: opts.host ?? hostname(),
    sendMessage(message) {
      return new Promise<void>((resolve, reject) => socket.send(Buffer.from(message, 'utf8'), port, host, (e) => (e ? reject(e) : resolve())));
    },
    async send(alert) {
      await forwarder.sendMessage(formatSyslog(alert, opts));
    },
    async alertRaised(_tx, alert) {
      await forwarder.send({ ...alert, at: new Date() }).catch(() => undefined);
    },
    async close() {
      await new Promise<void>((resolve) => socket.close(() => resolve()));
    },
  };
  return forwarder;
}

/** Several notifiers as one (identity's e-mail, the syslog forwarder, …). */
export function allNotifiers(...notifiers: Array<SecurityNotifier | undefined>): SecurityNotifier {
  return {
    async alertRaised(tx, alert) {
      for (const n of notifiers) await n?.alertRaised(tx, alert);
    },
  };
}

/**
 * Alerts POSTed as JSON to a webhook, signed: `X-Hygie-Signature: t=<unix seconds>,v1=<hex
 * HMAC-SHA256(secret, "<t>.<body>")>`, so the receiver checks origin and freshness. The URL comes
 * from the operator's configuration (HYGIE_WEBHOOK_URL), never from a request.
 */
export interface WebhookForwarder extends SecurityNotifier {
  send(alert: ForwardedAlert): Promise<void>;
  /** POSTs one signed JSON document; rejects unless the receiver answers 2xx. */
  post(document: Record<string, unknown>): Promise<void>;
}

export function createWebhookForwarder(url: string, secret: string, opts: { timeoutMs?: number; now?: () => Date } = {}): WebhookForwarder {
  const now = opts.now ?? (() => new Date());
  const send = (alert: ForwardedAlert) => post({ type: 'security_alert', ...alert, at: alert.at.toISOString() });
  const post = async (document: Record<string, unknown>) => {
    const body = JSON.stringify(document);
    const t = Math.floor(now().getTime() / 1000);
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-hygie-signature': signWebhook(secret, t, body) },
      body,
      signal: AbortSignal.timeout(opts.timeoutMs ?? 5000),
    });
    if (!res.ok) throw new Error(`webhook answered ${res.status}`);
  };
  return {
    send,
    post,
    async alertRaised(_tx, alert) {
      await send({ ...alert, at: now() }).catch(() => undefined);
    },
  };
}

export function signWebhook(secret: string, t: number, body: string): string {
  return `t=${t},v1=${createHmac('sha256', secret).update(`${t}.${body}`).digest('hex')}`;
}

/** For receivers (and tests): checks the signature and that it is at most `toleranceS` old. */
export function verifyWebhook(secret: string, header: string, body: string, nowS: number, toleranceS = 300): boolean {
  const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header);
  if (!m) return false;
  const t = Number(m[1]);
  if (Math.abs(nowS - t) > toleranceS) return false;
  const expected = Buffer.from(signWebhook(secret, t, body).split('v1=')[1]!, 'hex');
  const given = Buffer.from(m[2]!, 'hex');
  return expected.length === given.length && timingSafeEqual(expected, given);
}

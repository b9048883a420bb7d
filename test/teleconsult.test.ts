// Teleconsultation over HTTP and the signalling WebSocket, with real sessions: who may see and
// join a video appointment, when, what is relayed, and what the audit trail keeps. Every access
// rule has its refusal here.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { WebSocket } from 'ws';
import { sql } from 'kysely';
import { buildApp } from '../src/app.js';
import { sealStoredTotpSecrets } from '../src/modules/identity/index.js';
import { createLogger } from '../src/platform/log.js';
import { seedDemo } from '../src/seed/demo.js';
import { TestClient, type TestClock } from './helpers/app.js';
import { createTestDatabase, testConfig, type TestDatabase } from './helpers/db.js';
import { createTeleconsultFixture, TELE_NOW, type TeleconsultFixture } from './helpers/teleconsult-fixture.js';

type Msg = { type: string } & Record<string, unknown>;

/** A signalling connection that keeps every message received. */
class Signal {
  readonly received: Msg[] = [];
  private waiters: Array<{ test: (m: Msg) => boolean; resolve: (m: Msg) => void }> = [];
  closed: { code: number; reason: string } | undefined;
  constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const m = JSON.parse(data.toString()) as Msg;
      this.received.push(m);
      this.waiters = this.waiters.filter((w) => (w.test(m) ? (w.resolve(m), false) : true));
    });
    ws.on('close', (code, reason) => (this.closed = { code, reason: reason.toString() }));
  }
  next(type: string, test: (m: Msg) => boolean = () => true, timeoutMs = 5000): Promise<Msg> {
    const found = this.received.find((m) => m.type === type && test(m));
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${type} message within ${timeoutMs} ms; got ${JSON.stringify(this.received.map((m) => m.type))}`)), timeoutMs);
      this.waiters.push({ test: (m) => m.type === type && test(m), resolve: (m) => (clearTimeout(timer), resolve(m)) });
    });
  }
  send(m: unknown): void {
    this.ws.send(typeof m === 'string' ? m : JSON.stringify(m));
  }
  async closedWith(): Promise<{ code: number; reason: string }> {
    if (this.closed) return this.closed;
    return new Promise((resolve) => this.ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  }
}

describe('teleconsultation', () => {
  let t: TestDatabase;
  let app: FastifyInstance;
  let base: string;
  let f: TeleconsultFixture;
  let nowMs = TELE_NOW;
  const clock: TestClock = { now: () => new Date(nowMs), advance: (ms) => (nowMs += ms) };
  const clients: Record<string, TestClient> = {};
  const open: WebSocket[] = [];

  async function connect(who: string, appointmentId: string, headers: Record<string, string> = {}): Promise<Signal> {
    const client = clients[who];
    const cookie = client ? [...client.cookies].map(([k, v]) => `${k}=${v}`).join('; ') : '';
    const ws = new WebSocket(`${base.replace('http', 'ws')}/api/v1/teleconsultations/${appointmentId}/signal`, {
      headers: { ...(cookie ? { cookie } : {}), origin: base, ...headers },
    });
    open.push(ws);
    const signal = new Signal(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('unexpected-response', (req, res) => {
        // With this listener, ws leaves the refused handshake's socket open: close it.
        req.destroy();
        reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode }));
      });
      ws.once('error', reject);
    });
    return signal;
  }

  const refusalOf = (promise: Promise<unknown>) =>
    promise.then(
      () => 'opened',
      (e: { status?: number }) => e.status,
    );

  beforeAll(async () => {
    t = await createTestDatabase();
    const { data } = await seedDemo(t.db, undefined, t.vault);
    f = await createTeleconsultFixture(t.db, data);
    const config = testConfig({ HYGIE_PUBLIC_URL: 'http://localhost:3000' });
    const identityKey = randomBytes(32);
    await sealStoredTotpSecrets({ config, db: t.db, logger: createLogger('silent'), identityKey });
    app = await buildApp({ config, db: t.db, vault: t.vault, logger: createLogger('silent'), clock: clock.now, now: () => nowMs, identityKey });
    base = await app.listen({ port: 0, host: '127.0.0.1' });
    for (const [name, person] of Object.entries({ patient: f.patient, otherPatient: f.otherPatient, outsider: f.outsider })) {
      clients[name] = new TestClient(app, clock, '198.51.100.7');
      expect((await clients[name].loginPatient(person.email, person.password)).statusCode).toBe(200);
    }
    for (const [name, person] of Object.entries({ doctor: f.doctor, colleague: f.colleague, secretary: f.secretary })) {
      clients[name] = new TestClient(app, clock, '198.51.100.8');
      expect((await clients[name].loginStaff(person.email, person.password, person.totpSecret)).statusCode).toBe(200);
    }
  });
  afterAll(async () => {
    for (const ws of open) ws.terminate();
    await app?.close();
    await t?.drop();
  });

  it('shows the join window to the patient and the practitioner, with ICE settings only while it is open', async () => {
    for (const who of ['patient', 'doctor']) {
      const res = await clients[who]!.get(`/api/v1/teleconsultations/${f.appointments.open}`);
      expect(res.statusCode, who).toBe(200);
      const body = res.json();
      expect(body).toMatchObject({ appointmentId: f.appointments.open, role: who === 'patient' ? 'patient' : 'practitioner', refusal: null, ice: { iceServers: [], iceTransportPolicy: 'all' } });
      expect(Date.parse(body.opensAt)).toBe(Date.parse(body.start) - 15 * 60_000);
      expect(Date.parse(body.closesAt)).toBe(Date.parse(body.end) + 30 * 60_000);
    }
    const early = (await clients['patient']!.get(`/api/v1/teleconsultations/${f.appointments.early}`)).json();
    expect(early).toMatchObject({ refusal: 'too_early', ice: null });
    expect((await clients['patient']!.get(`/api/v1/teleconsultations/${f.appointments.late}`)).json()).toMatchObject({ refusal: 'too_late', ice: null });
    expect((await clients['patient']!.get(`/api/v1/teleconsultations/${f.appointments.onSite}`)).json()).toMatchObject({ refusal: 'not_teleconsult' });
  });

  it('answers 404 to everyone who is no party to the appointment, and 401 without a session', async () => {
    for (const who of ['otherPatient', 'outsider', 'secretary', 'colleague']) {
      expect((await clients[who]!.get(`/api/v1/teleconsultations/${f.appointments.open}`)).statusCode, who).toBe(404);
    }
    expect((await clients['patient']!.get('/api/v1/teleconsultations/0190f0a0-0000-7000-8000-000000000999')).statusCode).toBe(404);
    expect((await app.inject({ method: 'GET', url: `/api/v1/teleconsultations/${f.appointments.open}` })).statusCode).toBe(401);
    // The signalling URL without an upgrade: the same checks, then 426.
    expect((await clients['patient']!.get(`/api/v1/teleconsultations/${f.appointments.open}/signal`)).statusCode).toBe(426);
    expect((await clients['otherPatient']!.get(`/api/v1/teleconsultations/${f.appointments.open}/signal`)).statusCode).toBe(404);
  });

  it('documents its routes, the signalling socket included, in the OpenAPI description', async () => {
    const doc = (await app.inject({ method: 'GET', url: '/api/docs' })).json() as { paths: Record<string, Record<string, unknown>> };
    expect(Object.keys(doc.paths['/api/v1/teleconsultations/{appointmentId}/signal'] ?? {})).toContain('get');
    expect(Object.keys(doc.paths['/api/v1/teleconsultations/{appointmentId}/guests'] ?? {})).toContain('post');
  });

  it('refuses the signalling socket to non-parties (404), outside the window (403), without a session (401) and cross-origin (403)', async () => {
    for (const who of ['otherPatient', 'outsider', 'secretary', 'colleague']) {
      expect(await refusalOf(connect(who, f.appointments.open)), who).toBe(404);
    }
    expect(await refusalOf(connect('patient', f.appointments.early))).toBe(403);
    expect(await refusalOf(connect('doctor', f.appointments.late))).toBe(403);
    expect(await refusalOf(connect('patient', f.appointments.onSite))).toBe(403);
    expect(await refusalOf(connect('nobody', f.appointments.open))).toBe(401);
    expect(await refusalOf(connect('patient', f.appointments.open, { origin: 'https://evil.example' }))).toBe(403);
    // The refused attempt of a patient of the establishment is on the record.
    const denied = await t.db.owner
      .selectFrom('audit_events')
      .select(['actor_user_id', 'outcome'])
      .where('action', '=', 'teleconsult.join')
      .where('outcome', '=', 'denied')
      .execute();
    expect(denied.map((d) => d.actor_user_id)).toContain(f.otherPatient.userId);
  });

  it('puts the patient in the waiting room until the practitioner admits them, relays signalling and chat, and audits start and end only', async () => {
    const patient = await connect('patient', f.appointments.open);
    const welcome = await patient.next('welcome');
    expect(welcome).toMatchObject({ role: 'patient', admitted: false });
    const doctor = await connect('doctor', f.appointments.open);
    expect(await doctor.next('welcome')).toMatchObject({ role: 'practitioner', admitted: true });
    const waiting = await doctor.next('waiting', (m) => (m['waiting'] as unknown[]).length === 1);
    const waitingPeer = (waiting['waiting'] as Array<{ peerId: string; name: string; role: string }>)[0]!;
    expect(waitingPeer).toMatchObject({ peerId: welcome['peerId'], role: 'patient' });
    expect(waitingPeer.name).toMatch(/\S+ \S+/);

    // Before admission the patient can neither signal nor chat.
    patient.send({ type: 'chat', text: 'Bonjour ?' });
    expect(await patient.next('error')).toMatchObject({ code: 'not_in_call' });
    // A patient cannot admit anyone, nor send garbage.
    patient.send({ type: 'admit', peerId: String(welcome['peerId']) });
    expect(await patient.next('error', (m) => m['code'] === 'forbidden')).toBeTruthy();
    patient.send('{"type":"record","on":true}');
    expect(await patient.next('error', (m) => m['code'] === 'invalid_message')).toBeTruthy();

    doctor.send({ type: 'admit', peerId: waitingPeer.peerId });
    await patient.next('admitted');
    const peers = await patient.next('peers');
    const doctorPeerId = (await doctor.next('welcome'))['peerId'] as string;
    expect((peers['peers'] as Array<{ peerId: string }>).map((p) => p.peerId)).toEqual([doctorPeerId]);

    patient.send({ type: 'offer', to: doctorPeerId, sdp: 'v=0 fake offer' });
    expect(await doctor.next('offer')).toMatchObject({ from: waitingPeer.peerId, sdp: 'v=0 fake offer' });
    doctor.send({ type: 'answer', to: waitingPeer.peerId, sdp: 'v=0 fake answer' });
    expect(await patient.next('answer')).toMatchObject({ from: doctorPeerId });
    doctor.send({ type: 'ice', to: waitingPeer.peerId, candidate: { candidate: 'candidate:1 1 udp 1 127.0.0.1 9 typ host', sdpMid: '0', sdpMLineIndex: 0 } });
    expect(await patient.next('ice')).toMatchObject({ from: doctorPeerId });
    const secret = `a line that must never be stored ${randomBytes(6).toString('hex')}`;
    doctor.send({ type: 'chat', text: secret });
    expect(await patient.next('chat')).toMatchObject({ text: secret, from: doctorPeerId });

    doctor.send({ type: 'leave' });
    patient.send({ type: 'leave' });
    await patient.closedWith();
    await doctor.closedWith();
    await new Promise((r) => setTimeout(r, 200));

    const events = await t.db.owner
      .selectFrom('audit_events')
      .select(['action', 'actor_user_id', 'patient_ids', 'outcome'])
      .where(sql<boolean>`${f.appointments.open}::uuid = any(resource_ids)`)
      .where('outcome', '=', 'allowed')
      .orderBy('at')
      .execute();
    const actions = events.map((e) => e.action);
    expect(actions).toContain('teleconsult.join');
    expect(actions.filter((a) => a === 'teleconsult.call_start')).toHaveLength(1);
    expect(actions.filter((a) => a === 'teleconsult.call_end')).toHaveLength(1);
    expect(events.find((e) => e.action === 'teleconsult.call_start')?.actor_user_id).toBe(f.doctor.userId);
    // The chat line is nowhere in the database.
    const { rows } = await sql<{ n: number }>`select count(*)::int as n from audit_events where position(${secret} in row_to_json(audit_events)::text) > 0`.execute(t.db.owner);
    expect(rows[0]?.n).toBe(0);
  });

  it('lets the practitioner invite a colleague, who may then join; nobody else may invite', async () => {
    const url = `/api/v1/teleconsultations/${f.appointments.open}/guests`;
    expect((await clients['patient']!.post(url, { practitionerId: f.colleague.practitioner.id })).statusCode).toBe(403);
    expect((await clients['secretary']!.post(url, { practitionerId: f.colleague.practitioner.id })).statusCode).toBe(404);
    expect((await clients['doctor']!.post(url, { practitionerId: '0190f0a0-0000-7000-8000-000000000999' })).statusCode).toBe(404);
    expect((await clients['doctor']!.post(url, { practitionerId: f.colleague.practitioner.id, extra: 1 })).statusCode).toBe(400);
    const res = await clients['doctor']!.post(url, { practitionerId: f.colleague.practitioner.id });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ status: 'invited' });
    const colleague = await connect('colleague', f.appointments.open);
    expect(await colleague.next('welcome')).toMatchObject({ role: 'guest', admitted: true });
    colleague.send({ type: 'leave' });
    await colleague.closedWith();
    // The invitation opens this appointment only.
    expect(await refusalOf(connect('colleague', f.appointments.early))).toBe(404);
  });

  it('rate-limits a flood of messages', async () => {
    const doctor = await connect('doctor', f.appointments.open);
    await doctor.next('welcome');
    for (let i = 0; i < 200; i++) doctor.send({ type: 'media', audio: i % 2 === 0, video: true });
    expect(await doctor.next('error', (m) => m['code'] === 'rate_limited')).toBeTruthy();
    doctor.ws.terminate();
  });

  it('ends the call when the session is logged out', async () => {
    const patient = await connect('patient', f.appointments.open);
    await patient.next('welcome');
    expect((await clients['patient']!.post('/api/v1/auth/logout')).statusCode).toBeLessThan(300);
    // The session is re-checked every SESSION_RECHECK_MS (10 s).
    const { code } = await Promise.race([
      patient.closedWith(),
      new Promise<{ code: number }>((resolve) => setTimeout(() => resolve({ code: -1 }), 15_000)),
    ]);
    expect(code).toBe(4001);
  }, 20_000);
});

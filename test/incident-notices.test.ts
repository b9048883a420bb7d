// Breach letters in the patient portal (issue 7): `notify` stores each affected patient's letter
// when their file is linked to an account; the patient lists and reads exactly their own letter
// (through the gate, audited); another patient's letter id, a staff session and an integration
// key get nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { seedDemo } from '../src/seed/demo.js';
import type { DemoData } from '../src/seed/demo-data.js';
import { buildApp } from '../src/app.js';
import { createLogger } from '../src/platform/log.js';
import { DomainError } from '../src/platform/http/errors.js';
import type { Actor } from '../src/platform/http/context.js';
import { createTestDatabase, testConfig, type TestDatabase } from './helpers/db.js';
import { filesOf, patientActor, staffActor } from './helpers/actors.js';
import { guardedGate, readThrough, TestClock, withSecondFactor } from './helpers/guard.js';
import { pdfPages } from './helpers/pdf.js';

let t: TestDatabase;
let data: DemoData;
let A: string;
let app: FastifyInstance;
let current: Actor | undefined;
let read: string[];
let incidentId: string;
const started = new Date(Date.now() - 60_000);

async function get(actor: Actor | undefined, url: string) {
  current = actor;
  return app.inject({ method: 'GET', url: `/api/v1${url}` });
}

beforeAll(async () => {
  t = await createTestDatabase();
  data = (await seedDemo(t.db, undefined, t.vault)).data;
  A = data.establishments[0]!.id;
  app = await buildApp({
    config: testConfig(),
    db: t.db,
    vault: t.vault,
    logger: createLogger('silent'),
    authenticate: async (request) => {
      if (!current) throw new DomainError('unauthenticated');
      request.actor = current;
    },
    sendLetter: async () => undefined,
  });
  // A stolen secretary session reads identity and contact of files, accounts first, until contained.
  const clock = new TestClock();
  const g = guardedGate(t.db, { clock });
  const scraper = withSecondFactor(staffActor(data, A, 'secretary'), clock.now());
  const files = [...filesOf(data, A, true), ...filesOf(data, A, false)].map((f) => f.id);
  read = [];
  for (const id of files.slice(0, 40)) {
    if ((await readThrough(g.gate, scraper, A, [id], ['identity', 'contact'])) === 'allowed') read.push(id);
    clock.advance(3_000);
  }
  current = staffActor(data, A, 'security_officer', 0, new Date());
  const opened = await app.inject({ method: 'POST', url: `/api/v1/establishments/${A}/security/incidents`, payload: { actorUserId: (scraper as Extract<Actor, { kind: 'user' }>).userId, from: started.toISOString(), to: new Date(Date.now() + 60_000).toISOString() } });
  incidentId = (opened.json() as { id: string }).id;
  const notified = await app.inject({ method: 'POST', url: `/api/v1/establishments/${A}/security/incidents/${incidentId}/notify` });
  expect(notified.statusCode).toBe(200);
});
afterAll(async () => {
  await app?.close();
  await t?.drop();
});

const linkedRead = () => data.patientFiles.filter((f) => f.establishmentId === A && read.includes(f.id) && f.accountIndex !== null);

describe('breach letters in the patient portal', () => {
  it('stores one letter per affected patient with an account, and none for the others', async () => {
    const rows = await t.db.owner.selectFrom('patient_notices').select(['patient_id', 'lang']).where('incident_id', '=', incidentId).execute();
    expect(linkedRead().length).toBeGreaterThan(1);
    expect(rows.map((r) => r.patient_id).sort()).toEqual(linkedRead().map((f) => f.id).sort());
    expect(rows.every((r) => r.lang === 'fr')).toBe(true);
  });

  it('the patient sees exactly their letter, as Markdown and PDF, and each read is audited', async () => {
    const file = linkedRead()[0]!;
    const patient = patientActor(data, file.accountIndex!);
    const list = await get(patient, '/me/notices');
    expect(list.statusCode).toBe(200);
    expect(list.headers['cache-control']).toBe('no-store');
    const items = (list.json() as { items: Array<{ id: string; establishment: string; title: string }> }).items;
    const mine = await t.db.owner.selectFrom('patient_notices').select(['id']).where('patient_id', 'in', data.patientFiles.filter((f) => f.accountIndex === file.accountIndex).map((f) => f.id)).execute();
    expect(items.map((i) => i.id).sort()).toEqual(mine.map((r) => r.id).sort());
    expect(items[0]).toMatchObject({ establishment: data.establishments[0]!.name, title: 'Information sur une violation de vos données personnelles' });

    const one = await get(patient, `/me/notices/${items[0]!.id}`);
    expect(one.statusCode).toBe(200);
    const markdown = (one.json() as { markdown: string }).markdown;
    expect(markdown).toContain(`dossier patient ${file.id}`);
    expect(markdown).toContain('hameçonnage');
    for (const other of read) if (other !== file.id) expect(markdown).not.toContain(other);

    const pdf = await get(patient, `/me/notices/${items[0]!.id}/pdf`);
    expect(pdf.statusCode).toBe(200);
    expect(pdf.headers['content-type']).toBe('application/pdf');
    expect((await pdfPages(pdf.rawPayload)).flat().join(' ')).toContain(`dossier patient ${file.id}`);

    const audit = await t.db.owner.selectFrom('audit_events').select(['action', 'patient_ids', 'resource_ids', 'outcome', 'actor_user_id']).where('action', 'in', ['patient.notice.read', 'patient.notice.download']).where('actor_user_id', '=', (patient as Extract<Actor, { kind: 'user' }>).userId).execute();
    expect(audit.map((a) => a.action).sort()).toEqual(['patient.notice.download', 'patient.notice.read']);
    for (const a of audit) expect(a).toMatchObject({ patient_ids: [file.id], resource_ids: [items[0]!.id], outcome: 'allowed' });
  });

  it("another patient gets 404 for a letter's id and never sees it in their list", async () => {
    const [first, second] = linkedRead();
    const notice = (await t.db.owner.selectFrom('patient_notices').select(['id']).where('patient_id', '=', first!.id).where('incident_id', '=', incidentId).executeTakeFirstOrThrow()).id;
    // A patient affected by the same incident, and one with no letter at all.
    const unaffected = data.patientAccounts.findIndex((_, i) => !data.patientFiles.some((f) => f.accountIndex === i && read.includes(f.id)));
    for (const other of [patientActor(data, second!.accountIndex!), patientActor(data, unaffected)]) {
      for (const url of [`/me/notices/${notice}`, `/me/notices/${notice}/pdf`]) {
        const res = await get(other, url);
        expect(res.statusCode).toBe(404);
        expect(res.body).not.toContain(first!.id);
      }
      expect(((await get(other, '/me/notices')).json() as { items: Array<{ id: string }> }).items.map((i) => i.id)).not.toContain(notice);
    }
    expect((await get(patientActor(data, unaffected), '/me/notices')).json()).toEqual({ items: [] });
  });

  it('staff cannot read a letter through /me, nor can an integration key or an anonymous caller', async () => {
    const notice = (await t.db.owner.selectFrom('patient_notices').select(['id']).where('incident_id', '=', incidentId).executeTakeFirstOrThrow()).id;
    for (const role of ['security_officer', 'secretary', 'practitioner', 'admin'] as const) {
      const staff = staffActor(data, A, role, 0, new Date());
      expect((await get(staff, '/me/notices')).json()).toEqual({ items: [] });
      expect((await get(staff, `/me/notices/${notice}`)).statusCode).toBe(404);
      expect((await get(staff, `/me/notices/${notice}/pdf`)).statusCode).toBe(404);
    }
    const key: Actor = { kind: 'api_key', apiKeyId: '0190b000-0000-7000-8000-00000000e001', establishmentId: A, scopes: ['patients:read'] };
    for (const url of ['/me/notices', `/me/notices/${notice}`]) {
      expect([401, 403]).toContain((await get(key, url)).statusCode);
      expect((await get(undefined, url)).statusCode).toBe(401);
    }
    const bad = await get(patientActor(data, 0), '/me/notices/not-a-uuid');
    expect(bad.statusCode).toBe(400);
    expect(bad.headers['content-type']).toContain('application/problem+json');
    // No read was recorded for any of these refusals: only the patient's own reads are audited as allowed.
    const reads = await t.db.owner.selectFrom('audit_events').select(['actor_user_id']).where('action', '=', 'patient.notice.read').where('outcome', '=', 'allowed').execute();
    const staffIds = new Set(data.staff.map((s) => s.userId));
    expect(reads.some((r) => r.actor_user_id !== null && staffIds.has(r.actor_user_id))).toBe(false);
  });
});

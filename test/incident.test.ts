// Incident response: a scripted scrape through the gate by an actor that the guard contains; the
// report lists exactly the patients it read (no more, no fewer), by category, with the guard's
// actions and the 72-hour clock; drafts for the CNIL and every patient; security officers only.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { seedDemo } from '../src/seed/demo.js';
import type { DemoData } from '../src/seed/demo-data.js';
import { buildApp } from '../src/app.js';
import { LETTER_JOB } from '../src/modules/incident/index.js';
import { readOutbox } from '../src/platform/mail.js';
import { queueCipher } from '../src/modules/vault/index.js';
import { createLogger } from '../src/platform/log.js';
import { DomainError } from '../src/platform/http/errors.js';
import type { Actor } from '../src/platform/http/context.js';
import { writeIncidentReport } from '../src/modules/incident/index.js';
import { createTestDatabase, testConfig, type TestDatabase } from './helpers/db.js';
import { filesOf, staffActor } from './helpers/actors.js';
import { guardedGate, readThrough, TestClock, withSecondFactor } from './helpers/guard.js';
import { pdfPages } from './helpers/pdf.js';

let t: TestDatabase;
let data: DemoData;
let A: string;
let app: FastifyInstance;
let current: Actor | undefined;
let scraper: Actor;
let read: Set<string>;
let refusedOnly: string[];
const sent: Array<{ patientId: string; lang: string; markdown: string }> = [];
const started = new Date(Date.now() - 60_000);

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
    sendLetter: async (_tx, letter) => {
      sent.push(letter);
    },
  });
  // The scrape: a stolen secretary session (its second factor too) walks patient ids, one
  // identity read and one contact read each, until the guard contains it; then keeps trying.
  const clock = new TestClock();
  const g = guardedGate(t.db, { clock });
  scraper = withSecondFactor(staffActor(data, A, 'secretary'), clock.now());
  const files = filesOf(data, A).map((f) => f.id);
  read = new Set();
  refusedOnly = [];
  for (const id of files.slice(0, 40)) {
    const outcome = await readThrough(g.gate, scraper, A, [id], ['identity', 'contact']);
    if (outcome === 'allowed') read.add(id);
    else refusedOnly.push(id);
    clock.advance(3_000);
  }
  expect(read.size).toBeGreaterThan(5);
  expect(refusedOnly.length).toBeGreaterThan(5);
});
afterAll(async () => {
  await app?.close();
  await t?.drop();
});

const officer = (fresh = false) => staffActor(data, A, 'security_officer', 0, fresh ? new Date() : null);
const uid = (a: Actor) => (a as Extract<Actor, { kind: 'user' }>).userId;
async function call(actor: Actor | undefined, method: 'GET' | 'POST', url: string, payload?: object) {
  current = actor;
  const res = await app.inject({ method, url: `/api/v1/establishments/${A}/security/${url}`, ...(payload ? { payload } : {}) });
  return { status: res.statusCode, body: res.json() };
}

describe('impact report', () => {
  it('lists exactly the patients the contained scraper read, by category, with containment and the 72-hour clock', async () => {
    const res = await call(officer(), 'POST', 'incidents', { actorUserId: uid(scraper), from: started.toISOString(), to: new Date(Date.now() + 60_000).toISOString() });
    expect(res.status).toBe(201);
    const report = res.body;
    expect(report.patients.map((p: { patientId: string }) => p.patientId)).toEqual([...read].sort());
    for (const id of refusedOnly) expect(report.patients.some((p: { patientId: string }) => p.patientId === id)).toBe(false);
    expect(report.totals).toMatchObject({ patients: read.size, accesses: read.size });
    expect(report.totals.refusedAfterContainment).toBeGreaterThan(0);
    expect(report.byCategory).toEqual([
      { category: 'identity', patients: read.size, accesses: read.size },
      { category: 'contact', patients: read.size, accesses: read.size },
    ]);
    expect(report.containments).toHaveLength(1);
    expect(report.timeline.map((e: { kind: string }) => e.kind)).toEqual(expect.arrayContaining(['first_access', 'last_access', 'alert', 'contained', 'refused_after_containment', 'detected']));
    expect(new Date(report.notificationDeadline).getTime() - new Date(report.detectedAt).getTime()).toBe(72 * 3600_000);
    expect(report.clock).toMatchObject({ hours: 72, cnilNotifiedAt: null, overdue: false });

    const again = await call(officer(), 'GET', `incidents/${report.id}`);
    expect(again.body.patients).toEqual(report.patients);

    // The CNIL draft has every Article 33 item; French by default, English on request.
    const fr = (await call(officer(), 'GET', `incidents/${report.id}/notification`)).body.markdown as string;
    for (const item of ['Nature de la violation', `${read.size} patients`, 'Conséquences probables', 'Mesures prises', 'Délégué à la protection des données', '72 heures']) expect(fr).toContain(item);
    const en = (await call(officer(), 'GET', `incidents/${report.id}/notification?lang=en`)).body.markdown as string;
    expect(en).toContain('Nature of the breach');

    // One letter per affected patient, no identity in it (the name is merged at sending time).
    const letters = await call(officer(), 'GET', `incidents/${report.id}/letters?limit=50`);
    expect(letters.body.items.map((l: { patientId: string }) => l.patientId)).toEqual([...read].sort());
    const file = filesOf(data, A).find((f) => f.id === letters.body.items[0].patientId)!;
    expect(letters.body.items[0].markdown).toContain('hameçonnage');
    expect(letters.body.items[0].markdown).not.toContain(file.birthName);

    // The timeline records the CNIL notification (step-up), which stops the clock.
    expect((await call(officer(false), 'POST', `incidents/${report.id}/events`, { kind: 'cnil_notified', reference: 'CNIL-2026-1234' })).body.code).toBe('step_up_required');
    const notified = await call(officer(true), 'POST', `incidents/${report.id}/events`, { kind: 'cnil_notified', reference: 'CNIL-2026-1234' });
    expect(notified.status).toBe(200);
    expect(notified.body.clock.cnilNotifiedAt).not.toBeNull();
    expect(notified.body.timeline.some((e: { kind: string; detail?: string }) => e.kind === 'cnil_notified' && e.detail === 'CNIL-2026-1234')).toBe(true);
  });

  it('notify queues one letter per affected patient (step-up), audits it for each patient, and records the step', async () => {
    const opened = await call(officer(), 'POST', 'incidents', { actorUserId: uid(scraper), from: started.toISOString(), to: new Date(Date.now() + 60_000).toISOString() });
    const id = opened.body.id as string;
    expect((await call(officer(false), 'POST', `incidents/${id}/notify`)).body.code).toBe('step_up_required');
    expect(sent).toEqual([]);
    const res = await call(officer(true), 'POST', `incidents/${id}/notify?lang=en`);
    expect(res.status).toBe(200);
    expect(sent.map((l) => l.patientId).sort()).toEqual([...read].sort());
    expect(sent.every((l) => l.lang === 'en' && l.markdown.includes('phishing'))).toBe(true);
    expect(res.body.timeline.some((e: { kind: string }) => e.kind === 'patients_notified')).toBe(true);
    const audit = await t.db.owner.selectFrom('audit_events').select(['patient_ids', 'purpose']).where('action', '=', 'security.incident.notify').where('outcome', '=', 'allowed').execute();
    expect(audit).toHaveLength(1);
    expect([...audit[0]!.patient_ids].sort()).toEqual([...read].sort());
    expect(audit[0]!.purpose).toBe('breach_notification');
  });

  it('without an injected sender, notify queues the letters in the outbox and the worker e-mails each patient', async () => {
    // A second app over the same database with the production sender (outbox + mail worker).
    const prod = await buildApp({
      config: testConfig(),
      db: t.db,
      vault: t.vault,
      logger: createLogger('silent'),
      authenticate: async (request) => {
        if (!current) throw new DomainError('unauthenticated');
        request.actor = current;
      },
    });
    try {
      current = officer();
      const opened = await prod.inject({ method: 'POST', url: `/api/v1/establishments/${A}/security/incidents`, payload: { actorUserId: uid(scraper), from: started.toISOString(), to: new Date(Date.now() + 60_000).toISOString() } });
      const id = (opened.json() as { id: string }).id;
      current = officer(true);
      expect((await prod.inject({ method: 'POST', url: `/api/v1/establishments/${A}/security/incidents/${id}/notify` })).statusCode).toBe(200);
      const queued = await t.db.owner.selectFrom('jobs').select(['payload']).where('kind', '=', LETTER_JOB).execute();
      expect(queued.map((j) => (j.payload as { patientId: string }).patientId).sort()).toEqual(expect.arrayContaining([...read].sort()));
      // The jobs hold ids and the letter, which names no one: no e-mail address waits in the table.
      const emails = data.patientFiles.filter((f) => read.has(f.id)).flatMap((f) => [f.email, ...(f.accountIndex === null ? [] : [data.patientAccounts[f.accountIndex]!.email])]).filter((e): e is string => e !== null);
      expect(JSON.stringify(queued)).not.toMatch(new RegExp(emails.map((e) => e.replace(/[.+]/g, '\\$&')).join('|')));
      while ((await prod.jobs.runOnce(50)) > 0);
      // Each read patient with an e-mail (account's, or the file's own) received their letter.
      const withMail = data.patientFiles.filter((f) => read.has(f.id) && (f.accountIndex !== null || f.email !== null));
      expect(withMail.length).toBeGreaterThan(0);
      for (const f of withMail) {
        const to = f.accountIndex !== null ? data.patientAccounts[f.accountIndex]!.email : f.email!;
        const mails = await readOutbox(t.db, queueCipher(t.vault), to);
        expect(mails.some((m) => m.subject === 'Information importante concernant vos données de santé' && m.text.includes('hameçonnage')), to).toBe(true);
      }
    } finally {
      await prod.close();
    }
  });

  it('serves each letter and the CNIL draft as PDF to security officers only; a patient the incident does not list is 404', async () => {
    const opened = await call(officer(), 'POST', 'incidents', { actorUserId: uid(scraper), from: started.toISOString(), to: new Date(Date.now() + 60_000).toISOString() });
    const id = opened.body.id as string;
    const base = `/api/v1/establishments/${A}/security/incidents/${id}`;
    current = officer();
    for (const pid of read) {
      const res = await app.inject({ method: 'GET', url: `${base}/letters/${pid}/pdf` });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toBe('application/pdf');
      expect(res.headers['cache-control']).toBe('no-store');
      const text = (await pdfPages(res.rawPayload)).flat().join(' ');
      expect(text).toContain(`dossier patient ${pid}`);
      for (const other of read) if (other !== pid) expect(text).not.toContain(other);
    }
    const en = await app.inject({ method: 'GET', url: `${base}/letters/${[...read][0]}/pdf?lang=en` });
    expect((await pdfPages(en.rawPayload)).flat().join(' ')).toContain('What was seen');
    const cnil = await app.inject({ method: 'GET', url: `${base}/notification/pdf` });
    expect(cnil.statusCode).toBe(200);
    expect((await pdfPages(cnil.rawPayload)).flat().join(' ')).toContain('Nature de la violation');
    // A patient the scraper never read, and another establishment's officer.
    expect((await app.inject({ method: 'GET', url: `${base}/letters/${refusedOnly[0]}/pdf` })).statusCode).toBe(404);
    current = staffActor(data, data.establishments[1]!.id, 'security_officer', 0, new Date());
    expect((await app.inject({ method: 'GET', url: `${base}/letters/${[...read][0]}/pdf` })).statusCode).toBe(403);
    for (const role of ['secretary', 'practitioner', 'admin'] as const) {
      current = staffActor(data, A, role, 0, new Date());
      expect((await app.inject({ method: 'GET', url: `${base}/letters/${[...read][0]}/pdf` })).statusCode).toBe(403);
      expect((await app.inject({ method: 'GET', url: `${base}/notification/pdf` })).statusCode).toBe(403);
    }
  });

  it('refuses other roles, and 404s an unknown incident', async () => {
    const body = { actorUserId: uid(scraper), from: started.toISOString(), to: new Date().toISOString() };
    for (const role of ['practitioner', 'secretary', 'admin'] as const) {
      expect((await call(staffActor(data, A, role, 0, new Date()), 'POST', 'incidents', body)).status).toBe(403);
    }
    expect((await call(staffActor(data, data.establishments[1]!.id, 'security_officer', 0, new Date()), 'POST', 'incidents', body)).status).toBe(403);
    expect((await call(officer(), 'GET', 'incidents/0190a000-0000-7000-8000-000000000000')).status).toBe(404);
    expect((await call(officer(), 'POST', 'incidents', { from: body.from, to: body.to })).status).toBe(400);
  });

  it('hygie incident report writes the report, the CNIL draft and one letter per patient (0600)', async () => {
    const out = await mkdtemp(path.join(tmpdir(), 'hygie-incident-'));
    try {
      const email = data.staff.find((s) => s.userId === uid(scraper))!.email;
      const { reports, files } = await writeIncidentReport(t.db, t.vault, { actorEmail: email, from: started, to: new Date(Date.now() + 60_000), out });
      expect(reports).toHaveLength(1);
      expect(reports[0]!.patients.map((p) => p.patientId)).toEqual([...read].sort());
      expect(files).toHaveLength(3 + 2 * read.size);
      const dir = path.join(out, A);
      expect((await readdir(path.join(dir, 'letters'))).sort()).toEqual([...read].sort().flatMap((id) => [`${id}.fr.md`, `${id}.fr.pdf`]));
      // Each PDF letter is that patient's: their file reference, their categories, nobody else's.
      for (const id of read) {
        const text = (await pdfPages(await readFile(path.join(dir, 'letters', `${id}.fr.pdf`)))).flat().join(' ');
        expect(text).toContain(`dossier patient ${id}`);
        expect(text).toContain('identité (nom, prénoms, sexe, date de naissance)');
        expect(text).toContain('coordonnées (adresse, téléphone, e-mail)');
        expect(text).not.toContain('données de santé');
        for (const other of read) if (other !== id) expect(text).not.toContain(other);
        expect((await stat(path.join(dir, 'letters', `${id}.fr.pdf`))).mode & 0o777).toBe(0o600);
      }
      expect((await pdfPages(await readFile(path.join(dir, 'cnil-notification.fr.pdf')))).flat().join(' ')).toContain(`${read.size} patients`);
      expect(JSON.parse(await readFile(path.join(dir, 'report.json'), 'utf8')).totals.patients).toBe(read.size);
      expect((await stat(path.join(dir, 'report.json'))).mode & 0o777).toBe(0o600);
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  });
});

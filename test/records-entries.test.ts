// Clinical entries over HTTP: append-only versions, content sealed by the vault, PDFs with the
// prescriber's name and RPPS, and each refusal proven: a secretary reading notes, an admin reading
// anything, a practitioner without relationship, a genetic result read by a practitioner not named
// on it, another establishment's file.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inflateSync } from 'node:zlib';
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { FastifyInstance } from 'fastify';
import { DEMO_DEATH_CAUSE, planRecordsDemo } from '../src/modules/records/index.js';
import type { Actor } from '../src/platform/http/context.js';
import { filesOf, patientActor, staffActor } from './helpers/actors.js';
import { recordsWorld, type RecordsWorld } from './helpers/records.js';

type User = Extract<Actor, { kind: 'user' }>;
interface View {
  id: string;
  versionId: string;
  version: number;
  kind: string;
  authorUserId: string;
  releasedToPatient: boolean;
  content: Record<string, unknown>;
  causes?: Record<string, unknown>;
  namedPractitionerUserIds?: string[];
}

let w: RecordsWorld;
let A: string;
let B: string;
/** The demo's first patients of A, each with their author (care team) and entries. */
let patients: Array<{ id: string; author: User }>;
let practitionersOfA: User[];

/** Text drawn in a PDF made by pdf-lib (hex strings in possibly deflated content streams). */
function pdfText(pdf: Buffer): string {
  const raw = pdf.toString('latin1');
  const chunks = [raw];
  for (const m of raw.matchAll(/stream\r?\n([\s\S]*?)\r?\nendstream/g)) {
    try {
      chunks.push(inflateSync(Buffer.from(m[1]!, 'latin1')).toString('latin1'));
    } catch {
      // not deflated
    }
  }
  const out: string[] = [];
  for (const c of chunks) for (const h of c.matchAll(/<([0-9A-Fa-f]+)>\s*Tj/g)) out.push(Buffer.from(h[1]!, 'hex').toString('latin1'));
  return out.join('\n');
}

/**
 * A demo patient with entries and a practitioner of A with no care relationship with them (no care
 * team, grant, appointment or break-the-glass), other than the patients in `skip`.
 */
async function patientAndStranger(skip: string[] = []): Promise<{ p: { id: string; author: User }; stranger: User }> {
  const o = w.t.db.owner;
  for (const p of patients.filter((x) => !skip.includes(x.id))) {
    const linked = new Set([
      ...(await o.selectFrom('appointments').innerJoin('practitioners', 'practitioners.id', 'appointments.practitioner_id').select('practitioners.user_id').where('appointments.patient_id', '=', p.id).execute()).map((r) => r.user_id),
      ...(await o.selectFrom('care_relationships').select('practitioner_user_id as user_id').where('patient_id', '=', p.id).execute()).map((r) => r.user_id),
      ...(await o.selectFrom('break_glass_grants').select('user_id').where('patient_id', '=', p.id).execute()).map((r) => r.user_id),
    ]);
    const stranger = practitionersOfA.find((x) => !linked.has(x.userId));
    if (stranger) return { p, stranger };
  }
  throw new Error('every demo patient with entries is in a care relationship with every practitioner of A');
}

const url = (pid: string, eid = A) => `/api/v1/establishments/${eid}/patients/${pid}/entries`;

beforeAll(async () => {
  w = await recordsWorld();
  A = w.data.establishments[0]!.id;
  B = w.data.establishments[1]!.id;
  const plan = planRecordsDemo(w.data);
  practitionersOfA = w.data.staff
    .filter((s) => s.memberships.some((m) => m.establishmentId === A && m.role === 'practitioner'))
    .map((s) => staffActor(w.data, A, 'practitioner', w.data.staff.filter((x) => x.memberships.some((m) => m.establishmentId === A && m.role === 'practitioner')).indexOf(s)) as User);
  patients = plan.careTeams
    .filter((c) => c.establishmentId === A)
    .map((c) => ({ id: c.patientId, author: practitionersOfA.find((p) => p.userId === c.practitionerUserId)! }));
});
afterAll(async () => w?.close());

async function list(app: FastifyInstance, pid: string, eid = A): Promise<{ status: number; items: View[] }> {
  const res = await app.inject({ method: 'GET', url: url(pid, eid) });
  return { status: res.statusCode, items: res.statusCode === 200 ? (res.json().items as View[]) : [] };
}

describe('reading entries', () => {
  it('the practitioner in care reads notes, prescriptions, certificates, the causes of death, and the genetic results naming them', async () => {
    const kinds = new Set<string>();
    for (const p of patients) {
      const app = await w.appAs(p.author);
      const { status, items } = await list(app, p.id);
      expect(status).toBe(200);
      for (const e of items) kinds.add(e.kind);
      const death = items.find((e) => e.kind === 'death_certificate');
      if (death) expect(death.causes).toMatchObject({ immediateCause: DEMO_DEATH_CAUSE });
      for (const g of items.filter((e) => e.kind === 'genetic_result')) expect(g.namedPractitionerUserIds).toContain(p.author.userId);
    }
    expect([...kinds].sort()).toEqual(['certificate', 'death_certificate', 'genetic_result', 'note', 'prescription']);
  });

  it('a secretary is refused clinical notes (404), and the refusal is audited', async () => {
    const secretary = await w.appAs(staffActor(w.data, A, 'secretary'));
    expect((await list(secretary, patients[0]!.id)).status).toBe(404);
    const denied = await w.t.db.owner
      .selectFrom('audit_events')
      .select(['outcome', 'actor_role', 'categories'])
      .where('action', '=', 'clinical_entry.read')
      .where('actor_role', '=', 'secretary')
      .execute();
    expect(denied.length).toBeGreaterThan(0);
    expect(denied.every((e) => e.outcome === 'denied')).toBe(true);
  });

  it('an admin and a security officer read nothing', async () => {
    for (const role of ['admin', 'security_officer'] as const) {
      const app = await w.appAs(staffActor(w.data, A, role));
      expect((await list(app, patients[0]!.id)).status).toBe(404);
    }
  });

  it('a practitioner without a care relationship gets 404, until break-the-glass', async () => {
    const { p, stranger } = await patientAndStranger();
    const app = await w.appAs(stranger);
    expect((await list(app, p.id)).status).toBe(404);
    const fresh = await w.appAs({ ...stranger, secondFactorAt: new Date() });
    const bg = await fresh.inject({ method: 'POST', url: `/api/v1/establishments/${A}/patients/${p.id}/break-glass`, payload: { reason: 'Patient inconscient aux urgences, antécédents nécessaires' } });
    expect(bg.statusCode).toBe(201);
    const after = await list(app, p.id);
    expect(after.status).toBe(200);
    expect(after.items.some((e) => e.kind === 'note')).toBe(true);
    // Break-the-glass never opens genetic results.
    expect(after.items.some((e) => e.kind === 'genetic_result')).toBe(false);
  });

  it('a genetic result is hidden from a practitioner in care who is not named on it', async () => {
    const withGenetic = patients.find((p, i) => i % 4 === 1)!;
    const author = await w.appAs(withGenetic.author);
    const genetic = (await list(author, withGenetic.id)).items.find((e) => e.kind === 'genetic_result')!;
    expect(genetic).toBeDefined();
    const other = practitionersOfA.find((x) => !genetic.namedPractitionerUserIds!.includes(x.userId))!;
    await w.t.db.withTenant(A, (tx) =>
      tx.insertInto('care_relationships').values({ id: randomUUID(), establishment_id: A, patient_id: withGenetic.id, practitioner_user_id: other.userId, kind: 'care_team', granted_by_user_id: null, valid_until: null, revoked_at: null }).execute(),
    );
    const app = await w.appAs(other);
    const seen = await list(app, withGenetic.id);
    expect(seen.status).toBe(200);
    expect(seen.items.some((e) => e.kind === 'note')).toBe(true);
    expect(seen.items.some((e) => e.kind === 'genetic_result')).toBe(false);
    expect((await app.inject({ method: 'GET', url: `${url(withGenetic.id)}/${genetic.id}` })).statusCode).toBe(404);
    expect((await author.inject({ method: 'GET', url: `${url(withGenetic.id)}/${genetic.id}` })).statusCode).toBe(200);
  });

  it("another establishment's file is not found", async () => {
    const ofB = staffActor(w.data, B, 'practitioner');
    const app = await w.appAs(ofB);
    expect((await list(app, patients[0]!.id, B)).status).toBe(404);
    expect((await list(app, patients[0]!.id, A)).status).toBe(404);
    expect((await list(await w.appAs(patients[0]!.author), filesOf(w.data, B)[0]!.id)).status).toBe(404);
  });

  it('a patient reads only the entries released to them, never notes or causes', async () => {
    const own = patients.find((p) => w.data.patientFiles.find((f) => f.id === p.id)!.accountIndex !== null)!;
    const file = w.data.patientFiles.find((f) => f.id === own.id)!;
    const app = await w.appAs(patientActor(w.data, file.accountIndex!));
    const { status, items } = await list(app, own.id);
    expect(status).toBe(200);
    expect(items.every((e) => e.releasedToPatient && e.causes === undefined)).toBe(true);
    expect(items.some((e) => e.kind === 'note' || e.kind === 'genetic_result')).toBe(false);
  });
});

describe('writing entries: append-only versions', () => {
  let noteId: string;
  it('the practitioner in care adds a note; the row holds only a ciphertext', async () => {
    const p = patients[2]!;
    const app = await w.appAs(p.author);
    const res = await app.inject({ method: 'POST', url: url(p.id), payload: { kind: 'note', content: { text: 'Souffle systolique découvert ce jour', diagnoses: [{ code: 'R01.1', label: 'Souffle cardiaque' }] } } });
    expect(res.statusCode).toBe(201);
    expect(res.json().version).toBe(1);
    noteId = res.json().id;
    const row = await w.t.db.owner.selectFrom('clinical_entries').selectAll().where('entry_id', '=', noteId).executeTakeFirstOrThrow();
    expect(JSON.stringify(row)).not.toMatch(/souffle/i);
    expect(row.author_user_id).toBe(p.author.userId);
  });

  it('a correction is a new version; the old one stays, with its author and time', async () => {
    const p = patients[2]!;
    const app = await w.appAs(p.author);
    const res = await app.inject({ method: 'POST', url: url(p.id), payload: { kind: 'note', correctionOf: noteId, content: { text: 'Souffle systolique 2/6 au foyer aortique' } } });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ id: noteId, version: 2 });
    const history = (await app.inject({ method: 'GET', url: `${url(p.id)}/${noteId}` })).json().items as View[];
    expect(history.map((v) => v.version)).toEqual([2, 1]);
    expect(history[1]!.content.text).toBe('Souffle systolique découvert ce jour');
    expect(history.every((v) => v.authorUserId === p.author.userId)).toBe(true);
    const current = (await list(app, p.id)).items.filter((e) => e.id === noteId);
    expect(current.map((e) => e.version)).toEqual([2]);
    // A correction of another kind, or of an unknown entry, is refused.
    expect((await app.inject({ method: 'POST', url: url(p.id), payload: { kind: 'certificate', correctionOf: noteId, content: { title: 'x', text: 'y' } } })).statusCode).toBe(404);
    expect((await app.inject({ method: 'POST', url: url(p.id), payload: { kind: 'note', correctionOf: randomUUID(), content: { text: 'y' } } })).statusCode).toBe(404);
  });

  it('nobody can update or delete a version: not the application, not the owner', async () => {
    await expect(w.t.db.withTenant(A, (tx) => sql`update clinical_entries set released_to_patient = true`.execute(tx))).rejects.toThrow(/permission denied/);
    await expect(w.t.db.withTenant(A, (tx) => sql`delete from clinical_entries`.execute(tx))).rejects.toThrow(/permission denied/);
    await expect(sql`update clinical_entries set version = version + 10`.execute(w.t.db.owner)).rejects.toThrow(/append-only/);
  });

  it('refuses writes by a secretary, an admin, a practitioner without relationship, an API key, and a genetic result not naming its author', async () => {
    const { p, stranger } = await patientAndStranger();
    const note = { kind: 'note', content: { text: 'Tentative' } };
    for (const role of ['secretary', 'admin'] as const) {
      expect((await (await w.appAs(staffActor(w.data, A, role))).inject({ method: 'POST', url: url(p.id), payload: note })).statusCode).toBe(404);
    }
    expect((await (await w.appAs(stranger)).inject({ method: 'POST', url: url(p.id), payload: note })).statusCode).toBe(404);
    const author = await w.appAs(p.author);
    const genetic = { kind: 'genetic_result', content: { test: 'Caryotype', result: '46,XY', interpretation: 'Normal' }, namedPractitionerUserIds: [stranger.userId] };
    expect((await author.inject({ method: 'POST', url: url(p.id), payload: genetic })).statusCode).toBe(400);
    // Unknown fields and kinds are refused by the schema.
    expect((await author.inject({ method: 'POST', url: url(p.id), payload: { ...note, authorUserId: stranger.userId } })).statusCode).toBe(400);
    expect((await author.inject({ method: 'POST', url: url(p.id), payload: { kind: 'diagnosis', content: { text: 'x' } } })).statusCode).toBe(400);
    const key = await w.appAs({ kind: 'api_key', apiKeyId: randomUUID(), establishmentId: A, scopes: ['patients:read'] });
    expect((await key.inject({ method: 'POST', url: url(p.id), payload: note })).statusCode).toBe(403);
  });
});

describe('printing', () => {
  it('a prescription prints as a PDF with the prescriber name and RPPS, the patient and the medication', async () => {
    const p = patients[0]!;
    const app = await w.appAs(p.author);
    const prescription = (await list(app, p.id)).items.find((e) => e.kind === 'prescription')!;
    const res = await app.inject({ method: 'GET', url: `${url(p.id)}/${prescription.id}/pdf` });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/pdf');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.rawPayload.subarray(0, 5).toString()).toBe('%PDF-');
    const text = pdfText(res.rawPayload);
    const staff = w.data.staff.find((s) => s.userId === p.author.userId)!;
    expect(text).toContain(`RPPS ${staff.practitioner!.rpps}`);
    expect(text).toContain(`${staff.firstName} ${staff.lastName}`);
    const file = w.data.patientFiles.find((f) => f.id === p.id)!;
    expect(text).toContain(file.birthName);
    expect(text).toContain(String((prescription.content.lines as Array<{ medication: string }>)[0]!.medication));
  });

  it('a secretary cannot print it, and notes do not print', async () => {
    const p = patients[0]!;
    const author = await w.appAs(p.author);
    const items = (await list(author, p.id)).items;
    const prescription = items.find((e) => e.kind === 'prescription')!;
    const note = items.find((e) => e.kind === 'note')!;
    const secretary = await w.appAs(staffActor(w.data, A, 'secretary'));
    expect((await secretary.inject({ method: 'GET', url: `${url(p.id)}/${prescription.id}/pdf` })).statusCode).toBe(404);
    expect((await author.inject({ method: 'GET', url: `${url(p.id)}/${note.id}/pdf` })).statusCode).toBe(404);
  });
});

describe('documents', () => {
  // A 1×1 PNG, and a real (empty-page) PDF.
  const png = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==', 'base64');
  let pdf: Buffer;
  const docs = (pid: string) => `/api/v1/establishments/${A}/patients/${pid}/documents`;
  const upload = (app: FastifyInstance, pid: string, body: Buffer, contentType: string, category = 'clinical', title = 'Compte rendu d’échographie') =>
    app.inject({ method: 'POST', url: `${docs(pid)}?category=${category}`, payload: body, headers: { 'content-type': contentType, 'x-document-title': encodeURIComponent(title) } });

  beforeAll(async () => {
    const { PDFDocument } = await import('pdf-lib');
    const doc = await PDFDocument.create();
    doc.addPage();
    pdf = Buffer.from(await doc.save());
  });

  it('the practitioner in care uploads a PDF, sealed at rest, and downloads the same bytes', async () => {
    const p = patients[4]!;
    const app = await w.appAs(p.author);
    const res = await upload(app, p.id, pdf, 'application/octet-stream');
    expect(res.statusCode).toBe(201);
    expect(res.json().mediaType).toBe('application/pdf');
    const row = await w.t.db.owner.selectFrom('patient_documents').selectAll().where('id', '=', res.json().id).executeTakeFirstOrThrow();
    expect(row.content_enc.includes(Buffer.from('%PDF'))).toBe(false);
    expect(JSON.stringify({ ...row, content_enc: null })).not.toContain('chographie');
    const back = await app.inject({ method: 'GET', url: `${docs(p.id)}/${res.json().id}` });
    expect(back.statusCode).toBe(200);
    expect(back.headers['content-type']).toBe('application/pdf');
    expect(back.headers['cache-control']).toBe('no-store');
    expect(Buffer.compare(back.rawPayload, pdf)).toBe(0);
    const listed = (await app.inject({ method: 'GET', url: docs(p.id) })).json().items;
    expect(listed).toEqual([expect.objectContaining({ id: res.json().id, title: 'Compte rendu d’échographie', category: 'clinical', byteSize: pdf.length })]);
  });

  it('the type is sniffed from the bytes, not taken from the header; the size is capped', async () => {
    const p = patients[4]!;
    const app = await w.appAs(p.author);
    expect((await upload(app, p.id, Buffer.from('<html><script>alert(1)</script></html>'), 'image/png')).statusCode).toBe(415);
    expect((await upload(app, p.id, Buffer.from('MZ\x90\x00 not a document'), 'application/pdf')).statusCode).toBe(415);
    expect((await upload(app, p.id, png, 'application/pdf')).json().mediaType).toBe('image/png');
    const big = Buffer.concat([pdf, Buffer.alloc(10 * 1024 * 1024)]);
    expect((await upload(app, p.id, big, 'application/pdf')).statusCode).toBe(413);
    expect((await app.inject({ method: 'POST', url: `${docs(p.id)}?category=clinical`, payload: pdf, headers: { 'content-type': 'application/pdf' } })).statusCode).toBe(400);
  });

  it('a secretary handles administrative documents only; admins and other establishments see none', async () => {
    const p = patients[4]!;
    const secretary = await w.appAs(staffActor(w.data, A, 'secretary'));
    expect((await upload(secretary, p.id, png, 'image/png', 'administrative', 'Carte Vitale')).statusCode).toBe(201);
    expect((await upload(secretary, p.id, pdf, 'application/pdf', 'clinical')).statusCode).toBe(404);
    const listed = (await secretary.inject({ method: 'GET', url: docs(p.id) })).json().items as Array<{ id: string; category: string }>;
    expect(listed.length).toBeGreaterThan(0);
    expect(listed.every((d) => d.category === 'administrative')).toBe(true);
    const clinical = (await (await w.appAs(p.author)).inject({ method: 'GET', url: docs(p.id) })).json().items.find((d: { category: string }) => d.category === 'clinical');
    expect((await secretary.inject({ method: 'GET', url: `${docs(p.id)}/${clinical.id}` })).statusCode).toBe(404);
    const admin = await w.appAs(staffActor(w.data, A, 'admin'));
    expect((await admin.inject({ method: 'GET', url: docs(p.id) })).statusCode).toBe(404);
    expect((await admin.inject({ method: 'GET', url: `${docs(p.id)}/${clinical.id}` })).statusCode).toBe(404);
    const ofB = await w.appAs(staffActor(w.data, B, 'secretary'));
    expect((await ofB.inject({ method: 'GET', url: `/api/v1/establishments/${B}/patients/${p.id}/documents` })).statusCode).toBe(404);
  });
});

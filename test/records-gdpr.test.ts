// GDPR rights over HTTP: the patient's export (their files everywhere, released entries only),
// rectification requests recorded for staff, and erasure by crypto-shredding with two people, a
// fresh second factor, and the retention period of medical records enforced.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { VaultError } from '../src/modules/vault/index.js';
import { planRecordsDemo } from '../src/modules/records/index.js';
import { filesOf, patientActor, staffActor } from './helpers/actors.js';
import { recordsWorld, type RecordsWorld } from './helpers/records.js';

let w: RecordsWorld;
let A: string;
let secretary: FastifyInstance;

beforeAll(async () => {
  w = await recordsWorld();
  A = w.data.establishments[0]!.id;
  secretary = await w.appAs(staffActor(w.data, A, 'secretary'));
});
afterAll(async () => w?.close());

describe('export (access and portability)', () => {
  it('gives the patient their files in every establishment and the entries released to them, nothing else', async () => {
    const accountIndex = w.data.patientFiles.find((f) => f.accountIndex !== null && w.data.patientFiles.filter((g) => g.accountIndex === f.accountIndex).length === 2)!.accountIndex!;
    const mine = w.data.patientFiles.filter((f) => f.accountIndex === accountIndex);
    // A document released to the patient, and one that is not.
    const png = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==', 'base64');
    const file0 = mine.find((f) => f.establishmentId === A) ?? mine[0]!;
    const staffThere = await w.appAs(staffActor(w.data, file0.establishmentId, 'secretary'));
    for (const released of [true, false]) {
      const up = await staffThere.inject({
        method: 'POST',
        url: `/api/v1/establishments/${file0.establishmentId}/patients/${file0.id}/documents?category=administrative&released=${released}`,
        payload: png,
        headers: { 'content-type': 'image/png', 'x-document-title': encodeURIComponent(released ? 'Attestation remise' : 'Note interne') },
      });
      expect(up.statusCode).toBe(201);
    }
    const app = await w.appAs(patientActor(w.data, accountIndex));
    const res = await app.inject({ method: 'GET', url: '/api/v1/me/export' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    const body = res.json();
    expect(body.format).toBe('hygie-export/1');
    expect(body.files.map((f: { file: { id: string } }) => f.file.id).sort()).toEqual(mine.map((f) => f.id).sort());
    for (const f of body.files) {
      expect(f.file.identity.birthName).toBe(mine[0]!.birthName);
      expect(f.file.insurance.base.scheme).toBe('Régime général');
      for (const e of f.entries) {
        expect(e.releasedToPatient).toBe(true);
        expect(e.kind === 'note' || e.kind === 'genetic_result').toBe(false);
        expect(e.causes).toBeUndefined();
      }
    }
    const documents = body.files.flatMap((f: { documents: Array<{ title: string }> }) => f.documents.map((d) => d.title));
    expect(documents).toEqual(['Attestation remise']);
    const others = w.data.patientFiles.filter((f) => f.accountIndex !== accountIndex && f.birthName.length >= 7 && f.birthName !== mine[0]!.birthName);
    expect(others.filter((f) => res.body.includes(f.birthName))).toEqual([]);
  });

  it('a patient with released entries finds them in the export', async () => {
    const plan = planRecordsDemo(w.data);
    const withRelease = plan.entries.find((e) => e.body.releasedToPatient && w.data.patientFiles.find((f) => f.id === e.patientId)!.accountIndex !== null)!;
    const file = w.data.patientFiles.find((f) => f.id === withRelease.patientId)!;
    const body = (await (await w.appAs(patientActor(w.data, file.accountIndex!))).inject({ method: 'GET', url: '/api/v1/me/export' })).json();
    const kinds = body.files.flatMap((f: { entries: Array<{ kind: string }> }) => f.entries.map((e) => e.kind));
    expect(kinds).toContain(withRelease.body.kind);
  });

  it('staff without patient files export nothing; anonymous gets 401', async () => {
    const admin = await w.appAs(staffActor(w.data, A, 'admin'));
    expect((await admin.inject({ method: 'GET', url: '/api/v1/me/export' })).json().files).toEqual([]);
    expect((await (await w.appAs(undefined)).inject({ method: 'GET', url: '/api/v1/me/export' })).statusCode).toBe(401);
  });
});

describe('rectification requests', () => {
  it('a patient asks for a correction of their own file only; staff see it, sealed at rest, and close it', async () => {
    const own = w.data.patientFiles.find((f) => f.establishmentId === A && f.accountIndex !== null)!;
    const patient = await w.appAs(patientActor(w.data, own.accountIndex!));
    const message = 'Mon nom d’usage est désormais Vasquez-Delorme';
    const res = await patient.inject({ method: 'POST', url: '/api/v1/me/rectification-requests', payload: { establishmentId: A, patientId: own.id, fields: ['usedName'], message } });
    expect(res.statusCode).toBe(201);
    const neighbour = filesOf(w.data, A).find((f) => f.accountIndex !== own.accountIndex)!;
    expect((await patient.inject({ method: 'POST', url: '/api/v1/me/rectification-requests', payload: { establishmentId: A, patientId: neighbour.id, fields: ['phone'], message: 'Pas mon dossier' } })).statusCode).toBe(404);

    const row = await w.t.db.owner.selectFrom('rectification_requests').selectAll().where('id', '=', res.json().id).executeTakeFirstOrThrow();
    expect(JSON.stringify(row)).not.toContain('Vasquez');
    const queue = (await secretary.inject({ method: 'GET', url: `/api/v1/establishments/${A}/rectification-requests` })).json().items;
    expect(queue).toEqual([expect.objectContaining({ id: res.json().id, patientId: own.id, fields: ['usedName'], message })]);
    const admin = await w.appAs(staffActor(w.data, A, 'admin'));
    expect((await admin.inject({ method: 'GET', url: `/api/v1/establishments/${A}/rectification-requests` })).json().items).toEqual([]);
    expect((await secretary.inject({ method: 'POST', url: `/api/v1/establishments/${A}/rectification-requests/${res.json().id}/resolve`, payload: { status: 'done' } })).statusCode).toBe(204);
    expect((await secretary.inject({ method: 'GET', url: `/api/v1/establishments/${A}/rectification-requests` })).json().items).toEqual([]);
  });
});

describe('erasure by crypto-shredding', () => {
  it('one person asks, the same person cannot approve, a second person approves with a fresh second factor; the file is gone', async () => {
    const created = await secretary.inject({
      method: 'POST',
      url: `/api/v1/establishments/${A}/patients`,
      payload: { birthName: 'Effacé-Doublon', firstNames: 'Zoé', sex: 'F', birthDate: '1988-08-08', phone: '+33655555555' },
    });
    const pid = created.json().id as string;
    const sealedName = (await w.t.db.owner.selectFrom('patients').select('birth_name_enc').where('id', '=', pid).executeTakeFirstOrThrow()).birth_name_enc;

    const asked = await secretary.inject({ method: 'POST', url: `/api/v1/establishments/${A}/patients/${pid}/erasure-requests`, payload: { reason: 'duplicate' } });
    expect(asked.statusCode).toBe(201);
    const rid = asked.json().id as string;
    const approve = `/api/v1/establishments/${A}/erasure-requests/${rid}/approve`;

    const sameWithFactor = await w.appAs(staffActor(w.data, A, 'secretary', 0, new Date()));
    expect((await sameWithFactor.inject({ method: 'POST', url: approve })).statusCode).toBe(403);
    const secondStale = await w.appAs(staffActor(w.data, A, 'practitioner', 0));
    expect((await secondStale.inject({ method: 'POST', url: approve })).json().code).toBe('step_up_required');
    const adminFresh = await w.appAs(staffActor(w.data, A, 'admin', 0, new Date()));
    expect((await adminFresh.inject({ method: 'POST', url: approve })).statusCode).toBe(404);

    const second = await w.appAs(staffActor(w.data, A, 'practitioner', 0, new Date()));
    const done = await second.inject({ method: 'POST', url: approve });
    expect(done.statusCode).toBe(200);
    expect(done.json()).toEqual({ id: rid, status: 'approved' });
    expect((await second.inject({ method: 'POST', url: approve })).statusCode).toBe(404);

    expect((await secretary.inject({ method: 'GET', url: `/api/v1/establishments/${A}/patients/${pid}` })).statusCode).toBe(404);
    expect((await secretary.inject({ method: 'GET', url: `/api/v1/establishments/${A}/patients?lastName=efface%20doublon&birthDate=1988-08-08` })).json().items).toEqual([]);
    // The ciphertext is still in the table, and no key in the world opens it any more.
    const error = await w.t.db
      .withTenant(A, (tx) => w.vault.decryptField(tx, { establishmentId: A, patientId: pid, table: 'patients', column: 'birth_name_enc', rowId: pid }, sealedName))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VaultError);
    expect((error as VaultError).code).toBe('key_shredded');

    const events = await w.t.db.owner.selectFrom('audit_events').select(['action', 'actor_user_id', 'outcome']).where(sql<boolean>`resource_ids @> array[${rid}]::uuid[]`).where('outcome', '=', 'allowed').execute();
    const actors = new Set(events.map((e) => e.actor_user_id));
    expect(events.map((e) => e.action)).toEqual(expect.arrayContaining(['erasure_request.write', 'patient.erase']));
    expect(actors.size).toBe(2);
  });

  it('a medical record within its legal retention period is not erased (409), and nothing is destroyed', async () => {
    const plan = planRecordsDemo(w.data);
    const withEntries = plan.careTeams.find((c) => c.establishmentId === A)!.patientId;
    const asked = await secretary.inject({ method: 'POST', url: `/api/v1/establishments/${A}/patients/${withEntries}/erasure-requests`, payload: { reason: 'patient_request' } });
    expect(asked.statusCode).toBe(201);
    const second = await w.appAs(staffActor(w.data, A, 'practitioner', 1, new Date()));
    const res = await second.inject({ method: 'POST', url: `/api/v1/establishments/${A}/erasure-requests/${asked.json().id}/approve` });
    expect(res.statusCode).toBe(409);
    expect(res.json().retainedUntil).toMatch(/^20[4-9]\d-/);
    expect((await secretary.inject({ method: 'GET', url: `/api/v1/establishments/${A}/patients/${withEntries}` })).statusCode).toBe(200);
  });

  it('an admin cannot even ask, and unknown patients are not found', async () => {
    const admin = await w.appAs(staffActor(w.data, A, 'admin'));
    expect((await admin.inject({ method: 'POST', url: `/api/v1/establishments/${A}/patients/${filesOf(w.data, A)[5]!.id}/erasure-requests`, payload: { reason: 'duplicate' } })).statusCode).toBe(404);
    expect((await secretary.inject({ method: 'POST', url: `/api/v1/establishments/${A}/patients/${randomUUID()}/erasure-requests`, payload: { reason: 'duplicate' } })).statusCode).toBe(404);
    expect((await secretary.inject({ method: 'POST', url: `/api/v1/establishments/${A}/patients/${filesOf(w.data, A)[5]!.id}/erasure-requests`, payload: { reason: 'because' } })).statusCode).toBe(400);
  });
});

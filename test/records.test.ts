// The administrative file over HTTP: encrypted at rest, exact search through blind indexes, fields
// per role (BOPLA), no mass assignment, and every refusal (admin, another establishment, a random
// id, another patient) answered 404 and recorded.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import fc from 'fast-check';
import { withNirKey } from '../src/modules/records/index.js';
import type { Actor } from '../src/platform/http/context.js';
import { filesOf, patientActor, staffActor } from './helpers/actors.js';
import { recordsWorld, type RecordsWorld } from './helpers/records.js';

let w: RecordsWorld;
let A: string;
let B: string;
let secretary: FastifyInstance;
let practitioner: FastifyInstance;
let admin: FastifyInstance;

const newPatient = {
  birthName: 'DE LA FONTAINE-ÉLUARD',
  firstNames: 'Jean-Noël Amédée',
  sex: 'M',
  birthDate: '1961-07-14',
  birthPlaceInsee: '2A004',
  usedName: null,
  ins: withNirKey('161072A004123'),
  identityStatus: 'qualified',
  email: 'jn.fontaine@exemple.fr',
  phone: '+33612345678',
  address: { line1: '3 cours Napoléon', postalCode: '20000', city: 'Ajaccio' },
  generalPractitioner: { name: 'Dr Paoli', rpps: '10003456789' },
  insurance: {
    base: { scheme: 'Régime général', fund: 'CPAM de Corse-du-Sud', memberNumber: withNirKey('161072A004123'), validFrom: '2026-01-01', validUntil: '2026-12-31' },
    complementary: { insurer: 'Mutuelle de Corse', memberNumber: 'MC-99812', validFrom: '2026-01-01', validUntil: null },
  },
};
let createdId: string;

beforeAll(async () => {
  w = await recordsWorld();
  A = w.data.establishments[0]!.id;
  B = w.data.establishments[1]!.id;
  secretary = await w.appAs(staffActor(w.data, A, 'secretary'));
  practitioner = await w.appAs(staffActor(w.data, A, 'practitioner'));
  admin = await w.appAs(staffActor(w.data, A, 'admin'));
});
afterAll(async () => w?.close());

const base = () => `/api/v1/establishments/${A}/patients`;

describe('creating a file', () => {
  it('a secretary creates a file (201 { id }); the row holds ciphertexts and blind indexes only', async () => {
    const res = await secretary.inject({ method: 'POST', url: base(), payload: newPatient });
    expect(res.statusCode).toBe(201);
    createdId = res.json().id;
    expect(Object.keys(res.json())).toEqual(['id']);
    const row = await w.t.db.owner.selectFrom('patients').selectAll().where('id', '=', createdId).executeTakeFirstOrThrow();
    const text = JSON.stringify(row);
    for (const secret of ['FONTAINE', 'Amédée', 'Amedee', '1961', '612345678', 'Napoléon', 'Ajaccio', 'Paoli', 'MC-99812', newPatient.ins.slice(0, 10)]) {
      expect(text.toLowerCase()).not.toContain(secret.toLowerCase());
    }
    expect(row.birth_name_enc).toMatch(/^hv1:/);
    expect(row.bi_last_name).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('refuses unknown and forbidden fields (no mass assignment), a wrong INS key, and impossible dates', async () => {
    for (const extra of [{ accountUserId: randomUUID() }, { establishmentId: B }, { id: randomUUID() }, { erasedAt: null }]) {
      const res = await secretary.inject({ method: 'POST', url: base(), payload: { ...newPatient, ins: null, ...extra } });
      expect(res.statusCode).toBe(400);
      expect(res.json().code).toBe('invalid_request');
    }
    const badKey = `${newPatient.ins.slice(0, 13)}${String((Number(newPatient.ins.slice(13)) % 97) + 1).padStart(2, '0')}`;
    const wrong = await secretary.inject({ method: 'POST', url: base(), payload: { ...newPatient, ins: badKey } });
    expect(wrong.statusCode).toBe(400);
    expect(wrong.json().errors).toEqual([{ field: 'body.ins', message: 'wrong control key' }]);
    expect((await secretary.inject({ method: 'POST', url: base(), payload: { ...newPatient, ins: null, birthDate: '1961-02-30' } })).statusCode).toBe(400);
    expect((await secretary.inject({ method: 'POST', url: base(), payload: { ...newPatient, ins: null, identityStatus: 'qualified' } })).statusCode).toBe(400);
  });

  it('a second file with the same INS is a conflict; admins and patients cannot create files', async () => {
    expect((await secretary.inject({ method: 'POST', url: base(), payload: newPatient })).statusCode).toBe(409);
    expect((await admin.inject({ method: 'POST', url: base(), payload: { ...newPatient, ins: null, identityStatus: 'provisional' } })).statusCode).toBe(403);
    const patient = await w.appAs(patientActor(w.data, 0));
    expect((await patient.inject({ method: 'POST', url: base(), payload: { ...newPatient, ins: null, identityStatus: 'provisional' } })).statusCode).toBe(403);
    const anonymous = await w.appAs(undefined);
    expect((await anonymous.inject({ method: 'POST', url: base(), payload: newPatient })).statusCode).toBe(401);
  });
});

describe('exact search through blind indexes', () => {
  const search = (app: FastifyInstance, qs: string, eid = A) => app.inject({ method: 'GET', url: `/api/v1/establishments/${eid}/patients?${qs}` });

  it('matches the birth name after folding case, accents, hyphens and spaces, with birth date and first name', async () => {
    for (const q of ['de la fontaine-eluard', 'DE LA FONTAINE ÉLUARD', 'De  La Fontaine-Éluard']) {
      const res = await search(secretary, `lastName=${encodeURIComponent(q)}&birthDate=1961-07-14`);
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ items: [{ id: createdId, name: 'Jean-Noël Amédée DE LA FONTAINE-ÉLUARD', birthYear: 1961, city: 'Ajaccio' }] });
    }
    expect((await search(secretary, 'lastName=de%20la%20fontaine-eluard&firstName=jean%20noel')).json().items).toHaveLength(1);
    expect((await search(secretary, 'lastName=de%20la%20fontaine-eluard&firstName=amedee')).json().items).toHaveLength(1);
    expect((await search(secretary, 'lastName=de%20la%20fontaine-eluard&firstName=pierre')).json().items).toHaveLength(0);
    expect((await search(secretary, 'lastName=de%20la%20fontaine-eluard&birthDate=1961-07-15')).json().items).toHaveLength(0);
  });

  it('finds by used name and by INS (with spaces), never by a prefix', async () => {
    const married = w.data.patientFiles.find((f) => f.establishmentId === A && f.usedName !== null)!;
    const byUsed = (await search(secretary, `lastName=${encodeURIComponent(married.usedName!.toLowerCase())}&birthDate=${married.birthDate}`)).json().items;
    expect(byUsed.map((i: { id: string }) => i.id)).toContain(married.id);
    const ins = newPatient.ins.replace(/^(\d)(\d{2})(\d{2})(\w{2})(\d{3})(\d{3})(\d{2})$/, '$1 $2 $3 $4 $5 $6 $7');
    expect((await search(secretary, `ins=${encodeURIComponent(ins.toLowerCase())}`)).json().items.map((i: { id: string }) => i.id)).toEqual([createdId]);
    expect((await search(secretary, 'lastName=de%20la%20font')).json().items).toEqual([]);
  });

  it('refuses wildcards, empty and incomplete searches (400)', async () => {
    for (const qs of ['', 'lastName=', 'lastName=dup*', 'lastName=dup%25', 'lastName=%20-%20', 'firstName=jean', 'birthDate=1961-07-14', 'lastName=x&birthDate=1961-13-01', 'ins=123', 'lastName=x&limit=100']) {
      const res = await search(secretary, qs);
      expect(res.statusCode, qs).toBe(400);
    }
  });

  it('returns at most 20 minimal results', async () => {
    // 25 homonyms born the same day.
    for (let i = 0; i < 25; i++) {
      const r = await secretary.inject({ method: 'POST', url: base(), payload: { birthName: 'Homonyme', firstNames: `Prénom${i}`, sex: 'F', birthDate: '1990-01-01' } });
      expect(r.statusCode).toBe(201);
    }
    const items = (await search(secretary, 'lastName=homonyme&birthDate=1990-01-01')).json().items;
    expect(items).toHaveLength(20);
    expect(Object.keys(items[0]).sort()).toEqual(['birthYear', 'city', 'id', 'name']);
  });

  it('an admin finds nothing, and another establishment\'s patients are not found', async () => {
    expect((await search(admin, 'lastName=de%20la%20fontaine-eluard')).json()).toEqual({ items: [] });
    const other = filesOf(w.data, B).find((f) => !filesOf(w.data, A).some((g) => g.birthName === f.birthName))!;
    expect((await search(secretary, `lastName=${encodeURIComponent(other.birthName)}&birthDate=${other.birthDate}`)).json()).toEqual({ items: [] });
    const secretaryOfB = await w.appAs(staffActor(w.data, B, 'secretary'));
    expect((await search(secretaryOfB, `lastName=${encodeURIComponent(other.birthName)}&birthDate=${other.birthDate}`, B)).json().items.map((i: { id: string }) => i.id)).toContain(other.id);
    expect((await search(secretaryOfB, 'lastName=de%20la%20fontaine-eluard', B)).json()).toEqual({ items: [] });
  });
});

describe('reading a file: fields per role', () => {
  it('a secretary reads identity, contact, administration and insurance', async () => {
    const res = await secretary.inject({ method: 'GET', url: `${base()}/${createdId}` });
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    const file = res.json();
    expect(file.identity).toMatchObject({ birthName: 'DE LA FONTAINE-ÉLUARD', firstNames: 'Jean-Noël Amédée', ins: newPatient.ins, identityStatus: 'qualified', birthPlaceInsee: '2A004' });
    expect(file.contact).toEqual({ email: newPatient.email, phone: newPatient.phone, address: newPatient.address });
    expect(file.insurance.complementary).toEqual(newPatient.insurance.complementary);
    expect(file.insurance.base.memberNumber).toBe(newPatient.ins);
    expect(file.administrative.generalPractitioner).toEqual(newPatient.generalPractitioner);
  });

  it('a practitioner gets no insurance section', async () => {
    const file = (await practitioner.inject({ method: 'GET', url: `${base()}/${createdId}` })).json();
    expect(file.identity.birthName).toBe('DE LA FONTAINE-ÉLUARD');
    expect(file.insurance).toBeUndefined();
  });

  it('admins, other establishments, random ids and other patients get 404, and refusals are recorded', async () => {
    expect((await admin.inject({ method: 'GET', url: `${base()}/${createdId}` })).statusCode).toBe(404);
    const so = await w.appAs(staffActor(w.data, A, 'security_officer'));
    expect((await so.inject({ method: 'GET', url: `${base()}/${createdId}` })).statusCode).toBe(404);
    const secretaryOfB = await w.appAs(staffActor(w.data, B, 'secretary'));
    expect((await secretaryOfB.inject({ method: 'GET', url: `/api/v1/establishments/${B}/patients/${createdId}` })).statusCode).toBe(404);
    expect((await secretaryOfB.inject({ method: 'GET', url: `/api/v1/establishments/${A}/patients/${createdId}` })).statusCode).toBe(404);
    expect((await secretary.inject({ method: 'GET', url: `${base()}/${randomUUID()}` })).statusCode).toBe(404);
    const denied = await w.t.db.owner.selectFrom('audit_events').select(['outcome', 'actor_role']).where('action', '=', 'patient.read').where('outcome', '=', 'denied').execute();
    expect(denied.some((e) => e.actor_role === 'admin')).toBe(true);
  });

  it('a patient reads their own file, all sections, and nobody else\'s', async () => {
    const own = w.data.patientFiles.find((f) => f.establishmentId === A && f.accountIndex !== null)!;
    const patient = await w.appAs(patientActor(w.data, own.accountIndex!));
    const res = await patient.inject({ method: 'GET', url: `${base()}/${own.id}` });
    expect(res.statusCode).toBe(200);
    expect(res.json().identity.birthName).toBe(own.birthName);
    expect(res.json().insurance.base.scheme).toBe('Régime général');
    expect((await patient.inject({ method: 'GET', url: `${base()}/${createdId}` })).statusCode).toBe(404);
  });

  it('audit events carry ids and categories, never a name or a number', async () => {
    const events = await w.t.db.owner.selectFrom('audit_events').selectAll().where('establishment_id', '=', A).execute();
    const text = JSON.stringify(events).toLowerCase();
    expect(events.some((e) => e.patient_ids.includes(createdId))).toBe(true);
    for (const secret of ['fontaine', 'amédée', '612345678', newPatient.ins.slice(0, 9)]) expect(text).not.toContain(secret);
  });
});

describe('changing a file', () => {
  const patch = (app: FastifyInstance, payload: unknown, id = createdId) => app.inject({ method: 'PATCH', url: `${base()}/${id}`, payload: payload as object });

  it('changes allow-listed fields; contact changes keep the identity status', async () => {
    expect((await patch(secretary, { phone: '+33799999999', address: { line1: '1 place Foch', postalCode: '20000', city: 'Ajaccio' } })).statusCode).toBe(204);
    const file = (await secretary.inject({ method: 'GET', url: `${base()}/${createdId}` })).json();
    expect(file.contact.phone).toBe('+33799999999');
    expect(file.identity.identityStatus).toBe('qualified');
  });

  it('a changed identity trait makes the identity provisional again, and the blind indexes follow', async () => {
    expect((await patch(secretary, { usedName: 'Martin-Ñúñez' })).statusCode).toBe(204);
    expect((await patch(secretary, { firstNames: 'Jean-Noël' })).statusCode).toBe(204);
    const file = (await secretary.inject({ method: 'GET', url: `${base()}/${createdId}` })).json();
    expect(file.identity).toMatchObject({ usedName: 'Martin-Ñúñez', firstNames: 'Jean-Noël', identityStatus: 'provisional' });
    const found = (await secretary.inject({ method: 'GET', url: `${base()}?lastName=martin%20nunez` })).json().items;
    expect(found.map((i: { id: string }) => i.id)).toEqual([createdId]);
  });

  it('refuses forbidden fields (account link, establishment, id), empty bodies, admins and unknown ids', async () => {
    for (const body of [{ accountUserId: randomUUID() }, { establishmentId: B }, { id: randomUUID() }, { createdAt: '2020-01-01T00:00:00Z' }, {}]) {
      expect((await patch(secretary, body)).statusCode).toBe(400);
    }
    expect((await patch(secretary, { ins: '184127645108900' })).statusCode).toBe(400);
    expect((await patch(admin, { phone: '+33600000000' })).statusCode).toBe(404);
    expect((await patch(secretary, { phone: '+33600000000' }, randomUUID())).statusCode).toBe(404);
    const row = await w.t.db.owner.selectFrom('patients').select(['account_user_id', 'establishment_id']).where('id', '=', createdId).executeTakeFirstOrThrow();
    expect(row).toEqual({ account_user_id: null, establishment_id: A });
  });

  it('a patient cannot change their file through the staff API (rectification is a request)', async () => {
    const own = w.data.patientFiles.find((f) => f.establishmentId === A && f.accountIndex !== null)!;
    const patient = await w.appAs(patientActor(w.data, own.accountIndex!) as Actor);
    expect((await patch(patient, { phone: '+33600000000' }, own.id)).statusCode).toBe(404);
  });
});

describe('tenant walls on records: any two establishments, any staff role, any patient', () => {
  it('never returns a file or an entry list of another establishment', async () => {
    const roles = ['practitioner', 'secretary', 'admin', 'security_officer'] as const;
    const apps = new Map<string, FastifyInstance>();
    const appFor = async (i: number, role: (typeof roles)[number]) => {
      const key = `${i}|${role}`;
      if (!apps.has(key)) apps.set(key, await w.appAs(staffActor(w.data, w.data.establishments[i]!.id, role)));
      return apps.get(key)!;
    };
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 1, max: 2 }), fc.constantFrom(...roles), fc.nat(), fc.boolean(), async (i, shift, role, pick, viaOwnUrl) => {
        const here = w.data.establishments[i]!.id;
        const there = w.data.establishments[(i + shift) % 3]!.id;
        const foreign = filesOf(w.data, there);
        const target = foreign[pick % foreign.length]!;
        // A practitioner who also works there may read files there: not the case under test.
        const actor = staffActor(w.data, here, role) as Extract<Actor, { kind: 'user' }>;
        if (actor.memberships.some((m) => m.establishmentId === there)) return;
        const app = await appFor(i, role);
        // Through this establishment's URL (the id is not here) or the other's (no membership there).
        const eid = viaOwnUrl ? here : there;
        // 404; or, once this actor has asked for enough ids found nowhere, the guard's answer to
        // enumeration (step-up, then containment). Never the file.
        for (const url of [`/api/v1/establishments/${eid}/patients/${target.id}`, `/api/v1/establishments/${eid}/patients/${target.id}/entries`]) {
          const res = await app.inject({ method: 'GET', url });
          expect([404, 401, 423], res.body).toContain(res.statusCode);
          if (res.statusCode !== 404) expect(['step_up_required', 'account_contained']).toContain((res.json() as { code: string }).code);
          expect(res.body).not.toContain(target.birthName);
        }
      }),
      { numRuns: 20 },
    );
  });
});

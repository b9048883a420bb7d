// Issue 4's proof that no route returns a patient's personal data without an audit event: every
// registered API route is called, by every kind of actor, with ids that exist (a patient in care,
// their entries, appointments, documents…); whenever an answer carries a patient's name, e-mail or
// phone, the audit trail must have grown during that request. A future route that reads patient
// data without going through the gate (which audits) fails here.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../src/app.js';
import { DEFAULT_THRESHOLDS, type Thresholds } from '../src/modules/guard/index.js';
import { planRecordsDemo } from '../src/modules/records/index.js';
import type { Actor } from '../src/platform/http/context.js';
import { DomainError } from '../src/platform/http/errors.js';
import { createLogger } from '../src/platform/log.js';
import { seedDemo } from '../src/seed/demo.js';
import type { DemoData } from '../src/seed/demo-data.js';
import { patientActor, staffActor } from './helpers/actors.js';
import { createTestDatabase, testConfig, type TestDatabase } from './helpers/db.js';

/** The guard's limits lifted: this walk is about audit, and one actor calls every route. */
function unlimited(): Thresholds {
  const t = structuredClone(DEFAULT_THRESHOLDS);
  const big = { stepUp: 1e9, contain: 1e9 };
  for (const role of Object.values(t.roles)) {
    for (const budget of [role.unexplained, role.explained]) for (const w of ['5m', '1h', '24h'] as const) budget[w] = big;
  }
  t.misses5m = big;
  t.unexplainedShare = { ...t.unexplainedShare, minUnexplained: 1e9 };
  return t;
}

let t: TestDatabase;
let data: DemoData;
let app: FastifyInstance;
let current: Actor | undefined;
let A: string;
/** Ids that exist, by the name of the path segment before a parameter. */
const ids: Record<string, string> = {};
const query: Record<string, string> = {};
/** The practitioner in whose care team the patient is, and the patient's account. */
let careUserId: string;
let patientAccountIndex: number;

beforeAll(async () => {
  t = await createTestDatabase();
  ({ data } = await seedDemo(t.db, undefined, t.vault));
  A = data.establishments[0]!.id;
  app = await buildApp({
    config: testConfig(),
    db: t.db,
    vault: t.vault,
    logger: createLogger('silent'),
    guard: { defaults: unlimited() },
    authenticate: async (request) => {
      if (!current) throw new DomainError('unauthenticated');
      request.actor = current;
    },
  });
  // A patient of A in the care team of a practitioner, with entries and appointments.
  const plan = planRecordsDemo(data);
  const care = plan.careTeams.find((c) => c.establishmentId === A && plan.entries.some((e) => e.patientId === c.patientId))!;
  const o = t.db.owner;
  const practitioner = await o.selectFrom('practitioners').select('id').where('user_id', '=', care.practitionerUserId).executeTakeFirstOrThrow();
  const appointment = await o.selectFrom('appointments').select('id').where('patient_id', '=', care.patientId).executeTakeFirst();
  const entry = await o.selectFrom('clinical_entries').select('id').where('patient_id', '=', care.patientId).executeTakeFirst();
  const file = data.patientFiles.find((f) => f.id === care.patientId)!;
  Object.assign(ids, {
    establishments: A,
    patients: care.patientId,
    practitioners: practitioner.id,
    appointments: appointment?.id ?? randomUUID(),
    entries: entry?.id ?? randomUUID(),
    members: care.practitionerUserId,
  });
  const today = new Date().toISOString().slice(0, 10);
  Object.assign(query, {
    lastName: file.birthName,
    birthDate: file.birthDate,
    practitionerId: practitioner.id,
    from: today,
    to: new Date(Date.now() + 7 * 86_400_000).toISOString().slice(0, 10),
    date: today,
  });
  careUserId = care.practitionerUserId;
  patientAccountIndex = file.accountIndex ?? 0;
});
afterAll(async () => {
  await app?.close();
  await t?.drop();
});

/** The request path with each parameter replaced by an id that exists, chosen by the segment before it. */
function concrete(url: string): string {
  const parts = url.split('/');
  return parts.map((part, i) => (part.startsWith(':') ? (ids[parts[i - 1] ?? ''] ?? randomUUID()) : part)).join('/');
}

/** Values that identify a patient, in the forms answers show them; the actor's own account is left out. */
function patientValues(actor: Actor): string[] {
  const own = actor.kind === 'user' ? data.patientAccounts.find((a) => a.userId === actor.userId) : undefined;
  const ownValues = new Set(own ? [own.email, own.phone, `${own.firstName} ${own.lastName}`.toLowerCase()] : []);
  return data.patientFiles
    .flatMap((f) => [`${f.firstNames} ${f.usedName ?? f.birthName}`, `${f.firstNames} ${f.birthName}`, `${f.birthName} ${f.firstNames}`, f.email, f.phone])
    .filter((v): v is string => v !== null && v.length >= 6 && !ownValues.has(v) && !ownValues.has(v.toLowerCase()))
    .map((v) => v.toLowerCase());
}

async function auditCount(): Promise<number> {
  const row = await t.db.owner.selectFrom('audit_events').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow();
  return Number(row.n);
}

describe('every route that answers patient data records an audit event', () => {
  it('walks every API route as a practitioner in care, a secretary, an admin, a security officer and a patient', async () => {
    const routes = app.routeTable.filter((r) => r.url.startsWith('/api/v1/') && !r.url.startsWith('/api/v1/auth/'));
    expect(routes.length).toBeGreaterThan(40);
    const actors: Array<[string, Actor]> = [
      ['practitioner', { kind: 'user', userId: careUserId, sessionId: randomUUID(), memberships: [{ establishmentId: A, role: 'practitioner' }], secondFactorAt: new Date() }],
      ['secretary', staffActor(data, A, 'secretary', 0, new Date())],
      ['admin', staffActor(data, A, 'admin', 0, new Date())],
      ['security_officer', staffActor(data, A, 'security_officer', 0, new Date())],
      ['patient', patientActor(data, patientAccountIndex)],
    ];
    const doc = (await app.inject({ method: 'GET', url: '/api/docs' })).json() as { paths: Record<string, Record<string, { parameters?: Array<{ in: string; name: string }> }>> };
    const queryParams = new Map(
      Object.entries(doc.paths).flatMap(([path, ops]) => Object.entries(ops).map(([m, op]) => [`${m.toUpperCase()} ${path}`, (op.parameters ?? []).filter((x) => x.in === 'query').map((x) => x.name)] as const)),
    );
    const unaudited: string[] = [];
    const answeredPatientData = new Set<string>();
    for (const [name, actor] of actors) {
      current = actor;
      const values = patientValues(actor);
      // Reads first, then writes (which may change what later reads find).
      for (const r of [...routes].sort((a, b) => Number(a.method !== 'GET') - Number(b.method !== 'GET'))) {
        // Only the query parameters this route declares (routes refuse unknown ones).
        const declared = queryParams.get(`${r.method} ${r.url.replace(/:(\w+)/g, '{$1}')}`) ?? [];
        const search = new URLSearchParams(Object.entries(query).filter(([k]) => declared.includes(k))).toString();
        const url = concrete(r.url) + (search ? `?${search}` : '');
        const before = await auditCount();
        const res = await app.inject({ method: r.method as 'GET', url, ...(r.method === 'GET' || r.method === 'DELETE' ? {} : { payload: {} }) });
        expect(res.statusCode, `${name} ${r.method} ${r.url}: ${res.body.slice(0, 200)}`).toBeLessThan(500);
        if (res.statusCode >= 300) continue;
        const body = res.body.toLowerCase();
        const leaked = values.find((v) => body.includes(v));
        if (!leaked) continue;
        answeredPatientData.add(`${r.method} ${r.url}`);
        if ((await auditCount()) <= before) unaudited.push(`${name} ${r.method} ${r.url}`);
      }
    }
    expect(unaudited).toEqual([]);
    // The walk reached the routes that do answer patient data (it is not vacuous).
    expect([...answeredPatientData]).toEqual(
      expect.arrayContaining([
        'GET /api/v1/establishments/:eid/patients/:pid',
        'GET /api/v1/establishments/:eid/patients',
        'GET /api/v1/establishments/:eid/agenda',
      ]),
    );
  });
});

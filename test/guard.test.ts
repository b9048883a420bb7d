// The guard at the gate, on a real database (PGlite, or PostgreSQL with DATABASE_URL): explained
// and unexplained exposures, staged escalation, containment (record, revocation, alert, every later
// access refused until release), misses, and counters shared by two instances on one database.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql, type KyselyPlugin } from 'kysely';
import { seedDemo } from '../src/seed/demo.js';
import type { DemoData } from '../src/seed/demo-data.js';
import { addCareRelationship } from '../src/modules/access/index.js';
import { isContained, plantDecoys } from '../src/modules/guard/index.js';
import { insertPatientFile } from '../src/modules/records/index.js';
import { openDatabase } from '../src/platform/db/database.js';
import type { Actor } from '../src/platform/http/context.js';
import { createTestDatabase, onPostgres, type TestDatabase } from './helpers/db.js';
import { filesOf, patientActor, staffActor } from './helpers/actors.js';
import { randomUUID } from 'node:crypto';
import { guardedGate, readThrough, TestClock, withSecondFactor, type GuardedGate } from './helpers/guard.js';
import type { Exposure } from '../src/modules/guard/index.js';
import { postgresCounters } from '../src/modules/guard/counters.js';
import { createGuardStore } from '../src/modules/guard/store.js';
import { DomainError } from '../src/platform/http/errors.js';

let t: TestDatabase;
let data: DemoData;
let A: string;
let B: string;

beforeAll(async () => {
  t = await createTestDatabase();
  data = (await seedDemo(t.db, undefined, t.vault)).data;
  A = data.establishments[0]!.id;
  B = data.establishments[1]!.id;
});
afterAll(async () => t?.drop());

const userIdOf = (actor: Actor) => (actor as Extract<Actor, { kind: 'user' }>).userId;

async function alerts(establishmentId: string, kind: string, userId: string) {
  return t.db.owner.selectFrom('security_alerts').selectAll().where('establishment_id', '=', establishmentId).where('kind', '=', kind).where('actor_user_id', '=', userId).execute();
}

describe('escalation at the gate', () => {
  it('a secretary walking unexplained files: step-up on the 13th, contained on the 26th after stepping up, then refused everywhere until released', async () => {
    const clock = new TestClock();
    const g = guardedGate(t.db, { clock });
    let secretary = staffActor(data, A, 'secretary');
    const files = filesOf(data, A).map((f) => f.id);
    const outcomes: string[] = [];
    for (let i = 0; i < 12; i++) {
      outcomes.push(await readThrough(g.gate, secretary, A, [files[i]!]));
      clock.advance(5_000);
    }
    expect(outcomes.every((o) => o === 'allowed')).toBe(true);
    expect(await readThrough(g.gate, secretary, A, [files[12]!])).toBe('step_up_required');
    expect(await alerts(A, 'guard_step_up', userIdOf(secretary))).toHaveLength(1);
    // Retrying without the second factor is refused again and does not re-alert.
    expect(await readThrough(g.gate, secretary, A, [files[12]!])).toBe('step_up_required');
    expect(await alerts(A, 'guard_step_up', userIdOf(secretary))).toHaveLength(1);
    // Re-reading what was already shown is not the request that crosses.
    expect(await readThrough(g.gate, secretary, A, [files[3]!])).toBe('allowed');

    secretary = withSecondFactor(secretary, clock.now());
    for (let i = 12; i < 25; i++) {
      expect(await readThrough(g.gate, secretary, A, [files[i]!])).toBe('allowed');
      clock.advance(2_000);
    }
    expect(await readThrough(g.gate, secretary, A, [files[25]!])).toBe('account_contained');

    // Containment: recorded, identity asked to revoke everything, a critical alert, officers notified.
    expect(g.revoked).toEqual([{ kind: 'user', id: userIdOf(secretary) }]);
    const critical = await alerts(A, 'guard_containment', userIdOf(secretary));
    expect(critical).toHaveLength(1);
    expect(critical[0]).toMatchObject({ severity: 'critical', patient_ids: [] });
    expect(JSON.stringify(critical[0]!.details)).not.toMatch(/[A-Za-zé]{3,} [A-Za-zé]{3,}/); // codes and counts only
    expect(g.notified).toEqual([expect.objectContaining({ kind: 'guard_containment', severity: 'critical', alertId: critical[0]!.id })]);
    expect(await t.db.withPlatform((tx) => isContained(tx, userIdOf(secretary)))).toBe(true);

    // Every later access, even a re-read, answers account_contained, and is recorded as such.
    expect(await readThrough(g.gate, secretary, A, [files[0]!])).toBe('account_contained');
    const last = await t.db.owner.selectFrom('audit_events').select(['outcome']).where('actor_user_id', '=', userIdOf(secretary)).orderBy('at', 'desc').orderBy('id', 'desc').executeTakeFirstOrThrow();
    expect(last.outcome).toBe('contained');
    // The 26th patient's data never left: the exposure audit for it is 'contained', never 'allowed'.
    const about26 = await t.db.owner
      .selectFrom('audit_events')
      .select('outcome')
      .where('actor_user_id', '=', userIdOf(secretary))
      .where(sql<boolean>`patient_ids @> array[${files[25]!}]::uuid[]`)
      .execute();
    expect(about26.map((e) => e.outcome)).toEqual(['contained']);

    // Release by a security officer (step-up) lifts it; counters start clean.
    const officer = staffActor(data, A, 'security_officer', 0, clock.now());
    await g.guard.security.releaseUser(officer, A, userIdOf(secretary));
    expect(await t.db.withPlatform((tx) => isContained(tx, userIdOf(secretary)))).toBe(false);
    expect(await readThrough(g.gate, secretary, A, [files[30]!])).toBe('allowed');
  });

  it('explained exposures barely count: a practitioner reading 60 of today\'s patients (care team, appointment today) is not stopped', async () => {
    const clock = new TestClock();
    const files = filesOf(data, A).slice(0, 60).map((f) => f.id);
    const todays = new Set(files);
    const g = guardedGate(t.db, { clock, explanationSources: [async (_tx, q) => new Set(q.patientIds.filter((id) => todays.has(id)))] });
    const practitioner = staffActor(data, A, 'practitioner', 1);
    await t.db.withTenant(A, async (tx) => {
      for (const id of files) await addCareRelationship(tx, { establishmentId: A, patientId: id, practitionerUserId: userIdOf(practitioner), kind: 'care_team' });
    });
    for (const id of files) {
      expect(await readThrough(g.gate, practitioner, A, [id], ['clinical'])).toBe('allowed');
      clock.advance(60_000);
    }
  });

  it('a care relationship with no appointment near now counts half: walking a year of patients is asked a step-up', async () => {
    const clock = new TestClock();
    const g = guardedGate(t.db, { clock, explanationSources: [async () => new Set<string>()] });
    const practitioner = staffActor(data, A, 'practitioner', 1);
    const files = filesOf(data, A).slice(0, 60).map((f) => f.id); // care team from the previous test
    const outcomes: string[] = [];
    for (const id of files) {
      outcomes.push(await readThrough(g.gate, practitioner, A, [id], ['clinical']));
      clock.advance(20_000);
    }
    // 5-minute window: 15 reads × 0.5 = 7.5 < 10; the hour's step-up line (25) is crossed at the 51st.
    expect(outcomes.indexOf('step_up_required')).toBe(50);
    const classes = await t.db.owner.selectFrom('guard_exposures').select('class').where('actor_key', '=', `user:${userIdOf(practitioner)}`).where('patient_id', '=', files[0]!).execute();
    expect(classes.map((c) => c.class)).toContain('care');
  });

  it('an explanation source (appointment in a near window) explains a secretary\'s agenda; the same page from months ago is refused before it leaves', async () => {
    const clock = new TestClock();
    const files = filesOf(data, B).map((f) => f.id);
    const today = new Set(files.slice(0, 40));
    const g = guardedGate(t.db, {
      clock,
      explanationSources: [async (_tx, q) => new Set(q.patientIds.filter((id) => today.has(id)))],
    });
    const secretary = staffActor(data, B, 'secretary');
    const page = (ids: string[]) =>
      g.gate.list({ actor: secretary, establishmentId: B, action: 'read', resourceKind: 'agenda', categories: ['administrative', 'identity'] }, async (tx) => tx.selectFrom('patients').select('id').where('id', 'in', ids).execute(), (r) => r.id);
    expect(await page([...today])).toHaveLength(40);
    clock.advance(30_000);
    await expect(page(files.slice(40, 70))).rejects.toMatchObject({ code: 'step_up_required' });
  });

  it('a booking explains the look-up that led to it', async () => {
    const clock = new TestClock();
    const g = guardedGate(t.db, { clock });
    const secretary = staffActor(data, data.establishments[2]!.id, 'secretary');
    const C = data.establishments[2]!.id;
    const files = filesOf(data, C).map((f) => f.id);
    // 40 phone calls in a row, each a look-up then a booking: never a step-up.
    for (let i = 0; i < 40; i++) {
      expect(await readThrough(g.gate, secretary, C, [files[i]!])).toBe('allowed');
      expect(await readThrough(g.gate, secretary, C, [files[i]!], ['administrative'], 'write', 'appointment')).toBe('allowed');
      clock.advance(20_000);
    }
    const rows = await t.db.owner.selectFrom('guard_exposures').select(['class']).where('actor_key', '=', `user:${userIdOf(secretary)}`).execute();
    expect(rows.every((r) => r.class === 'explained')).toBe(true);
  });

  it('a burst of not-found ids (enumeration) asks a step-up then contains', async () => {
    const clock = new TestClock();
    const g = guardedGate(t.db, { clock });
    const practitioner = staffActor(data, A, 'practitioner', 2);
    const verdicts: string[] = [];
    for (let i = 0; i < 25; i++) verdicts.push(await g.guard.noteMiss({ actor: i > 10 ? withSecondFactor(practitioner, clock.now()) : practitioner, establishmentId: A, role: 'practitioner', kind: 'not_found' }));
    expect(verdicts.slice(0, 8).every((v) => v === 'allow')).toBe(true);
    expect(verdicts[8]).toBe('step_up');
    expect(verdicts.slice(11, 20).every((v) => v === 'allow')).toBe(true);
    expect(verdicts[20]).toBe('contain');
    expect(await t.db.withPlatform((tx) => isContained(tx, userIdOf(practitioner)))).toBe(true);
  });

  it('the gate reports ids it finds nowhere: walking random or another establishment\'s ids asks a step-up, then contains', async () => {
    const clock = new TestClock();
    const g = guardedGate(t.db, { clock });
    const secretary = staffActor(data, A, 'secretary');
    const elsewhere = filesOf(data, data.establishments[1]!.id).map((f) => f.id);
    const outcomes: string[] = [];
    for (let i = 0; i < 25; i++) {
      const id = i % 2 === 0 ? randomUUID() : elsewhere[i]!;
      outcomes.push(await readThrough(g.gate, i > 10 ? withSecondFactor(secretary, clock.now()) : secretary, A, [id]));
      clock.advance(1000);
    }
    expect(outcomes.slice(0, 8).every((o) => o === 'not_found')).toBe(true);
    expect(outcomes[8]).toBe('step_up_required');
    expect(outcomes.slice(11, 20).every((o) => o === 'not_found')).toBe(true);
    expect(outcomes[20]).toBe('account_contained');
    expect(await t.db.withPlatform((tx) => isContained(tx, userIdOf(secretary)))).toBe(true);
    // A real file of the establishment is no miss, and its ordinary reads are unaffected elsewhere.
    const other = staffActor(data, A, 'practitioner', 4);
    expect(await readThrough(g.gate, other, A, [filesOf(data, A)[0]!.id])).toBe('allowed');
  });

  it('a patient asking for other patients\' files counts those as misses too', async () => {
    const clock = new TestClock();
    const g = guardedGate(t.db, { clock });
    const patient = patientActor(data, 0);
    const own = data.patientFiles.find((f) => f.accountIndex === 0)!;
    const others = filesOf(data, own.establishmentId).filter((f) => f.accountIndex !== 0).map((f) => f.id);
    expect(await readThrough(g.gate, patient, own.establishmentId, [own.id])).toBe('allowed');
    const outcomes: string[] = [];
    for (let i = 0; i < 9; i++) outcomes.push(await readThrough(g.gate, patient, own.establishmentId, [others[i]!]));
    expect(outcomes.slice(0, 8).every((o) => o === 'not_found')).toBe(true);
    expect(outcomes[8]).toBe('step_up_required');
  });

  it('an admin or a security officer naming any patient file is probing: counted as misses, step-up then containment, nothing read', async () => {
    for (const role of ['admin', 'security_officer'] as const) {
      const clock = new TestClock();
      const g = guardedGate(t.db, { clock });
      const actor = staffActor(data, A, role);
      const files = filesOf(data, A).map((f) => f.id);
      const outcomes: string[] = [];
      for (let i = 0; i < 21; i++) {
        outcomes.push(await readThrough(g.gate, i > 8 ? withSecondFactor(actor, clock.now()) : actor, A, [files[i]!]));
        clock.advance(1000);
      }
      expect(outcomes.slice(0, 8).every((o) => o === 'not_found'), role).toBe(true);
      expect(outcomes[8], role).toBe('step_up_required');
      expect(outcomes.slice(9, 19).every((o) => o === 'not_found'), role).toBe(true);
      expect(outcomes.slice(19), role).toContain('account_contained');
      expect(await t.db.withPlatform((tx) => isContained(tx, userIdOf(actor))), role).toBe(true);
    }
  });

  it('a stolen cookie without the second factor: refused at the step-up line, contained after ten more refused crossings, every session revoked', async () => {
    const clock = new TestClock();
    const g = guardedGate(t.db, { clock });
    const C = data.establishments[2]!.id;
    const secretary = staffActor(data, C, 'secretary');
    const files = filesOf(data, C).map((f) => f.id).slice(10);
    const outcomes: string[] = [];
    for (let i = 0; i < 26; i++) {
      outcomes.push(await readThrough(g.gate, secretary, C, [files[i]!]));
      clock.advance(2000);
    }
    const first = outcomes.indexOf('step_up_required');
    expect(first).toBeGreaterThan(5);
    expect(outcomes.slice(first, first + 10).every((o) => o === 'step_up_required')).toBe(true);
    expect(outcomes[first + 10]).toBe('account_contained');
    expect(g.revoked).toContainEqual({ kind: 'user', id: userIdOf(secretary) });
    const signals = await t.db.withTenant(C, (tx) => tx.selectFrom('contained_actors').select('signals').where('actor_key', '=', `user:${userIdOf(secretary)}`).execute());
    expect(signals.at(-1)!.signals).toContain('repeated_after_refusal');
  });

  it('the gate counts patient searches that find nobody as search misses', async () => {
    const clock = new TestClock();
    const g = guardedGate(t.db, { clock });
    // A practitioner of B whom no other test here walks (searching is open to practitioners too).
    const secretary = staffActor(data, B, 'practitioner', 1);
    const search = async () => {
      try {
        await g.gate.list({ actor: secretary, establishmentId: B, action: 'read', resourceKind: 'patient_search', categories: ['identity'], ip: '192.0.2.10' }, async () => [] as Array<{ id: string }>, (r) => r.id);
        return 'allowed';
      } catch (error) {
        if (error instanceof DomainError) return error.code;
        throw error;
      }
    };
    const outcomes: string[] = [];
    for (let i = 0; i < 9; i++) outcomes.push(await search());
    expect(outcomes.slice(0, 8)).toEqual(Array(8).fill('allowed'));
    expect(outcomes[8]).toBe('step_up_required');
    const misses = await t.db.owner.selectFrom('guard_misses').select(['kind']).where('actor_key', '=', `user:${userIdOf(secretary)}`).execute();
    expect(misses.map((m) => m.kind)).toContain('search_miss');
  });

  it('off hours halve the lines (the establishment\'s time zone)', async () => {
    const clock = new TestClock(new Date('2026-11-22T21:00:00Z')); // Sunday 22:00 in Paris
    const g = guardedGate(t.db, { clock });
    const practitioner = staffActor(data, A, 'practitioner', 3);
    const files = filesOf(data, A).map((f) => f.id);
    const outcomes: string[] = [];
    for (let i = 0; i < 6; i++) outcomes.push(await readThrough(g.gate, practitioner, A, [files[i]!]));
    expect(outcomes).toEqual(['allowed', 'allowed', 'allowed', 'allowed', 'allowed', 'step_up_required']);
  });

  it('an API key has no second factor: its first crossing is refused, the next one contains and revokes it', async () => {
    const clock = new TestClock();
    const g = guardedGate(t.db, { clock });
    const key: Actor = { kind: 'api_key', apiKeyId: '0190a000-0000-7000-8000-00000000a001', establishmentId: A, scopes: ['patients:read'] };
    const files = filesOf(data, A).map((f) => f.id);
    const outcomes: string[] = [];
    for (let i = 0; i < 8; i++) outcomes.push(await readThrough(g.gate, key, A, [files[i]!]));
    expect(outcomes).toEqual(['allowed', 'allowed', 'allowed', 'allowed', 'allowed', 'step_up_required', 'account_contained', 'account_contained']);
    expect(g.revoked).toEqual([{ kind: 'api_key', id: '0190a000-0000-7000-8000-00000000a001' }]);
  });

  it('a page that alone goes past a key\'s contain line contains it at once', async () => {
    const clock = new TestClock();
    const g = guardedGate(t.db, { clock });
    const key: Actor = { kind: 'api_key', apiKeyId: '0190a000-0000-7000-8000-00000000a002', establishmentId: A, scopes: ['patients:read'] };
    const files = filesOf(data, A).map((f) => f.id);
    expect(await readThrough(g.gate, key, A, files.slice(0, 25))).toBe('account_contained');
    expect(g.revoked).toEqual([{ kind: 'api_key', id: '0190a000-0000-7000-8000-00000000a002' }]);
  });
});

describe('decoys', () => {
  it('touching a decoy file contains at once, with a critical alert, even for a single first read', async () => {
    const C = data.establishments[2]!.id;
    const decoys = await t.db.withTenant(C, (tx) => plantDecoys(tx, (tx2, establishmentId, file) => insertPatientFile(tx2, t.vault, { establishmentId, accountUserId: null, file }), C, 3, 42));
    expect(decoys).toHaveLength(3);
    const g = guardedGate(t.db, { clock: new TestClock() });
    const practitioner = staffActor(data, C, 'practitioner', 0);
    expect(await readThrough(g.gate, practitioner, C, [filesOf(data, C)[0]!.id])).toBe('allowed');
    expect(await readThrough(g.gate, practitioner, C, [decoys[1]!])).toBe('account_contained');
    const alert = (await alerts(C, 'guard_containment', userIdOf(practitioner)))[0]!;
    expect(alert.details).toMatchObject({ signals: 'decoy_touched', decoys: 1 });
    expect(g.revoked).toEqual([{ kind: 'user', id: userIdOf(practitioner) }]);
  });
});

describe('shared across instances', () => {
  it('two instances on one database contain the same actor at the same line, even in parallel', async () => {
    const second = onPostgres() ? await openDatabase(t.config, { databaseUrl: t.url, poolSize: 4 }) : t.db;
    try {
      const clock = new TestClock();
      const one = guardedGate(t.db, { clock });
      const two = guardedGate(second, { clock });
      const practitioner = withSecondFactor(staffActor(data, A, 'practitioner', 4), clock.now());
      const files = filesOf(data, A).slice(40).map((f) => f.id);
      // 30 single-patient reads fired at once, alternating instances.
      const outcomes = await Promise.all(files.slice(0, 30).map((id, i) => readThrough((i % 2 === 0 ? one : two).gate, practitioner, A, [id])));
      const allowed = outcomes.filter((o) => o === 'allowed').length;
      // Practitioner's 5-minute contain line is 20 unexplained patients: exactly 20 get through.
      expect(allowed, outcomes.join()).toBe(20);
      expect(outcomes.filter((o) => o === 'account_contained').length, outcomes.join()).toBe(outcomes.length - 20);
      const rows = await t.db.owner.selectFrom('contained_actors').select('id').where('actor_key', '=', `user:${userIdOf(practitioner)}`).execute();
      expect(rows).toHaveLength(1);
    } finally {
      if (second !== t.db) await second.close();
    }
  });
});

describe('the meter\'s cost', () => {
  /** Runs the meter on one exposure, in a tenant transaction, counting the statements it sends. */
  async function metered(gg: GuardedGate, exposure: Exposure): Promise<{ outcome: string; statements: string[] }> {
    const statements: string[] = [];
    const counting: KyselyPlugin = {
      transformQuery(args) {
        statements.push(args.node.kind);
        return args.node;
      },
      async transformResult(args) {
        return args.result;
      },
    };
    try {
      await t.db.withTenant(exposure.establishmentId, (tx) => gg.guard.meter.meter(tx.withPlugin(counting), exposure));
      return { outcome: 'allowed', statements };
    } catch (error) {
      if (error instanceof DomainError) return { outcome: error.code, statements };
      throw error;
    }
  }

  it('an ordinary allowed read costs three statements (the lock, the facts, the record) and records the exposure, the network and the day', async () => {
    const clock = new TestClock();
    const gg = guardedGate(t.db, { clock });
    const practitioner = staffActor(data, A, 'practitioner', 7);
    const key = `user:${userIdOf(practitioner)}`;
    const [p1, p2] = filesOf(data, A).slice(-2).map((f) => f.id);
    const exposure = (patientId: string, ip: string): Exposure => ({
      actor: practitioner, role: 'practitioner', establishmentId: B, action: 'read', resourceKind: 'patient', categories: ['identity'],
      patientIds: [patientId], explainedPatientIds: [], breakGlassPatientIds: [], ip,
    });
    const first = await metered(gg, exposure(p1!, '192.0.2.10'));
    expect(first).toEqual({ outcome: 'allowed', statements: ['RawNode', 'RawNode', 'RawNode'] });
    clock.advance(60_000);
    const second = await metered(gg, exposure(p2!, '198.51.100.7'));
    expect(second).toEqual({ outcome: 'allowed', statements: ['RawNode', 'RawNode', 'RawNode'] });
    const exposures = await t.db.owner.selectFrom('guard_exposures').select(['patient_id', 'class']).where('actor_key', '=', key).orderBy('last_at').execute();
    expect(exposures).toEqual([{ patient_id: p1, class: 'unexplained' }, { patient_id: p2, class: 'unexplained' }]);
    const networks = await t.db.owner.selectFrom('guard_networks').select('network').where('actor_key', '=', key).orderBy('first_seen_at').execute();
    expect(networks.map((n) => n.network)).toEqual(['192.0.2.0/24', '198.51.100.0/24']);
    const days = await t.db.owner.selectFrom('guard_daily').select(['unexplained', 'explained']).where('actor_key', '=', key).execute();
    expect(days.map((d) => [Number(d.unexplained), Number(d.explained)])).toEqual([[2, 0]]);
  });

  it('a contained actor is refused after the lock and the facts, and nothing is recorded', async () => {
    const clock = new TestClock();
    const gg = guardedGate(t.db, { clock });
    const practitioner = staffActor(data, B, 'practitioner', 0);
    const key = `user:${userIdOf(practitioner)}`;
    await t.db.owner
      .insertInto('contained_actors')
      .values({ id: randomUUID(), establishment_id: B, actor_key: key, user_id: userIdOf(practitioner), api_key_id: null, signals: ['test'], alert_id: null, contained_at: clock.now(), released_at: null, released_by_user_id: null })
      .execute();
    const patientId = filesOf(data, B).at(-1)!.id;
    const refused = await metered(gg, {
      actor: practitioner, role: 'practitioner', establishmentId: B, action: 'read', resourceKind: 'patient', categories: ['identity'],
      patientIds: [patientId], explainedPatientIds: [], breakGlassPatientIds: [], ip: '192.0.2.10',
    });
    expect(refused).toEqual({ outcome: 'account_contained', statements: ['RawNode', 'RawNode'] });
    expect(await t.db.owner.selectFrom('guard_exposures').select('patient_id').where('actor_key', '=', key).execute()).toEqual([]);
  });
});

describe('the PostgreSQL counters on their own', () => {
  it('read and record with the fragments the meter inlines: the same windows and misses as the facts statement, day-old rows dropped', async () => {
    const counters = postgresCounters();
    const key = `key:${randomUUID()}`;
    const [p1, p2, p3] = filesOf(data, B).slice(0, 3).map((f) => f.id) as [string, string, string];
    const at = new TestClock().now();
    const ago = (ms: number) => new Date(at.getTime() - ms);
    await t.db.withTenant(B, async (tx) => {
      await counters.record(tx, B, key, ago(25 * 3600_000), new Map([[p3, 'unexplained']]));
      await counters.record(tx, B, key, ago(30 * 60_000), new Map([[p1, 'unexplained'], [p2, 'explained']]));
      await counters.record(tx, B, key, at, new Map([[p1, 'unexplained']]));
      await counters.addMiss(tx, B, key, at, 'not_found', 2);
      const alone = await counters.windows(tx, B, key, at, [p1, p2, p3]);
      expect(alone.unexplained.counts).toEqual({ '5m': 1, '1h': 1, '24h': 1 });
      expect(alone.explained.counts).toEqual({ '5m': 0, '1h': 1, '24h': 1 });
      expect([...alone.unexplained.lastSeen]).toEqual([[p1, at.getTime()]]);
      expect(await counters.misses5m(tx, B, key, at)).toBe(2);
      const facts = await createGuardStore().meterFacts(tx, { establishmentId: B, actorKey: key, patientIds: [p1, p2, p3], day: at.toISOString().slice(0, 10), at, counters: counters.inline });
      expect(facts.counters).toEqual({ windows: alone, misses5m: 2 });
    });
    const rows = await t.db.owner.selectFrom('guard_exposures').select('patient_id').where('actor_key', '=', key).orderBy('patient_id').execute();
    expect(rows.map((r) => r.patient_id)).toEqual([p1, p2].sort());
  });
});

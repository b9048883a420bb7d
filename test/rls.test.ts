// Tenant walls (ASVS 8.4.1): row-level security on every establishment-owned table, proven on
// the database under test (PGlite by default, PostgreSQL with DATABASE_URL).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { establishmentOwnedTables, tenantWallViolations } from './helpers/tenant-walls.js';
import { seedDemo } from '../src/seed/demo.js';
import { appendAuditEvent } from '../src/modules/audit/index.js';
import { addCareRelationship } from '../src/modules/access/index.js';
import { raiseAlert } from '../src/modules/guard/index.js';
import { v7 as uuidv7 } from 'uuid';
import { randomBytes } from 'node:crypto';
import { insertIdentityRows } from './helpers/identity-rows.js';

/** What an insert came to: 'accepted', or the error code and the constraint that refused it. */
const outcome = (p: Promise<unknown>) =>
  p.then(
    () => 'accepted',
    (e: { code?: string; message?: string }) => `${e.code} ${/constraint "(\w+)"/.exec(e.message ?? '')?.[1] ?? e.message}`,
  );

/**
 * Each case's outcomes (by the owner, then from inside an establishment), in case order, beside
 * what each case expects of both.
 */
async function outcomesOf<T extends Readonly<Record<string, readonly [unknown, string]>>>(cases: T, attempt: (change: T[keyof T][0]) => Promise<string[]>) {
  const seen: Record<string, string[]> = {};
  for (const [name, [change]] of Object.entries(cases)) seen[name] = await attempt(change as T[keyof T][0]);
  const expected = Object.fromEntries(Object.entries(cases).map(([name, [, outcome]]) => [name, [outcome, outcome]]));
  return { seen, expected };
}

describe('tenant walls', () => {
  let t: TestDatabase;
  let a: string;
  let b: string;

  beforeAll(async () => {
    t = await createTestDatabase();
    const { data, vault } = await seedDemo(t.db, undefined, t.vault);
    a = data.establishments[0]!.id;
    b = data.establishments[1]!.id;
    // One row of every establishment-owned table in each of A and B.
    for (const establishmentId of [a, b]) {
      const patientId = data.patientFiles.find((f) => f.establishmentId === establishmentId)!.id;
      const userId = data.staff.find((s) => s.memberships.some((m) => m.establishmentId === establishmentId && m.role === 'practitioner'))!.userId;
      await t.db.withTenant(establishmentId, async (tx) => {
        await appendAuditEvent(tx, { establishmentId, action: 'test.event', outcome: 'allowed', actor: { kind: 'system', name: 'test' } });
        await addCareRelationship(tx, { establishmentId, patientId, practitionerUserId: userId, kind: 'care_team' });
        await raiseAlert(tx, { establishmentId, kind: 'test', severity: 'info', actorUserId: userId });
        await tx
          .insertInto('break_glass_grants')
          .values({ id: uuidv7(), establishment_id: establishmentId, patient_id: patientId, user_id: userId, reason: 'A reason long enough for the check', expires_at: new Date(Date.now() + 3600_000) })
          .execute();
        // The guard's tables (counters, misses, state, baseline, networks, settings, containments).
        const key = `user:${userId}`;
        const at = new Date();
        await tx.insertInto('guard_exposures').values({ establishment_id: establishmentId, actor_key: key, patient_id: patientId, class: 'unexplained', last_at: at }).execute();
        await tx.insertInto('guard_misses').values({ id: uuidv7(), establishment_id: establishmentId, actor_key: key, kind: 'not_found', at }).execute();
        await tx.insertInto('guard_actor_state').values({ establishment_id: establishmentId, actor_key: key, step_up_demanded_at: at }).execute();
        await tx.insertInto('guard_daily').values({ establishment_id: establishmentId, actor_key: key, day: '2026-11-20', unexplained: 3, explained: 10 }).execute();
        await tx.insertInto('guard_networks').values({ establishment_id: establishmentId, actor_key: key, network: '192.0.2.0/24', first_seen_at: at }).execute();
        await tx.insertInto('guard_settings').values({ establishment_id: establishmentId, thresholds: '{}', updated_by_user_id: null }).execute();
        await tx
          .insertInto('contained_actors')
          .values({ id: uuidv7(), establishment_id: establishmentId, actor_key: key, user_id: userId, api_key_id: null, alert_id: null, contained_at: at, released_at: null, released_by_user_id: null })
          .execute();
        const incidentId = uuidv7();
        await tx
          .insertInto('incidents')
          .values({ id: incidentId, establishment_id: establishmentId, actor_kind: 'user', actor_user_id: userId, api_key_id: null, window_from: new Date(at.getTime() - 3600_000), window_to: at, detected_at: at, report: '{}', created_by_user_id: null })
          .execute();
        await tx.insertInto('guard_decoys').values({ establishment_id: establishmentId, patient_id: patientId }).execute();
        await tx.insertInto('incident_events').values({ id: uuidv7(), establishment_id: establishmentId, incident_id: incidentId, kind: 'note', at, reference: null, recorded_by_user_id: null }).execute();
        await tx.insertInto('patient_notices').values({ id: uuidv7(), establishment_id: establishmentId, incident_id: incidentId, patient_id: patientId, lang: 'fr', markdown: '# Lettre' }).execute();
        await tx
          .insertInto('guard_exports')
          .values({ id: uuidv7(), establishment_id: establishmentId, kind: 'appointments', params: '{}', purpose: 'A purpose long enough for the check', requested_by: userId, requested_at: at, status: 'pending', decided_by: null, decided_at: null, expires_at: at, downloaded_at: null, patient_count: null })
          .execute();
      });
      await insertIdentityRows(t.db, t.vault, data, establishmentId);
      // Teleconsultation: a colleague invited into a video appointment.
      const colleagueId = data.staff.find((s) => s.userId !== userId && s.memberships.some((m) => m.establishmentId === establishmentId))!.userId;
      await t.db.withTenant(establishmentId, async (tx) => {
        const appointment = await tx.selectFrom('appointments').select('id').limit(1).executeTakeFirstOrThrow();
        await tx
          .insertInto('teleconsult_guests')
          .values({ id: uuidv7(), establishment_id: establishmentId, appointment_id: appointment.id, guest_user_id: colleagueId, invited_by_user_id: userId })
          .execute();
        // An end-to-end document (ciphertext only) and its wrapped key.
        const documentId = uuidv7();
        const bytes = (n: number) => randomBytes(n);
        await tx
          .insertInto('e2e_documents')
          .values({ id: documentId, establishment_id: establishmentId, patient_id: patientId, author_user_id: userId, ciphertext: bytes(64), iv: bytes(12), meta_ciphertext: bytes(40), meta_iv: bytes(12), size_bytes: 64 })
          .execute();
        await tx
          .insertInto('e2e_document_keys')
          .values({ document_id: documentId, establishment_id: establishmentId, recipient_user_id: userId, wrapped_key: bytes(384), recipient_fingerprint: 'a'.repeat(64) })
          .execute();
      });
    }
    // Vault keys (key versions and data keys) for the first patient of each establishment (the
    // seed already made them: patient files are encrypted).
    for (const establishmentId of [a, b]) {
      const patientId = data.patientFiles.find((f) => f.establishmentId === establishmentId)!.id;
      await t.db.withTenant(establishmentId, (tx) => vault.ensurePatientKeys(tx, establishmentId, [patientId]));
      // Records: a document, a rectification request and an erasure request (clinical entries come with the seed).
      const userId = data.staff.find((s) => s.memberships.some((m) => m.establishmentId === establishmentId && m.role === 'secretary'))!.userId;
      await t.db.withTenant(establishmentId, async (tx) => {
        const seal = (table: string, column: string, rowId: string, value: string) =>
          vault.encryptField(tx, { establishmentId, patientId, table, column, rowId }, value) as Promise<string>;
        const documentId = uuidv7();
        const content = await vault.encryptBytes(tx, { establishmentId, patientId, table: 'patient_documents', column: 'content_enc', rowId: documentId }, Buffer.from('%PDF-1.4'));
        await tx
          .insertInto('patient_documents')
          .values({ id: documentId, establishment_id: establishmentId, patient_id: patientId, category: 'clinical', media_type: 'application/pdf', byte_size: 8, title_enc: await seal('patient_documents', 'title_enc', documentId, 'Compte rendu'), content_enc: content, uploaded_by_user_id: userId })
          .execute();
        const requestId = uuidv7();
        await tx
          .insertInto('rectification_requests')
          .values({ id: requestId, establishment_id: establishmentId, patient_id: patientId, requested_by_user_id: userId, fields: ['phone'], message_enc: await seal('rectification_requests', 'message_enc', requestId, 'Nouveau numéro'), resolved_at: null, resolved_by_user_id: null })
          .execute();
        await tx
          .insertInto('erasure_requests')
          .values({ id: uuidv7(), establishment_id: establishmentId, patient_id: patientId, reason: 'duplicate', requested_by_user_id: userId, decided_by_user_id: null, decided_at: null })
          .execute();
      });
    }
  });
  afterAll(async () => t?.drop());

  it('covers the establishment-owned tables', async () => {
    const tables = await establishmentOwnedTables(t.db);
    expect(tables).toEqual(
      expect.arrayContaining([
        'api_keys',
        'approval_requests',
        'audit_events',
        'break_glass_grants',
        'care_relationships',
        'clinical_entries',
        'contained_actors',
        'erasure_requests',
        'e2e_document_keys',
        'e2e_documents',
        'guard_actor_state',
        'guard_daily',
        'guard_decoys',
        'guard_exports',
        'guard_exposures',
        'guard_misses',
        'guard_networks',
        'guard_settings',
        'incident_events',
        'incidents',
        'invitations',
        'memberships',
        'patient_documents',
        'patient_notices',
        'patients',
        'practitioner_establishments',
        'rectification_requests',
        'security_alerts',
        'teleconsult_guests',
        'vault_data_keys',
        'vault_establishment_keys',
      ]),
    );
  });

  it('the application role cannot bypass row-level security', async () => {
    const { rows } = await sql<{ rolbypassrls: boolean; rolsuper: boolean }>`
      select rolbypassrls, rolsuper from pg_roles where rolname = ${t.config.dbAppRole}`.execute(t.db.owner);
    expect(rows).toEqual([{ rolbypassrls: false, rolsuper: false }]);
    const who = await t.db.withTenant(a, async (tx) => (await sql<{ u: string }>`select current_user as u`.execute(tx)).rows[0]?.u);
    expect(who).toBe(t.config.dbAppRole);
  });

  it('walls every establishment-owned table: nothing without a tenant, nothing of B from inside A', async () => {
    expect(await tenantWallViolations(t.db, a, b)).toEqual([]);
    expect(await tenantWallViolations(t.db, b, a)).toEqual([]);
  });

  it('reads the patients of A inside A, and the tenant does not outlive its transaction', async () => {
    const names = await t.db.withTenant(a, (tx) => tx.selectFrom('patients').select(['id', 'establishment_id']).execute());
    expect(names.length).toBeGreaterThan(0);
    expect(new Set(names.map((n) => n.establishment_id))).toEqual(new Set([a]));
    const after = await t.db.withPlatform((tx) => tx.selectFrom('patients').select('id').execute());
    expect(after).toEqual([]);
  });

  it('audit events are append-only for the application, and an event cannot be filed under another establishment', async () => {
    await expect(t.db.withTenant(a, (tx) => sql`update audit_events set action = 'x'`.execute(tx))).rejects.toThrow(/permission denied/);
    await expect(t.db.withTenant(a, (tx) => sql`delete from audit_events`.execute(tx))).rejects.toThrow(/permission denied/);
    // Even the owner meets the append-only trigger.
    await expect(sql`delete from audit_events`.execute(t.db.owner)).rejects.toThrow(/append-only/);
    await expect(
      t.db.withTenant(a, (tx) => appendAuditEvent(tx, { establishmentId: b, action: 'test.event', outcome: 'allowed' })),
    ).rejects.toThrow(/row-level security/);
  });

  it('a patient id of B looked up from inside A is simply not there', async () => {
    const idOfB = (await t.db.owner.selectFrom('patients').select('id').where('establishment_id', '=', b).executeTakeFirstOrThrow()).id;
    const found = await t.db.withTenant(a, (tx) => tx.selectFrom('patients').select('id').where('id', '=', idOfB).execute());
    expect(found).toEqual([]);
  });

  // Row-level security checks an appointment's establishment_id only: what keeps its other
  // references inside that establishment (and consistent with its agenda) is the composite
  // foreign keys of migration 0088. Each case is tried by the owner (no RLS at all) and by the
  // tenant the row claims to belong to (RLS satisfied), so only the keys can refuse it.
  it("an appointment's agenda, practitioner, motive and patient file hold together, whoever inserts it", async () => {
    const template = await t.db.owner.selectFrom('appointments').selectAll().where('establishment_id', '=', a).limit(1).executeTakeFirstOrThrow();
    const otherAgenda = await t.db.owner
      .selectFrom('agendas')
      .select(['id', 'practitioner_id'])
      .where('owner_establishment_id', '=', a)
      .where('practitioner_id', '!=', template.practitioner_id)
      .limit(1)
      .executeTakeFirstOrThrow();
    const motiveOfOtherAgenda = (await t.db.owner.selectFrom('visit_motives').select('id').where('agenda_id', '=', otherAgenda.id).limit(1).executeTakeFirstOrThrow()).id;
    const fileOfB = (await t.db.owner.selectFrom('patients').select('id').where('establishment_id', '=', b).limit(1).executeTakeFirstOrThrow()).id;
    let day = 0;
    const row = (change: { establishment_id?: string; practitioner_id?: string; motive_id?: string; patient_id?: string }) => {
      // A free time far ahead, so that the exclusion constraint has nothing to say.
      const start = new Date(Date.UTC(2099, 0, 1 + day++, 9));
      const end = new Date(start.getTime() + 20 * 60_000);
      return {
        id: uuidv7(),
        establishment_id: template.establishment_id,
        agenda_id: template.agenda_id,
        practitioner_id: template.practitioner_id,
        motive_id: template.motive_id,
        patient_id: template.patient_id,
        starts_at: start,
        ends_at: end,
        period: `[${start.toISOString()},${end.toISOString()})`,
        status: 'confirmed' as const,
        booked_by_user_id: null,
        booked_by: 'staff' as const,
        ...change,
      };
    };
    const cases = {
      // B's establishment on A's agenda (the patient file of B, so that only the agenda's key speaks).
      'establishment other than the agenda owner': [{ establishment_id: b, patient_id: fileOfB }, '23503 appointments_agenda_fkey'],
      "practitioner other than the agenda's": [{ practitioner_id: otherAgenda.practitioner_id }, '23503 appointments_agenda_fkey'],
      'motive of another agenda': [{ motive_id: motiveOfOtherAgenda }, '23503 appointments_motive_fkey'],
      'patient file of another establishment': [{ patient_id: fileOfB }, '23503 appointments_patient_fkey'],
    } as const;
    const { seen, expected } = await outcomesOf(cases, async (change) => {
      const byOwner = row(change);
      const byTenant = row(change);
      return [
        await outcome(t.db.owner.insertInto('appointments').values(byOwner).execute()),
        await outcome(t.db.withTenant(byTenant.establishment_id, (tx) => tx.insertInto('appointments').values(byTenant).execute())),
      ];
    });
    expect(seen).toEqual(expected);

    const consistent = row({});
    expect(await outcome(t.db.withTenant(a, (tx) => tx.insertInto('appointments').values(consistent).execute()))).toBe('accepted');
    await t.db.owner.deleteFrom('appointments').where('id', '=', consistent.id).execute();
  });

  // The same for a waiting-list entry (migration 0089): its agenda, motive, patient file and the
  // appointments it moves from or is offered are bound to its establishment, whoever inserts it.
  it("a waiting-list entry's agenda, motive, patient file and appointments hold together, whoever inserts it", async () => {
    const firstOf = async (establishmentId: string) => {
      const agenda = (await t.db.owner.selectFrom('agendas').select('id').where('owner_establishment_id', '=', establishmentId).orderBy('id').limit(1).executeTakeFirstOrThrow()).id;
      const motive = (await t.db.owner.selectFrom('visit_motives').select('id').where('agenda_id', '=', agenda).orderBy('id').limit(1).executeTakeFirstOrThrow()).id;
      const patient = (await t.db.owner.selectFrom('patients').select('id').where('establishment_id', '=', establishmentId).orderBy('id').limit(1).executeTakeFirstOrThrow()).id;
      const appointments = (await t.db.owner.selectFrom('appointments').select('id').where('establishment_id', '=', establishmentId).orderBy('id').limit(2).execute()).map((r) => r.id);
      return { agenda, motive, patient, appointments };
    };
    const ofA = await firstOf(a);
    const ofB = await firstOf(b);
    const otherAgendaOfA = (await t.db.owner.selectFrom('agendas').select('id').where('owner_establishment_id', '=', a).where('id', '!=', ofA.agenda).limit(1).executeTakeFirstOrThrow()).id;
    const motiveOfOtherAgenda = (await t.db.owner.selectFrom('visit_motives').select('id').where('agenda_id', '=', otherAgendaOfA).limit(1).executeTakeFirstOrThrow()).id;
    type Change = { agenda_id?: string; motive_id?: string; patient_id?: string; current_appointment_id?: string; offered_appointment_id?: string };
    // 'expired' lets an offered appointment be set or not, and is outside the one-active-entry index.
    const row = (change: Change) => ({
      id: uuidv7(),
      establishment_id: a,
      agenda_id: ofA.agenda,
      motive_id: ofA.motive,
      patient_id: ofA.patient,
      current_appointment_id: null,
      wanted_before: new Date(Date.UTC(2099, 0, 1)),
      status: 'expired' as const,
      offered_appointment_id: null,
      offer_expires_at: null,
      ...change,
    });
    const cases = {
      // B's agenda with B's own motive, so that only the agenda's key speaks.
      'agenda of another establishment': [{ agenda_id: ofB.agenda, motive_id: ofB.motive }, '23503 waitlist_entries_agenda_fkey'],
      'motive of another agenda': [{ motive_id: motiveOfOtherAgenda }, '23503 waitlist_entries_motive_fkey'],
      'patient file of another establishment': [{ patient_id: ofB.patient }, '23503 waitlist_entries_patient_fkey'],
      "another establishment's current appointment": [{ current_appointment_id: ofB.appointments[0]! }, '23503 waitlist_entries_current_appointment_fkey'],
      "another establishment's offered appointment": [{ offered_appointment_id: ofB.appointments[0]! }, '23503 waitlist_entries_offered_appointment_fkey'],
    } as const;
    const { seen, expected } = await outcomesOf(cases, async (change) => {
      const byOwner = row(change);
      const byTenant = row(change);
      return [
        await outcome(t.db.owner.insertInto('waitlist_entries').values(byOwner).execute()),
        await outcome(t.db.withTenant(a, (tx) => tx.insertInto('waitlist_entries').values(byTenant).execute())),
      ];
    });
    expect(seen).toEqual(expected);

    const consistent = row({ current_appointment_id: ofA.appointments[0]!, offered_appointment_id: ofA.appointments[1]! });
    expect(await outcome(t.db.withTenant(a, (tx) => tx.insertInto('waitlist_entries').values(consistent).execute()))).toBe('accepted');
    await t.db.owner.deleteFrom('waitlist_entries').where('id', '=', consistent.id).execute();
  });

  it('the checker itself fails when a policy is dropped or RLS is switched off', async () => {
    await sql`drop policy tenant_isolation on patients`.execute(t.db.owner);
    const withoutPolicy = await tenantWallViolations(t.db, a, b);
    expect(withoutPolicy).toEqual(expect.arrayContaining(['patients: no policy']));
    expect(withoutPolicy.some((v) => v.startsWith('patients: tenant A sees 0 rows'))).toBe(true);

    await sql`alter table patients disable row level security`.execute(t.db.owner);
    const withoutRls = await tenantWallViolations(t.db, a, b);
    expect(withoutRls).toEqual(expect.arrayContaining(['patients: row-level security not enabled']));
    expect(withoutRls.some((v) => /patients: \d+ rows readable without a tenant/.test(v))).toBe(true);
    expect(withoutRls).toContain('patients: tenant A reads rows of another establishment');
    expect(withoutRls.some((v) => v.startsWith('patients: tenant A updated'))).toBe(true);
    expect(withoutRls).toContain('patients: tenant A inserted a row for B');
  });
});

// Care relationships from appointments: the gate opens a patient's clinical content to the
// practitioner who saw them in the last twelve months or will see them, and to no one else.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { randomUUID } from 'node:crypto';
import { createAccessModule, type AccessGate } from '../src/modules/access/index.js';
import { passThroughMeter } from '../src/modules/guard/index.js';
import { appointmentRelationships } from '../src/modules/scheduling/index.js';
import { DomainError } from '../src/platform/http/errors.js';
import type { Actor } from '../src/platform/http/context.js';
import { insertAccounts } from './helpers/accounts.js';
import { seedDemo } from '../src/seed/demo.js';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';

let t: TestDatabase;
let gate: AccessGate;

beforeAll(async () => {
  t = await createTestDatabase();
  await seedDemo(t.db, undefined, t.vault);
  gate = createAccessModule({ db: t.db, meter: passThroughMeter, relationshipSources: [appointmentRelationships] }).gate;
});
afterAll(async () => t?.drop());

const asUser = (userId: string): Actor => ({ kind: 'user', userId, sessionId: '00000000-0000-7000-8000-000000000000', memberships: [], secondFactorAt: null });

async function readClinical(userId: string, establishmentId: string, patientId: string): Promise<string> {
  try {
    await gate.access({ actor: asUser(userId), establishmentId, action: 'read', resourceKind: 'clinical_entry', categories: ['clinical'], patientIds: [patientId] }, async () => null);
    return 'allowed';
  } catch (error) {
    if (error instanceof DomainError) return error.code;
    throw error;
  }
}

/**
 * A demo appointment whose practitioner has no explicit care relationship (care team, grant) with
 * the patient: only the appointment can open the file. Which appointment comes first depends on
 * the time of day, and the demo gives some pairs a care-team row too.
 */
async function anAppointment(where: 'recent' | 'upcoming') {
  const { rows } = await sql<{ id: string; establishment_id: string; patient_id: string; user_id: string; practitioner_id: string }>`
    select a.id, a.establishment_id, a.patient_id, p.user_id, a.practitioner_id
    from appointments a join practitioners p on p.id = a.practitioner_id
    where a.status = 'confirmed' and ${where === 'upcoming' ? sql`a.starts_at > now()` : sql`a.starts_at < now()`}
      and not exists (select 1 from care_relationships cr where cr.patient_id = a.patient_id and cr.practitioner_user_id = p.user_id)
    order by a.starts_at limit 1`.execute(t.db.owner);
  return rows[0]!;
}

describe('appointment-based care relationships', () => {
  it('the demo data gives practitioners past and upcoming appointments', async () => {
    expect(await anAppointment('recent')).toBeDefined();
    expect(await anAppointment('upcoming')).toBeDefined();
  });

  it('open clinical content to the practitioner of a past or upcoming appointment', async () => {
    for (const when of ['recent', 'upcoming'] as const) {
      const a = await anAppointment(when);
      expect(await readClinical(a.user_id, a.establishment_id, a.patient_id)).toBe('allowed');
    }
  });

  it('not to a colleague of the same establishment who never saw the patient', async () => {
    const a = await anAppointment('upcoming');
    // A colleague who joins the establishment today has seen no one yet.
    const colleague = randomUUID();
    await insertAccounts(t.db, t.vault, [{ id: colleague, email: `colleague-${colleague}@demo.hygie.example`, emailVerifiedAt: null, firstName: 'Camille', lastName: 'Nouvelle' }]);
    await t.db.owner.insertInto('memberships').values({ id: randomUUID(), establishment_id: a.establishment_id, user_id: colleague, role: 'practitioner' }).execute();
    const rows = [{ user_id: colleague }];
    expect(await readClinical(rows[0]!.user_id, a.establishment_id, a.patient_id)).toBe('not_found');
  });

  it('not through a cancelled appointment or one older than twelve months', async () => {
    const a = await anAppointment('upcoming');
    // Cancel every appointment of the pair: no relationship; restore one upcoming: relationship;
    // move it thirteen months back: none again.
    await sql`update appointments set status = 'cancelled' where patient_id = ${a.patient_id} and practitioner_id = ${a.practitioner_id}`.execute(t.db.owner);
    expect(await readClinical(a.user_id, a.establishment_id, a.patient_id)).toBe('not_found');
    await sql`update appointments set status = 'confirmed' where id = ${a.id}`.execute(t.db.owner);
    expect(await readClinical(a.user_id, a.establishment_id, a.patient_id)).toBe('allowed');
    await sql`
      update appointments set starts_at = now() - interval '13 months', ends_at = now() - interval '13 months' + interval '20 minutes',
        period = tstzrange(now() - interval '13 months', now() - interval '13 months' + interval '20 minutes', '[)')
      where id = ${a.id}`.execute(t.db.owner);
    expect(await readClinical(a.user_id, a.establishment_id, a.patient_id)).toBe('not_found');
  });
});

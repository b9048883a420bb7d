// A small scheduling fixture written straight into the database (faster than the demo): one
// establishment, one practitioner with an agenda open for a one-off block of slots, one motive,
// and verified patient accounts.
import { v7 as uuidv7 } from 'uuid';
import type { Database } from '../../src/platform/db/database.js';
import type { Vault } from '../../src/modules/vault/index.js';
import { insertAccounts } from './accounts.js';
import { rppsFromPayload } from '../../src/modules/directory/index.js';

export interface MiniAgenda {
  establishmentId: string;
  practitionerId: string;
  motiveId: string;
  /** Slot starts (ISO, UTC), in order. */
  slots: string[];
  patientUserIds: string[];
}

export async function createMiniAgenda(
  db: Database,
  vault: Vault,
  options: { slots: number; patients: number; slotMinutes?: number; startAt?: number; firstPatientPhone?: string },
): Promise<MiniAgenda> {
  const minutes = options.slotMinutes ?? 10;
  const establishmentId = uuidv7();
  const practitionerId = uuidv7();
  const agendaId = uuidv7();
  const motiveId = uuidv7();
  const start = options.startAt ?? Math.ceil((Date.now() + 2 * 86_400_000) / 3_600_000) * 3_600_000;
  const end = start + options.slots * minutes * 60_000;
  await db.owner.insertInto('establishments').values({ id: establishmentId, name: 'Centre de test', address_line: '1 rue du Test', city: 'Testville', postal_code: '75001' }).execute();
  await db.owner
    .insertInto('practitioners')
    .values({ id: practitionerId, user_id: null, first_name: 'Alice', last_name: 'Martin', rpps: rppsFromPayload(String(Date.now()).slice(-10).padStart(10, '1')), specialty_code: 'general_practice', languages: ['fr'], teleconsult: false })
    .execute();
  const patientUserIds = Array.from({ length: options.patients }, () => uuidv7());
  if (patientUserIds.length > 0) {
    await insertAccounts(
      db,
      vault,
      patientUserIds.map((id, i) => ({
        id,
        email: `patient${i}.${id.slice(-12)}@test.hygie.example`,
        firstName: 'Patient',
        lastName: `Numero${i}`,
        birthDate: '1980-01-01',
        phone: i === 0 ? (options.firstPatientPhone ?? null) : null,
      })),
    );
  }
  await db.withTenant(establishmentId, async (tx) => {
    await tx.insertInto('practitioner_establishments').values({ establishment_id: establishmentId, practitioner_id: practitionerId }).execute();
    await tx.insertInto('agendas').values({ id: agendaId, owner_establishment_id: establishmentId, practitioner_id: practitionerId, weekly_hours: '{}', published: true }).execute();
    await tx
      .insertInto('visit_motives')
      .values({
        id: motiveId,
        agenda_id: agendaId,
        owner_establishment_id: establishmentId,
        label: 'Consultation',
        duration_minutes: minutes,
        buffer_minutes: 0,
        patient_kind: 'all',
        teleconsult: false,
        min_notice_minutes: 0,
        horizon_days: 366,
        cancel_cutoff_hours: 24,
      })
      .execute();
    await tx
      .insertInto('agenda_exceptions')
      .values({ id: uuidv7(), owner_establishment_id: establishmentId, agenda_id: agendaId, kind: 'opening', period: `[${new Date(start).toISOString()},${new Date(end).toISOString()})` })
      .execute();
  });
  const slots = Array.from({ length: options.slots }, (_, i) => new Date(start + i * minutes * 60_000).toISOString());
  return { establishmentId, practitionerId, motiveId, slots, patientUserIds };
}

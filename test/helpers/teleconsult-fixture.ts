// Video appointments around a pinned instant, for the teleconsultation tests: one open now, one
// that opens later, one that has closed, and an on-site one, all between the first demo
// practitioner of the first establishment and a demo patient with an account.
import { v7 as uuidv7 } from 'uuid';
import type { Database } from '../../src/platform/db/database.js';
import type { DemoData, DemoPerson, DemoStaff } from '../../src/seed/demo-data.js';

export const TELE_NOW = Date.parse('2027-03-15T05:00:00Z');

export interface TeleconsultFixture {
  establishmentId: string;
  doctor: DemoStaff & { practitioner: NonNullable<DemoStaff['practitioner']> };
  colleague: DemoStaff & { practitioner: NonNullable<DemoStaff['practitioner']> };
  secretary: DemoStaff;
  patient: DemoPerson;
  /** Another patient with a file in the same establishment, no party to the appointments. */
  otherPatient: DemoPerson;
  /** A patient with no file in this establishment. */
  outsider: DemoPerson;
  appointments: { open: string; early: string; late: string; onSite: string };
}

export async function createTeleconsultFixture(db: Database, data: DemoData, now = TELE_NOW): Promise<TeleconsultFixture> {
  const establishmentId = data.establishments[0]!.id;
  const practitioners = data.staff.filter((s) => s.practitioner && s.memberships.some((m) => m.establishmentId === establishmentId && m.role === 'practitioner'));
  const doctor = practitioners[0] as TeleconsultFixture['doctor'];
  const colleague = practitioners[1] as TeleconsultFixture['colleague'];
  const secretary = data.staff.find((s) => s.memberships.some((m) => m.establishmentId === establishmentId && m.role === 'secretary'))!;
  const files = data.patientFiles.filter((f) => f.establishmentId === establishmentId && f.accountIndex !== null);
  const file = files[0]!;
  const otherFile = files.find((f) => f.accountIndex !== file.accountIndex)!;
  const here = new Set(data.patientFiles.filter((f) => f.establishmentId === establishmentId && f.accountIndex !== null).map((f) => f.accountIndex));
  const outsiderIndex = data.patientFiles.find((f) => f.accountIndex !== null && !here.has(f.accountIndex))!.accountIndex!;

  const agenda = await db.owner
    .selectFrom('agendas')
    .select('id')
    .where('owner_establishment_id', '=', establishmentId)
    .where('practitioner_id', '=', doctor.practitioner.id)
    .executeTakeFirstOrThrow();
  const video = uuidv7();
  const onSiteMotive = uuidv7();
  const motive = (id: string, teleconsult: boolean) => ({
    id,
    owner_establishment_id: establishmentId,
    agenda_id: agenda.id,
    label: teleconsult ? 'Téléconsultation' : 'Consultation au cabinet',
    duration_minutes: 20,
    buffer_minutes: 0,
    patient_kind: 'all' as const,
    teleconsult,
    min_notice_minutes: 0,
    horizon_days: 366,
    cancel_cutoff_hours: 24,
  });
  const minute = 60_000;
  const appointment = (motiveId: string, startOffsetMinutes: number) => {
    const start = new Date(now + startOffsetMinutes * minute);
    const end = new Date(start.getTime() + 20 * minute);
    return {
      id: uuidv7(),
      establishment_id: establishmentId,
      agenda_id: agenda.id,
      practitioner_id: doctor.practitioner.id,
      motive_id: motiveId,
      patient_id: file.id,
      starts_at: start,
      ends_at: end,
      period: `[${start.toISOString()},${end.toISOString()})`,
      status: 'confirmed' as const,
      booked_by_user_id: null,
      booked_by: 'staff' as const,
      updated_at: new Date(now),
    };
  };
  const rows = { open: appointment(video, 5), early: appointment(video, 180), late: appointment(video, -180), onSite: appointment(onSiteMotive, 60) };
  await db.withTenant(establishmentId, async (tx) => {
    await tx.insertInto('visit_motives').values([motive(video, true), motive(onSiteMotive, false)]).execute();
    await tx.insertInto('appointments').values(Object.values(rows)).execute();
  });
  return {
    establishmentId,
    doctor,
    colleague,
    secretary,
    patient: data.patientAccounts[file.accountIndex!]!,
    otherPatient: data.patientAccounts[otherFile.accountIndex!]!,
    outsider: data.patientAccounts[outsiderIndex]!,
    appointments: { open: rows.open.id, early: rows.early.id, late: rows.late.id, onSite: rows.onSite.id },
  };
}

// Reading appointments: a patient's own list and calendar file, and the staff agenda. Each read
// is audited with the ids of the patients it showed, in the transaction that read them.
import type { Database } from '../../platform/db/database.js';
import type { Actor } from '../../platform/http/context.js';
import { DomainError } from '../../platform/http/errors.js';
import { appendAuditEvent } from '../audit/index.js';
import type { AccessGate } from '../access/index.js';
import { CARE_ROLES, requireRole, userActor } from './access.js';
import type { Booking } from './booking.js';
import { appointmentIcs } from './ics.js';
import type { SchedulingStore } from './store.js';
import type { AppointmentView } from './schemas.js';
import { decodeCursor, encodeCursor, formatInstant, windowFrom } from './time.js';
import type { Vault } from '../vault/index.js';
import { patientDisplayNames } from '../records/index.js';

export function createAppointmentViews(deps: { db: Database; store: SchedulingStore; booking: Booking; gate: AccessGate; vault: Vault; now: () => number }) {
  const { db, store } = deps;
  return {
    async myAppointments(actor: Actor, query: { limit?: number; cursor?: string }) {
      const user = userActor(actor);
      const limit = query.limit ?? 20;
      const after = decodeCursor(query.cursor);
      const linked = await db.withPlatform(async (tx) => (await store.linkedEstablishments(tx, user.userId)).map((r) => r.linked_establishment_id));
      type Row = Awaited<ReturnType<SchedulingStore['listForPatients']>>[number];
      const rows: Row[] = [];
      for (const establishmentId of linked) {
        await db.withTenant(establishmentId, async (tx) => {
          const files = await store.patientFilesOfAccount(tx, user.userId);
          if (files.length === 0) return;
          const found = await store.listForPatients(tx, files.map((f) => f.id), after, limit + 1);
          rows.push(...found);
          if (found.length > 0) {
            await appendAuditEvent(tx, {
              establishmentId,
              actor,
              actorRole: 'patient',
              action: 'appointment.list_own',
              resourceKind: 'appointment',
              resourceIds: found.map((r) => r.id),
              patientIds: [...new Set(found.map((r) => r.patient_id))],
              categories: ['administrative'],
              outcome: 'allowed',
            });
          }
        });
      }
      rows.sort((a, b) => b.starts_at.getTime() - a.starts_at.getTime() || (a.id < b.id ? 1 : -1));
      const page = rows.slice(0, limit);
      const items: AppointmentView[] = page.map((r) => ({
        id: r.id,
        status: r.status,
        start: formatInstant(r.starts_at.getTime(), r.time_zone),
        end: formatInstant(r.ends_at.getTime(), r.time_zone),
        practitioner: { id: r.practitioner_id, name: `${r.first_name} ${r.last_name}` },
        establishment: { id: r.establishment_id, name: r.establishment_name, addressLine: r.address_line, city: r.city, postalCode: r.postal_code },
        motive: { id: r.motive_id, label: r.motive_label, teleconsult: r.teleconsult },
        cancellableUntil:
          r.status === 'confirmed' ? formatInstant(r.starts_at.getTime() - r.cancel_cutoff_hours * 3_600_000, r.time_zone) : null,
      }));
      const last = page[page.length - 1];
      return { items, nextCursor: rows.length > limit && last ? encodeCursor({ start: last.starts_at, id: last.id }) : null };
    },

    /** The calendar file of an appointment, for its patient (see ics.ts for what it carries). */
    async icsFile(actor: Actor, appointmentId: string): Promise<string> {
      return deps.booking.withReachableAppointment(actor, appointmentId, async ({ tx, appointment, as, role }) => {
        const establishment = (await store.findEstablishment(tx, appointment.establishment_id))!;
        const practitioner = (await store.findPractitioner(tx, appointment.practitioner_id))!;
        await appendAuditEvent(tx, {
          establishmentId: appointment.establishment_id,
          actor,
          actorRole: as === 'patient' ? 'patient' : role,
          action: 'appointment.ics',
          resourceKind: 'appointment',
          resourceIds: [appointment.id],
          patientIds: [appointment.patient_id],
          categories: ['administrative'],
          outcome: 'allowed',
        });
        return appointmentIcs({
          id: appointment.id,
          start: appointment.starts_at,
          end: appointment.ends_at,
          cancelled: appointment.status === 'cancelled',
          practitionerName: `${practitioner.first_name} ${practitioner.last_name}`,
          place: { name: establishment.name, addressLine: establishment.address_line, postalCode: establishment.postal_code, city: establishment.city },
          stamp: new Date(deps.now()),
        });
      });
    },

    /** A practitioner's appointments for staff: bounded window, paged, audited with the patients shown. */
    async agenda(
      actor: Actor,
      establishmentId: string,
      query: { practitionerId: string; from: string; to: string; limit?: number; cursor?: string },
      ip?: string,
    ) {
      const role = requireRole(actor, establishmentId, CARE_ROLES);
      const user = userActor(actor);
      const limit = query.limit ?? 50;
      const after = decodeCursor(query.cursor);
      let timeZone = 'Europe/Paris';
      let hasMore = false;
      // Through the gate: rows of patients the actor may not see are dropped, and the patients
      // shown are metered and audited before the page leaves (with the rows that were read).
      const page = await deps.gate.list(
        { actor, establishmentId, action: 'read', resourceKind: 'appointment', auditAction: 'agenda.list', categories: ['identity', 'administrative'], ip: ip ?? null },
        async (tx) => {
          const agenda = await store.findAgenda(tx, establishmentId, query.practitionerId);
          if (!agenda) throw new DomainError('not_found');
          if (role === 'practitioner' && (await store.findPractitionerIdByUser(tx, user.userId))?.id !== query.practitionerId) {
            throw new DomainError('forbidden', 'A practitioner sees only their own agenda');
          }
          timeZone = agenda.time_zone;
          const window = windowFrom(query, agenda.time_zone, deps.now(), 1, 31);
          const rows = await store.listAgenda(tx, query.practitionerId, window, after, limit + 1);
          hasMore = rows.length > limit;
          const shown = rows.slice(0, limit);
          // Names are decrypted here, inside the gate's transaction: the gate then drops the rows
          // of patients the actor may not see before anything leaves.
          const names = await patientDisplayNames(tx, deps.vault, [...new Set(shown.map((r) => r.patient_id))]);
          return shown.map((r) => ({ ...r, patient_name: names.get(r.patient_id) ?? '' }));
        },
        (r) => r.patient_id,
        (r) => r.id,
      );
      const last = page[page.length - 1];
      return {
        items: page.map((r) => ({
          id: r.id,
          start: formatInstant(r.starts_at.getTime(), timeZone),
          end: formatInstant(r.ends_at.getTime(), timeZone),
          status: r.status,
          motiveId: r.motive_id,
          patient: { id: r.patient_id, name: r.patient_name },
        })),
        nextCursor: hasMore && last ? encodeCursor({ start: last.starts_at, id: last.id }) : null,
      };
    },
  };
}
export type AppointmentViews = ReturnType<typeof createAppointmentViews>;

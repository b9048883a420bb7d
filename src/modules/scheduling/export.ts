// Scheduling's bulk export provider for the guard's two-person export: the establishment's
// appointments over a range of days (at most a year), optionally for one practitioner, with the
// patient's display name — what a billing or migration extract of the agenda needs, and no more
// (no contact details, no motive text). The guard runs it inside the access gate at the single
// download; rows are filtered, metered and audited there.
import type { ExportProvider } from '../guard/index.js';
import { invalidParam } from '../guard/index.js';
import { appointmentStore } from './store-appointments.js';
import type { Vault } from '../vault/index.js';
import { patientDisplayNames } from '../records/index.js';

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const EXPORT_MAX_DAYS = 366;

function day(params: Record<string, string>, field: string): Date {
  const v = params[field];
  const d = v && DAY.test(v) ? new Date(`${v}T00:00:00Z`) : null;
  if (!d || Number.isNaN(d.getTime()) || d.toISOString().slice(0, 10) !== v) throw invalidParam(field, 'a date YYYY-MM-DD');
  return d;
}

/** The provider; patients' names are decrypted by records inside the gate's transaction. */
export const appointmentsExport = (vault: Vault): ExportProvider => ({
  kind: 'appointments',
  description: "The establishment's appointments between two dates (UTC days, at most a year): time, status, practitioner, patient id and name",
  categories: ['administrative', 'identity'],
  requesterRoles: ['secretary', 'practitioner'],
  columns: ['appointment_id', 'start', 'end', 'status', 'motive_id', 'practitioner_id', 'practitioner_name', 'patient_id', 'patient_name'],
  parseParams(params) {
    for (const key of Object.keys(params)) if (!['from', 'to', 'practitionerId'].includes(key)) throw invalidParam(key, 'unknown parameter');
    const from = day(params, 'from');
    const to = day(params, 'to');
    const days = (to.getTime() - from.getTime()) / 86_400_000 + 1;
    if (days < 1 || days > EXPORT_MAX_DAYS) throw invalidParam('to', `from <= to, at most ${EXPORT_MAX_DAYS} days`);
    const practitionerId = params['practitionerId'];
    if (practitionerId !== undefined && !UUID.test(practitionerId)) throw invalidParam('practitionerId', 'a practitioner id');
    return { from: params['from']!, to: params['to']!, ...(practitionerId ? { practitionerId: practitionerId.toLowerCase() } : {}) };
  },
  async fetch(tx, q) {
    const from = new Date(`${q.params['from']}T00:00:00Z`);
    const to = new Date(new Date(`${q.params['to']}T00:00:00Z`).getTime() + 86_400_000);
    const rows = await appointmentStore().listForExport(tx, { from, to, practitionerId: q.params['practitionerId'] ?? null, limit: q.limit });
    const names = await patientDisplayNames(tx, vault, [...new Set(rows.map((r) => r.patient_id))]);
    return rows.map((r) => ({
      patientId: r.patient_id,
      values: [
        r.id,
        new Date(r.starts_at).toISOString(),
        new Date(r.ends_at).toISOString(),
        r.status,
        r.motive_id,
        r.practitioner_id,
        `${r.practitioner_first_name} ${r.practitioner_last_name}`,
        r.patient_id,
        names.get(r.patient_id) ?? '',
      ],
    }));
  },
});

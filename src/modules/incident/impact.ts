// The impact of an incident, computed from the audit log alone (pure): which patients the actor
// obtained data of — only `allowed` events count: a refused, stepped-up or contained request
// returned nothing — by data category, with counts, the guard's actions and a timeline.
import type { DataCategory } from '../audit/index.js';

export const GDPR_NOTIFICATION_HOURS = 72;

export interface AuditRow {
  at: Date;
  action: string;
  patientIds: string[];
  categories: string[];
  outcome: 'allowed' | 'denied' | 'contained' | 'failed';
}

export interface ContainmentRow {
  containedAt: Date;
  releasedAt: Date | null;
  signals: string[];
}

export interface AlertRow {
  at: Date;
  kind: string;
  severity: string;
}

export type IncidentActor = { kind: 'user'; userId: string } | { kind: 'api_key'; apiKeyId: string };

export interface PatientImpact {
  patientId: string;
  categories: DataCategory[];
  accesses: number;
  firstAt: string;
  lastAt: string;
}

export interface TimelineEntry {
  at: string;
  kind: 'first_access' | 'last_access' | 'step_up_demanded' | 'contained' | 'refused_after_containment' | 'released' | 'detected' | 'alert';
  detail?: string;
}

export interface Impact {
  establishmentId: string;
  actor: IncidentActor;
  window: { from: string; to: string };
  patients: PatientImpact[];
  byCategory: Array<{ category: DataCategory; patients: number; accesses: number }>;
  totals: { patients: number; accesses: number; refused: number; refusedAfterContainment: number };
  containments: Array<{ containedAt: string; releasedAt: string | null; signals: string[] }>;
  detectedAt: string;
  notificationDeadline: string;
  timeline: TimelineEntry[];
}

const CATEGORY_ORDER: DataCategory[] = ['identity', 'contact', 'insurance', 'administrative', 'clinical', 'certificate', 'genetic'];

export function computeImpact(input: {
  establishmentId: string;
  actor: IncidentActor;
  from: Date;
  to: Date;
  events: AuditRow[];
  containments: ContainmentRow[];
  alerts: AlertRow[];
  /** When the incident was opened: detection when the guard raised nothing earlier. */
  openedAt: Date;
}): Impact {
  const inWindow = input.events.filter((e) => e.at >= input.from && e.at <= input.to).sort((a, b) => a.at.getTime() - b.at.getTime());
  const patients = new Map<string, { categories: Set<DataCategory>; accesses: number; first: Date; last: Date }>();
  const categoryAccesses = new Map<DataCategory, number>();
  let accesses = 0;
  let refused = 0;
  for (const e of inWindow) {
    if (e.outcome !== 'allowed') {
      refused += 1;
      continue;
    }
    if (e.patientIds.length === 0) continue;
    accesses += 1;
    const cats = e.categories.filter((c): c is DataCategory => (CATEGORY_ORDER as string[]).includes(c));
    for (const c of cats) categoryAccesses.set(c, (categoryAccesses.get(c) ?? 0) + 1);
    for (const id of e.patientIds) {
      const p = patients.get(id) ?? { categories: new Set<DataCategory>(), accesses: 0, first: e.at, last: e.at };
      for (const c of cats) p.categories.add(c);
      p.accesses += 1;
      p.last = e.at;
      patients.set(id, p);
    }
  }
  const patientList: PatientImpact[] = [...patients]
    .map(([patientId, p]) => ({
      patientId,
      categories: CATEGORY_ORDER.filter((c) => p.categories.has(c)),
      accesses: p.accesses,
      firstAt: p.first.toISOString(),
      lastAt: p.last.toISOString(),
    }))
    .sort((a, b) => a.patientId.localeCompare(b.patientId));
  const byCategory = CATEGORY_ORDER.filter((c) => categoryAccesses.has(c)).map((category) => ({
    category,
    patients: patientList.filter((p) => p.categories.includes(category)).length,
    accesses: categoryAccesses.get(category) ?? 0,
  }));

  // Requests answered account_contained: the one that crossed the line and every later attempt.
  const refusedAfterContainment = inWindow.filter((e) => e.outcome === 'contained').length;
  const guardAlerts = input.alerts.filter((a) => a.severity === 'critical' || a.kind.startsWith('guard_')).sort((a, b) => a.at.getTime() - b.at.getTime());
  // Detection: the first time the guard told the officers, else the opening of the incident.
  const detected = guardAlerts[0]?.at ?? input.openedAt;

  const timeline: TimelineEntry[] = [];
  const allowed = inWindow.filter((e) => e.outcome === 'allowed' && e.patientIds.length > 0);
  if (allowed[0]) timeline.push({ at: allowed[0].at.toISOString(), kind: 'first_access' });
  if (allowed.length > 1) timeline.push({ at: allowed.at(-1)!.at.toISOString(), kind: 'last_access' });
  for (const a of input.alerts) {
    timeline.push({ at: a.at.toISOString(), kind: a.kind === 'guard_step_up' ? 'step_up_demanded' : 'alert', detail: a.kind });
  }
  for (const c of input.containments) {
    timeline.push({ at: c.containedAt.toISOString(), kind: 'contained', detail: c.signals.join(',') });
    if (c.releasedAt) timeline.push({ at: c.releasedAt.toISOString(), kind: 'released' });
  }
  if (refusedAfterContainment > 0) {
    const lastRefused = inWindow.filter((e) => e.outcome === 'contained').at(-1)!;
    timeline.push({ at: lastRefused.at.toISOString(), kind: 'refused_after_containment', detail: String(refusedAfterContainment) });
  }
  timeline.push({ at: detected.toISOString(), kind: 'detected' });
  timeline.sort((a, b) => a.at.localeCompare(b.at));

  return {
    establishmentId: input.establishmentId,
    actor: input.actor,
    window: { from: input.from.toISOString(), to: input.to.toISOString() },
    patients: patientList,
    byCategory,
    totals: { patients: patientList.length, accesses, refused, refusedAfterContainment },
    containments: input.containments.map((c) => ({ containedAt: c.containedAt.toISOString(), releasedAt: c.releasedAt?.toISOString() ?? null, signals: c.signals })),
    detectedAt: detected.toISOString(),
    notificationDeadline: new Date(detected.getTime() + GDPR_NOTIFICATION_HOURS * 3600_000).toISOString(),
    timeline,
  };
}

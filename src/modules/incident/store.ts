// SQL of the incident module. The audit query reads the audit log directly for now; when the
// audit module's chain lands it moves behind audit's index.ts (listActorEvents).
import { sql } from 'kysely';
import type { Tx } from '../../platform/db/database.js';
import type { AuditRow, IncidentActor, Impact } from './impact.js';

export function createIncidentStore() {
  return {
    async actorEvents(tx: Tx, actor: IncidentActor, from: Date, to: Date): Promise<AuditRow[]> {
      let q = tx.selectFrom('audit_events').select(['at', 'action', 'patient_ids', 'categories', 'outcome']).where(sql<boolean>`at >= ${from} and at <= ${to}`);
      q = actor.kind === 'user' ? q.where('actor_user_id', '=', actor.userId) : q.where('api_key_id', '=', actor.apiKeyId);
      const rows = await q.orderBy('at').execute();
      return rows.map((r) => ({ at: new Date(r.at as unknown as Date), action: r.action, patientIds: r.patient_ids, categories: r.categories, outcome: r.outcome }));
    },

    async establishment(tx: Tx, establishmentId: string) {
      return tx.selectFrom('establishments').select(['name', 'city']).where('id', '=', establishmentId).executeTakeFirst();
    },

    async insertIncident(tx: Tx, i: { id: string; establishmentId: string; impact: Impact; createdByUserId: string | null }) {
      await tx
        .insertInto('incidents')
        .values({
          id: i.id,
          establishment_id: i.establishmentId,
          actor_kind: i.impact.actor.kind,
          actor_user_id: i.impact.actor.kind === 'user' ? i.impact.actor.userId : null,
          api_key_id: i.impact.actor.kind === 'api_key' ? i.impact.actor.apiKeyId : null,
          window_from: i.impact.window.from,
          window_to: i.impact.window.to,
          detected_at: i.impact.detectedAt,
          report: JSON.stringify(i.impact),
          created_by_user_id: i.createdByUserId,
        })
        .execute();
    },

    async findIncident(tx: Tx, id: string) {
      return tx.selectFrom('incidents').select(['id', 'report', 'created_at', 'detected_at']).where('id', '=', id).executeTakeFirst();
    },

    async incidentEvents(tx: Tx, incidentId: string) {
      return tx.selectFrom('incident_events').select(['kind', 'at', 'reference']).where('incident_id', '=', incidentId).orderBy('at').execute();
    },

    async insertIncidentEvent(tx: Tx, e: { id: string; establishmentId: string; incidentId: string; kind: 'cnil_notified' | 'complaint_filed' | 'patients_notified' | 'note'; at: Date; reference: string | null; userId: string | null }) {
      await tx
        .insertInto('incident_events')
        .values({ id: e.id, establishment_id: e.establishmentId, incident_id: e.incidentId, kind: e.kind, at: e.at, reference: e.reference, recorded_by_user_id: e.userId })
        .execute();
    },

    /** Establishments whose audit stream holds events of this actor in the window (for the CLI, as owner). */
    async establishmentsOfActor(owner: import('kysely').Kysely<import('../../platform/db/schema.js').DB>, actor: IncidentActor, from: Date, to: Date): Promise<string[]> {
      const col = actor.kind === 'user' ? sql.ref('actor_user_id') : sql.ref('api_key_id');
      const id = actor.kind === 'user' ? actor.userId : actor.apiKeyId;
      const { rows } = await sql<{ e: string }>`
        select distinct establishment_id as e from audit_events
        where ${col} = ${id} and at >= ${from} and at <= ${to} and establishment_id is not null`.execute(owner);
      return rows.map((r) => r.e);
    },
  };
}
export type IncidentStore = ReturnType<typeof createIncidentStore>;

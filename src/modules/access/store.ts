// SQL of the access module. Every method runs inside the gate's tenant transaction.
import { sql, type RawBuilder } from 'kysely';
import { PREPARED, type Tx } from '../../platform/db/database.js';
import type { StaffRole } from '../../platform/db/schema.js';

/** A care-relationship test folded into the gate's query: true when the practitioner user cares for the patient. */
export type CareRelationshipSql = (practitionerUserId: RawBuilder<string>, patientId: RawBuilder<string>) => RawBuilder<boolean>;

export interface AccessFacts {
  /** The actor's role in the transaction's establishment (none: a patient account, or not a user). */
  role: StaffRole | undefined;
  /** The requested ids that are files of the establishment, with what holds for each. */
  patients: Map<string, { own: boolean; care: boolean; breakGlassReason: string | null }>;
}

export function createAccessStore() {
  return {
    /**
     * Everything the gate decides on, in one statement (one round trip): the user's role, read now,
     * which ids are files of the establishment, and for each: the acting patient's own file (when
     * the user has no role), an active care relationship and an unexpired break-the-glass grant
     * (when the role is practitioner). Each part is the query findRole, existingPatients,
     * ownPatients, careRelationships and activeBreakGlass would run; extra care tests (another
     * module's, e.g. appointments) are OR-ed into the care relationship. Its text is fixed for a
     * given set of care tests (ids as one array parameter): it runs prepared.
     */
    async accessFacts(
      tx: Tx,
      userId: string | null,
      patientIds: string[],
      extraCare: CareRelationshipSql[] = [],
      options: { practitionerFacts: boolean } = { practitionerFacts: true },
    ): Promise<AccessFacts> {
      const user = sql<string>`${userId}::uuid`;
      if (!options.practitionerFacts) {
        // The same statement without the practitioner's parts (cheaper to plan); care and
        // break-the-glass then read false and none.
        const { rows } = await sql<{ role: StaffRole | null; id: string | null; own: boolean }>`${PREPARED}
          select m.role, p.id, coalesce(m.role is null and p.account_user_id = ${user}, false) as own
          from (select (select role from memberships where user_id = ${user} limit 1) as role) m
          left join patients p on p.id = any(${patientIds}::uuid[])`.execute(tx);
        const patients: AccessFacts['patients'] = new Map();
        for (const r of rows) if (r.id !== null) patients.set(r.id, { own: r.own, care: false, breakGlassReason: null });
        return { role: rows[0]?.role ?? undefined, patients };
      }
      const patient = sql<string>`p.id`;
      const care = [
        sql<boolean>`exists (
          select 1 from care_relationships cr
          where cr.practitioner_user_id = ${user} and cr.patient_id = p.id and cr.revoked_at is null
            and cr.valid_from <= now() and (cr.valid_until is null or cr.valid_until > now()))`,
        ...extraCare.map((f) => f(user, patient)),
      ];
      const { rows } = await sql<{ role: StaffRole | null; id: string | null; own: boolean; care: boolean; break_glass: string | null }>`${PREPARED}
        select m.role, p.id,
               coalesce(m.role is null and p.account_user_id = ${user}, false) as own,
               coalesce(m.role = 'practitioner' and (${sql.join(care, sql` or `)}), false) as care,
               case when m.role = 'practitioner' then (
                 select g.reason from break_glass_grants g
                 where g.user_id = ${user} and g.patient_id = p.id and g.expires_at > now()
                 order by g.created_at desc limit 1) end as break_glass
        from (select (select role from memberships where user_id = ${user} limit 1) as role) m
        left join patients p on p.id = any(${patientIds}::uuid[])`.execute(tx);
      const patients: AccessFacts['patients'] = new Map();
      for (const r of rows) if (r.id !== null) patients.set(r.id, { own: r.own, care: r.care, breakGlassReason: r.care ? null : r.break_glass });
      return { role: rows[0]?.role ?? undefined, patients };
    },

    /** The actor's role in the transaction's establishment, read now (revocations apply at once). */
    async findRole(tx: Tx, userId: string): Promise<StaffRole | undefined> {
      const row = await tx.selectFrom('memberships').select('role').where('user_id', '=', userId).executeTakeFirst();
      return row?.role;
    },

    /** Which of these ids are patient files of the establishment. */
    async existingPatients(tx: Tx, patientIds: string[]): Promise<Set<string>> {
      if (patientIds.length === 0) return new Set();
      const rows = await tx.selectFrom('patients').select('id').where('id', 'in', patientIds).execute();
      return new Set(rows.map((r) => r.id));
    },

    /** The acting patient's own files among these ids. */
    async ownPatients(tx: Tx, userId: string, patientIds: string[]): Promise<Set<string>> {
      if (patientIds.length === 0) return new Set();
      const rows = await tx
        .selectFrom('patients')
        .select('id')
        .where('account_user_id', '=', userId)
        .where('id', 'in', patientIds)
        .execute();
      return new Set(rows.map((r) => r.id));
    },

    /** Patients for whom the practitioner holds an active care-team membership or grant. */
    async careRelationships(tx: Tx, practitionerUserId: string, patientIds: string[]): Promise<Set<string>> {
      if (patientIds.length === 0) return new Set();
      const rows = await tx
        .selectFrom('care_relationships')
        .select('patient_id')
        .where('practitioner_user_id', '=', practitionerUserId)
        .where('patient_id', 'in', patientIds)
        .where('revoked_at', 'is', null)
        .where(sql<boolean>`valid_from <= now()`)
        .where(sql<boolean>`(valid_until is null or valid_until > now())`)
        .execute();
      return new Set(rows.map((r) => r.patient_id));
    },

    /** Unexpired break-the-glass grants of the user: patient id -> the written reason. */
    async activeBreakGlass(tx: Tx, userId: string, patientIds: string[]): Promise<Map<string, string>> {
      if (patientIds.length === 0) return new Map();
      const rows = await tx
        .selectFrom('break_glass_grants')
        .select(['patient_id', 'reason'])
        .where('user_id', '=', userId)
        .where('patient_id', 'in', patientIds)
        .where(sql<boolean>`expires_at > now()`)
        .orderBy('created_at', 'desc')
        .execute();
      const grants = new Map<string, string>();
      for (const r of rows) if (!grants.has(r.patient_id)) grants.set(r.patient_id, r.reason);
      return grants;
    },

    async insertBreakGlass(tx: Tx, grant: { id: string; establishmentId: string; patientId: string; userId: string; reason: string; expiresAt: Date }) {
      await tx
        .insertInto('break_glass_grants')
        .values({
          id: grant.id,
          establishment_id: grant.establishmentId,
          patient_id: grant.patientId,
          user_id: grant.userId,
          reason: grant.reason,
          expires_at: grant.expiresAt,
        })
        .execute();
    },

    async insertCareRelationship(
      tx: Tx,
      r: { id: string; establishmentId: string; patientId: string; practitionerUserId: string; kind: 'care_team' | 'grant'; grantedByUserId: string | null; validUntil: Date | null },
    ) {
      await tx
        .insertInto('care_relationships')
        .values({
          id: r.id,
          establishment_id: r.establishmentId,
          patient_id: r.patientId,
          practitioner_user_id: r.practitionerUserId,
          kind: r.kind,
          granted_by_user_id: r.grantedByUserId,
          valid_until: r.validUntil,
          revoked_at: null,
        })
        .execute();
    },
  };
}
export type AccessStore = ReturnType<typeof createAccessStore>;

// SQL of the access module. Every method runs inside the gate's tenant transaction.
import { sql } from 'kysely';
import type { Tx } from '../../platform/db/database.js';
import type { StaffRole } from '../../platform/db/schema.js';

export function createAccessStore() {
  return {
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

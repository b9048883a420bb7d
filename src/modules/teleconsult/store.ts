// SQL of the teleconsultation module: the colleagues invited into a call.
import { v7 as uuidv7 } from 'uuid';
import type { Tx } from '../../platform/db/database.js';
import './tables.js';

export function createTeleconsultStore() {
  return {
    async listGuests(tx: Tx, appointmentId: string): Promise<string[]> {
      const rows = await tx.selectFrom('teleconsult_guests').select('guest_user_id').where('appointment_id', '=', appointmentId).execute();
      return rows.map((r) => r.guest_user_id);
    },

    async insertGuest(tx: Tx, g: { establishmentId: string; appointmentId: string; guestUserId: string; invitedByUserId: string }): Promise<void> {
      await tx
        .insertInto('teleconsult_guests')
        .values({ id: uuidv7(), establishment_id: g.establishmentId, appointment_id: g.appointmentId, guest_user_id: g.guestUserId, invited_by_user_id: g.invitedByUserId })
        .onConflict((oc) => oc.columns(['appointment_id', 'guest_user_id']).doNothing())
        .execute();
    },
  };
}
export type TeleconsultStore = ReturnType<typeof createTeleconsultStore>;

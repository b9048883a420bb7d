// The module's tables, added to the database type by declaration merging so that the shared
// schema file does not have to change with every module (migration 0030_teleconsult).
import type { ColumnType, Generated } from 'kysely';

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;

export interface TeleconsultGuestsTable {
  id: string;
  establishment_id: string;
  appointment_id: string;
  guest_user_id: string;
  invited_by_user_id: string;
  created_at: Generated<Timestamp>;
}

declare module '../../platform/db/schema.js' {
  interface DB {
    teleconsult_guests: TeleconsultGuestsTable;
  }
}

// Kysely's view of the tables. Kept by hand beside the migrations that create them.
import type { ColumnType, Generated } from 'kysely';

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type DateOnly = ColumnType<string, string, string>;

export type StaffRole = 'practitioner' | 'secretary' | 'admin' | 'security_officer';
export const STAFF_ROLES: readonly StaffRole[] = ['practitioner', 'secretary', 'admin', 'security_officer'];

export interface PlatformSettingsTable {
  key: string;
  value: ColumnType<unknown, string, string>;
  updated_at: Generated<Timestamp>;
}

export interface SpecialtiesTable {
  code: string;
  label_fr: string;
  label_en: string;
}

export interface EstablishmentsTable {
  id: string;
  name: string;
  address_line: string;
  city: string;
  postal_code: string;
  time_zone: Generated<string>;
  created_at: Generated<Timestamp>;
}

export interface UsersTable {
  id: string;
  email: string;
  email_verified_at: Timestamp | null;
  password_hash: string | null;
  first_name: string;
  last_name: string;
  birth_date: DateOnly | null;
  phone: string | null;
  totp_secret: string | null;
  created_at: Generated<Timestamp>;
  disabled_at: Timestamp | null;
}

export interface MembershipsTable {
  id: string;
  establishment_id: string;
  user_id: string;
  role: StaffRole;
  created_at: Generated<Timestamp>;
}

export interface PractitionersTable {
  id: string;
  user_id: string | null;
  first_name: string;
  last_name: string;
  rpps: string;
  specialty_code: string;
  languages: string[];
  teleconsult: boolean;
  created_at: Generated<Timestamp>;
}

export interface PractitionerEstablishmentsTable {
  establishment_id: string;
  practitioner_id: string;
}

export interface PatientsTable {
  id: string;
  establishment_id: string;
  account_user_id: string | null;
  birth_name: string;
  first_names: string;
  used_name: string | null;
  sex: 'F' | 'M' | 'X';
  birth_date: DateOnly;
  birth_place_insee: string | null;
  email: string | null;
  phone: string | null;
  address_line1: string | null;
  postal_code: string | null;
  city: string | null;
  created_at: Generated<Timestamp>;
}

export interface AuditEventsTable {
  id: string;
  establishment_id: string | null;
  at: Generated<Timestamp>;
  actor_kind: 'user' | 'api_key' | 'system' | 'anonymous';
  actor_user_id: string | null;
  actor_role: string | null;
  session_id: string | null;
  api_key_id: string | null;
  ip: string | null;
  action: string;
  resource_kind: string | null;
  resource_ids: Generated<string[]>;
  patient_ids: Generated<string[]>;
  categories: Generated<string[]>;
  purpose: string | null;
  reason: string | null;
  outcome: 'allowed' | 'denied' | 'contained' | 'failed';
}

export interface CareRelationshipsTable {
  id: string;
  establishment_id: string;
  patient_id: string;
  practitioner_user_id: string;
  kind: 'care_team' | 'grant';
  granted_by_user_id: string | null;
  valid_from: Generated<Timestamp>;
  valid_until: Timestamp | null;
  revoked_at: Timestamp | null;
  created_at: Generated<Timestamp>;
}

export interface BreakGlassGrantsTable {
  id: string;
  establishment_id: string;
  patient_id: string;
  user_id: string;
  reason: string;
  created_at: Generated<Timestamp>;
  expires_at: Timestamp;
}

export interface SecurityAlertsTable {
  id: string;
  establishment_id: string;
  kind: string;
  severity: 'info' | 'warning' | 'critical';
  actor_user_id: string | null;
  patient_ids: Generated<string[]>;
  details: ColumnType<Record<string, unknown>, string | undefined, string>;
  created_at: Generated<Timestamp>;
  resolved_at: Timestamp | null;
  resolved_by_user_id: string | null;
}

export type GuardExposureClass = 'unexplained' | 'explained' | 'care' | 'break_glass';

export interface GuardExposuresTable {
  establishment_id: string;
  actor_key: string;
  patient_id: string;
  class: GuardExposureClass;
  last_at: Timestamp;
}

export interface GuardMissesTable {
  id: string;
  establishment_id: string;
  actor_key: string;
  kind: 'search_miss' | 'not_found';
  at: Timestamp;
}

export interface GuardActorStateTable {
  establishment_id: string;
  actor_key: string;
  step_up_demanded_at: Timestamp | null;
  step_up_signals: Generated<string[]>;
}

export interface GuardDailyTable {
  establishment_id: string;
  actor_key: string;
  day: DateOnly;
  unexplained: number;
  explained: number;
}

export interface GuardNetworksTable {
  establishment_id: string;
  actor_key: string;
  network: string;
  first_seen_at: Timestamp;
}

export interface GuardSettingsTable {
  establishment_id: string;
  thresholds: ColumnType<Record<string, unknown>, string, string>;
  updated_at: Generated<Timestamp>;
  updated_by_user_id: string | null;
}

export interface ContainedActorsTable {
  id: string;
  establishment_id: string;
  actor_key: string;
  user_id: string | null;
  api_key_id: string | null;
  signals: Generated<string[]>;
  alert_id: string | null;
  contained_at: Timestamp;
  released_at: Timestamp | null;
  released_by_user_id: string | null;
}

export interface IncidentsTable {
  id: string;
  establishment_id: string;
  actor_kind: 'user' | 'api_key';
  actor_user_id: string | null;
  api_key_id: string | null;
  window_from: Timestamp;
  window_to: Timestamp;
  detected_at: Timestamp;
  report: ColumnType<Record<string, unknown>, string, string>;
  created_by_user_id: string | null;
  created_at: Generated<Timestamp>;
}

export interface IncidentEventsTable {
  id: string;
  establishment_id: string;
  incident_id: string;
  kind: 'cnil_notified' | 'complaint_filed' | 'patients_notified' | 'note';
  at: Timestamp;
  reference: string | null;
  recorded_by_user_id: string | null;
  created_at: Generated<Timestamp>;
}

export interface GuardDecoysTable {
  establishment_id: string;
  patient_id: string;
  created_at: Generated<Timestamp>;
}

export interface DB {
  platform_settings: PlatformSettingsTable;
  specialties: SpecialtiesTable;
  establishments: EstablishmentsTable;
  users: UsersTable;
  memberships: MembershipsTable;
  practitioners: PractitionersTable;
  practitioner_establishments: PractitionerEstablishmentsTable;
  patients: PatientsTable;
  audit_events: AuditEventsTable;
  care_relationships: CareRelationshipsTable;
  break_glass_grants: BreakGlassGrantsTable;
  security_alerts: SecurityAlertsTable;
  guard_exposures: GuardExposuresTable;
  guard_misses: GuardMissesTable;
  guard_actor_state: GuardActorStateTable;
  guard_daily: GuardDailyTable;
  guard_networks: GuardNetworksTable;
  guard_settings: GuardSettingsTable;
  contained_actors: ContainedActorsTable;
  incidents: IncidentsTable;
  incident_events: IncidentEventsTable;
  guard_decoys: GuardDecoysTable;
}

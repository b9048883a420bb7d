// Kysely's view of the tables. Kept by hand beside the migrations that create them.
import type { ColumnType, Generated } from 'kysely';

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type DateOnly = ColumnType<string, string, string>;
/** A nullable timestamp column that inserts may omit. */
type OptionalTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;

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
  /** Hours before an appointment at which reminders are sent (0009). */
  reminder_offsets_hours: Generated<number[]>;
}

export interface UsersTable {
  id: string;
  /** Personal fields: vault ciphertexts ("hv1:…") under the account's platform data key (identity/account-data.ts). */
  email_enc: string;
  /** Blind index of the normalised e-mail (keyed HMAC, unique): how accounts are found. */
  email_bidx: string;
  email_verified_at: Timestamp | null;
  password_hash: string | null;
  first_name_enc: string;
  last_name_enc: string;
  birth_date_enc: string | null;
  phone_enc: string | null;
  /** Sealed by identity/secret-box.ts; never the clear base32 secret. */
  totp_secret: string | null;
  created_at: Generated<Timestamp>;
  disabled_at: Timestamp | null;
  password_changed_at: OptionalTimestamp;
  totp_pending_secret: ColumnType<string | null, string | null | undefined, string | null>;
  totp_enrolled_at: OptionalTimestamp;
  /** RFC 6238 time step of the last accepted code: a code works once (ASVS 6.5.1). */
  totp_last_step: ColumnType<string | null, number | null | undefined, number | null>;
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

/**
 * A patient's administrative file in one establishment. Every personal field is a vault
 * ciphertext ("hv1:…", *_enc) bound to this row and its column; bi_* are blind indexes. Read and
 * write it only through the records module.
 */
export interface PatientsTable {
  id: string;
  establishment_id: string;
  account_user_id: string | null;
  birth_name_enc: string;
  first_names_enc: string;
  used_name_enc: string | null;
  sex_enc: string;
  birth_date_enc: string;
  birth_place_insee_enc: string | null;
  ins_enc: string | null;
  identity_status_enc: string;
  email_enc: string | null;
  phone_enc: string | null;
  address_enc: string | null;
  general_practitioner_enc: string | null;
  base_insurance_enc: string | null;
  complementary_insurance_enc: string | null;
  bi_last_name: string;
  bi_used_name: string | null;
  bi_birth_date: string;
  bi_ins: string | null;
  created_at: Generated<Timestamp>;
  updated_at: Timestamp;
  erased_at: Timestamp | null;
}

export type ClinicalEntryKind = 'note' | 'prescription' | 'certificate' | 'death_certificate' | 'genetic_result';

/** One version of a clinical entry (append-only: no UPDATE or DELETE for anyone). */
export interface ClinicalEntriesTable {
  id: string;
  establishment_id: string;
  patient_id: string;
  entry_id: string;
  version: number;
  kind: ClinicalEntryKind;
  author_user_id: string;
  created_at: Generated<Timestamp>;
  released_to_patient: Generated<boolean>;
  named_user_ids: Generated<string[]>;
  content_enc: string;
  confidential_enc: string | null;
}

export interface PatientDocumentsTable {
  id: string;
  establishment_id: string;
  patient_id: string;
  category: 'administrative' | 'clinical';
  media_type: string;
  byte_size: number;
  title_enc: string;
  content_enc: Buffer;
  uploaded_by_user_id: string;
  released_to_patient: Generated<boolean>;
  created_at: Generated<Timestamp>;
}

export interface RectificationRequestsTable {
  id: string;
  establishment_id: string;
  patient_id: string;
  requested_by_user_id: string;
  fields: string[];
  message_enc: string;
  status: Generated<'open' | 'done' | 'rejected'>;
  created_at: Generated<Timestamp>;
  resolved_at: Timestamp | null;
  resolved_by_user_id: string | null;
}

export interface ErasureRequestsTable {
  id: string;
  establishment_id: string;
  patient_id: string;
  reason: 'patient_request' | 'created_in_error' | 'duplicate';
  requested_by_user_id: string;
  status: Generated<'pending' | 'approved' | 'refused'>;
  created_at: Generated<Timestamp>;
  decided_by_user_id: string | null;
  decided_at: Timestamp | null;
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

export type MfaState = 'complete' | 'not_required' | 'enrolment_required';

export interface UserDevicesTable {
  id: string;
  user_id: string;
  device_hash: Buffer;
  first_seen_at: Timestamp;
  last_seen_at: Timestamp;
}

export interface SessionsTable {
  id: string;
  user_id: string;
  token_hash: Buffer;
  mfa_state: MfaState;
  created_at: Timestamp;
  last_seen_at: Timestamp;
  expires_at: Timestamp;
  second_factor_at: Timestamp | null;
  ip: string | null;
  user_agent: string | null;
  device_hash: Buffer | null;
  new_device: Generated<boolean>;
  new_ip: Generated<boolean>;
  revoked_at: Timestamp | null;
  revoked_reason: string | null;
}

export type ChallengeKind = 'login' | 'webauthn_login' | 'webauthn_register' | 'step_up';

export interface AuthChallengesTable {
  id: string;
  kind: ChallengeKind;
  user_id: string | null;
  session_id: string | null;
  webauthn_challenge: string | null;
  device_hash: Buffer | null;
  attempts: Generated<number>;
  created_at: Timestamp;
  expires_at: Timestamp;
  used_at: Timestamp | null;
}

export interface RecoveryCodesTable {
  id: string;
  user_id: string;
  code_hash: Buffer;
  created_at: Timestamp;
  used_at: Timestamp | null;
}

export interface WebauthnCredentialsTable {
  id: string;
  user_id: string;
  credential_id: string;
  public_key: Buffer;
  counter: ColumnType<string, number | string, number | string>;
  transports: string[];
  device_type: string;
  backed_up: boolean;
  name: string;
  created_at: Timestamp;
  last_used_at: Timestamp | null;
}

export type AuthTokenKind = 'email_verification' | 'password_reset';

export interface AuthTokensTable {
  id: string;
  kind: AuthTokenKind;
  user_id: string;
  token_hash: Buffer;
  created_at: Timestamp;
  expires_at: Timestamp;
  used_at: Timestamp | null;
}

export type InvitationStatus = 'pending_approval' | 'sent' | 'accepted' | 'revoked';

/** The invitee's e-mail and names are vault ciphertexts (0087; identity/invitation-data.ts). */
export interface InvitationsTable {
  id: string;
  establishment_id: string;
  email_enc: string;
  first_name_enc: string;
  last_name_enc: string;
  role: StaffRole;
  token_hash: Buffer | null;
  invited_by: string | null;
  status: InvitationStatus;
  created_at: Timestamp;
  expires_at: Timestamp;
  accepted_at: Timestamp | null;
  accepted_user_id: string | null;
}

export type ApprovalKind = 'grant_role' | 'reset_mfa' | 'invite';

export interface ApprovalRequestsTable {
  id: string;
  establishment_id: string;
  kind: ApprovalKind;
  target_user_id: string | null;
  invitation_id: string | null;
  role: StaffRole | null;
  requested_by: string;
  status: 'pending' | 'approved' | 'rejected';
  created_at: Timestamp;
  expires_at: Timestamp;
  decided_by: string | null;
  decided_at: Timestamp | null;
}

export interface ApiKeyScope {
  scope: string;
  /** For practitioner-scoped scopes (agenda:read): the practitioners the key may see. */
  practitionerIds?: string[];
}

export interface ApiKeysTable {
  id: string;
  establishment_id: string;
  name: string;
  key_hash: Buffer;
  prefix: string;
  scopes: ColumnType<ApiKeyScope[], string, string>;
  allowed_ips: string[];
  expires_at: Timestamp | null;
  created_by: string | null;
  created_at: Timestamp;
  last_used_at: Timestamp | null;
  last_used_ip: string | null;
  revoked_at: Timestamp | null;
}

export interface JobsTable {
  id: string;
  kind: string;
  payload: ColumnType<unknown, string, string>;
  run_at: Timestamp;
  attempts: Generated<number>;
  max_attempts: Generated<number>;
  locked_until: Timestamp | null;
  last_error: string | null;
  failed_at: Timestamp | null;
  created_at: Timestamp;
  /** What the job is about (an appointment id), so that it can be withdrawn (0050). */
  subject: string | null;
}

/** The development outboxes (0087): the message sealed under the platform queue key, found by a keyed index of its recipient. */
export interface MailOutboxTable {
  id: string;
  template: string;
  to_bidx: string;
  message_enc: string;
  created_at: Timestamp;
}

export interface SmsOutboxTable {
  id: string;
  template: string;
  to_bidx: string;
  message_enc: string;
  created_at: Timestamp;
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

export type VaultKeyState = 'active' | 'previous' | 'retired';

export interface VaultEstablishmentKeysTable {
  establishment_id: string;
  version: number;
  provider: string;
  key_ref: string;
  state: VaultKeyState;
  created_at: Generated<Timestamp>;
  retired_at: Timestamp | null;
}

export interface VaultDataKeysTable {
  id: string;
  establishment_id: string;
  owner_kind: 'patient' | 'user' | 'establishment' | 'blind_index';
  owner_id: string;
  kek_version: number | null;
  wrapped_key: Buffer | null;
  created_at: Generated<Timestamp>;
  shredded_at: Timestamp | null;
}

export interface VaultPlatformKeysTable {
  version: number;
  provider: string;
  key_ref: string;
  state: VaultKeyState;
  created_at: Generated<Timestamp>;
  retired_at: Timestamp | null;
}

export interface VaultPlatformDataKeysTable {
  id: string;
  owner_kind: 'user' | 'platform';
  owner_id: string;
  kek_version: number | null;
  wrapped_key: Buffer | null;
  created_at: Generated<Timestamp>;
  shredded_at: Timestamp | null;
}

export interface AuditPendingTable {
  event_id: string;
  stream: string;
}

export interface AuditSigningKeysTable {
  key_id: string;
  stream: string;
  public_key: Buffer;
  created_at: Generated<Timestamp>;
}

export interface AuditChainTable {
  stream: string;
  seq: ColumnType<string, string | number | bigint, never>;
  event_id: string;
  hash: Buffer;
  sealed_at: Generated<Timestamp>;
}

export interface AuditCheckpointsTable {
  id: string;
  stream: string;
  seq: ColumnType<string, string | number | bigint, never>;
  hash: Buffer;
  signed_at: Timestamp;
  key_id: string;
  signature: Buffer;
}

// Scheduling (0005). Ranges are read and written as PostgreSQL range literals: '[start,end)'.
export interface AgendasTable {
  id: string;
  owner_establishment_id: string;
  practitioner_id: string;
  weekly_hours: ColumnType<Record<string, Array<[number, number]>>, string | undefined, string>;
  published: Generated<boolean>;
  updated_at: Timestamp;
}

export interface VisitMotivesTable {
  id: string;
  owner_establishment_id: string;
  agenda_id: string;
  label: string;
  duration_minutes: number;
  buffer_minutes: number;
  patient_kind: 'all' | 'new_only' | 'known_only';
  teleconsult: boolean;
  min_notice_minutes: number;
  horizon_days: number;
  cancel_cutoff_hours: number;
  active: Generated<boolean>;
  created_at: Generated<Timestamp>;
}

export interface AgendaExceptionsTable {
  id: string;
  owner_establishment_id: string;
  agenda_id: string;
  kind: 'absence' | 'opening';
  period: string;
  created_at: Generated<Timestamp>;
}

export type AppointmentStatus = 'confirmed' | 'cancelled' | 'no_show' | 'held';

export interface AppointmentsTable {
  id: string;
  establishment_id: string;
  agenda_id: string;
  practitioner_id: string;
  motive_id: string;
  patient_id: string;
  starts_at: Timestamp;
  ends_at: Timestamp;
  period: string;
  status: AppointmentStatus;
  booked_by_user_id: string | null;
  booked_by: 'patient' | 'staff';
  cancelled_at: Timestamp | null;
  cancelled_by: 'patient' | 'staff' | null;
  idempotency_key: string | null;
  idempotency_fingerprint: string | null;
  idempotency_response: ColumnType<unknown, string | null, string | null>;
  hold_expires_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
  created_at: Generated<Timestamp>;
  updated_at: Timestamp;
}

export interface PractitionerBusyTable {
  appointment_id: string;
  practitioner_id: string;
  period: string;
  expires_at: Date | null;
}

export interface WaitlistEntriesTable {
  id: string;
  establishment_id: string;
  agenda_id: string;
  motive_id: string;
  patient_id: string;
  current_appointment_id: string | null;
  wanted_before: Timestamp;
  status: 'waiting' | 'offered' | 'accepted' | 'withdrawn' | 'expired';
  offered_appointment_id: string | null;
  offer_expires_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
  created_at: Generated<Timestamp>;
}

export interface AccountEstablishmentsTable {
  user_id: string;
  linked_establishment_id: string;
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
  refused_while_pending: Generated<number>;
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

export interface PatientNoticesTable {
  id: string;
  establishment_id: string;
  incident_id: string;
  patient_id: string;
  lang: 'fr' | 'en';
  markdown: string;
  created_at: Generated<Timestamp>;
}

export interface GuardDecoysTable {
  establishment_id: string;
  patient_id: string;
  created_at: Generated<Timestamp>;
}

export interface GuardExportsTable {
  id: string;
  establishment_id: string;
  kind: string;
  params: ColumnType<Record<string, unknown>, string, string>;
  purpose: string;
  requested_by: string;
  requested_at: Timestamp;
  status: 'pending' | 'approved' | 'rejected' | 'downloaded';
  decided_by: string | null;
  decided_at: Timestamp | null;
  expires_at: Timestamp;
  downloaded_at: Timestamp | null;
  patient_count: number | null;
}

export interface AuditForwardCursorsTable {
  destination: 'syslog' | 'webhook';
  stream: string;
  last_seq: ColumnType<string, string, string>;
  updated_at: Generated<Timestamp>;
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
  clinical_entries: ClinicalEntriesTable;
  patient_documents: PatientDocumentsTable;
  rectification_requests: RectificationRequestsTable;
  erasure_requests: ErasureRequestsTable;
  audit_events: AuditEventsTable;
  user_devices: UserDevicesTable;
  sessions: SessionsTable;
  auth_challenges: AuthChallengesTable;
  recovery_codes: RecoveryCodesTable;
  webauthn_credentials: WebauthnCredentialsTable;
  auth_tokens: AuthTokensTable;
  invitations: InvitationsTable;
  approval_requests: ApprovalRequestsTable;
  api_keys: ApiKeysTable;
  jobs: JobsTable;
  mail_outbox: MailOutboxTable;
  sms_outbox: SmsOutboxTable;
  care_relationships: CareRelationshipsTable;
  break_glass_grants: BreakGlassGrantsTable;
  security_alerts: SecurityAlertsTable;
  vault_establishment_keys: VaultEstablishmentKeysTable;
  vault_data_keys: VaultDataKeysTable;
  vault_platform_keys: VaultPlatformKeysTable;
  vault_platform_data_keys: VaultPlatformDataKeysTable;
  audit_pending: AuditPendingTable;
  audit_signing_keys: AuditSigningKeysTable;
  audit_chain: AuditChainTable;
  audit_checkpoints: AuditCheckpointsTable;
  agendas: AgendasTable;
  visit_motives: VisitMotivesTable;
  agenda_exceptions: AgendaExceptionsTable;
  appointments: AppointmentsTable;
  practitioner_busy: PractitionerBusyTable;
  account_establishments: AccountEstablishmentsTable;
  waitlist_entries: WaitlistEntriesTable;
  guard_exposures: GuardExposuresTable;
  guard_misses: GuardMissesTable;
  guard_actor_state: GuardActorStateTable;
  guard_daily: GuardDailyTable;
  guard_networks: GuardNetworksTable;
  guard_settings: GuardSettingsTable;
  contained_actors: ContainedActorsTable;
  incidents: IncidentsTable;
  incident_events: IncidentEventsTable;
  patient_notices: PatientNoticesTable;
  guard_decoys: GuardDecoysTable;
  guard_exports: GuardExportsTable;
  audit_forward_cursors: AuditForwardCursorsTable;
}

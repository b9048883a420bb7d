// Typed calls for the endpoints of /work/shared/API.md that the web application uses. Shapes
// follow the contract; fields the contract leaves open are optional here.
import type { PublicKeyCredentialCreationOptionsJSON, PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/browser';
import type { KeyBundle, SealedDocument } from '../e2e/crypto';
import { api, buildUrl } from './client';

export type Lang = 'fr' | 'en';
export type StaffRole = 'practitioner' | 'secretary' | 'admin' | 'security_officer' | (string & {});

export interface Membership {
  establishmentId: string;
  role: StaffRole;
}

export interface CurrentUser {
  id: string;
  email: string;
  firstName: string;
  lastName: string;
  memberships: Membership[];
}

export interface SecondFactors {
  totp: boolean;
  passkeys: number;
  recoveryCodesLeft: number;
  passkeyRequired: boolean;
}

export interface MeResponse {
  user: CurrentUser;
  csrfToken: string;
  secondFactors?: SecondFactors;
}

export interface Specialty {
  code: string;
  label: string;
  labelFr: string;
  labelEn: string;
}

export interface Slot {
  start: string;
  end: string;
  motiveId?: string;
}

export interface EstablishmentSummary {
  id: string;
  name: string;
  city: string;
  postalCode: string;
  /** IANA zone of the establishment's agendas; Europe/Paris when the API does not say. */
  timeZone?: string;
}

export interface PractitionerHit {
  practitionerId: string;
  name: string;
  specialty: string | { code: string; label?: string };
  establishment: EstablishmentSummary;
  nextSlots: Slot[];
}

export interface SearchQuery {
  specialty?: string;
  near?: string;
  from?: string;
  to?: string;
  teleconsult?: boolean;
}

export interface Appointment {
  id: string;
  status: string;
  start: string;
  end: string;
  practitioner?: { id?: string; name: string; specialty?: string };
  establishment?: EstablishmentSummary | { name: string; city?: string; timeZone?: string };
  motive?: string | { id?: string; label: string; teleconsult?: boolean };
}

export interface AccessLogEntry {
  at: string;
  actor: { name: string; role: StaffRole; specialty?: string };
  establishment: string | null | { id?: string; name: string; timeZone?: string };
  action: string;
  categories?: string[];
  reason?: string;
}

export type LoginResult =
  | { status: 'ok' }
  | { status: 'mfa_enrolment_required' }
  | { status: 'mfa_required'; challengeId: string; methods: Array<'totp' | 'webauthn' | (string & {})> };

export interface Motive {
  id: string;
  label: string;
  durationMinutes: number;
  teleconsult: boolean;
  patientKind: 'all' | 'new_only' | 'known_only';
}

export interface PractitionerProfile {
  id: string;
  name: string;
  specialty: { code: string; label: string; labelEn: string };
  languages: string[];
  teleconsult: boolean;
  establishments: Array<{ id: string; name: string; addressLine: string; city: string; postalCode: string; timeZone: string; motives: Motive[] }>;
}

export interface Booked {
  id: string;
  status: string;
  start: string;
  end: string;
}

export interface WaitlistEntry {
  id: string;
  practitionerId: string;
  motiveId: string;
  status: 'waiting' | 'offered';
  wantedBefore: string;
  offer: { appointmentId: string; start: string; end: string; expiresAt: string } | null;
}

export interface SessionInfo {
  id: string;
  createdAt: string;
  lastSeenAt: string;
  ip: string | null;
  userAgent: string | null;
  current: boolean;
  newDevice: boolean;
  newIp: boolean;
}

export interface EstablishmentForStaff {
  id: string;
  name: string;
  city: string;
  postalCode: string;
  timeZone: string;
  practitioners: Array<{ id: string; userId: string | null; name: string; specialty: string; self: boolean }>;
}

export interface AgendaItem {
  id: string;
  start: string;
  end: string;
  status: string;
  motiveId: string;
  patient: { id: string; name: string };
}

export type Weekday = 'monday' | 'tuesday' | 'wednesday' | 'thursday' | 'friday' | 'saturday' | 'sunday';
export type WeeklyHours = Partial<Record<Weekday, Array<{ start: string; end: string }>>>;

export interface Schedule {
  practitionerId: string;
  establishmentId: string;
  timeZone: string;
  weeklyHours: WeeklyHours;
  published: boolean;
}

export interface StaffMotive {
  id: string;
  practitionerId: string;
  label: string;
  durationMinutes: number;
  bufferMinutes: number;
  patientKind: 'all' | 'new_only' | 'known_only';
  teleconsult: boolean;
  minNoticeMinutes: number;
  horizonDays: number;
  cancelCutoffHours: number;
  active: boolean;
}

export interface AgendaException {
  id: string;
  practitionerId: string;
  kind: 'absence' | 'opening';
  start: string;
  end: string;
}

export interface Member {
  userId: string;
  email: string;
  firstName: string;
  lastName: string;
  role: StaffRole;
  disabled: boolean;
  secondFactors: { totp: boolean; passkeys: number };
}

export interface Approval {
  id: string;
  kind: string;
  targetUserId: string | null;
  invitationId: string | null;
  role: StaffRole | null;
  requestedBy: string;
  createdAt: string;
  expiresAt: string;
}

export interface ApiKeyScope {
  scope: string;
  practitionerIds?: string[];
}

export interface ApiKeyInfo {
  id: string;
  name: string;
  prefix: string;
  scopes: ApiKeyScope[];
  allowedIps: string[];
  expiresAt: string | null;
  createdAt: string;
  lastUsedAt: string | null;
  revoked: boolean;
}

/** A two-person bulk export request (security console). */
export interface ExportRequest {
  id: string;
  kind: string;
  params: Record<string, unknown>;
  purpose: string;
  status: 'pending' | 'approved' | 'rejected' | 'downloaded' | 'expired';
  requestedBy: string;
  requestedAt: string;
  decidedBy: string | null;
  decidedAt: string | null;
  expiresAt: string;
  downloadedAt: string | null;
  patientCount: number | null;
}

export interface SecurityAlert {
  id: string;
  kind: string;
  severity: 'info' | 'warning' | 'critical';
  actorUserId: string | null;
  patientIds: string[];
  details: Record<string, string | number | boolean | null>;
  createdAt: string;
  resolvedAt: string | null;
  resolvedByUserId: string | null;
}

/** One audit event as the security officer's audit search answers it (metadata only). */
export interface AuditEvent {
  id: string;
  at: string;
  actor: { kind: string; userId: string | null; name: string | null; role: string | null };
  action: string;
  resourceKind: string | null;
  resourceCount: number;
  patientIds: string[];
  categories: string[];
  purpose: string | null;
  reason: string | null;
  outcome: 'allowed' | 'denied' | 'contained' | 'failed' | (string & {});
  integrity: { status: 'sealed' | 'chained' | 'pending' | 'altered' | 'orphan' | 'checkpoint_invalid'; seq: string | null; sealedAt: string | null };
}

export interface AuditSearch {
  actorUserId?: string;
  patientId?: string;
  from?: string;
  to?: string;
  cursor?: string;
}

export interface Thresholds {
  effective: Record<string, unknown>;
  overrides: Record<string, unknown>;
}

/** A letter about the patient's data (a breach notification), as listed in the portal. */
export interface NoticeSummary {
  id: string;
  establishment: string;
  lang: 'fr' | 'en';
  title: string;
  createdAt: string;
}
export interface Notice extends NoticeSummary {
  /** Markdown: rendered as text, never as HTML. */
  markdown: string;
}

export interface IncidentReport {
  id: string;
  establishmentId: string;
  actor: { kind: string; userId?: string; apiKeyId?: string };
  window: { from: string; to: string };
  patients: Array<{ patientId: string; categories: string[]; accesses: number; firstAt: string; lastAt: string }>;
  byCategory: Array<{ category: string; patients: number; accesses: number }>;
  totals: { patients: number; accesses: number; refused: number; refusedAfterContainment: number };
  containments: Array<{ containedAt: string; releasedAt: string | null; signals: string[] }>;
  detectedAt: string;
  notificationDeadline: string;
  timeline: Array<{ at: string; kind: string; detail?: string }>;
  clock: { hours: number; deadline: string; cnilNotifiedAt: string | null; overdue: boolean };
}

export interface PatientHit {
  id: string;
  name: string;
  birthYear: number;
  city: string | null;
}

export interface Address {
  line1: string;
  postalCode: string;
  city: string;
}

/** The administrative file as the records module answers it: sections the role may not see are absent. */
export interface PatientFile {
  id: string;
  establishmentId: string;
  accountLinked: boolean;
  identity?: { birthName: string; firstNames: string; usedName: string | null; sex: 'F' | 'M' | 'X'; birthDate: string; ins: string | null; identityStatus: string };
  contact?: { email: string | null; phone: string | null; address: Address | null };
  insurance?: {
    base: { scheme: string; fund?: string | null; memberNumber: string } | null;
    complementary: { insurer: string; memberNumber: string } | null;
  };
}

export type EntryKind = 'note' | 'prescription' | 'certificate' | 'death_certificate' | 'genetic_result';

export interface ClinicalEntry {
  id: string;
  version: number;
  kind: EntryKind;
  authorUserId: string;
  createdAt: string;
  content: Record<string, unknown>;
  /** Death certificates: the causes, under medical confidentiality. */
  causes?: { immediateCause?: string; underlyingCauses?: string[]; otherConditions?: string[] };
  /** Genetic results: the accounts of the practitioners who may read it. */
  namedPractitionerUserIds?: string[];
}

export interface Page<T> {
  items: T[];
  nextCursor?: string | null;
}

/** WebAuthn options as the API returns them: the options alone, or wrapped with flow fields. */
export type WebAuthnOptionsAnswer<O> = O | ({ options: O } & Record<string, unknown>);

export interface TeleconsultInfo {
  appointmentId: string;
  role: 'patient' | 'practitioner' | 'guest';
  start: string;
  end: string;
  opensAt: string;
  closesAt: string;
  timeZone: string;
  refusal: 'not_teleconsult' | 'not_active' | 'too_early' | 'too_late' | null;
  ice: { iceServers: Array<{ urls: string[]; username?: string; credential?: string }>; iceTransportPolicy: 'all' | 'relay' } | null;
}

export interface E2eRecipient {
  userId: string;
  publicKey: string;
  fingerprint: string;
}

export interface E2eDocumentSummary {
  id: string;
  establishment: { id: string };
  patientId: string;
  author: { name: string };
  createdAt: string;
  sizeBytes: number;
}

export interface E2eSealedDocument {
  id: string;
  patientId: string;
  author: { name: string };
  createdAt: string;
  iv: string;
  ciphertext: string;
  metaIv: string;
  metaCiphertext: string;
  wrappedKey: string;
}

export const endpoints = {
  me: () => api.get<MeResponse>('/auth/me'),
  login: (email: string, password: string) => api.post<LoginResult>('/auth/login', { email, password }),
  loginMfa: (challengeId: string, code: string) => api.post<LoginResult>('/auth/login/mfa', { challengeId, code }),
  logout: () => api.post<unknown>('/auth/logout'),
  stepUp: (body: { code: string } | Record<string, unknown>) => api.post<unknown>('/auth/step-up', body, { noStepUp: true }),
  webauthnLoginOptions: (body: Record<string, unknown>) =>
    api.post<WebAuthnOptionsAnswer<PublicKeyCredentialRequestOptionsJSON>>('/auth/webauthn/login/options', body),
  webauthnLoginVerify: (body: Record<string, unknown>) => api.post<LoginResult>('/auth/webauthn/login/verify', body),
  webauthnRegisterOptions: () =>
    api.post<WebAuthnOptionsAnswer<PublicKeyCredentialCreationOptionsJSON>>('/auth/webauthn/register/options'),
  webauthnRegisterVerify: (body: Record<string, unknown>) => api.post<unknown>('/auth/webauthn/register/verify', body),

  specialties: (lang: Lang) => api.get<Page<Specialty>>('/specialties', { query: { lang } }),
  // Public search: the terms are not personal data, so they may travel in the query string.
  searchPractitioners: (q: SearchQuery, signal?: AbortSignal) =>
    api.get<Page<PractitionerHit>>('/search/practitioners', { query: { ...q }, signal }),

  signup: (body: { email: string; password: string; firstName: string; lastName: string; birthDate: string; phone?: string }) =>
    api.post<unknown>('/auth/signup', body),
  verifyEmail: (token: string) => api.post<unknown>('/auth/email/verify', { token }),
  sessions: () => api.get<{ items: SessionInfo[] }>('/auth/sessions'),
  endSession: (id: string) => api.delete<unknown>(`/auth/sessions/${seg(id)}`),
  totpSetup: () => api.post<{ secret: string; otpauthUrl: string }>('/auth/mfa/totp/setup'),
  totpConfirm: (code: string) => api.post<{ status: string; recoveryCodes?: string[] }>('/auth/mfa/totp/confirm', { code }),
  recoveryCodes: () => api.post<{ recoveryCodes: string[] }>('/auth/mfa/recovery-codes'),
  stepUpOptions: () => api.post<{ challengeId: string; options: PublicKeyCredentialRequestOptionsJSON }>('/auth/step-up/options', {}, { noStepUp: true }),
  acceptInvitation: (token: string, password?: string) =>
    api.post<{ status: string; establishmentId: string; role: StaffRole; newAccount: boolean }>('/auth/invitations/accept', password ? { token, password } : { token }),

  practitioner: (id: string, signal?: AbortSignal) => api.get<PractitionerProfile>(`/practitioners/${seg(id)}`, { signal }),
  availability: (id: string, motiveId: string, from: string, to: string, signal?: AbortSignal) =>
    api.get<{ slots: Slot[] }>(`/practitioners/${seg(id)}/availability`, { query: { motiveId, from, to }, signal }),
  book: (body: { practitionerId: string; motiveId: string; start: string; patientId?: string }, idempotencyKey: string) =>
    api.post<Booked>('/appointments', body, { headers: { 'Idempotency-Key': idempotencyKey } }),
  myAppointments: (cursor?: string) => api.get<Page<Appointment>>('/me/appointments', { query: { cursor } }),
  cancelAppointment: (id: string) => api.post<Booked>(`/appointments/${seg(id)}/cancel`),
  rescheduleAppointment: (id: string, start: string) => api.post<Booked>(`/appointments/${seg(id)}/reschedule`, { start }),
  myAccessLog: (cursor?: string) => api.get<Page<AccessLogEntry>>('/me/access-log', { query: { cursor } }),
  myNotices: () => api.get<{ items: NoticeSummary[] }>('/me/notices'),
  myNotice: (id: string) => api.get<Notice>(`/me/notices/${seg(id)}`),
  myNoticePdfUrl: (id: string) => buildUrl(`/me/notices/${seg(id)}/pdf`),
  myExport: () => api.get<unknown>('/me/export'),
  myWaitlist: () => api.get<{ items: WaitlistEntry[] }>('/me/waitlist'),
  joinWaitlist: (body: { practitionerId: string; motiveId: string; appointmentId?: string }) => api.post<{ id: string }>('/waitlist', body),
  leaveWaitlist: (id: string) => api.delete<unknown>(`/waitlist/${seg(id)}`),
  acceptOffer: (id: string) => api.post<Booked>(`/waitlist/${seg(id)}/accept`),

  // Staff workspace, under /establishments/:eid. Patient identities never go into a URL: only ids.
  establishment: (eid: string) => api.get<EstablishmentForStaff>(`/establishments/${seg(eid)}`),
  setTimeZone: (eid: string, timeZone: string) => api.patch<unknown>(`/establishments/${seg(eid)}`, { timeZone }),
  agenda: (eid: string, practitionerId: string, from: string, to: string, cursor?: string) =>
    api.get<Page<AgendaItem>>(`/establishments/${seg(eid)}/agenda`, { query: { practitionerId, from, to, limit: 50, cursor } }),
  noShow: (eid: string, id: string) => api.post<Booked>(`/establishments/${seg(eid)}/appointments/${seg(id)}/no-show`),
  schedule: (eid: string, pid: string) => api.get<Schedule>(`/establishments/${seg(eid)}/practitioners/${seg(pid)}/schedule`),
  saveSchedule: (eid: string, pid: string, weeklyHours: WeeklyHours, published: boolean) =>
    api.put<Schedule>(`/establishments/${seg(eid)}/practitioners/${seg(pid)}/schedule`, { weeklyHours, published }),
  motives: (eid: string, pid: string) => api.get<{ items: StaffMotive[] }>(`/establishments/${seg(eid)}/practitioners/${seg(pid)}/motives`),
  createMotive: (eid: string, pid: string, body: { label: string; durationMinutes: number; teleconsult?: boolean }) =>
    api.post<StaffMotive>(`/establishments/${seg(eid)}/practitioners/${seg(pid)}/motives`, body),
  withdrawMotive: (eid: string, id: string) => api.delete<unknown>(`/establishments/${seg(eid)}/motives/${seg(id)}`),
  absences: (eid: string, pid: string) => api.get<{ items: AgendaException[] }>(`/establishments/${seg(eid)}/practitioners/${seg(pid)}/absences`),
  addAbsence: (eid: string, pid: string, start: string, end: string) =>
    api.post<AgendaException>(`/establishments/${seg(eid)}/practitioners/${seg(pid)}/absences`, { start, end }),
  removeAbsence: (eid: string, id: string) => api.delete<unknown>(`/establishments/${seg(eid)}/absences/${seg(id)}`),

  // Records (API.md, "Patient records"): exact search by last name and birth date.
  // The contract puts the exact terms in the query string of this fetch; they never reach the
  // address bar, history or server logs (the server logs paths without their query).
  searchPatients: (eid: string, lastName: string, birthDate: string) =>
    api.get<{ items: PatientHit[] }>(`/establishments/${seg(eid)}/patients`, { query: { lastName, birthDate } }),
  patient: (eid: string, pid: string) => api.get<PatientFile>(`/establishments/${seg(eid)}/patients/${seg(pid)}`),
  entries: (eid: string, pid: string) => api.get<{ items: ClinicalEntry[] }>(`/establishments/${seg(eid)}/patients/${seg(pid)}/entries`),
  addEntry: (eid: string, pid: string, body: { kind: EntryKind } & Record<string, unknown>) =>
    api.post<{ id: string }>(`/establishments/${seg(eid)}/patients/${seg(pid)}/entries`, body),
  breakGlass: (eid: string, pid: string, reason: string) => api.post<unknown>(`/establishments/${seg(eid)}/patients/${seg(pid)}/break-glass`, { reason }),

  // Admin console.
  members: (eid: string) => api.get<{ items: Member[] }>(`/establishments/${seg(eid)}/members`),
  invite: (eid: string, body: { email: string; firstName: string; lastName: string; role: StaffRole }) =>
    api.post<{ invitationId: string; status: 'sent' | 'pending_approval'; approvalId?: string }>(`/establishments/${seg(eid)}/invitations`, body),
  setRole: (eid: string, uid: string, role: StaffRole) => api.put<{ status: string; approvalId?: string }>(`/establishments/${seg(eid)}/members/${seg(uid)}/role`, { role }),
  removeMember: (eid: string, uid: string) => api.delete<unknown>(`/establishments/${seg(eid)}/members/${seg(uid)}`),
  revokeMemberSessions: (eid: string, uid: string) => api.post<{ revoked: number }>(`/establishments/${seg(eid)}/members/${seg(uid)}/sessions/revoke`),
  resetMemberMfa: (eid: string, uid: string) => api.post<{ status: string; approvalId?: string }>(`/establishments/${seg(eid)}/members/${seg(uid)}/mfa-reset`),
  approvals: (eid: string) => api.get<{ items: Approval[] }>(`/establishments/${seg(eid)}/approvals`),
  approve: (eid: string, id: string) => api.post<unknown>(`/establishments/${seg(eid)}/approvals/${seg(id)}/approve`),
  reject: (eid: string, id: string) => api.post<unknown>(`/establishments/${seg(eid)}/approvals/${seg(id)}/reject`),
  apiKeys: (eid: string) => api.get<{ items: ApiKeyInfo[] }>(`/establishments/${seg(eid)}/api-keys`),
  createApiKey: (eid: string, body: { name: string; scopes: ApiKeyScope[]; allowedIps?: string[] }) =>
    api.post<{ id: string; key: string }>(`/establishments/${seg(eid)}/api-keys`, body),
  revokeApiKey: (eid: string, id: string) => api.delete<unknown>(`/establishments/${seg(eid)}/api-keys/${seg(id)}`),

  // Security console.
  alerts: (eid: string, status: 'open' | 'resolved' | 'all' = 'open') => api.get<Page<SecurityAlert>>(`/establishments/${seg(eid)}/security/alerts`, { query: { status, limit: 50 } }),
  // Opaque account and patient-file ids only (no name can be searched), in the API query string.
  auditSearch: (eid: string, q: AuditSearch) => api.get<Page<AuditEvent>>(`/establishments/${seg(eid)}/security/audit`, { query: { ...q, limit: 20 } }),
  resolveAlert: (eid: string, id: string) => api.post<unknown>(`/establishments/${seg(eid)}/security/alerts/${seg(id)}/resolve`),
  release: (eid: string, uid: string) => api.post<{ userId: string; released: number }>(`/establishments/${seg(eid)}/security/users/${seg(uid)}/release`),
  thresholds: (eid: string) => api.get<Thresholds>(`/establishments/${seg(eid)}/security/thresholds`),
  setThresholds: (eid: string, overrides: Record<string, unknown>) => api.put<Thresholds>(`/establishments/${seg(eid)}/security/thresholds`, overrides),
  exports: (eid: string) => api.get<Page<ExportRequest>>(`/establishments/${seg(eid)}/security/exports`, { query: { limit: 50 } }),
  approveExport: (eid: string, id: string) => api.post<ExportRequest>(`/establishments/${seg(eid)}/security/exports/${seg(id)}/approve`),
  rejectExport: (eid: string, id: string) => api.post<ExportRequest>(`/establishments/${seg(eid)}/security/exports/${seg(id)}/reject`),
  openIncident: (eid: string, body: { actorUserId?: string; apiKeyId?: string; from: string; to: string }) =>
    api.post<IncidentReport>(`/establishments/${seg(eid)}/security/incidents`, body),
  incident: (eid: string, id: string) => api.get<IncidentReport>(`/establishments/${seg(eid)}/security/incidents/${seg(id)}`),
  incidentNotification: (eid: string, id: string, lang: Lang) =>
    api.get<{ lang: string; markdown: string }>(`/establishments/${seg(eid)}/security/incidents/${seg(id)}/notification`, { query: { lang } }),
  notifyIncident: (eid: string, id: string, lang: Lang) =>
    api.post<IncidentReport>(`/establishments/${seg(eid)}/security/incidents/${seg(id)}/notify`, undefined, { query: { lang } }),
  incidentLetters: (eid: string, id: string, lang: Lang) =>
    api.get<Page<{ patientId: string; lang: string; markdown: string }>>(`/establishments/${seg(eid)}/security/incidents/${seg(id)}/letters`, { query: { lang, limit: 50 } }),
  myE2eKeys: () => api.get<KeyBundle>('/me/e2e-keys'),
  publishE2eKeys: (bundle: KeyBundle) => api.put<{ fingerprint: string }>('/me/e2e-keys', bundle),
  myE2eDocuments: () => api.get<{ items: E2eDocumentSummary[] }>('/me/e2e-documents'),
  myE2eDocument: (id: string) => api.get<E2eSealedDocument>(`/me/e2e-documents/${encodeURIComponent(id)}`),
  e2eRecipients: (establishmentId: string, patientId: string) =>
    api.get<{ patient: E2eRecipient | null; self: E2eRecipient | null }>(
      `/establishments/${encodeURIComponent(establishmentId)}/patients/${encodeURIComponent(patientId)}/e2e-recipients`,
    ),
  colleagueE2eKey: (establishmentId: string, practitionerId: string) =>
    api.get<E2eRecipient>(`/establishments/${encodeURIComponent(establishmentId)}/practitioners/${encodeURIComponent(practitionerId)}/e2e-key`),
  shareE2eDocument: (establishmentId: string, patientId: string, sealed: SealedDocument) =>
    api.post<{ id: string }>(`/establishments/${encodeURIComponent(establishmentId)}/patients/${encodeURIComponent(patientId)}/e2e-documents`, sealed),
  teleconsultInfo: (appointmentId: string, signal?: AbortSignal) =>
    api.get<TeleconsultInfo>(`/teleconsultations/${encodeURIComponent(appointmentId)}`, { signal }),
};

const seg = (s: string) => encodeURIComponent(s);

/** Splits a WebAuthn options answer into the options and the flow fields to send back on verify. */
export function unwrapWebAuthnOptions<O extends object>(answer: WebAuthnOptionsAnswer<O>): { options: O; flow: Record<string, unknown> } {
  if ('options' in answer && typeof answer.options === 'object' && answer.options !== null) {
    const { options, ...flow } = answer as { options: O } & Record<string, unknown>;
    return { options, flow };
  }
  return { options: answer as O, flow: {} };
}

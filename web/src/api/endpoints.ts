// Typed calls for the endpoints of /work/shared/API.md that the web application uses. Shapes
// follow the contract; fields the contract leaves open are optional here.
import type { PublicKeyCredentialCreationOptionsJSON, PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/browser';
import type { KeyBundle, SealedDocument } from '../e2e/crypto';
import { api } from './client';

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

export interface MeResponse {
  user: CurrentUser;
  csrfToken: string;
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
  establishment: string | { id?: string; name: string; timeZone?: string };
  action: string;
  reason?: string;
}

export type LoginResult =
  | { status: 'ok' }
  | { status: 'mfa_required'; challengeId: string; methods: Array<'totp' | 'webauthn' | (string & {})> };

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

  myAppointments: () => api.get<Page<Appointment>>('/me/appointments'),
  cancelAppointment: (id: string) => api.post<Appointment>(`/appointments/${encodeURIComponent(id)}/cancel`),
  myAccessLog: (cursor?: string) => api.get<Page<AccessLogEntry>>('/me/access-log', { query: { cursor } }),
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

/** Splits a WebAuthn options answer into the options and the flow fields to send back on verify. */
export function unwrapWebAuthnOptions<O extends object>(answer: WebAuthnOptionsAnswer<O>): { options: O; flow: Record<string, unknown> } {
  if ('options' in answer && typeof answer.options === 'object' && answer.options !== null) {
    const { options, ...flow } = answer as { options: O } & Record<string, unknown>;
    return { options, flow };
  }
  return { options: answer as O, flow: {} };
}

// Client-side routes. Every top-level segment must also be listed in CLIENT_SECTIONS of
// src/platform/http/web.ts, so that the server answers a deep link or a reload with the app.
// Ids in paths are practitioner ids (public directory data) only: never a patient's.
export const paths = {
  home: '/',
  search: '/recherche',
  practitioner: (id: string) => `/praticien/${encodeURIComponent(id)}`,
  practitionerPattern: '/praticien/:id',
  login: '/connexion',
  signup: '/inscription',
  appointments: '/mes-rendez-vous',
  accessLog: '/mes-acces',
  notices: '/mes-courriers',
  account: '/mon-compte',
  staff: '/pro',
  agenda: '/pro/agenda',
  settings: '/pro/reglages',
  patients: '/pro/patients',
  admin: '/pro/admin',
  security: '/pro/securite',
  // Links sent by e-mail by the identity module (the token travels in the fragment, never to a server).
  verifyEmail: '/verify-email',
  resetPassword: '/reset-password',
  forgotPassword: '/forgot-password',
  invitation: '/invitation',
  loginAlias: '/login',
  teleconsult: '/teleconsultation',
  documents: '/documents',
} as const;

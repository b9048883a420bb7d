// Client-side routes. Every top-level segment must also be listed in CLIENT_SECTIONS of
// src/platform/http/web.ts, so that the server answers a deep link or a reload with the app.
export const paths = {
  home: '/',
  search: '/recherche',
  login: '/connexion',
  appointments: '/mes-rendez-vous',
  accessLog: '/mes-acces',
  staff: '/pro',
  teleconsult: '/teleconsultation',
  documents: '/documents',
} as const;

// Serves the web application: the Vite build in web/dist when it exists, otherwise the
// placeholder in web/public. Static files are public; every datum they show comes from the API.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply } from 'fastify';
import fastifyStatic from '@fastify/static';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/**
 * Top-level sections of the web application's client-side routes (web/src/paths.ts). A deep link
 * or a reload on one of them gets index.html, and the browser router shows the page. Listed rather
 * than a catch-all, so that an unknown URL keeps its problem+json 404 and no route hides in a
 * wildcard.
 */
export const CLIENT_SECTIONS = [
  'recherche',
  'praticien',
  'connexion',
  'inscription',
  'mes-rendez-vous',
  'mes-acces',
  'mes-courriers',
  'mon-compte',
  'pro',
  // Pages the identity module's e-mails link to (src/modules/identity/accounts.ts, staff.ts).
  'verify-email',
  'reset-password',
  'forgot-password',
  'invitation',
  'login',
  'teleconsultation',
  'documents',
] as const;

export function webRoot(): string {
  const built = path.join(repoRoot, 'web/dist');
  return existsSync(path.join(built, 'index.html')) ? built : path.join(repoRoot, 'web/public');
}

export async function registerWeb(app: FastifyInstance): Promise<void> {
  const root = webRoot();
  await app.register(fastifyStatic, { root, serve: false, index: false });
  const sendIndex = { config: { auth: 'public' as const }, schema: { hide: true } };
  const index = (_request: unknown, reply: FastifyReply) => reply.header('Cache-Control', 'no-cache').sendFile('index.html', { cacheControl: false });
  app.get('/', sendIndex, index);
  for (const section of CLIENT_SECTIONS) {
    app.get(`/${section}`, sendIndex, index);
    app.get(`/${section}/*`, sendIndex, index);
  }
  app.get('/assets/*', sendIndex, (request, reply) => {
    const file = (request.params as { '*': string })['*'];
    // Vite names built assets by content hash, so they can be cached for good.
    return reply
      .header('Cache-Control', 'public, max-age=31536000, immutable')
      .sendFile(path.posix.join('assets', file), { cacheControl: false });
  });
}

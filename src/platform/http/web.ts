// Serves the web application: the Vite build in web/dist when it exists, otherwise the
// placeholder in web/public. Static files are public; every datum they show comes from the API.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import fastifyStatic from '@fastify/static';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

export function webRoot(): string {
  const built = path.join(repoRoot, 'web/dist');
  return existsSync(path.join(built, 'index.html')) ? built : path.join(repoRoot, 'web/public');
}

export async function registerWeb(app: FastifyInstance): Promise<void> {
  const root = webRoot();
  await app.register(fastifyStatic, { root, serve: false, index: false });
  const sendIndex = { config: { auth: 'public' as const }, schema: { hide: true } };
  app.get('/', sendIndex, (_request, reply) => reply.header('Cache-Control', 'no-cache').sendFile('index.html', { cacheControl: false }));
  app.get('/assets/*', sendIndex, (request, reply) => {
    const file = (request.params as { '*': string })['*'];
    // Vite names built assets by content hash, so they can be cached for good.
    return reply
      .header('Cache-Control', 'public, max-age=31536000, immutable')
      .sendFile(path.posix.join('assets', file), { cacheControl: false });
  });
}

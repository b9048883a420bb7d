// Vitest global setup: the browser tests drive the built web application (web/dist), as `npm start`
// serves it. `npm test` builds it first; a direct `npx vitest run` rebuilds it here when a source
// file is newer than the last build, so a test never runs against a stale bundle.
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from './cli.js';

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSource(full) : statSync(full).mtimeMs);
  }
  return newest;
}

export function webBuildIsStale(): boolean {
  const built = path.join(repoRoot, 'web/dist/index.html');
  if (!existsSync(built)) return true;
  const sources = Math.max(
    newestSource(path.join(repoRoot, 'web/src')),
    statSync(path.join(repoRoot, 'web/index.html')).mtimeMs,
    statSync(path.join(repoRoot, 'web/vite.config.ts')).mtimeMs,
  );
  return sources > statSync(built).mtimeMs;
}

export default async function setup(): Promise<void> {
  if (!webBuildIsStale()) return;
  const { build } = await import('vite');
  // Vitest sets NODE_ENV=test, which would make Vite emit React's development bundle.
  const nodeEnv = process.env['NODE_ENV'];
  process.env['NODE_ENV'] = 'production';
  try {
    await build({ configFile: path.join(repoRoot, 'web/vite.config.ts'), mode: 'production', logLevel: 'warn' });
  } finally {
    process.env['NODE_ENV'] = nodeEnv;
  }
}

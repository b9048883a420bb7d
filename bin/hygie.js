#!/usr/bin/env node
// The `hygie` command. The TypeScript sources are compiled to dist/ by `npm run build`
// (run by `npm install` through the prepare script, and by `npm start`).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = new URL('../dist/main.js', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  console.error('hygie: dist/ is missing; run `npm run build` (or `npm install`) first.');
  process.exit(2);
}
await import(entry.href);

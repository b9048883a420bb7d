#!/usr/bin/env node
// `npm run bench [name…]`: runs the benches in bench/ one after the other (never part of npm test).
// Each prints one JSON line per figure.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';

const wanted = process.argv.slice(2);
const benches = readdirSync('bench')
  .filter((f) => f.endsWith('.ts') && f !== 'helpers.ts')
  .filter((f) => wanted.length === 0 || wanted.includes(f.replace(/\.ts$/, '')));
let failed = 0;
for (const file of benches) {
  console.error(`== bench/${file}`);
  const { status } = spawnSync('npx', ['--no-install', 'tsx', `bench/${file}`], { stdio: 'inherit', env: { HYGIE_LOG_LEVEL: 'silent', ...process.env } });
  if (status !== 0) failed += 1;
}
process.exit(failed === 0 ? 0 : 1);

#!/usr/bin/env node
// `npm run bench [name…]`: builds, then runs bench/<name>.ts (all of them by default) one after
// the other. Each prints one JSON line per figure. Never part of `npm test`.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';

const wanted = process.argv.slice(2);
const all = readdirSync('bench')
  .filter((f) => f.endsWith('.ts') && f !== 'lib.ts' && !f.startsWith('_'))
  .map((f) => f.replace(/\.ts$/, ''))
  .sort();
const names = wanted.length > 0 ? wanted : all;
for (const name of names) {
  if (!all.includes(name)) {
    console.error(`unknown bench "${name}"; available: ${all.join(', ')}`);
    process.exit(2);
  }
}
if (spawnSync('npm', ['run', '--silent', 'build'], { stdio: 'inherit' }).status !== 0) process.exit(1);
let failed = 0;
for (const name of names) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', `bench/${name}.ts`], { stdio: 'inherit' });
  if (r.status !== 0) {
    failed += 1;
    console.error(`bench ${name} failed (exit ${r.status})`);
  }
}
process.exit(failed > 0 ? 1 : 0);

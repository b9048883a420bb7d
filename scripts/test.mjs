#!/usr/bin/env node
// `npm test`: lint, type-check, then every test (vitest), ending with one line
// "N passed, N failed" (and skipped) read from vitest's JSON report.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';

const run = (cmd, args) => spawnSync(cmd, args, { stdio: 'inherit' }).status ?? 1;
const npx = (args) => run('npx', ['--no-install', ...args]);

const results = '.vitest-results.json';
rmSync(results, { force: true });

console.log('\n== lint');
const lint = npx(['eslint', '.', '--max-warnings', '0']);
console.log('\n== type-check');
// The server and the browser application have their own tsconfig (NodeNext vs bundler, DOM).
const types = [npx(['tsc', '-p', 'tsconfig.json', '--noEmit']), npx(['tsc', '-p', 'web/tsconfig.json', '--noEmit'])].find((c) => c !== 0) ?? 0;
console.log('\n== build');
const build = run('npm', ['run', '--silent', 'build']);
console.log(`\n== tests (${process.env.DATABASE_URL ? 'PostgreSQL' : 'embedded PGlite'})`);
const tests = npx(['vitest', 'run', ...process.argv.slice(2)]);

let passed = 0;
let failed = 0;
let skipped = 0;
if (existsSync(results)) {
  const report = JSON.parse(readFileSync(results, 'utf8'));
  passed = report.numPassedTests ?? 0;
  failed = (report.numFailedTests ?? 0) + suitesThatFailedToRun(report);
  skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
} else {
  failed = 1;
}
const checksFailed = [lint, types, build].filter((code) => code !== 0).length;
if (checksFailed > 0) console.log(`\n${checksFailed} static check(s) failed (lint, type-check or build).`);
console.log(`\n${passed} passed, ${failed + checksFailed} failed, ${skipped} skipped`);
process.exit(lint || types || build || tests || failed ? 1 : 0);

// A test file that failed before its tests ran (an import error, a failing beforeAll) counts as
// one failure; a file whose tests failed is already counted through them.
function suitesThatFailedToRun(report) {
  return (report.testResults ?? []).filter(
    (s) => s.status === 'failed' && !(s.assertionResults ?? []).some((t) => t.status === 'failed'),
  ).length;
}

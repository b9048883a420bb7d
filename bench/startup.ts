// Start-up time: process start to the first 200 on /health, on PGlite (first start with demo
// seeding, then a warm restart) and on PostgreSQL (first start with migrations, then warm).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createBenchDatabase, report, spawnServer } from './lib.js';

const dir = await mkdtemp(path.join(tmpdir(), 'hygie-bench-'));
try {
  const first = await spawnServer({ HYGIE_DATA_DIR: dir });
  report('startup.pglite.first', first.startupMs, 'ms', { note: 'includes migrations and demo seeding' });
  await first.stop();
  const warm: number[] = [];
  for (let i = 0; i < 3; i++) {
    const s = await spawnServer({ HYGIE_DATA_DIR: dir });
    warm.push(s.startupMs);
    await s.stop();
  }
  report('startup.pglite.warm', median(warm), 'ms', { runs: warm.map(Math.round) });
} finally {
  await rm(dir, { recursive: true, force: true });
}

const db = await createBenchDatabase();
try {
  const first = await spawnServer({ DATABASE_URL: db.url });
  report('startup.postgres.first', first.startupMs, 'ms', { note: 'includes migrations' });
  await first.stop();
  const warm: number[] = [];
  for (let i = 0; i < 3; i++) {
    const s = await spawnServer({ DATABASE_URL: db.url });
    warm.push(s.startupMs);
    await s.stop();
  }
  report('startup.postgres.warm', median(warm), 'ms', { runs: warm.map(Math.round) });
} finally {
  await db.drop();
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

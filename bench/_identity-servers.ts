// For the identity benches: a server process on PGlite (seeded on first start) and one on a fresh
// PostgreSQL database (seeded with `hygie seed --demo --out`), each with its demo accounts file.
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createBenchDatabase, repoRoot, spawnServer, type SpawnedServer } from './lib.js';

export interface DemoAccounts {
  staff: Array<{ email: string; password: string; totpSecret: string; role: string }>;
  patients: Array<{ email: string; password: string }>;
}

/** Runs `measure` against a PGlite server, then against a PostgreSQL one. */
export async function onBothDatabases(measure: (label: 'pglite' | 'postgres', server: SpawnedServer, accounts: DemoAccounts) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(path.join(tmpdir(), 'hygie-bench-'));
  try {
    const server = await spawnServer({ HYGIE_DATA_DIR: dir });
    try {
      await measure('pglite', server, JSON.parse(await readDemoAccounts(path.join(dir, 'demo-accounts.json'))));
    } finally {
      await server.stop();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }

  const db = await createBenchDatabase();
  const dir2 = await mkdtemp(path.join(tmpdir(), 'hygie-bench-'));
  try {
    const out = path.join(dir2, 'accounts.json');
    const env = { PATH: process.env['PATH'] ?? '', HYGIE_LOG_LEVEL: 'warn', DATABASE_URL: db.url, HYGIE_DATA_DIR: dir2 };
    const seed = spawnSync(process.execPath, [path.join(repoRoot, 'bin/hygie.js'), 'seed', '--demo', '--out', out], { cwd: repoRoot, env, stdio: ['ignore', 'ignore', 'inherit'] });
    if (seed.status !== 0) throw new Error('hygie seed --demo failed');
    const server = await spawnServer({ DATABASE_URL: db.url, HYGIE_DATA_DIR: dir2 });
    try {
      await measure('postgres', server, JSON.parse(await readFile(out, 'utf8')));
    } finally {
      await server.stop();
    }
  } finally {
    await db.drop();
    await rm(dir2, { recursive: true, force: true });
  }
}

/** The server writes its accounts file just after it starts answering: wait for it. */
async function readDemoAccounts(file: string): Promise<string> {
  for (let i = 0; ; i++) {
    try {
      return await readFile(file, 'utf8');
    } catch (error) {
      if (i > 300) throw error;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

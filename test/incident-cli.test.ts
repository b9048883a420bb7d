// `hygie incident report` as a real process: usage errors, and a report after a contained scrape
// (embedded database in a temporary data directory, or PostgreSQL with DATABASE_URL).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runCli } from './helpers/cli.js';
import { openDatabase, type Database } from '../src/platform/db/database.js';
import { migrateToLatest } from '../src/platform/db/migrations/index.js';
import { seedDemo } from '../src/seed/demo.js';
import { createLocalKeyProvider, createVault } from '../src/modules/vault/index.js';
import { createTestDatabase, onPostgres, testConfig, type TestDatabase } from './helpers/db.js';
import { filesOf, staffActor } from './helpers/actors.js';
import { guardedGate, readThrough, TestClock, withSecondFactor } from './helpers/guard.js';

describe('hygie incident report', () => {
  it('refuses incomplete arguments with its usage (exit 2)', async () => {
    const both = await runCli(['incident', 'report', '--actor', 'a@b.fr', '--api-key', '0190a000-0000-7000-8000-000000000001', '--from', '2026-11-01T00:00:00Z', '--to', '2026-11-02T00:00:00Z'], { HYGIE_DATA_DIR: '/nonexistent' });
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('exactly one of --actor');
    const dates = await runCli(['incident', 'report', '--actor', 'a@b.fr', '--from', 'yesterday', '--to', '2026-11-02T00:00:00Z'], { HYGIE_DATA_DIR: '/nonexistent' });
    expect(dates.code).toBe(2);
    expect(dates.stderr).toContain('--from and --to');
  });

  describe('after a contained scrape', () => {
    let dir: string;
    let t: TestDatabase | undefined;
    let db: Database;
    let env: Record<string, string>;
    let email: string;
    let read: string[];
    const from = new Date(Date.now() - 60_000);
    beforeAll(async () => {
      dir = await mkdtemp(path.join(tmpdir(), 'hygie-incident-cli-'));
      if (onPostgres()) {
        t = await createTestDatabase();
        db = t.db;
        env = { DATABASE_URL: t.url!, HYGIE_DATA_DIR: dir };
      } else {
        const config = testConfig({ HYGIE_DATA_DIR: dir });
        db = await openDatabase(config);
        await migrateToLatest(db.owner, { appRole: config.dbAppRole });
        env = { HYGIE_DATA_DIR: dir };
      }
      // Seeded under the data directory's key file, as `hygie seed --demo` would: the CLI finds the
      // actor by the e-mail's blind index, with that keyring.
      const { data } = await seedDemo(db, undefined, createVault({ provider: createLocalKeyProvider(dir) }));
      const A = data.establishments[0]!.id;
      const clock = new TestClock();
      const g = guardedGate(db, { clock });
      const actor = withSecondFactor(staffActor(data, A, 'secretary'), clock.now());
      email = data.staff.find((s) => s.userId === (actor as { userId: string }).userId)!.email;
      read = [];
      for (const f of filesOf(data, A).slice(0, 35)) {
        if ((await readThrough(g.gate, actor, A, [f.id])) === 'allowed') read.push(f.id);
        clock.advance(2_000);
      }
      // The embedded database is one process's: close it before the CLI opens it.
      if (!t) await db.close();
    }, 120_000);
    afterAll(async () => {
      await t?.drop();
      await rm(dir, { recursive: true, force: true });
    });

    it('prints counts only and writes one letter per patient read', async () => {
      const out = path.join(dir, 'incident');
      const r = await runCli(['incident', 'report', '--actor', email, '--from', from.toISOString(), '--to', new Date(Date.now() + 60_000).toISOString(), '--out', out], env);
      expect(r.code, r.stderr).toBe(0);
      const summary = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
      expect(summary.establishments).toHaveLength(1);
      expect(summary.establishments[0]).toMatchObject({ patients: read.length, containments: 1 });
      expect(r.stdout).not.toMatch(/[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}","patientId/);
      const [establishmentDir] = await readdir(out);
      const letters = await readdir(path.join(out, establishmentDir!, 'letters'));
      expect(letters.sort()).toEqual(read.flatMap((id) => [`${id}.fr.md`, `${id}.fr.pdf`]).sort());
    });
  });
});

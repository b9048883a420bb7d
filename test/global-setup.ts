// Runs once before the test files. On PGlite, initdb plus migrations cost seconds per database;
// we build one migrated database here, dump it, and every test file starts from that tarball.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { openDatabase } from '../src/platform/db/database.js';
import { migrateToLatest } from '../src/platform/db/migrations/index.js';
import { readTestSettings } from '../src/config.js';
import { testConfig } from './helpers/db.js';

declare module 'vitest' {
  export interface ProvidedContext {
    pgliteTemplate: string;
  }
}

export default async function setup(project: TestProject): Promise<() => void> {
  if (readTestSettings().databaseUrl) {
    project.provide('pgliteTemplate', '');
    return () => undefined;
  }
  const config = testConfig();
  const db = await openDatabase(config, { databaseUrl: undefined, pgliteDataDir: 'memory://' });
  await migrateToLatest(db.owner, { appRole: config.dbAppRole });
  const dump = await db.dumpDataDir!();
  await db.close();
  const dir = mkdtempSync(path.join(tmpdir(), 'hygie-template-'));
  const file = path.join(dir, 'migrated.tar');
  writeFileSync(file, Buffer.from(await dump.arrayBuffer()));
  project.provide('pgliteTemplate', file);
  return () => rmSync(dir, { recursive: true, force: true });
}

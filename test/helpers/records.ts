// Shared set-up of the records tests: a seeded database (encrypted demo files and entries), the
// vault that encrypted them, and an app whose test-only authenticator acts as a given actor.
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import type { Actor } from '../../src/platform/http/context.js';
import { DomainError } from '../../src/platform/http/errors.js';
import { createLogger } from '../../src/platform/log.js';
import { seedDemo } from '../../src/seed/demo.js';
import type { DemoData } from '../../src/seed/demo-data.js';
import type { Vault } from '../../src/modules/vault/index.js';
import { createTestDatabase, testConfig, type TestDatabase } from './db.js';

export interface RecordsWorld {
  t: TestDatabase;
  data: DemoData;
  vault: Vault;
  /** An app acting as `actor` (undefined: anonymous). */
  appAs(actor: Actor | undefined): Promise<FastifyInstance>;
  close(): Promise<void>;
}

export async function recordsWorld(): Promise<RecordsWorld> {
  const t = await createTestDatabase();
  const { data, vault } = await seedDemo(t.db, undefined, t.vault);
  const apps: FastifyInstance[] = [];
  const byActor = new Map<string, FastifyInstance>();
  return {
    t,
    data,
    vault,
    async appAs(actor) {
      // One app per distinct actor: building an app costs more than the requests of most tests.
      const key = JSON.stringify(actor ?? null);
      const known = byActor.get(key);
      if (known) return known;
      const app = await buildApp({
        config: testConfig(),
        db: t.db,
        logger: createLogger('silent'),
        vault,
        authenticate: async (request) => {
          if (!actor) throw new DomainError('unauthenticated');
          request.actor = actor;
        },
      });
      apps.push(app);
      byActor.set(key, app);
      return app;
    },
    async close() {
      await Promise.all(apps.map((a) => a.close()));
      await t.drop();
    },
  };
}

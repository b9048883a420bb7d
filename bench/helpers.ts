// Shared by the benches: a server on port 0 over a fresh database (in-memory PGlite, or a new
// database on the PostgreSQL server named by DATABASE_URL) with the demo data, and one JSON line
// per figure.
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../src/app.js';
import { createLogger } from '../src/platform/log.js';
import { seedDemo } from '../src/seed/demo.js';
import type { DemoData } from '../src/seed/demo-data.js';
import { createTestDatabase, type TestDatabase } from '../test/helpers/db.js';

export function report(bench: string, figure: string, value: number, unit: string, extra: Record<string, unknown> = {}): void {
  console.log(JSON.stringify({ bench, figure, value: Math.round(value * 100) / 100, unit, ...extra }));
}

export interface BenchServer {
  app: FastifyInstance;
  url: string;
  data: DemoData;
  database: 'pglite' | 'postgres';
  close(): Promise<void>;
}

export async function startBenchServer(): Promise<BenchServer> {
  const t: TestDatabase = await createTestDatabase();
  const { data } = await seedDemo(t.db);
  const app = await buildApp({ config: t.config, db: t.db, logger: createLogger('silent'), identityKey: randomBytes(32) });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as { port: number };
  return {
    app,
    url: `http://127.0.0.1:${port}`,
    data,
    database: t.db.kind,
    async close() {
      await app.close();
      await t.drop();
    },
  };
}

// /health throughput (each request runs a database round trip) with autocannon, 64 connections,
// against a server process on PGlite and on PostgreSQL.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { createBenchDatabase, report, spawnServer } from './lib.js';

const DURATION = Number(process.env['BENCH_DURATION'] ?? 10);

async function measure(label: string, env: Record<string, string>): Promise<void> {
  const server = await spawnServer(env);
  try {
    await autocannon({ url: `${server.url}/health`, connections: 16, duration: 2 }); // warm-up
    const r = await autocannon({ url: `${server.url}/health`, connections: 64, duration: DURATION });
    report(`health.${label}.throughput`, r.requests.average, 'req/s', { non2xx: r.non2xx, errors: r.errors });
    report(`health.${label}.latency_p99`, r.latency.p99, 'ms');
  } finally {
    await server.stop();
  }
}

const dir = await mkdtemp(path.join(tmpdir(), 'hygie-bench-'));
try {
  await measure('pglite', { HYGIE_DATA_DIR: dir });
} finally {
  await rm(dir, { recursive: true, force: true });
}
const db = await createBenchDatabase();
try {
  await measure('postgres', { DATABASE_URL: db.url });
} finally {
  await db.drop();
}

// The ceiling of this machine for the public read benches: the same load generator (autocannon,
// 64 connections, one new request object per request like the scheduling benches) against a bare
// Fastify route with a fixed JSON answer of availability's size, no hooks, no database. What it
// reaches bounds what any search or availability code can reach here; its CPU per request says
// how the two cores split between the server and the load generator.
import { loadAndReport, startBenchServer } from './_scheduling-common.js';

const server = await startBenchServer('bench/_ceiling-server.ts');
try {
  await loadAndReport(server, 'ceiling', { connections: 64, duration: Number(process.env['BENCH_SECONDS'] ?? 10), setupRequest: (req) => ({ ...req, path: '/ceiling' }) }, { connections: 64 });
} finally {
  await server.stop();
}

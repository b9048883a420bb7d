// The server side of bench/ceiling.ts: a bare Fastify with one GET route answering a fixed JSON
// body of the size of a 7-day availability answer, no hooks, no database. Prints "PORT=<n>";
// SIGUSR2 prints "CPU node_ms=… pg_ms=0" like the scheduling bench server.
import Fastify from 'fastify';

const body = JSON.stringify({ slots: Array.from({ length: 60 }, (_, i) => ({ start: `2026-11-${String(23 + (i % 5)).padStart(2, '0')}T09:${String(i % 60).padStart(2, '0')}:00+01:00`, end: `2026-11-23T09:30:00+01:00` })) });
const app = Fastify({ logger: false });
app.get('/ceiling', async (_request, reply) => reply.type('application/json; charset=utf-8').send(body));
await app.listen({ port: 0, host: '127.0.0.1' });
let last = process.cpuUsage();
process.on('SIGUSR2', () => {
  const cpu = process.cpuUsage(last);
  last = process.cpuUsage();
  console.log(`CPU node_ms=${((cpu.user + cpu.system) / 1000).toFixed(0)} pg_ms=0`);
});
// After the SIGUSR2 handler: a signal before it would kill the process.
const address = app.server.address();
console.log(`PORT=${typeof address === 'object' && address ? address.port : 0}`);
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));

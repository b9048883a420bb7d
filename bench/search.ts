// Public practitioner search with next free slots, at 64 connections, on the `seed --scale` data
// set: random specialty and city (or postal code) per request.
import { SPECIALTIES } from '../src/modules/directory/index.js';
import { sql } from 'kysely';
import { datasetSize, load, openBenchDatabase, report, startBenchServer } from './scheduling-common.js';

const db = await openBenchDatabase();
const size = await datasetSize(db);
const { rows: places } = await sql<{ city: string; postal_code: string }>`select distinct city, postal_code from establishments`.execute(db.owner);
await db.close();
const server = await startBenchServer();
try {
  let i = 0;
  const result = await load(server.url, {
    connections: 64,
    duration: Number(process.env['BENCH_SECONDS'] ?? 10),
    setupRequest: (req) => {
      i++;
      const place = places[i % places.length]!;
      const near = i % 2 === 0 ? encodeURIComponent(place.city) : place.postal_code;
      return { ...req, path: `/api/v1/search/practitioners?specialty=${SPECIALTIES[i % SPECIALTIES.length]!.code}&near=${near}&limit=10` };
    },
  });
  report('search', result, { connections: 64, ...size });
} finally {
  await server.stop();
}

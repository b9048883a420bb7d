// Public availability of one motive over the next 7 days, at 64 connections, on the
// `seed --scale` data set: a random published agenda and its first motive per request.
import { sql } from 'kysely';
import { datasetSize, load, openBenchDatabase, report, startBenchServer } from './scheduling-common.js';

const db = await openBenchDatabase();
const size = await datasetSize(db);
const { rows: targets } = await sql<{ practitioner_id: string; motive_id: string }>`
  select a.practitioner_id, (select m.id from visit_motives m where m.agenda_id = a.id and m.active order by m.created_at limit 1) as motive_id
  from agendas a where a.published order by random() limit 2000`.execute(db.owner);
await db.close();
const server = await startBenchServer();
try {
  let i = 0;
  const result = await load(server.url, {
    connections: 64,
    duration: Number(process.env['BENCH_SECONDS'] ?? 10),
    setupRequest: (req) => {
      const t = targets[i++ % targets.length]!;
      return { ...req, path: `/api/v1/practitioners/${t.practitioner_id}/availability?motiveId=${t.motive_id}` };
    },
  });
  report('availability', result, { connections: 64, ...size });
} finally {
  await server.stop();
}

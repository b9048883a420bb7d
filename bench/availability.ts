// Public availability of one motive over the next 7 days, at 64 connections, on the
// `seed --scale` data set: a random published agenda and its first motive per request.
import { sql } from 'kysely';
import { runPublicReadBench } from './_scheduling-common.js';

await runPublicReadBench(
  'availability',
  async (db) =>
    (
      await sql<{ practitioner_id: string; motive_id: string }>`
        select a.practitioner_id, (select m.id from visit_motives m where m.agenda_id = a.id and m.active order by m.created_at limit 1) as motive_id
        from agendas a where a.published order by random() limit 2000`.execute(db.owner)
    ).rows,
  (i, targets) => {
    const t = targets[i % targets.length]!;
    return `/api/v1/practitioners/${t.practitioner_id}/availability?motiveId=${t.motive_id}`;
  },
);

// A person asked for a step-up who keeps crossing the line without presenting a second factor is
// most likely a stolen cookie: the guard counts those refused crossings and contains at a bound.
import { sql, type Kysely } from 'kysely';

export function up() {
  return async (db: Kysely<unknown>): Promise<void> => {
    await sql`alter table guard_actor_state add column refused_while_pending integer not null default 0`.execute(db);
  };
}

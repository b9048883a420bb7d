// Where each external collector (syslog, webhook) has got to in each audit stream: the forwarder
// ships sealed events after last_seq and advances it only once the collector has taken them, so
// delivery is at least once. The owner connection (like the sealer) reads the chain and writes
// these rows; the application role has no privilege on them.
import { sql, type Kysely } from 'kysely';

export function up() {
  return async (db: Kysely<unknown>): Promise<void> => {
    await sql`
      create table audit_forward_cursors (
        destination text not null check (destination in ('syslog', 'webhook')),
        -- the audit stream: an establishment id, or the platform stream's all-zero id
        stream uuid not null,
        last_seq bigint not null check (last_seq >= 0),
        updated_at timestamptz not null default now(),
        primary key (destination, stream)
      )`.execute(db);
  };
}

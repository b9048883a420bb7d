// The integrity status of audit events, for the security officer's audit search.
//
// The application role has no privilege on the chain, the checkpoints or the public keys (0007):
// a request must not be able to read, let alone write, what proves the log intact. The search
// still needs to say, for each event it shows, whether the event is chained, matches its link and
// is covered by a signed checkpoint. These two functions (SECURITY DEFINER, owned by the migration
// owner) hand out exactly that and nothing more, for the stream of the transaction's establishment
// only (hygie_current_establishment(), set by withTenant): no parameter can name another stream.
// They return hashes, sequence numbers and one public key: no personal data.
import { sql, type Kysely } from 'kysely';
import type { MigrationContext } from './index.js';

export function up(ctx: MigrationContext) {
  return async (db: Kysely<unknown>): Promise<void> => {
    const role = sql.id(ctx.appRole);

    // For each given event of the current establishment's stream: its chain link (sequence
    // number, hash, and the previous link's hash so the caller can recompute the event's own
    // hash), or whether it is still queued for the sealer. Events of other streams are ignored.
    await sql`
      create function hygie_audit_event_links(p_event_ids uuid[])
      returns table (event_id uuid, seq text, hash bytea, prev_hash bytea, pending boolean)
      language sql stable security definer set search_path = pg_catalog, public as $$
        select ids.id, c.seq::text, c.hash, prev.hash,
               exists (select 1 from public.audit_pending p where p.event_id = ids.id and p.stream = hygie_current_establishment())
        from unnest(p_event_ids[1:50]) as ids(id)
        left join public.audit_chain c on c.event_id = ids.id and c.stream = hygie_current_establishment()
        left join public.audit_chain prev on prev.stream = c.stream and prev.seq = c.seq - 1
        where hygie_current_establishment() is not null
      $$`.execute(db);

    // The newest signed checkpoint of the current establishment's stream, the public key the
    // database holds for it, and the hash of the chain link at that sequence number (so that a
    // chain rewritten below a checkpoint shows up without walking the whole chain).
    await sql`
      create function hygie_audit_latest_checkpoint()
      returns table (seq text, hash bytea, signed_at timestamptz, key_id text, signature bytea, public_key bytea, chain_hash bytea)
      language sql stable security definer set search_path = pg_catalog, public as $$
        select k.seq::text, k.hash, k.signed_at, k.key_id, k.signature, s.public_key, c.hash
        from public.audit_checkpoints k
        left join public.audit_signing_keys s on s.key_id = k.key_id and s.stream = k.stream
        left join public.audit_chain c on c.stream = k.stream and c.seq = k.seq
        where k.stream = hygie_current_establishment()
        order by k.seq desc
        limit 1
      $$`.execute(db);

    for (const fn of ['hygie_audit_event_links(uuid[])', 'hygie_audit_latest_checkpoint()']) {
      await sql`revoke all on function ${sql.raw(fn)} from public`.execute(db);
      await sql`grant execute on function ${sql.raw(fn)} to ${role}`.execute(db);
    }
  };
}

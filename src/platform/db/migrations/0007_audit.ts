// The tamper-evident audit trail on top of 0003's append-only audit_events.
//
// Why a separate chain instead of hash columns on audit_events: the application role inserts
// events and must never be able to UPDATE them, so nothing may be filled in after insert on that
// table. Chaining is done by the sealer, a background worker running as the owner connection
// (never a request handler), which writes the sequence number and hash of each event into
// audit_chain and signs checkpoints. The application role has no privilege at all on the chain,
// the checkpoints, the public keys or the pending queue.
//
// Inserting does not take any shared lock: an AFTER INSERT statement trigger (SECURITY DEFINER,
// so the application needs no grant on the queue) copies the new ids into audit_pending, which
// the sealer drains in batches.
import { sql, type Kysely } from 'kysely';
import type { MigrationContext } from './index.js';

/** The stream id of the platform-level events (establishment_id NULL). */
export const PLATFORM_STREAM = '00000000-0000-0000-0000-000000000000';

export function up(ctx: MigrationContext) {
  return async (db: Kysely<unknown>): Promise<void> => {
    const role = sql.id(ctx.appRole);
    const platform = sql.lit(PLATFORM_STREAM);

    await sql`
      create table audit_pending (
        event_id uuid primary key,
        stream uuid not null
      )`.execute(db);
    await sql`
      create function audit_events_enqueue() returns trigger
      language plpgsql security definer set search_path = pg_catalog, public as $$
      begin
        insert into public.audit_pending (event_id, stream)
          select id, coalesce(establishment_id, ${platform}::uuid) from new_events;
        return null;
      end $$`.execute(db);
    await sql`revoke all on function audit_events_enqueue() from public`.execute(db);
    await sql`
      create trigger audit_events_enqueue after insert on audit_events
      referencing new table as new_events
      for each statement execute function audit_events_enqueue()`.execute(db);
    // Events appended before this migration are chained by the first sealing run.
    await sql`insert into audit_pending (event_id, stream) select id, coalesce(establishment_id, ${platform}::uuid) from audit_events`.execute(db);

    await sql`
      create table audit_signing_keys (
        key_id text primary key,
        stream uuid not null,
        public_key bytea not null check (length(public_key) = 32),
        created_at timestamptz not null default now()
      )`.execute(db);

    await sql`
      create table audit_chain (
        stream uuid not null,
        seq bigint not null check (seq > 0),
        event_id uuid not null unique references audit_events(id),
        hash bytea not null check (length(hash) = 32),
        sealed_at timestamptz not null default now(),
        primary key (stream, seq)
      )`.execute(db);

    await sql`
      create table audit_checkpoints (
        id uuid primary key,
        stream uuid not null,
        seq bigint not null check (seq > 0),
        hash bytea not null check (length(hash) = 32),
        signed_at timestamptz not null,
        key_id text not null references audit_signing_keys(key_id),
        signature bytea not null check (length(signature) = 64),
        unique (stream, seq)
      )`.execute(db);

    // Append-only for every role, owner included (tamper tests disable these on purpose), and no
    // TRUNCATE, which row triggers would not see.
    await sql`
      create function audit_append_only() returns trigger language plpgsql as $$
      begin
        raise exception '% is append-only', tg_table_name using errcode = 'insufficient_privilege';
      end $$`.execute(db);
    for (const table of ['audit_chain', 'audit_checkpoints', 'audit_signing_keys']) {
      await sql`
        create trigger ${sql.id(`${table}_no_update_delete`)} before update or delete on ${sql.table(table)}
        for each row execute function audit_append_only()`.execute(db);
    }
    for (const table of ['audit_events', 'audit_chain', 'audit_checkpoints', 'audit_signing_keys']) {
      await sql`
        create trigger ${sql.id(`${table}_no_truncate`)} before truncate on ${sql.table(table)}
        for each statement execute function audit_append_only()`.execute(db);
    }

    // The application reads nothing of this, except through the access-log function below.
    for (const table of ['audit_pending', 'audit_signing_keys', 'audit_chain', 'audit_checkpoints']) {
      await sql`revoke all on ${sql.table(table)} from public`.execute(db);
    }

    // Patients' access log. A patient's files live in several establishments, which row-level
    // security hides from any single tenant transaction; this function (owned by the migration
    // owner, which bypasses RLS) reads across establishments for the files of ONE account and
    // returns only what the patient may see: when, the actor's name and role, the establishment's
    // name, the action, the categories and the break-glass reason. Never another account's files,
    // never the patient's own actions, never ids of the actors. The route passes the session's
    // account id only; no request parameter can name another account.
    await sql`
      create function hygie_patient_access_log(p_account uuid, p_limit integer, p_before_at timestamptz, p_before_id uuid)
      returns table (
        event_id uuid, at timestamptz, at_text text, actor_kind text, actor_first_name text, actor_last_name text,
        actor_role text, establishment_name text, action text, categories text[], purpose text, reason text
      )
      language sql stable security definer set search_path = pg_catalog, public as $$
        select e.id, e.at, to_char(e.at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US'), e.actor_kind,
               u.first_name, u.last_name, e.actor_role, est.name, e.action, e.categories, e.purpose, e.reason
        from public.audit_events e
        left join public.users u on u.id = e.actor_user_id
        left join public.establishments est on est.id = e.establishment_id
        where e.patient_ids && array(select p.id from public.patients p where p.account_user_id = p_account)
          and e.actor_user_id is distinct from p_account
          and e.outcome = 'allowed'
          and (p_before_at is null or (e.at, e.id) < (p_before_at, p_before_id))
        order by e.at desc, e.id desc
        limit least(greatest(p_limit, 1), 101)
      $$`.execute(db);
    await sql`revoke all on function hygie_patient_access_log(uuid, integer, timestamptz, uuid) from public`.execute(db);
    await sql`grant execute on function hygie_patient_access_log(uuid, integer, timestamptz, uuid) to ${role}`.execute(db);
  };
}

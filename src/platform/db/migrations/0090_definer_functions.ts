// The security-definer functions that every authenticated request calls, made cheaper, and every
// security-definer function's search path closed to temporary tables.
//
// 1. The session check calls hygie_user_memberships and hygie_actor_contained on every request
//    (an API key, hygie_api_key_lookup). As LANGUAGE sql functions with a SET clause they cannot
//    be inlined, and PostgreSQL parses and plans their body again at each call: measured with
//    pgbench (prepared, one client) on the session check, 0.126 ms a statement, of which the two
//    plans are about 0.04 ms. As plpgsql functions, the body's plan is kept by each connection:
//    0.082 ms. Same arguments, results, owner and grants (CREATE OR REPLACE keeps them).
//
// 2. A security-definer function whose search_path does not name pg_temp looks up relations in
//    the caller's temporary schema first: a caller able to create a temporary table could have
//    the function read its table instead (PostgreSQL's "Writing SECURITY DEFINER Functions
//    Safely"). Those of 0004, 0007, 0013, 0075, 0080 and 0085 set a path without pg_temp; it now
//    comes last (the two scheduling triggers already had it last).
import { sql, type Kysely } from 'kysely';

export function up() {
  return async (db: Kysely<unknown>): Promise<void> => {
    await sql`
      create or replace function hygie_user_memberships(p_user uuid) returns table (establishment_id uuid, role text)
      language plpgsql stable security definer set search_path = public, pg_temp
      as $$ begin
        return query select m.establishment_id, m.role from memberships m where m.user_id = p_user order by m.created_at;
      end $$`.execute(db);
    await sql`
      create or replace function hygie_actor_contained(p_actor_key text) returns boolean
      language plpgsql stable security definer set search_path = public, pg_temp
      as $$ begin
        return exists (select 1 from contained_actors where actor_key = p_actor_key and released_at is null);
      end $$`.execute(db);
    await sql`
      create or replace function hygie_api_key_lookup(p_hash bytea) returns table (id uuid, establishment_id uuid)
      language plpgsql stable security definer set search_path = public, pg_temp
      as $$ begin
        return query select k.id, k.establishment_id from api_keys k where k.key_hash = p_hash;
      end $$`.execute(db);
    await sql`alter function hygie_invitation_lookup(bytea) set search_path = public, pg_temp`.execute(db);
    for (const fn of [
      'hygie_patient_access_log(uuid, integer, timestamptz, uuid)',
      'hygie_patient_notices(uuid)',
      'hygie_patient_notice_owner(uuid, uuid)',
      'hygie_audit_event_links(uuid[])',
      'hygie_audit_latest_checkpoint()',
      'audit_events_enqueue()',
    ]) {
      await sql`alter function ${sql.raw(fn)} set search_path = pg_catalog, public, pg_temp`.execute(db);
    }
  };
}

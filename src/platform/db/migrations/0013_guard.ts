// The guard's state: recent exposures per actor (sliding-window counters when Redis is not used),
// misses (search misses, refused ids), step-up demands, daily history for the actor's baseline,
// known networks, per-establishment thresholds, and containments.
import { sql, type Kysely } from 'kysely';
import type { MigrationContext } from './index.js';
import { enableTenantIsolation } from './rls.js';

export function up(ctx: MigrationContext) {
  return async (db: Kysely<unknown>): Promise<void> => {
    // actor_key is 'user:<uuid>' or 'key:<uuid>'. One row per (actor, patient, class): the last
    // time the actor was shown that patient's data; counts over windows are counts of rows.
    await sql`
      create table guard_exposures (
        establishment_id uuid not null references establishments(id),
        actor_key text not null,
        patient_id uuid not null,
        class text not null check (class in ('unexplained', 'explained', 'care', 'break_glass')),
        last_at timestamptz not null,
        primary key (establishment_id, actor_key, class, patient_id)
      )`.execute(db);
    await sql`create index guard_exposures_recent_idx on guard_exposures (establishment_id, actor_key, last_at)`.execute(db);
    await enableTenantIsolation(db, ctx, 'guard_exposures', ['select', 'insert', 'update', 'delete']);

    await sql`
      create table guard_misses (
        id uuid primary key,
        establishment_id uuid not null references establishments(id),
        actor_key text not null,
        kind text not null check (kind in ('search_miss', 'not_found')),
        at timestamptz not null
      )`.execute(db);
    await sql`create index guard_misses_recent_idx on guard_misses (establishment_id, actor_key, at)`.execute(db);
    await enableTenantIsolation(db, ctx, 'guard_misses', ['select', 'insert', 'delete']);

    await sql`
      create table guard_actor_state (
        establishment_id uuid not null references establishments(id),
        actor_key text not null,
        step_up_demanded_at timestamptz,
        step_up_signals text[] not null default '{}',
        primary key (establishment_id, actor_key)
      )`.execute(db);
    await enableTenantIsolation(db, ctx, 'guard_actor_state', ['select', 'insert', 'update']);

    await sql`
      create table guard_daily (
        establishment_id uuid not null references establishments(id),
        actor_key text not null,
        day date not null,
        unexplained real not null,
        explained integer not null,
        primary key (establishment_id, actor_key, day)
      )`.execute(db);
    await enableTenantIsolation(db, ctx, 'guard_daily', ['select', 'insert', 'update', 'delete']);

    await sql`
      create table guard_networks (
        establishment_id uuid not null references establishments(id),
        actor_key text not null,
        network text not null,
        first_seen_at timestamptz not null,
        primary key (establishment_id, actor_key, network)
      )`.execute(db);
    await enableTenantIsolation(db, ctx, 'guard_networks', ['select', 'insert']);

    await sql`
      create table guard_settings (
        establishment_id uuid primary key references establishments(id),
        thresholds jsonb not null,
        updated_at timestamptz not null default now(),
        updated_by_user_id uuid references users(id)
      )`.execute(db);
    await enableTenantIsolation(db, ctx, 'guard_settings', ['select', 'insert', 'update']);

    await sql`
      create table contained_actors (
        id uuid primary key,
        establishment_id uuid not null references establishments(id),
        actor_key text not null,
        user_id uuid references users(id),
        api_key_id uuid,
        signals text[] not null default '{}',
        alert_id uuid,
        contained_at timestamptz not null,
        released_at timestamptz,
        released_by_user_id uuid references users(id)
      )`.execute(db);
    await sql`create index contained_actors_active_idx on contained_actors (actor_key) where released_at is null`.execute(db);
    await enableTenantIsolation(db, ctx, 'contained_actors', ['select', 'insert', 'update']);

    // Identity's authenticator and login run without a tenant: this function answers the one
    // question they need ("is this account contained anywhere?") without exposing the rows. It runs
    // as the migration owner; the extra policy lets that owner (and only it) read the rows even
    // when it is not a superuser (FORCE ROW LEVEL SECURITY applies to owners too).
    const { rows } = await sql<{ u: string }>`select current_user as u`.execute(db);
    const owner = rows[0]!.u;
    await sql`
      create policy containment_check on contained_actors for select
        using (current_user = ${sql.lit(owner)})`.execute(db);
    await sql`
      create function hygie_actor_contained(p_actor_key text) returns boolean
      language sql stable security definer set search_path = public
      as $$ select exists (select 1 from contained_actors where actor_key = p_actor_key and released_at is null) $$`.execute(db);
    await sql`revoke all on function hygie_actor_contained(text) from public`.execute(db);
    await sql`grant execute on function hygie_actor_contained(text) to ${sql.id(ctx.appRole)}`.execute(db);
  };
}

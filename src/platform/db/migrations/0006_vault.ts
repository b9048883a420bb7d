// The vault's tables: key-encryption-key versions (references to keys held by the key provider,
// never key material) and data keys wrapped by them. Two keyspaces with the same shape: one per
// establishment (walled by row-level security) and one for the platform (secrets of global
// accounts, such as TOTP seeds).
import { sql, type Kysely } from 'kysely';
import type { MigrationContext } from './index.js';
import { enableTenantIsolation, grantApp } from './rls.js';

export function up(ctx: MigrationContext) {
  return async (db: Kysely<unknown>): Promise<void> => {
    await sql`
      create table vault_establishment_keys (
        establishment_id uuid not null references establishments(id),
        version integer not null check (version > 0),
        provider text not null,
        -- Opaque reference understood by the provider (a key id, a KMS ARN): never key material.
        key_ref text not null,
        -- active: wraps new data keys; previous: still wraps some, unwraps only; retired: wraps none.
        state text not null check (state in ('active', 'previous', 'retired')),
        created_at timestamptz not null default now(),
        retired_at timestamptz,
        primary key (establishment_id, version)
      )`.execute(db);
    await sql`create unique index vault_establishment_keys_one_active on vault_establishment_keys (establishment_id) where state = 'active'`.execute(db);
    await enableTenantIsolation(db, ctx, 'vault_establishment_keys', ['select', 'insert', 'update']);

    await sql`
      create table vault_data_keys (
        id uuid primary key,
        establishment_id uuid not null references establishments(id),
        owner_kind text not null check (owner_kind in ('patient', 'user', 'establishment', 'blind_index')),
        owner_id uuid not null,
        kek_version integer,
        wrapped_key bytea,
        created_at timestamptz not null default now(),
        shredded_at timestamptz,
        unique (establishment_id, owner_kind, owner_id),
        foreign key (establishment_id, kek_version) references vault_establishment_keys (establishment_id, version),
        -- A shredded key keeps its row (a tombstone: no silent re-creation) but loses its material.
        check ((shredded_at is null) = (wrapped_key is not null and kek_version is not null))
      )`.execute(db);
    await sql`create index vault_data_keys_kek_idx on vault_data_keys (establishment_id, kek_version)`.execute(db);
    await enableTenantIsolation(db, ctx, 'vault_data_keys', ['select', 'insert', 'update']);

    await sql`
      create table vault_platform_keys (
        version integer primary key check (version > 0),
        provider text not null,
        key_ref text not null,
        state text not null check (state in ('active', 'previous', 'retired')),
        created_at timestamptz not null default now(),
        retired_at timestamptz
      )`.execute(db);
    await sql`create unique index vault_platform_keys_one_active on vault_platform_keys ((true)) where state = 'active'`.execute(db);
    await grantApp(db, ctx, 'vault_platform_keys', ['select', 'insert', 'update']);

    await sql`
      create table vault_platform_data_keys (
        id uuid primary key,
        owner_kind text not null check (owner_kind in ('user', 'platform')),
        owner_id uuid not null,
        kek_version integer references vault_platform_keys (version),
        wrapped_key bytea,
        created_at timestamptz not null default now(),
        shredded_at timestamptz,
        unique (owner_kind, owner_id),
        check ((shredded_at is null) = (wrapped_key is not null and kek_version is not null))
      )`.execute(db);
    await sql`create index vault_platform_data_keys_kek_idx on vault_platform_data_keys (kek_version)`.execute(db);
    await grantApp(db, ctx, 'vault_platform_data_keys', ['select', 'insert', 'update']);
  };
}

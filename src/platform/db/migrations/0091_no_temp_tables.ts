// The application role can no longer create temporary tables in Hygie's database.
//
// The application's statements name tables without a schema, and PostgreSQL looks a name up in the
// session's temporary schema before `public`. A temporary table made through the application role
// (an SQL injection, should one ever get through the parameterised queries) would then stand in
// for the real one in every later statement on that pooled connection: a temporary `sessions`
// table holding a made-up session would be a way in as anyone. Hygie never uses temporary tables;
// PostgreSQL grants TEMPORARY on every database to PUBLIC by default, so it is revoked from PUBLIC
// (the database owner keeps it; an operator's own role that needs it can be granted it).
// Migration 0090 already closed the same door for the security-definer functions.
import { sql, type Kysely } from 'kysely';
import type { MigrationContext } from './index.js';

export function up(ctx: MigrationContext) {
  return async (db: Kysely<unknown>): Promise<void> => {
    // Revoking needs the database's owner (or a superuser). Where the migrating role is neither, a
    // DBA's own REVOKE beforehand is enough: nothing is left to revoke, and nothing is attempted.
    await sql`
      do $$
      begin
        if exists (select 1 from pg_database d, aclexplode(coalesce(d.datacl, acldefault('d', d.datdba))) a
                   where d.datname = current_database() and a.grantee = 0 and a.privilege_type = 'TEMPORARY') then
          execute format('revoke temporary on database %I from public', current_database());
        end if;
        if has_database_privilege(${sql.lit(ctx.appRole)}, current_database(), 'TEMPORARY') then
          execute format('revoke temporary on database %I from %I', current_database(), ${sql.lit(ctx.appRole)});
        end if;
      exception when insufficient_privilege then
        raise exception 'migration 0091: as the owner of database %, run: revoke temporary on database % from public, %; then start Hygie again',
          current_database(), current_database(), ${sql.lit(ctx.appRole)};
      end
      $$`.execute(db);
  };
}

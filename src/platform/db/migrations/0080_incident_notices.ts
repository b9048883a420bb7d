// Breach letters in the patient portal. `notify` keeps one row per affected patient who has an
// account (the letter as queued: Markdown that names no one, ids and the language), walled by
// establishment like every incident table. A patient's files live in several establishments, which
// row-level security hides from any single tenant transaction, so the portal finds its letters
// through two functions owned by the migration owner (SECURITY DEFINER, search_path pinned, EXECUTE
// for the application role only) that take the session's account id and return only letters
// about files linked to that account — the same scheme as hygie_patient_access_log (0007). The
// letter's text itself is then read through the access gate, in its establishment, which
// authorizes (own file only), meters and audits the read.
import { sql, type Kysely } from 'kysely';
import type { MigrationContext } from './index.js';
import { enableTenantIsolation } from './rls.js';

export function up(ctx: MigrationContext) {
  return async (db: Kysely<unknown>): Promise<void> => {
    await sql`
      create table patient_notices (
        id uuid primary key,
        establishment_id uuid not null references establishments(id),
        incident_id uuid not null references incidents(id),
        patient_id uuid not null references patients(id),
        lang text not null check (lang in ('fr', 'en')),
        -- the art. 34 letter: categories, dates and the file reference only, no name or address
        markdown text not null check (char_length(markdown) <= 20000),
        created_at timestamptz not null default now(),
        unique (incident_id, patient_id)
      )`.execute(db);
    await sql`create index patient_notices_patient_idx on patient_notices (patient_id, created_at)`.execute(db);
    await enableTenantIsolation(db, ctx, 'patient_notices', ['select', 'insert']);

    const role = sql.id(ctx.appRole);
    // The list: one row per letter about the account's files, newest first, without the text.
    await sql`
      create function hygie_patient_notices(p_account uuid)
      returns table (id uuid, establishment_id uuid, establishment_name text, patient_id uuid, lang text, created_at timestamptz)
      language sql stable security definer set search_path = pg_catalog, public as $$
        select n.id, n.establishment_id, est.name, n.patient_id, n.lang, n.created_at
        from public.patient_notices n
        join public.patients p on p.id = n.patient_id and p.establishment_id = n.establishment_id
        join public.establishments est on est.id = n.establishment_id
        where p.account_user_id = p_account
        order by n.created_at desc, n.id desc
        limit 200
      $$`.execute(db);
    // One letter's place (establishment and file), only when it is about the account's own file.
    await sql`
      create function hygie_patient_notice_owner(p_account uuid, p_notice uuid)
      returns table (establishment_id uuid, patient_id uuid)
      language sql stable security definer set search_path = pg_catalog, public as $$
        select n.establishment_id, n.patient_id
        from public.patient_notices n
        join public.patients p on p.id = n.patient_id and p.establishment_id = n.establishment_id
        where n.id = p_notice and p.account_user_id = p_account
      $$`.execute(db);
    for (const fn of [sql`hygie_patient_notices(uuid)`, sql`hygie_patient_notice_owner(uuid, uuid)`]) {
      await sql`revoke all on function ${fn} from public`.execute(db);
      await sql`grant execute on function ${fn} to ${role}`.execute(db);
    }
  };
}

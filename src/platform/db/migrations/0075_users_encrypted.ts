// Accounts' personal data encrypted (issue 6): `users` loses its clear e-mail, names, birth date
// and phone for vault ciphertexts under each account's platform data key, and a blind index of the
// normalised e-mail (keyed HMAC, unique) to find accounts by. Existing rows are converted in the
// migration's own transaction by the sealer the caller passes (the vault opened with the
// configured key provider: see server.ts openMigratedDatabase); a database with accounts and no
// sealer refuses to migrate rather than lose them. The patient access log's function stops
// joining the clear names: it returns the actor's account id, and the audit module asks the
// identity module for the (decrypted) name.
import { sql, type Kysely } from 'kysely';
import type { AccountPlaintext, MigrationContext } from './index.js';

const BATCH = 500;

export function up(ctx: MigrationContext) {
  return async (db: Kysely<unknown>): Promise<void> => {
    const role = sql.id(ctx.appRole);
    await sql`
      alter table users
        add column email_enc text, add column email_bidx text, add column first_name_enc text,
        add column last_name_enc text, add column birth_date_enc text, add column phone_enc text`.execute(db);

    const { rows: counted } = await sql<{ n: string }>`select count(*) as n from users`.execute(db);
    if (Number(counted[0]?.n ?? 0) > 0) {
      if (!ctx.accountSealer) {
        throw new Error('users holds accounts in clear (migration 0075_users_encrypted): migrate through `hygie migrate` or `hygie start`, which open the vault to encrypt them');
      }
      const sealer = await ctx.accountSealer();
      let after = '00000000-0000-0000-0000-000000000000';
      for (;;) {
        const { rows } = await sql<AccountPlaintext>`
          select id, email, first_name, last_name, to_char(birth_date, 'YYYY-MM-DD') as birth_date, phone
          from users where id > ${after}::uuid order by id limit ${BATCH}`.execute(db);
        if (rows.length === 0) break;
        const sealed = await sealer(db, rows);
        for (const [i, r] of rows.entries()) {
          const s = sealed[i]!;
          await sql`
            update users set email_enc = ${s.email_enc}, email_bidx = ${s.email_bidx}, first_name_enc = ${s.first_name_enc},
              last_name_enc = ${s.last_name_enc}, birth_date_enc = ${s.birth_date_enc}, phone_enc = ${s.phone_enc}
            where id = ${r.id}::uuid`.execute(db);
        }
        after = rows.at(-1)!.id;
      }
    }

    // The access log named actors from the clear columns: it now hands their account ids to the server.
    await sql`drop function hygie_patient_access_log(uuid, integer, timestamptz, uuid)`.execute(db);
    await sql`alter table users drop column email, drop column first_name, drop column last_name, drop column birth_date, drop column phone`.execute(db);
    await sql`
      alter table users
        alter column email_enc set not null, alter column email_bidx set not null,
        alter column first_name_enc set not null, alter column last_name_enc set not null`.execute(db);
    for (const column of ['email_enc', 'first_name_enc', 'last_name_enc', 'birth_date_enc', 'phone_enc']) {
      const c = sql.id(column);
      await sql`alter table users add constraint ${sql.id(`users_${column}_is_ciphertext`)} check (${c} is null or ${c} like 'hv1:%')`.execute(db);
    }
    await sql`alter table users add constraint users_email_bidx_key unique (email_bidx)`.execute(db);

    // As in 0007, except for the actor: their account id (never sent to the patient) instead of
    // their names, which only the server can decrypt.
    await sql`
      create function hygie_patient_access_log(p_account uuid, p_limit integer, p_before_at timestamptz, p_before_id uuid)
      returns table (
        event_id uuid, at timestamptz, at_text text, actor_kind text, actor_user_id uuid,
        actor_role text, establishment_name text, action text, categories text[], purpose text, reason text
      )
      language sql stable security definer set search_path = pg_catalog, public as $$
        select e.id, e.at, to_char(e.at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US'), e.actor_kind,
               u.id, e.actor_role, est.name, e.action, e.categories, e.purpose, e.reason
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

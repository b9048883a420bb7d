// Invitations and queued messages encrypted (issue 6). `invitations` loses the invitee's clear
// e-mail and names for vault ciphertexts under a platform data key of the invitee's own (identity
// invitation-data.ts); pending mail and breach-letter jobs have their message sealed under the
// platform queue key, bound to the job's row; the development outboxes (`mail_outbox`,
// `sms_outbox`, written only without SMTP_URL / an SMS provider) keep a template name, a keyed
// index of the recipient and the sealed message. Rows in clear are converted in the migration's
// own transaction by the sealer the caller passes (the vault opened with the configured key
// provider: server.ts migrationContext); a database holding invitations or queued messages in
// clear refuses to migrate without it rather than lose them. The development outboxes are
// emptied instead: they hold copies of messages already sent, kept for a developer to click.
import { sql, type Kysely } from 'kysely';
import type { MigrationContext } from './index.js';

const BATCH = 500;

export function up(ctx: MigrationContext) {
  return async (db: Kysely<unknown>): Promise<void> => {
    await sql`alter table invitations add column email_enc text, add column first_name_enc text, add column last_name_enc text`.execute(db);

    const { rows: counted } = await sql<{ invitations: string; jobs: string }>`
      select (select count(*) from invitations) as invitations,
             (select count(*) from jobs where (kind = 'mail.send' and payload ? 'to') or (kind = 'incident.letter' and payload ? 'markdown')) as jobs`.execute(db);
    const clear = Number(counted[0]?.invitations ?? 0) + Number(counted[0]?.jobs ?? 0);
    if (clear > 0) {
      if (!ctx.clearDataSealer) {
        throw new Error('invitations or queued messages are stored in clear (migration 0087_queues_sealed): migrate through `hygie migrate` or `hygie start`, which open the vault to encrypt them');
      }
      const sealer = await ctx.clearDataSealer();
      let after = '00000000-0000-0000-0000-000000000000';
      for (;;) {
        const { rows } = await sql<{ id: string; email: string; first_name: string; last_name: string }>`
          select id, email, first_name, last_name from invitations where id > ${after}::uuid order by id limit ${BATCH}`.execute(db);
        if (rows.length === 0) break;
        const sealed = await sealer.invitations(db, rows);
        for (const [i, r] of rows.entries()) {
          const s = sealed[i]!;
          await sql`update invitations set email_enc = ${s.email_enc}, first_name_enc = ${s.first_name_enc}, last_name_enc = ${s.last_name_enc} where id = ${r.id}::uuid`.execute(db);
        }
        after = rows.at(-1)!.id;
      }
      // Queued messages: few at any time (the worker drains them within seconds), so one pass.
      const { rows: jobs } = await sql<{ id: string; kind: string; payload: Record<string, unknown> }>`
        select id, kind, payload from jobs where (kind = 'mail.send' and payload ? 'to') or (kind = 'incident.letter' and payload ? 'markdown')`.execute(db);
      for (const job of jobs) {
        const where = { table: 'jobs', column: 'payload', rowId: job.id };
        const p = job.payload;
        const payload =
          job.kind === 'mail.send'
            ? {
                template: p.template,
                message: await sealer.queued(db, where, JSON.stringify({ to: p.to, subject: p.subject, text: p.text, ...(p.attachments ? { attachments: p.attachments } : {}) })),
              }
            : { establishmentId: p.establishmentId, incidentId: p.incidentId, patientId: p.patientId, lang: p.lang, letter: await sealer.queued(db, where, String(p.markdown)) };
        await sql`update jobs set payload = ${JSON.stringify(payload)}::jsonb where id = ${job.id}::uuid`.execute(db);
      }
    }
    await sql`alter table invitations drop column email, drop column first_name, drop column last_name`.execute(db);
    await sql`alter table invitations alter column email_enc set not null, alter column first_name_enc set not null, alter column last_name_enc set not null`.execute(db);
    for (const column of ['email_enc', 'first_name_enc', 'last_name_enc']) {
      const c = sql.id(column);
      await sql`alter table invitations add constraint ${sql.id(`invitations_${column}_is_ciphertext`)} check (${c} like 'hv1:%')`.execute(db);
    }

    for (const [table, dropped] of [
      ['mail_outbox', ['to_address', 'subject', 'text']],
      ['sms_outbox', ['to_number', 'text']],
    ] as const) {
      const t = sql.id(table);
      await sql`delete from ${t}`.execute(db);
      await sql`alter table ${t} ${sql.join(dropped.map((c) => sql`drop column ${sql.id(c)}`))}`.execute(db);
      await sql`alter table ${t} add column template text not null, add column to_bidx text not null, add column message_enc text not null check (message_enc like 'hv1:%')`.execute(db);
      await sql`create index ${sql.id(`${table}_to_idx`)} on ${t} (to_bidx, created_at)`.execute(db);
    }
  };
}

// Appointment notices through the job outbox. A job may name what it is about (its subject: for
// scheduling, an appointment id), so that the transaction which cancels or moves an appointment
// deletes the reminders still queued for it. SMS without a provider are kept in sms_outbox, as
// mail without SMTP is kept in mail_outbox. Admins set when reminders go out (establishments'
// reminder_offsets_hours, from 0009), so the application may now update that column too.
import { sql, type Kysely } from 'kysely';
import type { MigrationContext } from './index.js';
import { grantApp } from './rls.js';

export function up(ctx: MigrationContext) {
  return async (db: Kysely<unknown>): Promise<void> => {
    await sql`alter table jobs add column subject text`.execute(db);
    await sql`create index jobs_subject_idx on jobs (subject, kind) where subject is not null`.execute(db);

    await sql`
      create table sms_outbox (
        id uuid primary key,
        to_number text not null,
        text text not null,
        created_at timestamptz not null default now()
      )`.execute(db);
    await grantApp(db, ctx, 'sms_outbox', ['select', 'insert']);
    await sql`grant update (reminder_offsets_hours) on establishments to ${sql.id(ctx.appRole)}`.execute(db);
  };
}

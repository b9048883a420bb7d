// Breach letters in the patient portal (GDPR art. 34, issue 7). `notify` stores one letter per
// affected patient whose file is linked to an account, in the transaction that queues the e-mails.
// The patient lists their letters across establishments (account-scoped SQL functions, migration
// 0080) and reads each through the access gate in its establishment: the gate allows only the
// patient's own file, meters it (explained: own file) and audits the read, which the officers see.
// The account is always the session's; no request parameter can name another.
import { sql } from 'kysely';
import { v7 as uuidv7 } from 'uuid';
import type { Database, Tx } from '../../platform/db/database.js';
import type { Actor } from '../../platform/http/context.js';
import { DomainError } from '../../platform/http/errors.js';
import type { AccessGate } from '../access/index.js';
import type { Lang } from './drafts.js';
import { markdownToPdf } from './pdf.js';

export interface NoticeSummary {
  id: string;
  establishment: string;
  lang: Lang;
  title: string;
  createdAt: string;
}

export interface Notice extends NoticeSummary {
  markdown: string;
}

/** The letter's first heading ("# …"), its title in the list. */
export function noticeTitle(markdown: string): string {
  const first = markdown.split('\n').find((l) => l.startsWith('# '));
  return first ? first.slice(2).trim() : '';
}

/** Stores the letter for the patient's portal when the file is linked to an account (same transaction as notify). */
export async function storePatientNotice(tx: Tx, n: { establishmentId: string; incidentId: string; patientId: string; lang: Lang; markdown: string }): Promise<boolean> {
  const { rows } = await sql<{ id: string }>`
    insert into patient_notices (id, establishment_id, incident_id, patient_id, lang, markdown)
    select ${uuidv7()}::uuid, ${n.establishmentId}::uuid, ${n.incidentId}::uuid, p.id, ${n.lang}, ${n.markdown}
    from patients p where p.id = ${n.patientId}::uuid and p.account_user_id is not null
    on conflict (incident_id, patient_id) do nothing
    returning id`.execute(tx);
  return rows.length > 0;
}

function accountOf(actor: Actor): string {
  // Sessions only: an integration key has no portal.
  if (actor.kind !== 'user') throw new DomainError('forbidden');
  return actor.userId;
}

export function createNoticeService(deps: { db: Database; gate: AccessGate }) {
  const { db, gate } = deps;

  async function read(actor: Actor, id: string, ip: string | null, auditAction: string): Promise<Notice> {
    const account = accountOf(actor);
    const owner = await db.withPlatform(async (tx) => (await sql<{ establishment_id: string; patient_id: string }>`select establishment_id, patient_id from hygie_patient_notice_owner(${account}::uuid, ${id}::uuid)`.execute(tx)).rows[0]);
    // Another patient's letter answers exactly as a letter that does not exist.
    if (!owner) throw new DomainError('not_found', 'No such notice');
    const r = await gate.access(
      { actor, establishmentId: owner.establishment_id, action: 'read', resourceKind: 'patient_notice', resourceIds: [id], categories: ['administrative'], patientIds: [owner.patient_id], purpose: 'breach_notification', auditAction, ip },
      async (tx) =>
        (
          await sql<{ id: string; lang: Lang; markdown: string; created_at: Date; name: string }>`
            select n.id, n.lang, n.markdown, n.created_at, e.name from patient_notices n join establishments e on e.id = n.establishment_id
            where n.id = ${id}::uuid and n.patient_id = ${owner.patient_id}::uuid`.execute(tx)
        ).rows[0],
    );
    const row = r.value;
    if (!row) throw new DomainError('not_found', 'No such notice');
    return { id: row.id, establishment: row.name, lang: row.lang, title: noticeTitle(row.markdown), createdAt: new Date(row.created_at).toISOString(), markdown: row.markdown };
  }

  return {
    /** GET /me/notices: the session's letters across establishments, newest first (no text). */
    async list(actor: Actor): Promise<{ items: NoticeSummary[] }> {
      const account = accountOf(actor);
      const rows = await db.withPlatform(
        async (tx) =>
          (await sql<{ id: string; establishment_id: string; establishment_name: string; lang: Lang; created_at: Date }>`select id, establishment_id, establishment_name, lang, created_at from hygie_patient_notices(${account}::uuid)`.execute(tx)).rows,
      );
      // Titles come from each letter's text, which is read through the gate only: the list names them by language.
      return {
        items: rows.map((r) => ({ id: r.id, establishment: r.establishment_name, lang: r.lang, title: r.lang === 'en' ? 'Information about a breach of your personal data' : 'Information sur une violation de vos données personnelles', createdAt: new Date(r.created_at).toISOString() })),
      };
    },
    /** GET /me/notices/:id: one letter, through the gate (own file only, audited). */
    get: (actor: Actor, id: string, ip: string | null) => read(actor, id, ip, 'patient.notice.read'),
    /** GET /me/notices/:id/pdf: the same letter as a PDF (audited as a download). */
    async pdf(actor: Actor, id: string, ip: string | null): Promise<Uint8Array> {
      const n = await read(actor, id, ip, 'patient.notice.download');
      return markdownToPdf(n.markdown, { title: n.title, lang: n.lang, createdAt: new Date(n.createdAt) });
    },
  };
}
export type NoticeService = ReturnType<typeof createNoticeService>;

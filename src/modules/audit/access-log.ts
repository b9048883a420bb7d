// Patients read who accessed their data (principle 6): newest first, across every establishment
// holding a file linked to their account, never another account's, never their own actions.
import type { Database } from '../../platform/db/database.js';
import { DomainError } from '../../platform/http/errors.js';
import type { AccessLogItemDto, AccessLogResponseDto } from './schemas.js';
import type { AccessLogRow, AuditStore } from './store.js';

export interface AccessLogPage {
  limit?: number | undefined;
  cursor?: string | undefined;
}

const MAX_LIMIT = 50;
const CURSOR_RE = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6})\|([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;

export function encodeCursor(row: { at_text: string; event_id: string }): string {
  return Buffer.from(`${row.at_text}|${row.event_id}`, 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string): { at: string; id: string } {
  const m = CURSOR_RE.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!m) throw new DomainError('invalid_request', 'cursor: invalid value', { errors: [{ field: 'querystring.cursor', message: 'invalid cursor' }] });
  return { at: m[1]!, id: m[2]! };
}

function actorOfRow(r: AccessLogRow): AccessLogItemDto['actor'] {
  switch (r.actor_kind) {
    case 'user': {
      const name = [r.actor_first_name, r.actor_last_name].filter((s) => s).join(' ');
      return { name: name || 'Utilisateur supprimé', role: r.actor_role ?? 'staff' };
    }
    case 'api_key':
      return { name: 'Logiciel connecté (clé d’API)', role: 'api_key' };
    case 'system':
      return { name: 'Hygie (traitement automatique)', role: 'system' };
    default:
      return { name: 'Requête non authentifiée', role: 'anonymous' };
  }
}

export function createAccessLogService(deps: { db: Database; store: AuditStore }) {
  return {
    /** The access log of the patient account userId (who must be the authenticated patient). */
    async listAccessLogForPatientAccount(userId: string, page: AccessLogPage = {}): Promise<AccessLogResponseDto> {
      const limit = Math.min(Math.max(page.limit ?? 20, 1), MAX_LIMIT);
      const before = page.cursor === undefined ? undefined : decodeCursor(page.cursor);
      const rows = await deps.db.withPlatform((tx) => deps.store.patientAccessLog(tx, userId, limit + 1, before));
      const shown = rows.slice(0, limit);
      const items = shown.map(
        (r): AccessLogItemDto => ({
          at: new Date(r.at).toISOString(),
          actor: actorOfRow(r),
          establishment: r.establishment_name,
          action: r.action,
          categories: r.categories,
          ...(r.reason ? { reason: r.reason } : {}),
        }),
      );
      const last = shown.at(-1);
      return { items, nextCursor: rows.length > limit && last ? encodeCursor(last) : null };
    },
  };
}
export type AccessLogService = ReturnType<typeof createAccessLogService>;

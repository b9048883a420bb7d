// Patients read who accessed their data (principle 6): newest first, across every establishment
// holding a file linked to their account, never another account's, never their own actions.
import type { Database, Tx } from '../../platform/db/database.js';
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

/**
 * The names of staff accounts, decrypted by the identity module (injected: identity writes audit
 * events, so audit does not import it).
 */
export type ActorNames = (tx: Tx, userIds: string[]) => Promise<Map<string, { firstName: string; lastName: string }>>;

function actorOfRow(r: AccessLogRow, names: Map<string, { firstName: string; lastName: string }>): AccessLogItemDto['actor'] {
  switch (r.actor_kind) {
    case 'user': {
      const n = r.actor_user_id ? names.get(r.actor_user_id) : undefined;
      const name = [n?.firstName, n?.lastName].filter((s) => s).join(' ');
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

export function createAccessLogService(deps: { db: Database; store: AuditStore; actorNames: ActorNames }) {
  return {
    /** The access log of the patient account userId (who must be the authenticated patient). */
    async listAccessLogForPatientAccount(userId: string, page: AccessLogPage = {}): Promise<AccessLogResponseDto> {
      const limit = Math.min(Math.max(page.limit ?? 20, 1), MAX_LIMIT);
      const before = page.cursor === undefined ? undefined : decodeCursor(page.cursor);
      const { rows, names } = await deps.db.withPlatform(async (tx) => {
        const rows = await deps.store.patientAccessLog(tx, userId, limit + 1, before);
        const actors = rows.slice(0, limit).flatMap((r) => (r.actor_user_id ? [r.actor_user_id] : []));
        return { rows, names: await deps.actorNames(tx, actors) };
      });
      const shown = rows.slice(0, limit);
      const items = shown.map(
        (r): AccessLogItemDto => ({
          at: new Date(r.at).toISOString(),
          actor: actorOfRow(r, names),
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

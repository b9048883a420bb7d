// The security officer's audit search: an establishment's events by actor or by patient file,
// newest first, each with its integrity status. A security officer reads audit metadata only
// (docs/security.md, policy table): who, role, action, resource kind, categories, purpose,
// break-the-glass reason, outcome, time, patient-file ids — never clinical content, and never a
// patient's name (the search takes a patient id; searching patients by name would be a
// patient_search through the gate, which the policy refuses to security officers). The search is
// itself audited, in the same transaction, and the patient it names sees it in their access log.
import type { Database, Tx } from '../../platform/db/database.js';
import type { Actor } from '../../platform/http/context.js';
import { DomainError } from '../../platform/http/errors.js';
import { appendAuditEvent } from './index.js';
import { decodeCursor, encodeCursor, type ActorNames } from './access-log.js';
import { chainHash, checkpointMessage, GENESIS_HASH } from './canonical.js';
import { keyIdOf, verifySignature, type AuditKeyring } from './keys.js';
import type { AuditSearchItemDto, AuditSearchQueryDto, AuditSearchResponseDto, IntegrityStatus } from './schemas.js';
import { eventFromJson, type AuditStore, type EventLinkRow, type LatestCheckpointRow } from './store.js';

const MAX_LIMIT = 50;
export const AUDIT_SEARCH_ACTION = 'security.audit.search';

/** Whether the actor is a security officer of the transaction's establishment (injected: guard's rule). */
export type OfficerCheck = (tx: Tx, actor: Actor) => Promise<boolean>;

interface TrustedCheckpoint {
  seq: bigint;
  signedAt: string;
  valid: boolean;
}

/**
 * Checks the newest checkpoint once per page: its signature, under the key this server's keyring
 * holds for the stream (the database's copy of the public key is trusted only when the server has
 * none, as `hygie audit verify` does), and that the chain link at its sequence number still has
 * the hash it signed (a chain rewritten consistently below it would not).
 */
export function checkCheckpoint(row: LatestCheckpointRow | undefined, stream: string, keyring: AuditKeyring | undefined): TrustedCheckpoint | null {
  if (!row) return null;
  const local = keyring?.existingKey(stream);
  const key = local ? (local.keyId === row.key_id ? local.publicKey : undefined) : (row.public_key ?? undefined);
  const body = { stream, seq: BigInt(row.seq), hash: row.hash, signedAt: new Date(row.signed_at), keyId: row.key_id };
  const valid =
    key !== undefined &&
    keyIdOf(key) === row.key_id &&
    verifySignature(key, checkpointMessage(body), row.signature) &&
    row.chain_hash !== null &&
    row.chain_hash.equals(row.hash);
  return { seq: body.seq, signedAt: body.signedAt.toISOString(), valid };
}

/** The integrity status of one event from its link (pure; unit-tested through the route). */
export function integrityOf(eventJson: string, link: EventLinkRow | undefined, checkpoint: TrustedCheckpoint | null): AuditSearchItemDto['integrity'] {
  if (!link || link.seq === null || link.hash === null) {
    return { status: link?.pending ? 'pending' : 'orphan', seq: null, sealedAt: null };
  }
  let matches = false;
  try {
    const previous = link.seq === '1' ? GENESIS_HASH : link.prev_hash;
    matches = previous !== null && chainHash(previous, link.seq, eventFromJson(eventJson)).equals(link.hash);
  } catch {
    matches = false; // a row of a shape the canonical form does not know
  }
  let status: IntegrityStatus;
  const covered = checkpoint !== null && BigInt(link.seq) <= checkpoint.seq;
  if (!matches) status = 'altered';
  else if (!covered) status = 'chained';
  else status = checkpoint.valid ? 'sealed' : 'checkpoint_invalid';
  return { status, seq: link.seq, sealedAt: covered && checkpoint.valid ? checkpoint.signedAt : null };
}

function actorOfEvent(e: ReturnType<typeof eventFromJson>, n: { firstName: string; lastName: string } | undefined): AuditSearchItemDto['actor'] {
  const name = [n?.firstName, n?.lastName].filter((s) => s).join(' ');
  return { kind: e.actorKind, userId: e.actorUserId, name: name || null, role: e.actorRole };
}

export function createAuditSearchService(deps: { db: Database; store: AuditStore; actorNames: ActorNames; isSecurityOfficer: OfficerCheck; keyring?: AuditKeyring | undefined }) {
  const { db, store } = deps;
  return {
    async search(actor: Actor, establishmentId: string, q: AuditSearchQueryDto): Promise<AuditSearchResponseDto> {
      if (!q.actorUserId && !q.patientId) {
        throw new DomainError('invalid_request', 'Give actorUserId or patientId', { errors: [{ field: 'querystring', message: 'actorUserId or patientId is required' }] });
      }
      const from = q.from === undefined ? undefined : new Date(q.from);
      const to = q.to === undefined ? undefined : new Date(q.to);
      if (from && to && from > to) {
        throw new DomainError('invalid_request', 'from must not be after to', { errors: [{ field: 'querystring.from', message: 'after to' }] });
      }
      const limit = Math.min(Math.max(q.limit ?? 20, 1), MAX_LIMIT);
      const before = q.cursor === undefined ? undefined : decodeCursor(q.cursor);
      const searched = {
        resourceKind: q.actorUserId ? 'user' : 'patient',
        resourceIds: q.actorUserId ? [q.actorUserId] : [],
        patientIds: q.patientId ? [q.patientId] : [],
      };

      const r = await db.withTenant(establishmentId, async (tx) => {
        if (!(await deps.isSecurityOfficer(tx, actor))) {
          await appendAuditEvent(tx, { establishmentId, actor, action: AUDIT_SEARCH_ACTION, ...searched, purpose: 'security_review', outcome: 'denied' });
          return null;
        }
        const rows = await store.searchEvents(tx, establishmentId, { actorUserId: q.actorUserId, patientId: q.patientId, from, to, before }, limit + 1);
        const shown = rows.slice(0, limit);
        const names = await deps.actorNames(tx, [...new Set(shown.flatMap((x) => (x.actor_member_id ? [x.actor_member_id] : [])))]);
        const links = new Map((await store.eventLinks(tx, shown.map((x) => x.event_id))).map((l) => [l.event_id, l]));
        const checkpoint = checkCheckpoint(await store.latestCheckpoint(tx), establishmentId, deps.keyring);
        await appendAuditEvent(tx, { establishmentId, actor, actorRole: 'security_officer', action: AUDIT_SEARCH_ACTION, ...searched, purpose: 'security_review', outcome: 'allowed' });
        const items = shown.map((row): AuditSearchItemDto => {
          const e = eventFromJson(row.ev);
          return {
            id: e.id,
            at: new Date(row.at).toISOString(),
            actor: actorOfEvent(e, row.actor_member_id ? names.get(row.actor_member_id) : undefined),
            action: e.action,
            resourceKind: e.resourceKind,
            resourceCount: e.resourceIds.length,
            patientIds: e.patientIds,
            categories: e.categories,
            purpose: e.purpose,
            reason: e.reason,
            outcome: e.outcome,
            integrity: integrityOf(row.ev, links.get(row.event_id), checkpoint),
          };
        });
        const last = shown.at(-1);
        return { items, nextCursor: rows.length > limit && last ? encodeCursor(last) : null };
      });
      if (r === null) throw new DomainError('forbidden', 'Security officers only');
      return r;
    },
  };
}
export type AuditSearchService = ReturnType<typeof createAuditSearchService>;

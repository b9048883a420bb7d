// Clinical entries: append-only versions (a correction is a new version that keeps the old one,
// with its author and time), content sealed by the vault, every read and write through the gate
// with the categories of the entry's kind. Genetic results are read only by the practitioners
// named on them; the cause section of a death certificate is sealed apart and never released.
import { v7 as uuidv7 } from 'uuid';
import type { Database, Tx } from '../../platform/db/database.js';
import type { Actor } from '../../platform/http/context.js';
import { DomainError } from '../../platform/http/errors.js';
import type { AccessGate } from '../access/index.js';
import type { DataCategory } from '../audit/index.js';
import type { Vault } from '../vault/index.js';
import type { CreateEntryBody, EntryKind, EntryView } from './entry-schemas.js';
import type { RecordsStore } from './store.js';

/** What the gate is asked for, per kind, to read an entry. */
export const READ_CATEGORIES: Record<EntryKind, DataCategory[]> = {
  note: ['clinical'],
  prescription: ['clinical'],
  certificate: ['certificate'],
  death_certificate: ['certificate'],
  genetic_result: ['genetic'],
};

/** To write one: a death certificate's causes are clinical; a genetic result needs care and a name on it. */
export const WRITE_CATEGORIES: Record<EntryKind, DataCategory[]> = {
  note: ['clinical'],
  prescription: ['clinical'],
  certificate: ['certificate'],
  death_certificate: ['certificate', 'clinical'],
  genetic_result: ['genetic', 'clinical'],
};

const MEDICAL_KINDS: EntryKind[] = ['note', 'prescription', 'certificate', 'death_certificate'];

type EntryRow = Awaited<ReturnType<RecordsStore['listEntries']>>[number];

const ctx = (establishmentId: string, patientId: string, column: string, rowId: string) => ({ establishmentId, patientId, table: 'clinical_entries', column, rowId });

export interface NewEntry {
  establishmentId: string;
  patientId: string;
  authorUserId: string;
  body: CreateEntryBody;
}

/** Seals and appends one version, in the caller's (authorized) tenant transaction. */
export async function appendEntryVersion(tx: Tx, deps: { vault: Vault; store: RecordsStore }, e: NewEntry): Promise<{ id: string; versionId: string; version: number }> {
  const versionId = uuidv7();
  let entryId = versionId;
  let version = 1;
  if (e.body.correctionOf !== undefined) {
    const head = await deps.store.entryHead(tx, e.patientId, e.body.correctionOf);
    if (!head || head.kind !== e.body.kind) throw new DomainError('not_found', 'No such entry of this kind for this patient');
    entryId = head.entry_id;
    version = head.version + 1;
  }
  const causes = e.body.kind === 'death_certificate' ? JSON.stringify(e.body.causes) : null;
  const [content, confidential] = await deps.vault.encryptFields(tx, [
    { ctx: ctx(e.establishmentId, e.patientId, 'content_enc', versionId), value: JSON.stringify(e.body.content) },
    { ctx: ctx(e.establishmentId, e.patientId, 'confidential_enc', versionId), value: causes },
  ]);
  try {
    await deps.store.insertEntryVersion(tx, {
      id: versionId,
      establishment_id: e.establishmentId,
      patient_id: e.patientId,
      entry_id: entryId,
      version,
      kind: e.body.kind,
      author_user_id: e.authorUserId,
      released_to_patient: e.body.releasedToPatient ?? false,
      named_user_ids: e.body.kind === 'genetic_result' ? e.body.namedPractitionerUserIds : [],
      content_enc: content!,
      confidential_enc: confidential ?? null,
    });
  } catch (error) {
    if ((error as { code?: string }).code === '23505') throw new DomainError('conflict', 'This entry was corrected meanwhile; reload it');
    throw error;
  }
  return { id: entryId, versionId, version };
}

/** Opens versions for presentation; causes only when asked (practitioners reading clinically). */
export async function openEntries(tx: Tx, vault: Vault, rows: EntryRow[], withCauses: boolean): Promise<EntryView[]> {
  const opened = await vault.decryptFields(
    tx,
    rows.flatMap((r) => [
      { ctx: ctx(r.establishment_id, r.patient_id, 'content_enc', r.id), value: r.content_enc },
      { ctx: ctx(r.establishment_id, r.patient_id, 'confidential_enc', r.id), value: withCauses ? r.confidential_enc : null },
    ]),
  );
  return rows.map((r, i) => {
    const view: EntryView = {
      id: r.entry_id,
      versionId: r.id,
      version: r.version,
      kind: r.kind,
      authorUserId: r.author_user_id,
      createdAt: new Date(r.created_at as unknown as Date).toISOString(),
      releasedToPatient: r.released_to_patient,
      content: JSON.parse(opened[2 * i]!) as Record<string, unknown>,
    };
    const causes = opened[2 * i + 1];
    if (causes) view.causes = JSON.parse(causes) as Record<string, unknown>;
    if (r.kind === 'genetic_result') view.namedPractitionerUserIds = r.named_user_ids;
    return view;
  });
}

function isNotFound(error: unknown): boolean {
  return error instanceof DomainError && error.code === 'not_found';
}

export function createEntryService(deps: { db: Database; gate: AccessGate; vault: Vault; store: RecordsStore }) {
  const { db, gate, vault, store } = deps;

  const isStaff = (actor: Actor, establishmentId: string) =>
    actor.kind === 'user' && actor.memberships.some((m) => m.establishmentId === establishmentId);

  /** Whether the acting user is named on a genetic result of the patient (ids only, nothing decrypted). */
  async function namedOn(actor: Actor, establishmentId: string, patientId: string): Promise<boolean> {
    if (actor.kind !== 'user') return false;
    return db.withTenant(establishmentId, (tx) => store.namedOnGenetic(tx, patientId, actor.userId));
  }

  async function head(establishmentId: string, patientId: string, entryId: string) {
    const found = await db.withTenant(establishmentId, (tx) => store.entryHead(tx, patientId, entryId));
    if (!found) throw new DomainError('not_found', 'No such entry');
    return found;
  }

  return {
    async create(actor: Actor, establishmentId: string, patientId: string, body: CreateEntryBody, ip: string | null) {
      // An entry has a person as its author: integrations do not write medical content.
      if (actor.kind !== 'user') throw new DomainError('forbidden', 'Only a practitioner writes clinical entries');
      const named = body.kind === 'genetic_result' && body.namedPractitionerUserIds.includes(actor.userId);
      if (body.kind === 'genetic_result' && !named) {
        throw new DomainError('invalid_request', 'The author of a genetic result must be among the practitioners named on it', {
          errors: [{ field: 'body.namedPractitionerUserIds', message: 'must include the author' }],
        });
      }
      const { value } = await gate.access(
        {
          actor, establishmentId, action: 'write', resourceKind: 'clinical_entry', categories: WRITE_CATEGORIES[body.kind], patientIds: [patientId], ip,
          ...(named ? { namedOnGenetic: new Set([patientId]) } : {}),
        },
        async (tx) => {
          if (await store.isErased(tx, patientId)) throw new DomainError('not_found', 'No such patient');
          return appendEntryVersion(tx, { vault, store }, { establishmentId, patientId, authorUserId: actor.userId, body });
        },
      );
      return value;
    },

    /**
     * The current version of every entry the actor may read: medical entries (care relationship,
     * break-the-glass, or the patient's own released ones) and the genetic results naming them.
     */
    async list(actor: Actor, establishmentId: string, patientId: string, ip: string | null, options: { entryId?: string; history?: boolean } = {}) {
      const staff = isStaff(actor, establishmentId);
      const items: EntryView[] = [];
      let allowedSomething = false;
      try {
        const { value } = await gate.access(
          { actor, establishmentId, action: 'read', resourceKind: 'clinical_entry', categories: ['clinical', 'certificate'], patientIds: [patientId], ip, ...(options.entryId ? { resourceIds: [options.entryId] } : {}) },
          async (tx) => {
            const rows = await store.listEntries(tx, { patientId, kinds: MEDICAL_KINDS, ...options, releasedOnly: !staff });
            return openEntries(tx, vault, rows, staff);
          },
        );
        items.push(...value);
        allowedSomething = true;
      } catch (error) {
        if (!isNotFound(error)) throw error;
      }
      if (staff && (await namedOn(actor, establishmentId, patientId))) {
        const userId = (actor as { userId: string }).userId;
        const { value } = await gate.access(
          { actor, establishmentId, action: 'read', resourceKind: 'clinical_entry', categories: ['genetic'], patientIds: [patientId], ip, namedOnGenetic: new Set([patientId]) },
          async (tx) => {
            const rows = await store.listEntries(tx, { patientId, kinds: ['genetic_result'], ...options, namedUserId: userId });
            return openEntries(tx, vault, rows, false);
          },
        );
        items.push(...value);
        allowedSomething = true;
      }
      if (!allowedSomething) throw new DomainError('not_found', 'No such patient');
      return items.sort((a, b) => (a.id === b.id ? b.version - a.version : a.id < b.id ? 1 : -1));
    },

    /** One entry with all its versions (newest first). */
    async history(actor: Actor, establishmentId: string, patientId: string, entryId: string, ip: string | null) {
      const h = await head(establishmentId, patientId, entryId);
      const named = h.kind === 'genetic_result' && actor.kind === 'user' && h.named_user_ids.includes(actor.userId);
      if (h.kind === 'genetic_result' && !named) {
        // Recorded as a refusal like any other: the gate decides, and says not_found.
        await gate.access({ actor, establishmentId, action: 'read', resourceKind: 'clinical_entry', categories: ['genetic'], patientIds: [patientId], resourceIds: [entryId], ip }, async () => []);
        throw new DomainError('not_found', 'No such entry');
      }
      const staff = isStaff(actor, establishmentId);
      const { value } = await gate.access(
        {
          actor, establishmentId, action: 'read', resourceKind: 'clinical_entry', categories: READ_CATEGORIES[h.kind], patientIds: [patientId], resourceIds: [entryId], ip,
          ...(named ? { namedOnGenetic: new Set([patientId]) } : {}),
        },
        async (tx) => {
          const rows = await store.listEntries(tx, { patientId, kinds: [h.kind], entryId, history: true, releasedOnly: !staff });
          // Staff who may read a certificate are practitioners in care (or break-the-glass), who
          // may read clinical content too: they see the causes; the patient never does.
          return openEntries(tx, vault, rows, staff);
        },
      );
      if (value.length === 0) throw new DomainError('not_found', 'No such entry');
      return value;
    },

    head,
  };
}

export type EntryService = ReturnType<typeof createEntryService>;

// The administrative file: create, exact search, read (fields per role) and update (allow-listed
// fields), each through the gate, with every personal field sealed by the vault.
import { v7 as uuidv7 } from 'uuid';
import type { Exec, Tx } from '../../platform/db/database.js';
import type { Actor } from '../../platform/http/context.js';
import { DomainError, type FieldProblem } from '../../platform/http/errors.js';
import { SCOPES, type AccessGate } from '../access/index.js';
import type { DataCategory } from '../audit/index.js';
import { normaliseName, type PreparedKey, type Vault } from '../vault/index.js';
import { compactNir, nirProblem } from './ins.js';
import { BLIND, columnsFor, openPatientRows, sealPatientFields, type PatientFile, type Section } from './patient-codec.js';
import type { CreatePatientBody, PatientFileResponse, SearchQuery, UpdatePatientBody } from './schemas.js';
import type { PatientInsert, PatientRow, PatientUpdate, RecordsStore } from './store.js';

export const SEARCH_LIMIT = 20;
const ALL_SECTIONS: readonly Section[] = ['identity', 'contact', 'administrative', 'insurance'];

/**
 * The sections an actor asks for when reading a file (ASVS 8.2.3, fields per role). The session's
 * copy of the role only chooses what to ask; the gate re-reads the membership and decides.
 * Secretaries handle identity, contact, insurance and administration; practitioners get no
 * insurance (billing is not theirs); a patient sees all of their own file.
 */
export function sectionsFor(actor: Actor, establishmentId: string): Section[] {
  switch (actor.kind) {
    case 'system':
      return [...ALL_SECTIONS];
    case 'api_key':
      return ALL_SECTIONS.filter((s) => actor.scopes.some((scope) => SCOPES[scope]?.actions.includes('read') && SCOPES[scope]?.categories.includes(s)));
    case 'user': {
      const role = actor.memberships.find((m) => m.establishmentId === establishmentId)?.role;
      if (role === undefined || role === 'secretary') return [...ALL_SECTIONS];
      if (role === 'practitioner') return ['identity', 'contact', 'administrative'];
      return ['identity'];
    }
  }
}

function invalid(errors: FieldProblem[]): never {
  throw new DomainError('invalid_request', errors.map((e) => `${e.field}: ${e.message}`).join('; '), { errors });
}

function checkDate(field: string, value: string | null | undefined, errors: FieldProblem[], notFuture = false): void {
  if (value === null || value === undefined) return;
  const d = new Date(`${value}T00:00:00Z`);
  if (Number.isNaN(d.getTime()) || d.toISOString().slice(0, 10) !== value) errors.push({ field, message: 'not a calendar date' });
  else if (notFuture && d.getTime() > Date.now()) errors.push({ field, message: 'in the future' });
}

/** Checks what a schema cannot: calendar dates, the INS key, names that fold to nothing, statuses. */
export function validateFile(file: Partial<PatientFile>): void {
  const errors: FieldProblem[] = [];
  checkDate('body.birthDate', file.birthDate, errors, true);
  if (file.ins) {
    const problem = nirProblem(file.ins);
    if (problem) errors.push({ field: 'body.ins', message: problem === 'key' ? 'wrong control key' : `invalid INS (${problem})` });
  }
  for (const f of ['birthName', 'firstNames', 'usedName'] as const) {
    const v = file[f];
    if (typeof v === 'string' && normaliseName(v) === '') errors.push({ field: `body.${f}`, message: 'must contain letters' });
  }
  // Retrieved and qualified identities come from the INS teleservice: no status without an INS.
  if ((file.identityStatus === 'retrieved' || file.identityStatus === 'qualified') && !file.ins) {
    errors.push({ field: 'body.identityStatus', message: `${file.identityStatus} needs an INS` });
  }
  for (const [k, ins] of [['base', file.baseInsurance], ['complementary', file.complementaryInsurance]] as const) {
    checkDate(`body.insurance.${k}.validFrom`, ins?.validFrom, errors);
    checkDate(`body.insurance.${k}.validUntil`, ins?.validUntil, errors);
    if (ins?.validFrom && ins.validUntil && ins.validFrom > ins.validUntil) errors.push({ field: `body.insurance.${k}`, message: 'validUntil before validFrom' });
  }
  if (errors.length > 0) invalid(errors);
}

/** A request body as a (partial) file: nested insurance flattened, INS compacted. */
export function fileFromBody(body: CreatePatientBody | UpdatePatientBody): Partial<PatientFile> {
  const { insurance, ...rest } = body;
  const file: Partial<PatientFile> = { ...rest };
  if (file.ins) file.ins = compactNir(file.ins);
  if (insurance?.base !== undefined) file.baseInsurance = insurance.base;
  if (insurance?.complementary !== undefined) file.complementaryInsurance = insurance.complementary;
  return file;
}

const sectionOfField: Record<keyof PatientFile, Section> = {
  birthName: 'identity', firstNames: 'identity', usedName: 'identity', sex: 'identity', birthDate: 'identity', birthPlaceInsee: 'identity',
  ins: 'identity', identityStatus: 'identity', email: 'contact', phone: 'contact', address: 'contact', generalPractitioner: 'administrative',
  baseInsurance: 'insurance', complementaryInsurance: 'insurance',
};

type NewFileInput = {
  establishmentId: string;
  accountUserId: string | null;
  file: Partial<PatientFile> & Pick<PatientFile, 'birthName' | 'firstNames' | 'sex' | 'birthDate'>;
  id?: string;
  /**
   * A data key the vault prepared for this new file (its owner is `id`), inserted by the caller
   * with the row (Vault.preparedKeyInsert): sealing then needs no round trip.
   */
  key?: PreparedKey;
};

/**
 * The row of a new administrative file, sealed (its data key is created in the caller's tenant
 * transaction), for the caller to insert: scheduling writes it in the same statement as the
 * first booking that needs it.
 */
export async function newPatientFileRow(tx: Exec, deps: { vault: Vault }, input: NewFileInput): Promise<{ id: string; row: PatientInsert }> {
  const id = input.id ?? uuidv7();
  const full: PatientFile = {
    usedName: null, birthPlaceInsee: null, ins: null, identityStatus: 'provisional', email: null, phone: null, address: null,
    generalPractitioner: null, baseInsurance: null, complementaryInsurance: null, ...input.file,
  };
  // An id made here is new: its data key is created without being looked for first.
  if (input.key && (input.key.ownerKind !== 'patient' || input.key.ownerId !== id || input.key.establishmentId !== input.establishmentId)) {
    throw new TypeError('the prepared key belongs to another owner');
  }
  const sealed = await sealPatientFields(tx, deps.vault, { establishmentId: input.establishmentId, patientId: id }, full, { newPatient: input.id === undefined, key: input.key });
  return {
    id,
    row: {
      id,
      establishment_id: input.establishmentId,
      account_user_id: input.accountUserId,
      ...(sealed as Required<typeof sealed> & { birth_name_enc: string; first_names_enc: string; sex_enc: string; birth_date_enc: string; identity_status_enc: string; bi_last_name: string; bi_birth_date: string }),
    },
  };
}

/**
 * Writes a new administrative file in the caller's tenant transaction (the gate's, or the seed's).
 * Other modules (the gate's decoys, the seeds) create files through this.
 */
export async function insertPatientFile(tx: Tx, deps: { vault: Vault; store: RecordsStore }, input: NewFileInput): Promise<string> {
  const { id, row } = await newPatientFileRow(tx, deps, input);
  await deps.store.insertPatient(tx, row);
  return id;
}

/** Display names ("Firstnames USEDNAME") of files, for agendas and lists already authorized by the gate. */
export async function patientDisplayNames(tx: Tx, deps: { vault: Vault; store: RecordsStore }, patientIds: string[]): Promise<Map<string, string>> {
  const rows = await deps.store.findPatients(tx, patientIds, ['birth_name_enc', 'first_names_enc', 'used_name_enc']);
  const opened = await openPatientRows(tx, deps.vault, rows as never, new Set(['identity']));
  return new Map(rows.map((r, i) => [r.id, displayName(opened[i]!)]));
}

function displayName(f: Partial<PatientFile>): string {
  return `${f.firstNames ?? ''} ${f.usedName ?? f.birthName ?? ''}`.trim();
}

function present(row: { id: string; establishment_id: string; account_user_id: string | null; created_at: Date; updated_at: Date }, f: Partial<PatientFile>, sections: ReadonlySet<Section>): PatientFileResponse {
  const out: PatientFileResponse = {
    id: row.id,
    establishmentId: row.establishment_id,
    accountLinked: row.account_user_id !== null,
    createdAt: new Date(row.created_at).toISOString(),
    updatedAt: new Date(row.updated_at).toISOString(),
  };
  if (sections.has('identity')) {
    out.identity = {
      birthName: f.birthName!, firstNames: f.firstNames!, usedName: f.usedName ?? null, sex: f.sex!, birthDate: f.birthDate!,
      birthPlaceInsee: f.birthPlaceInsee ?? null, ins: f.ins ?? null, identityStatus: f.identityStatus!,
    };
  }
  if (sections.has('contact')) out.contact = { email: f.email ?? null, phone: f.phone ?? null, address: f.address ?? null };
  if (sections.has('administrative')) out.administrative = { generalPractitioner: f.generalPractitioner ?? null };
  if (sections.has('insurance')) out.insurance = { base: f.baseInsurance ?? null, complementary: f.complementaryInsurance ?? null };
  return out;
}

export function createPatientService(deps: { gate: AccessGate; vault: Vault; store: RecordsStore }) {
  const { gate, vault, store } = deps;

  /** Opens and presents rows of files the gate has allowed, in its transaction. */
  async function presentRows(tx: Tx, rows: PatientRow[], sections: ReadonlySet<Section>) {
    const files = await openPatientRows(tx, vault, rows as never, sections);
    return rows.map((row, i) => present(row, files[i]!, sections));
  }

  /** Reads files the gate has allowed, in its transaction. */
  async function readAllowed(tx: Tx, ids: string[], sections: ReadonlySet<Section>) {
    return presentRows(tx, await store.findPatients(tx, ids, columnsFor(sections)), sections);
  }

  return {
    async create(actor: Actor, establishmentId: string, body: CreatePatientBody, ip: string | null): Promise<{ id: string }> {
      const file = fileFromBody(body) as PatientFile;
      validateFile(file);
      const categories = ALL_SECTIONS.filter((s) => (Object.keys(file) as Array<keyof PatientFile>).some((f) => sectionOfField[f] === s));
      try {
        const id = await gate.create({ actor, establishmentId, resourceKind: 'patient', categories, ip }, (tx) =>
          insertPatientFile(tx, { vault, store }, { establishmentId, accountUserId: null, file }),
        );
        return { id };
      } catch (error) {
        // The INS blind index is unique per establishment: a second file for one person.
        if ((error as { code?: string }).code === '23505') throw new DomainError('conflict', 'A file with this INS already exists here');
        throw error;
      }
    },

    async search(actor: Actor, establishmentId: string, q: SearchQuery, ip: string | null) {
      const errors: FieldProblem[] = [];
      const wildcard = /[*%?_]/;
      if (q.ins === undefined && q.lastName === undefined) errors.push({ field: 'query.lastName', message: 'lastName (with an optional birthDate and firstName) or ins is required' });
      for (const k of ['lastName', 'firstName'] as const) {
        const v = q[k];
        if (v !== undefined && (wildcard.test(v) || normaliseName(v) === '')) errors.push({ field: `query.${k}`, message: 'an exact name: no wildcard, not empty' });
      }
      if (q.firstName !== undefined && q.lastName === undefined) errors.push({ field: 'query.firstName', message: 'only with lastName' });
      checkDate('query.birthDate', q.birthDate, errors);
      if (q.ins !== undefined && nirProblem(q.ins)) errors.push({ field: 'query.ins', message: 'not a valid INS' });
      if (errors.length > 0) invalid(errors);

      // Candidate ids from the blind indexes only: no personal value is read to find them.
      const candidates = await gate.list(
        { actor, establishmentId, action: 'read', resourceKind: 'patient_search', categories: ['identity', 'contact'], ip },
        async (tx) => {
          const index = await vault.blindIndexer(tx, establishmentId);
          const ids = await store.searchPatients(
            tx,
            {
              ...(q.lastName !== undefined ? { lastName: index(BLIND.lastName, [{ name: q.lastName }]) } : {}),
              ...(q.birthDate !== undefined ? { birthDate: index(BLIND.birthDate, [{ date: q.birthDate }]) } : {}),
              ...(q.ins !== undefined ? { ins: index(BLIND.ins, [{ identifier: compactNir(q.ins) }]) } : {}),
            },
            q.firstName === undefined ? SEARCH_LIMIT : 100,
          );
          if (ids.length === 0) return [];
          const rows = await store.findPatients(tx, ids, ['birth_name_enc', 'first_names_enc', 'used_name_enc', 'birth_date_enc', 'address_enc']);
          // Decrypted inside the gate's transaction; the gate drops the rows this actor may not see
          // (and audits the rest) before anything leaves.
          const files = await openPatientRows(tx, vault, rows as never, new Set(['identity', 'contact']));
          return rows.map((r, i) => ({ id: r.id, file: files[i]! }));
        },
        (r) => r.id,
      );
      const first = q.firstName === undefined ? undefined : normaliseName(q.firstName);
      const items = candidates
        // A first name matches whole words of the first names ("jean noel" in "Jean-Noël Amédée"), never a prefix.
        .filter((c) => first === undefined || ` ${normaliseName(c.file.firstNames ?? '')} `.includes(` ${first} `))
        .slice(0, SEARCH_LIMIT)
        .map((c) => ({ id: c.id, name: displayName(c.file), birthYear: Number(c.file.birthDate!.slice(0, 4)), city: c.file.address?.city ?? null }));
      return { items };
    },

    async read(actor: Actor, establishmentId: string, patientId: string, ip: string | null): Promise<PatientFileResponse> {
      const sections = new Set(sectionsFor(actor, establishmentId));
      // The gate reads the row in the statement that appends the read's audit event.
      const { value } = await gate.read(
        { actor, establishmentId, action: 'read', resourceKind: 'patient', categories: [...sections], patientIds: [patientId], ip },
        (allowed) => store.patientRowsQuery(allowed, columnsFor(sections)),
        (tx, rows) => presentRows(tx, rows, sections),
      );
      if (value.length === 0) throw new DomainError('not_found', 'No such patient');
      return value[0]!;
    },

    /** Reads files for another part of records (export) already inside a gate transaction. */
    readAllowed,

    async update(actor: Actor, establishmentId: string, patientId: string, body: UpdatePatientBody, ip: string | null): Promise<void> {
      const changes = fileFromBody(body);
      const touched = Object.keys(changes) as Array<keyof PatientFile>;
      const traits: Array<keyof PatientFile> = ['birthName', 'firstNames', 'sex', 'birthDate', 'birthPlaceInsee', 'ins'];
      const identityTouched = touched.some((f) => traits.includes(f)) || changes.identityStatus !== undefined;
      const categories: DataCategory[] = ALL_SECTIONS.filter((s) => touched.some((f) => sectionOfField[f] === s));
      const { value: found } = await gate.access(
        { actor, establishmentId, action: 'write', resourceKind: 'patient', categories, patientIds: [patientId], ip },
        async (tx) => {
          if (await store.isErased(tx, patientId)) return false;
          if (identityTouched) {
            const [row] = await store.findPatients(tx, [patientId], columnsFor(new Set(['identity'])));
            const [current] = await openPatientRows(tx, vault, [row as never], new Set(['identity']));
            // A changed identity trait makes the identity provisional again unless a status is given.
            if (changes.identityStatus === undefined && touched.some((f) => traits.includes(f))) changes.identityStatus = 'provisional';
            validateFile({ ...current, ...changes });
          } else {
            validateFile(changes);
          }
          const sealed = await sealPatientFields(tx, vault, { establishmentId, patientId }, changes);
          await store.updatePatient(tx, patientId, sealed as PatientUpdate);
          return true;
        },
      );
      if (!found) throw new DomainError('not_found', 'No such patient');
    },
  };
}

export type PatientService = ReturnType<typeof createPatientService>;

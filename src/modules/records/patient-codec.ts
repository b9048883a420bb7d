// How an administrative file becomes a row and back: each personal field is sealed by the vault
// under the patient's data key, bound to (patients, its column, the patient id); blind indexes of
// the normalised last names, birth date and INS allow exact search without any plaintext column.
import type { Exec, Tx } from '../../platform/db/database.js';
import type { PatientsTable } from '../../platform/db/schema.js';
import type { PreparedKey, Vault } from '../vault/index.js';
import { compactNir } from './ins.js';
import type { IdentityStatus } from './schemas.js';

export interface Address {
  line1: string;
  postalCode: string;
  city: string;
}
export interface GeneralPractitioner {
  name: string;
  rpps?: string | null;
}
export interface BaseInsurance {
  scheme: string;
  fund?: string | null;
  memberNumber: string;
  validFrom?: string | null;
  validUntil?: string | null;
}
export interface ComplementaryInsurance {
  insurer: string;
  memberNumber: string;
  validFrom?: string | null;
  validUntil?: string | null;
}

/** A complete administrative file, in clear, as the service handles it. */
export interface PatientFile {
  birthName: string;
  firstNames: string;
  usedName: string | null;
  sex: 'F' | 'M' | 'X';
  birthDate: string;
  birthPlaceInsee: string | null;
  ins: string | null;
  identityStatus: IdentityStatus;
  email: string | null;
  phone: string | null;
  address: Address | null;
  generalPractitioner: GeneralPractitioner | null;
  baseInsurance: BaseInsurance | null;
  complementaryInsurance: ComplementaryInsurance | null;
}

/** Which section each field belongs to: the data categories the gate authorizes. */
export type Section = 'identity' | 'contact' | 'administrative' | 'insurance';

type EncColumn = Extract<keyof PatientsTable, `${string}_enc`>;

interface FieldSpec {
  column: EncColumn;
  section: Section;
  json: boolean;
}

export const PATIENT_FIELDS: Record<keyof PatientFile, FieldSpec> = {
  birthName: { column: 'birth_name_enc', section: 'identity', json: false },
  firstNames: { column: 'first_names_enc', section: 'identity', json: false },
  usedName: { column: 'used_name_enc', section: 'identity', json: false },
  sex: { column: 'sex_enc', section: 'identity', json: false },
  birthDate: { column: 'birth_date_enc', section: 'identity', json: false },
  birthPlaceInsee: { column: 'birth_place_insee_enc', section: 'identity', json: false },
  ins: { column: 'ins_enc', section: 'identity', json: false },
  identityStatus: { column: 'identity_status_enc', section: 'identity', json: false },
  email: { column: 'email_enc', section: 'contact', json: false },
  phone: { column: 'phone_enc', section: 'contact', json: false },
  address: { column: 'address_enc', section: 'contact', json: true },
  generalPractitioner: { column: 'general_practitioner_enc', section: 'administrative', json: true },
  baseInsurance: { column: 'base_insurance_enc', section: 'insurance', json: true },
  complementaryInsurance: { column: 'complementary_insurance_enc', section: 'insurance', json: true },
};

const FIELD_NAMES = Object.keys(PATIENT_FIELDS) as Array<keyof PatientFile>;

export const BLIND = {
  lastName: 'patient.last_name',
  birthDate: 'patient.birth_date',
  ins: 'patient.ins',
} as const;

const ctxOf = (establishmentId: string, patientId: string, column: string) => ({
  establishmentId,
  patientId,
  table: 'patients',
  column,
  rowId: patientId,
});

/** Sealed columns (and blind indexes) for the given fields of a file. */
export async function sealPatientFields(
  tx: Exec,
  vault: Vault,
  ref: { establishmentId: string; patientId: string },
  fields: Partial<PatientFile>,
  options: { newPatient?: boolean; key?: PreparedKey } = {},
): Promise<Partial<Record<EncColumn | 'bi_last_name' | 'bi_used_name' | 'bi_birth_date' | 'bi_ins', string | null>>> {
  const names = FIELD_NAMES.filter((f) => f in fields && fields[f] !== undefined);
  const sealed = await vault.encryptFields(
    tx,
    names.map((f) => {
      const spec = PATIENT_FIELDS[f];
      const value = fields[f];
      const text = value === null || value === undefined ? null : spec.json ? JSON.stringify(value) : String(value);
      return { ctx: ctxOf(ref.establishmentId, ref.patientId, spec.column), value: text };
    }),
    { newOwners: options.newPatient === true, prepared: options.key ? [options.key] : [] },
  );
  const out: Partial<Record<EncColumn | 'bi_last_name' | 'bi_used_name' | 'bi_birth_date' | 'bi_ins', string | null>> = {};
  names.forEach((f, i) => (out[PATIENT_FIELDS[f].column] = sealed[i]!));
  if (names.some((f) => f === 'birthName' || f === 'usedName' || f === 'birthDate' || f === 'ins')) {
    const index = await vault.blindIndexer(tx, ref.establishmentId);
    if (fields.birthName !== undefined) out.bi_last_name = index(BLIND.lastName, [{ name: fields.birthName }]);
    if (fields.usedName !== undefined) out.bi_used_name = fields.usedName === null ? null : index(BLIND.lastName, [{ name: fields.usedName }]);
    if (fields.birthDate !== undefined) out.bi_birth_date = index(BLIND.birthDate, [{ date: fields.birthDate }]);
    if (fields.ins !== undefined) out.bi_ins = fields.ins === null ? null : index(BLIND.ins, [{ identifier: compactNir(fields.ins) }]);
  }
  return out;
}

type SealedRow = Pick<PatientsTable, 'id' | 'establishment_id' | EncColumn>;

/** Opens the fields of the wanted sections of several rows (one key lookup per patient). */
export async function openPatientRows(tx: Tx, vault: Vault, rows: readonly SealedRow[], sections: ReadonlySet<Section>): Promise<Array<Partial<PatientFile>>> {
  // Fields of the wanted sections whose columns were fetched (a list fetches only what it shows).
  const names = FIELD_NAMES.filter((f) => sections.has(PATIENT_FIELDS[f].section) && rows.every((r) => PATIENT_FIELDS[f].column in r));
  const items = rows.flatMap((row) =>
    names.map((f) => ({ ctx: ctxOf(row.establishment_id, row.id, PATIENT_FIELDS[f].column), value: row[PATIENT_FIELDS[f].column] })),
  );
  const opened = await vault.decryptFields(tx, items);
  return rows.map((_, r) => {
    const file: Partial<PatientFile> = {};
    names.forEach((f, i) => {
      const text = opened[r * names.length + i]!;
      const value = text === null ? null : PATIENT_FIELDS[f].json ? (JSON.parse(text) as unknown) : text;
      (file as Record<string, unknown>)[f] = value;
    });
    return file;
  });
}

/** Only the columns a section needs (no need to fetch what will not be opened). */
export function columnsFor(sections: ReadonlySet<Section>): EncColumn[] {
  return FIELD_NAMES.filter((f) => sections.has(PATIENT_FIELDS[f].section)).map((f) => PATIENT_FIELDS[f].column);
}

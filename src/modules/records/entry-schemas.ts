// Schemas of clinical entries: one object per kind, each closed to unknown fields. The content
// part is what the vault seals; kind, author, version and the names on genetic results stay in
// clear because the gate needs them before anything is decrypted.
import { Type, type Static } from 'typebox';

const Uuid = Type.String({ format: 'uuid' });
const Day = Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$' });
const Text = (maxLength: number) => Type.String({ minLength: 1, maxLength });
const strict = { additionalProperties: false } as const;

export const EntryKind = Type.Union([
  Type.Literal('note'),
  Type.Literal('prescription'),
  Type.Literal('certificate'),
  Type.Literal('death_certificate'),
  Type.Literal('genetic_result'),
]);
export type EntryKind = Static<typeof EntryKind>;

export const Diagnosis = Type.Object({ code: Type.Optional(Type.String({ pattern: '^[A-Z][0-9]{2}(\\.[0-9A-Z]{1,4})?$', description: 'ICD-10' })), label: Text(300) }, strict);
export const NoteContent = Type.Object({ title: Type.Optional(Text(200)), text: Text(20_000), diagnoses: Type.Optional(Type.Array(Diagnosis, { maxItems: 20 })) }, strict);

export const MedicationLine = Type.Object(
  {
    medication: Text(200),
    dose: Text(100),
    frequency: Text(100),
    duration: Text(100),
    quantity: Text(100),
    renewals: Type.Integer({ minimum: 0, maximum: 12 }),
    instructions: Type.Optional(Text(500)),
  },
  strict,
);
export const PrescriptionContent = Type.Object({ lines: Type.Array(MedicationLine, { minItems: 1, maxItems: 30 }), notes: Type.Optional(Text(2000)) }, strict);

export const CertificateContent = Type.Object({ title: Text(200), text: Text(10_000) }, strict);

/** The administrative part of a death certificate (what the town hall receives). */
export const DeathAdministrative = Type.Object(
  {
    deathDate: Day,
    deathTime: Type.String({ pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$' }),
    place: Type.Union([Type.Literal('home'), Type.Literal('health_establishment'), Type.Literal('nursing_home'), Type.Literal('public_place'), Type.Literal('other')]),
    municipality: Text(100),
    forensicObstacle: Type.Boolean(),
  },
  strict,
);
/** The medical section: causes of death, under medical confidentiality (never in the patient export or a PDF). */
export const DeathCauses = Type.Object(
  { immediateCause: Text(500), underlyingCauses: Type.Array(Text(500), { maxItems: 4 }), otherConditions: Type.Optional(Type.Array(Text(500), { maxItems: 4 })) },
  strict,
);

export const GeneticContent = Type.Object({ test: Text(200), gene: Type.Optional(Text(50)), result: Text(2000), interpretation: Text(10_000) }, strict);

const common = {
  releasedToPatient: Type.Optional(Type.Boolean({ description: 'shown to the patient in their portal and export' })),
  correctionOf: Type.Optional(Type.String({ format: 'uuid', description: 'entry id this version corrects (the old version is kept)' })),
};

export const CreateEntryBody = Type.Union([
  Type.Object({ kind: Type.Literal('note'), ...common, content: NoteContent }, strict),
  Type.Object({ kind: Type.Literal('prescription'), ...common, content: PrescriptionContent }, strict),
  Type.Object({ kind: Type.Literal('certificate'), ...common, content: CertificateContent }, strict),
  Type.Object({ kind: Type.Literal('death_certificate'), ...common, content: DeathAdministrative, causes: DeathCauses }, strict),
  Type.Object(
    { kind: Type.Literal('genetic_result'), ...common, content: GeneticContent, namedPractitionerUserIds: Type.Array(Uuid, { minItems: 1, maxItems: 10, uniqueItems: true }) },
    strict,
  ),
]);
export type CreateEntryBody = Static<typeof CreateEntryBody>;

export const EntryView = Type.Object({
  id: Uuid,
  versionId: Uuid,
  version: Type.Integer(),
  kind: EntryKind,
  authorUserId: Uuid,
  createdAt: Type.String({ format: 'date-time' }),
  releasedToPatient: Type.Boolean(),
  content: Type.Object({}, { additionalProperties: true }),
  causes: Type.Optional(Type.Object({}, { additionalProperties: true })),
  namedPractitionerUserIds: Type.Optional(Type.Array(Uuid)),
});
export type EntryView = Static<typeof EntryView>;

export const EntryListResponse = Type.Object({ items: Type.Array(EntryView) });
export const EntryCreatedResponse = Type.Object({ id: Uuid, versionId: Uuid, version: Type.Integer() });
export const EntryHistoryQuery = Type.Object({ history: Type.Optional(Type.Boolean()) }, strict);

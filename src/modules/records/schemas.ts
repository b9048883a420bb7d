// Request and response schemas of the records API (TypeBox, shared with the OpenAPI description).
// Every object refuses unknown properties: a body cannot set what it was not meant to (ASVS 15.3.3).
import { Type, type Static } from 'typebox';

const Uuid = Type.String({ format: 'uuid' });
const Day = Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'YYYY-MM-DD' });
const Text = (maxLength: number, minLength = 1) => Type.String({ minLength, maxLength });
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);
const strict = { additionalProperties: false } as const;

export const EstablishmentParams = Type.Object({ eid: Uuid }, strict);
export const PatientParams = Type.Object({ eid: Uuid, pid: Uuid }, strict);
export const EntryParams = Type.Object({ eid: Uuid, pid: Uuid, id: Uuid }, strict);

export const Sex = Type.Union([Type.Literal('F'), Type.Literal('M'), Type.Literal('X')]);
/** The INS reference system's identity statuses (provisoire, récupérée, validée, qualifiée). */
export const IdentityStatus = Type.Union([Type.Literal('provisional'), Type.Literal('retrieved'), Type.Literal('validated'), Type.Literal('qualified')]);
export type IdentityStatus = Static<typeof IdentityStatus>;

export const Address = Type.Object({ line1: Text(200), postalCode: Type.String({ pattern: '^[0-9]{5}$' }), city: Text(100) }, strict);
export const GeneralPractitioner = Type.Object(
  { name: Text(200), rpps: Type.Optional(Nullable(Type.String({ pattern: '^[0-9]{11}$' }))) },
  strict,
);
export const BaseInsurance = Type.Object(
  {
    scheme: Text(100, 2),
    fund: Type.Optional(Nullable(Text(100))),
    memberNumber: Text(30, 2),
    validFrom: Type.Optional(Nullable(Day)),
    validUntil: Type.Optional(Nullable(Day)),
  },
  strict,
);
export const ComplementaryInsurance = Type.Object(
  { insurer: Text(100, 2), memberNumber: Text(30, 2), validFrom: Type.Optional(Nullable(Day)), validUntil: Type.Optional(Nullable(Day)) },
  strict,
);
export const Insurance = Type.Object(
  { base: Type.Optional(Nullable(BaseInsurance)), complementary: Type.Optional(Nullable(ComplementaryInsurance)) },
  strict,
);

const identityFields = {
  birthName: Text(100),
  firstNames: Text(200),
  sex: Sex,
  birthDate: Day,
  birthPlaceInsee: Type.Optional(Nullable(Type.String({ pattern: '^(\\d{5}|2[AB]\\d{3})$', description: 'INSEE code of the birth commune (99xxx abroad)' }))),
  usedName: Type.Optional(Nullable(Text(100))),
  ins: Type.Optional(Nullable(Type.String({ minLength: 15, maxLength: 21, description: 'INS (NIR with its 2-digit key), spaces allowed' }))),
  identityStatus: Type.Optional(IdentityStatus),
};
const contactFields = {
  email: Type.Optional(Nullable(Type.String({ format: 'email', maxLength: 254 }))),
  phone: Type.Optional(Nullable(Type.String({ pattern: '^\\+?[0-9 .-]{6,20}$' }))),
  address: Type.Optional(Nullable(Address)),
};

export const CreatePatientBody = Type.Object(
  { ...identityFields, ...contactFields, generalPractitioner: Type.Optional(Nullable(GeneralPractitioner)), insurance: Type.Optional(Insurance) },
  strict,
);
export type CreatePatientBody = Static<typeof CreatePatientBody>;

/** The fields staff may change. Ids, the establishment, the account link and timestamps are not among them. */
export const UpdatePatientBody = Type.Object(
  {
    birthName: Type.Optional(identityFields.birthName),
    firstNames: Type.Optional(identityFields.firstNames),
    sex: Type.Optional(Sex),
    birthDate: Type.Optional(Day),
    birthPlaceInsee: identityFields.birthPlaceInsee,
    usedName: identityFields.usedName,
    ins: identityFields.ins,
    identityStatus: identityFields.identityStatus,
    ...contactFields,
    generalPractitioner: Type.Optional(Nullable(GeneralPractitioner)),
    insurance: Type.Optional(Insurance),
  },
  { ...strict, minProperties: 1 },
);
export type UpdatePatientBody = Static<typeof UpdatePatientBody>;

export const CreatedResponse = Type.Object({ id: Uuid });

export const SearchQuery = Type.Object(
  {
    lastName: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: 'birth or used name, exact after folding case and accents' })),
    firstName: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    birthDate: Type.Optional(Day),
    ins: Type.Optional(Type.String({ minLength: 15, maxLength: 21 })),
  },
  strict,
);
export type SearchQuery = Static<typeof SearchQuery>;
export const SearchResponse = Type.Object({
  items: Type.Array(Type.Object({ id: Uuid, name: Type.String(), birthYear: Type.Integer(), city: Nullable(Type.String()) }), { maxItems: 20 }),
});

export const PatientFileResponse = Type.Object({
  id: Uuid,
  establishmentId: Uuid,
  accountLinked: Type.Boolean(),
  identity: Type.Optional(
    Type.Object({
      birthName: Type.String(),
      firstNames: Type.String(),
      usedName: Nullable(Type.String()),
      sex: Sex,
      birthDate: Day,
      birthPlaceInsee: Nullable(Type.String()),
      ins: Nullable(Type.String()),
      identityStatus: IdentityStatus,
    }),
  ),
  contact: Type.Optional(Type.Object({ email: Nullable(Type.String()), phone: Nullable(Type.String()), address: Nullable(Address) })),
  administrative: Type.Optional(Type.Object({ generalPractitioner: Nullable(GeneralPractitioner) })),
  insurance: Type.Optional(Type.Object({ base: Nullable(BaseInsurance), complementary: Nullable(ComplementaryInsurance) })),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
});
export type PatientFileResponse = Static<typeof PatientFileResponse>;

import { Type, type Static } from 'typebox';

export const SpecialtySchema = Type.Object({
  code: Type.String(),
  label: Type.String({ description: 'Label in the requested language' }),
  labelFr: Type.String(),
  labelEn: Type.String(),
});
export type SpecialtyDto = Static<typeof SpecialtySchema>;

export const SpecialtiesQuery = Type.Object(
  { lang: Type.Optional(Type.Union([Type.Literal('fr'), Type.Literal('en')])) },
  { additionalProperties: false },
);

export const SpecialtiesResponse = Type.Object({ items: Type.Array(SpecialtySchema) });

const Uuid = Type.String({ format: 'uuid' });
const LanguageList = Type.Array(Type.String({ pattern: '^[a-z]{2}$', description: 'ISO 639-1 code' }), { minItems: 1, maxItems: 10, uniqueItems: true });

export const EstablishmentParams = Type.Object({ eid: Uuid }, { additionalProperties: false });
export const EstablishmentPractitionerParams = Type.Object({ eid: Uuid, pid: Uuid }, { additionalProperties: false });

export const PractitionerCreateBody = Type.Object(
  {
    firstName: Type.String({ minLength: 1, maxLength: 100 }),
    lastName: Type.String({ minLength: 1, maxLength: 100 }),
    rpps: Type.String({ description: '11 digits, the last one a Luhn check digit' }),
    specialty: Type.String({ pattern: '^[a-z_]{2,40}$' }),
    languages: Type.Optional(LanguageList),
    teleconsult: Type.Optional(Type.Boolean()),
    userId: Type.Optional(Type.String({ format: 'uuid', description: 'the staff account of this practitioner, if any' })),
  },
  { additionalProperties: false },
);
export type PractitionerCreateBody = Static<typeof PractitionerCreateBody>;

export const PractitionerPatchBody = Type.Partial(
  Type.Object({ specialty: Type.String({ pattern: '^[a-z_]{2,40}$' }), languages: LanguageList, teleconsult: Type.Boolean() }),
  { additionalProperties: false, minProperties: 1 },
);
export type PractitionerPatchBody = Static<typeof PractitionerPatchBody>;

export const PractitionerView = Type.Object({
  id: Uuid,
  firstName: Type.String(),
  lastName: Type.String(),
  rpps: Type.String(),
  specialty: Type.String(),
  languages: Type.Array(Type.String()),
  teleconsult: Type.Boolean(),
});

export const EstablishmentPatchBody = Type.Object(
  {
    timeZone: Type.Optional(Type.String({ minLength: 3, maxLength: 64, description: 'IANA time zone, e.g. Europe/Paris' })),
    reminderOffsetsHours: Type.Optional(
      Type.Array(Type.Integer({ minimum: 1, maximum: 720 }), {
        minItems: 1,
        maxItems: 5,
        uniqueItems: true,
        description: 'hours before an appointment at which reminders are sent (default [168, 24]); applies to appointments booked or moved afterwards',
      }),
    ),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type EstablishmentPatchBody = Static<typeof EstablishmentPatchBody>;
export const EstablishmentView = Type.Object({ id: Uuid, name: Type.String(), city: Type.String(), postalCode: Type.String(), timeZone: Type.String(), reminderOffsetsHours: Type.Array(Type.Integer()) });

export const EstablishmentStaffView = Type.Object({
  id: Uuid,
  name: Type.String(),
  city: Type.String(),
  postalCode: Type.String(),
  timeZone: Type.String(),
  practitioners: Type.Array(
    Type.Object({
      id: Uuid,
      userId: Type.Union([Uuid, Type.Null()], { description: "the practitioner's account, when they have one (genetic results name readers by account)" }),
      name: Type.String(),
      specialty: Type.String(),
      self: Type.Boolean({ description: "the caller's own practitioner profile" }),
    }),
  ),
});

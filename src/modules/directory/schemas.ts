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

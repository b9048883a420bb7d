import { Type } from 'typebox';

export const PatientParams = Type.Object({
  eid: Type.String({ format: 'uuid' }),
  pid: Type.String({ format: 'uuid' }),
});

export const BreakGlassBody = Type.Object(
  { reason: Type.String({ minLength: 20, maxLength: 1000, description: 'Why the file must be opened (shown to the patient)' }) },
  { additionalProperties: false },
);

export const BreakGlassResponse = Type.Object({
  grantId: Type.String({ format: 'uuid' }),
  expiresAt: Type.String({ format: 'date-time' }),
});

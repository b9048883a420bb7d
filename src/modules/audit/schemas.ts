import { Type, type Static } from 'typebox';

export const AccessLogQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 50, default: 20 })),
    cursor: Type.Optional(Type.String({ maxLength: 200, pattern: '^[A-Za-z0-9_-]+$' })),
  },
  { additionalProperties: false },
);
export type AccessLogQueryDto = Static<typeof AccessLogQuery>;

export const AccessLogItem = Type.Object({
  at: Type.String({ format: 'date-time' }),
  actor: Type.Object({
    name: Type.String({ description: 'Full name of the person, or a description of the system or integration' }),
    role: Type.String({ description: 'practitioner, secretary, admin, security_officer, api_key or system' }),
  }),
  establishment: Type.Union([Type.String(), Type.Null()], { description: 'Name of the establishment' }),
  action: Type.String({ description: 'What was done, e.g. patient.read' }),
  categories: Type.Array(Type.String(), { description: 'Kinds of data touched: identity, contact, insurance, clinical, genetic, certificate' }),
  reason: Type.Optional(Type.String({ description: 'The written break-the-glass reason, when there was one' })),
});
export type AccessLogItemDto = Static<typeof AccessLogItem>;

export const AccessLogResponse = Type.Object({
  items: Type.Array(AccessLogItem),
  nextCursor: Type.Union([Type.String(), Type.Null()]),
});
export type AccessLogResponseDto = Static<typeof AccessLogResponse>;

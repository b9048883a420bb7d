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

// The security officer's audit search (GET /establishments/:eid/security/audit).
export const AuditSearchParams = Type.Object({ eid: Type.String({ format: 'uuid' }) });

export const AuditSearchQuery = Type.Object(
  {
    actorUserId: Type.Optional(Type.String({ format: 'uuid', description: 'Events by this account (staff member, patient account)' })),
    patientId: Type.Optional(Type.String({ format: 'uuid', description: "Events touching this patient file (an id: a security officer does not search patients by name)" })),
    from: Type.Optional(Type.String({ format: 'date-time', description: 'Events at or after this instant' })),
    to: Type.Optional(Type.String({ format: 'date-time', description: 'Events at or before this instant' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 50, default: 20 })),
    cursor: Type.Optional(Type.String({ maxLength: 200, pattern: '^[A-Za-z0-9_-]+$' })),
  },
  { additionalProperties: false },
);
export type AuditSearchQueryDto = Static<typeof AuditSearchQuery>;

export const INTEGRITY_STATUSES = ['sealed', 'chained', 'pending', 'altered', 'orphan', 'checkpoint_invalid'] as const;
export type IntegrityStatus = (typeof INTEGRITY_STATUSES)[number];

export const AuditSearchItem = Type.Object({
  id: Type.String({ format: 'uuid' }),
  at: Type.String({ format: 'date-time' }),
  actor: Type.Object({
    kind: Type.String({ description: 'user, api_key, system or anonymous' }),
    userId: Type.Union([Type.String(), Type.Null()]),
    name: Type.Union([Type.String(), Type.Null()], { description: "A staff member's name; null for patients, keys, the system and anonymous callers" }),
    role: Type.Union([Type.String(), Type.Null()], { description: 'The role recorded with the event' }),
  }),
  action: Type.String(),
  resourceKind: Type.Union([Type.String(), Type.Null()]),
  resourceCount: Type.Integer({ description: 'How many resources the event names' }),
  patientIds: Type.Array(Type.String(), { description: 'Patient file ids touched (ids only, never names)' }),
  categories: Type.Array(Type.String()),
  purpose: Type.Union([Type.String(), Type.Null()]),
  reason: Type.Union([Type.String(), Type.Null()], { description: 'The break-the-glass reason, when there was one' }),
  outcome: Type.String({ description: 'allowed, denied, contained or failed' }),
  integrity: Type.Object({
    status: Type.Union(
      [Type.Literal('sealed'), Type.Literal('chained'), Type.Literal('pending'), Type.Literal('altered'), Type.Literal('orphan'), Type.Literal('checkpoint_invalid')],
      {
        description:
          'sealed: matches its chain link and a checkpoint with a valid signature covers it; chained: matches its link, no checkpoint yet; ' +
          'pending: awaiting the sealer; altered: no longer hashes to its link; orphan: in no chain and not queued; ' +
          'checkpoint_invalid: matches its link but the checkpoint covering it does not verify',
      },
    ),
    seq: Type.Union([Type.String(), Type.Null()], { description: 'Sequence number in the establishment stream' }),
    sealedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()], { description: 'When the covering checkpoint was signed' }),
  }),
});
export type AuditSearchItemDto = Static<typeof AuditSearchItem>;

export const AuditSearchResponse = Type.Object({
  items: Type.Array(AuditSearchItem),
  nextCursor: Type.Union([Type.String(), Type.Null()]),
});
export type AuditSearchResponseDto = Static<typeof AuditSearchResponse>;

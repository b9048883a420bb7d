import { Type, type Static } from 'typebox';

export const EstablishmentParams = Type.Object({ eid: Type.String({ format: 'uuid' }) });
export const AlertParams = Type.Object({ eid: Type.String({ format: 'uuid' }), id: Type.String({ format: 'uuid' }) });
export const UserParams = Type.Object({ eid: Type.String({ format: 'uuid' }), uid: Type.String({ format: 'uuid' }) });

export const AlertsQuery = Type.Object(
  {
    status: Type.Optional(Type.Union([Type.Literal('open'), Type.Literal('resolved'), Type.Literal('all')])),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 50 })),
    cursor: Type.Optional(Type.String({ format: 'uuid' })),
  },
  { additionalProperties: false },
);

const Scalar = Type.Union([Type.String(), Type.Number(), Type.Boolean(), Type.Null()]);
export const Alert = Type.Object({
  id: Type.String({ format: 'uuid' }),
  kind: Type.String(),
  severity: Type.Union([Type.Literal('info'), Type.Literal('warning'), Type.Literal('critical')]),
  actorUserId: Type.Union([Type.String({ format: 'uuid' }), Type.Null()]),
  patientIds: Type.Array(Type.String({ format: 'uuid' })),
  details: Type.Record(Type.String(), Scalar),
  createdAt: Type.String({ format: 'date-time' }),
  resolvedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  resolvedByUserId: Type.Union([Type.String({ format: 'uuid' }), Type.Null()]),
});
export const AlertsResponse = Type.Object({ items: Type.Array(Alert), nextCursor: Type.Union([Type.String(), Type.Null()]) });
export const ResolveResponse = Type.Object({ id: Type.String({ format: 'uuid' }), resolvedAt: Type.String({ format: 'date-time' }) });
export const ReleaseResponse = Type.Object({ userId: Type.String({ format: 'uuid' }), released: Type.Integer() });

const Limits = Type.Object(
  { stepUp: Type.Optional(Type.Number({ minimum: 0, maximum: 1_000_000 })), contain: Type.Optional(Type.Number({ minimum: 1, maximum: 1_000_000 })) },
  { additionalProperties: false },
);
const WindowLimits = Type.Object({ '5m': Type.Optional(Limits), '1h': Type.Optional(Limits), '24h': Type.Optional(Limits) }, { additionalProperties: false });
const RoleLimits = Type.Object({ unexplained: Type.Optional(WindowLimits), explained: Type.Optional(WindowLimits) }, { additionalProperties: false });
const Factor = Type.Number({ minimum: 0.05, maximum: 1 });

/** Per-establishment overrides of the guard's thresholds; anything left out keeps the default. */
export const ThresholdOverrides = Type.Object(
  {
    roles: Type.Optional(
      Type.Object(
        {
          practitioner: Type.Optional(RoleLimits),
          secretary: Type.Optional(RoleLimits),
          admin: Type.Optional(RoleLimits),
          security_officer: Type.Optional(RoleLimits),
          patient: Type.Optional(RoleLimits),
          api_key: Type.Optional(RoleLimits),
        },
        { additionalProperties: false },
      ),
    ),
    weights: Type.Optional(Type.Object({ breakGlass: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })), care: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })) }, { additionalProperties: false })),
    misses5m: Type.Optional(Limits),
    unexplainedShare: Type.Optional(
      Type.Object({ share: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })), minUnexplained: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 })) }, { additionalProperties: false }),
    ),
    baseline: Type.Optional(
      Type.Object(
        { factor: Type.Optional(Type.Number({ minimum: 1, maximum: 100 })), floor: Type.Optional(Type.Number({ minimum: 1, maximum: 100_000 })), minDays: Type.Optional(Type.Integer({ minimum: 1, maximum: 60 })) },
        { additionalProperties: false },
      ),
    ),
    offHoursFactor: Type.Optional(Factor),
    newNetworkFactor: Type.Optional(Factor),
    openingHours: Type.Optional(
      Type.Object(
        {
          days: Type.Optional(Type.Array(Type.Integer({ minimum: 1, maximum: 7 }), { maxItems: 7, uniqueItems: true })),
          from: Type.Optional(Type.Integer({ minimum: 0, maximum: 24 })),
          to: Type.Optional(Type.Integer({ minimum: 0, maximum: 24 })),
        },
        { additionalProperties: false },
      ),
    ),
    agendaWindow: Type.Optional(
      Type.Object({ pastDays: Type.Optional(Type.Integer({ minimum: 0, maximum: 31 })), futureDays: Type.Optional(Type.Integer({ minimum: 0, maximum: 90 })) }, { additionalProperties: false }),
    ),
  },
  { additionalProperties: false },
);
export type ThresholdOverrides = Static<typeof ThresholdOverrides>;
export const ThresholdsResponse = Type.Object({
  effective: Type.Record(Type.String(), Type.Unknown()),
  overrides: Type.Record(Type.String(), Type.Unknown()),
});

export const DecoysBody = Type.Object({ count: Type.Integer({ minimum: 1, maximum: 50 }) }, { additionalProperties: false });
export const DecoysResponse = Type.Object({ planted: Type.Integer() });

export const ExportParams = Type.Object({ eid: Type.String({ format: 'uuid' }), id: Type.String({ format: 'uuid' }) });
export const ExportRequestBody = Type.Object(
  {
    kind: Type.String({ pattern: '^[a-z][a-z_]{0,39}$', description: 'The export provider: "appointments" (more with the records module)' }),
    purpose: Type.String({ minLength: 20, maxLength: 500, description: 'Why this extract is needed; shown to the approver and kept in the register' }),
    params: Type.Optional(Type.Record(Type.String({ pattern: '^[a-zA-Z]{1,40}$' }), Type.String({ maxLength: 100 }), { maxProperties: 10 })),
  },
  { additionalProperties: false },
);
export const ExportView = Type.Object({
  id: Type.String({ format: 'uuid' }),
  kind: Type.String(),
  params: Type.Record(Type.String(), Type.Unknown()),
  purpose: Type.String(),
  status: Type.Union([Type.Literal('pending'), Type.Literal('approved'), Type.Literal('rejected'), Type.Literal('downloaded'), Type.Literal('expired')]),
  requestedBy: Type.String({ format: 'uuid' }),
  requestedAt: Type.String({ format: 'date-time' }),
  decidedBy: Type.Union([Type.String({ format: 'uuid' }), Type.Null()]),
  decidedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  expiresAt: Type.String({ format: 'date-time' }),
  downloadedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  patientCount: Type.Union([Type.Integer(), Type.Null()]),
});
export const ExportsQuery = Type.Object(
  { limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 50 })), cursor: Type.Optional(Type.String({ format: 'uuid' })) },
  { additionalProperties: false },
);
export const ExportsResponse = Type.Object({ items: Type.Array(ExportView), nextCursor: Type.Union([Type.String(), Type.Null()]) });

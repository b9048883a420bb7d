// Request and response schemas of the scheduling API (TypeBox, shared with the OpenAPI description).
import { Type, type Static } from 'typebox';

const Uuid = Type.String({ format: 'uuid' });
/** An ISO 8601 instant with an explicit offset (Z or ±hh:mm). */
export const Instant = Type.String({
  pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}(:\\d{2}(\\.\\d{1,6})?)?(Z|[+-]\\d{2}:\\d{2})$',
  description: 'ISO 8601 instant with offset, e.g. 2026-11-24T09:30:00+01:00',
});
const DateOrInstant = Type.String({
  pattern: '^\\d{4}-\\d{2}-\\d{2}(T\\d{2}:\\d{2}(:\\d{2}(\\.\\d{1,6})?)?(Z|[+-]\\d{2}:\\d{2}))?$',
  description: 'YYYY-MM-DD (local midnight in the establishment time zone) or an ISO 8601 instant with offset',
});
const Limit = Type.Integer({ minimum: 1, maximum: 50, description: 'page size, at most 50' });
const Cursor = Type.String({ maxLength: 200, pattern: '^[A-Za-z0-9_-]+$' });

export const SlotSchema = Type.Object({ start: Instant, end: Instant });
export const SlotWithMotive = Type.Object({ start: Instant, end: Instant, motiveId: Uuid });

// --- public --------------------------------------------------------------------------------

export const SearchQuery = Type.Object(
  {
    specialty: Type.Optional(Type.String({ pattern: '^[a-z_]{2,40}$' })),
    near: Type.Optional(Type.String({ minLength: 2, maxLength: 80, description: 'city name, postal code or two-digit department' })),
    from: Type.Optional(DateOrInstant),
    to: Type.Optional(DateOrInstant),
    teleconsult: Type.Optional(Type.Boolean()),
    limit: Type.Optional(Limit),
    cursor: Type.Optional(Cursor),
  },
  { additionalProperties: false },
);
export type SearchQuery = Static<typeof SearchQuery>;

export const SearchResponse = Type.Object({
  items: Type.Array(
    Type.Object({
      practitionerId: Uuid,
      name: Type.String(),
      specialty: Type.Object({ code: Type.String(), label: Type.String() }),
      teleconsult: Type.Boolean(),
      languages: Type.Array(Type.String()),
      establishment: Type.Object({ id: Uuid, name: Type.String(), city: Type.String(), postalCode: Type.String() }),
      nextSlots: Type.Array(SlotWithMotive),
    }),
  ),
  nextCursor: Type.Union([Type.String(), Type.Null()]),
});

export const PractitionerParams = Type.Object({ id: Uuid }, { additionalProperties: false });

export const MotivePublic = Type.Object({
  id: Uuid,
  label: Type.String(),
  durationMinutes: Type.Integer(),
  teleconsult: Type.Boolean(),
  patientKind: Type.Union([Type.Literal('all'), Type.Literal('new_only'), Type.Literal('known_only')]),
});

export const ProfileResponse = Type.Object({
  id: Uuid,
  name: Type.String(),
  specialty: Type.Object({ code: Type.String(), label: Type.String(), labelEn: Type.String() }),
  languages: Type.Array(Type.String()),
  teleconsult: Type.Boolean(),
  establishments: Type.Array(
    Type.Object({
      id: Uuid,
      name: Type.String(),
      addressLine: Type.String(),
      city: Type.String(),
      postalCode: Type.String(),
      timeZone: Type.String(),
      motives: Type.Array(MotivePublic),
    }),
  ),
});

export const AvailabilityQuery = Type.Object(
  { motiveId: Uuid, from: Type.Optional(DateOrInstant), to: Type.Optional(DateOrInstant) },
  { additionalProperties: false },
);
export const AvailabilityResponse = Type.Object({ slots: Type.Array(SlotSchema) });

// --- appointments --------------------------------------------------------------------------

export const BookBody = Type.Object(
  {
    practitionerId: Uuid,
    motiveId: Uuid,
    start: Instant,
    patientId: Type.Optional(Type.String({ format: 'uuid', description: 'staff only: the patient file booked for' })),
  },
  { additionalProperties: false },
);
export type BookBody = Static<typeof BookBody>;

export const AppointmentCreated = Type.Object({
  id: Uuid,
  status: Type.Literal('confirmed'),
  start: Instant,
  end: Instant,
});

export const AppointmentParams = Type.Object({ id: Uuid }, { additionalProperties: false });
export const RescheduleBody = Type.Object({ start: Instant }, { additionalProperties: false });
export const EmptyBody = Type.Union([Type.Object({}, { additionalProperties: false }), Type.Null()]);

export const AppointmentStatusSchema = Type.Union([Type.Literal('confirmed'), Type.Literal('cancelled'), Type.Literal('no_show'), Type.Literal('held')]);

export const AppointmentView = Type.Object({
  id: Uuid,
  status: AppointmentStatusSchema,
  start: Instant,
  end: Instant,
  practitioner: Type.Object({ id: Uuid, name: Type.String() }),
  establishment: Type.Object({ id: Uuid, name: Type.String(), addressLine: Type.String(), city: Type.String(), postalCode: Type.String() }),
  motive: Type.Object({ id: Uuid, label: Type.String(), teleconsult: Type.Boolean() }),
  cancellableUntil: Type.Union([Instant, Type.Null()]),
});
export type AppointmentView = Static<typeof AppointmentView>;

export const MyAppointmentsQuery = Type.Object(
  { limit: Type.Optional(Limit), cursor: Type.Optional(Cursor) },
  { additionalProperties: false },
);
export const MyAppointmentsResponse = Type.Object({ items: Type.Array(AppointmentView), nextCursor: Type.Union([Type.String(), Type.Null()]) });

// --- staff ---------------------------------------------------------------------------------

export const EstablishmentParams = Type.Object({ eid: Uuid }, { additionalProperties: false });
export const EstablishmentPractitionerParams = Type.Object({ eid: Uuid, pid: Uuid }, { additionalProperties: false });
export const EstablishmentObjectParams = Type.Object({ eid: Uuid, id: Uuid }, { additionalProperties: false });

const LocalTime = Type.String({ pattern: '^(([01]\\d|2[0-3]):[0-5]\\d|24:00)$', description: 'HH:MM local time' });
const TimeRange = Type.Object({ start: LocalTime, end: LocalTime }, { additionalProperties: false });
const DayRanges = Type.Array(TimeRange, { maxItems: 8 });
export const WEEKDAYS = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'] as const;
export type Weekday = (typeof WEEKDAYS)[number];
export const WeeklyHoursSchema = Type.Object(
  {
    monday: Type.Optional(DayRanges),
    tuesday: Type.Optional(DayRanges),
    wednesday: Type.Optional(DayRanges),
    thursday: Type.Optional(DayRanges),
    friday: Type.Optional(DayRanges),
    saturday: Type.Optional(DayRanges),
    sunday: Type.Optional(DayRanges),
  },
  { additionalProperties: false },
);
export type WeeklyHoursDto = Static<typeof WeeklyHoursSchema>;

export const ScheduleBody = Type.Object(
  { weeklyHours: WeeklyHoursSchema, published: Type.Optional(Type.Boolean()) },
  { additionalProperties: false },
);
export type ScheduleBody = Static<typeof ScheduleBody>;
export const ScheduleResponse = Type.Object({
  practitionerId: Uuid,
  establishmentId: Uuid,
  timeZone: Type.String(),
  weeklyHours: WeeklyHoursSchema,
  published: Type.Boolean(),
});

const PatientKind = Type.Union([Type.Literal('all'), Type.Literal('new_only'), Type.Literal('known_only')], {
  description: 'all, new_only (refused to known patients) or known_only (refused to new patients)',
});
const motiveFields = {
  label: Type.String({ minLength: 1, maxLength: 120 }),
  durationMinutes: Type.Integer({ minimum: 5, maximum: 480 }),
  bufferMinutes: Type.Integer({ minimum: 0, maximum: 120 }),
  patientKind: PatientKind,
  teleconsult: Type.Boolean(),
  minNoticeMinutes: Type.Integer({ minimum: 0, maximum: 43200 }),
  horizonDays: Type.Integer({ minimum: 1, maximum: 366 }),
  cancelCutoffHours: Type.Integer({ minimum: 0, maximum: 720 }),
};
export const MotiveCreateBody = Type.Object(
  {
    label: motiveFields.label,
    durationMinutes: motiveFields.durationMinutes,
    bufferMinutes: Type.Optional(motiveFields.bufferMinutes),
    patientKind: Type.Optional(motiveFields.patientKind),
    teleconsult: Type.Optional(motiveFields.teleconsult),
    minNoticeMinutes: Type.Optional(motiveFields.minNoticeMinutes),
    horizonDays: Type.Optional(motiveFields.horizonDays),
    cancelCutoffHours: Type.Optional(motiveFields.cancelCutoffHours),
  },
  { additionalProperties: false },
);
export type MotiveCreateBody = Static<typeof MotiveCreateBody>;
export const MotivePatchBody = Type.Partial(Type.Object(motiveFields), { additionalProperties: false, minProperties: 1 });
export type MotivePatchBody = Static<typeof MotivePatchBody>;
export const MotiveStaff = Type.Object({
  id: Uuid,
  practitionerId: Uuid,
  ...motiveFields,
  active: Type.Boolean(),
});
export type MotiveStaff = Static<typeof MotiveStaff>;
export const MotiveList = Type.Object({ items: Type.Array(MotiveStaff) });

export const ExceptionBody = Type.Object({ start: Instant, end: Instant }, { additionalProperties: false });
export const ExceptionView = Type.Object({ id: Uuid, practitionerId: Uuid, kind: Type.Union([Type.Literal('absence'), Type.Literal('opening')]), start: Instant, end: Instant });
export const ExceptionList = Type.Object({ items: Type.Array(ExceptionView) });
export const RangeQuery = Type.Object({ from: Type.Optional(DateOrInstant), to: Type.Optional(DateOrInstant) }, { additionalProperties: false });

export const AgendaQuery = Type.Object(
  { practitionerId: Uuid, from: DateOrInstant, to: DateOrInstant, limit: Type.Optional(Limit), cursor: Type.Optional(Cursor) },
  { additionalProperties: false },
);
export const AgendaResponse = Type.Object({
  items: Type.Array(
    Type.Object({
      id: Uuid,
      start: Instant,
      end: Instant,
      status: AppointmentStatusSchema,
      motiveId: Uuid,
      patient: Type.Object({ id: Uuid, name: Type.String() }),
    }),
  ),
  nextCursor: Type.Union([Type.String(), Type.Null()]),
});

export const StatusResponse = Type.Object({ id: Uuid, status: AppointmentStatusSchema, start: Instant, end: Instant });

// --- waiting list --------------------------------------------------------------------------

export const WaitlistJoinBody = Type.Object(
  {
    practitionerId: Uuid,
    motiveId: Uuid,
    appointmentId: Type.Optional(Type.String({ format: 'uuid', description: 'my current appointment, to be offered an earlier slot than it' })),
  },
  { additionalProperties: false },
);
export const WaitlistJoined = Type.Object({ id: Uuid, status: Type.Literal('waiting'), wantedBefore: Instant });
export const WaitlistParams = Type.Object({ id: Uuid }, { additionalProperties: false });
export const WaitlistMine = Type.Object({
  items: Type.Array(
    Type.Object({
      id: Uuid,
      practitionerId: Uuid,
      motiveId: Uuid,
      status: Type.Union([Type.Literal('waiting'), Type.Literal('offered')]),
      wantedBefore: Instant,
      offer: Type.Union([Type.Object({ appointmentId: Uuid, start: Instant, end: Instant, expiresAt: Instant }), Type.Null()]),
    }),
  ),
});

// Request and response schemas of the teleconsultation API (TypeBox, shared with OpenAPI).
import { Type } from 'typebox';

const Uuid = Type.String({ format: 'uuid' });
const Instant = Type.String({ format: 'date-time' });

export const AppointmentParams = Type.Object({ appointmentId: Uuid }, { additionalProperties: false });

const IceServer = Type.Object({
  urls: Type.Array(Type.String()),
  username: Type.Optional(Type.String()),
  credential: Type.Optional(Type.String()),
});

export const TeleconsultInfoResponse = Type.Object({
  appointmentId: Uuid,
  role: Type.Union([Type.Literal('patient'), Type.Literal('practitioner'), Type.Literal('guest')]),
  start: Instant,
  end: Instant,
  opensAt: Instant,
  closesAt: Instant,
  timeZone: Type.String(),
  refusal: Type.Union([Type.Literal('not_teleconsult'), Type.Literal('not_active'), Type.Literal('too_early'), Type.Literal('too_late'), Type.Null()], {
    description: 'why joining is not possible now; null inside the join window',
  }),
  ice: Type.Union([
    Type.Object({ iceServers: Type.Array(IceServer), iceTransportPolicy: Type.Union([Type.Literal('all'), Type.Literal('relay')]) }),
    Type.Null(),
  ]),
});

export const InviteBody = Type.Object({ practitionerId: Uuid }, { additionalProperties: false });
export const InviteResponse = Type.Object({ status: Type.Literal('invited'), name: Type.String() });

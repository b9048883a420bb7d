// Teleconsultation rules: who may see and join a video appointment, when, and what is audited.
// Every read of the appointment's parties goes through the access gate, which records it; the
// call's start and end are recorded the same way. The call's content never reaches the server.
import type { Config } from '../../config.js';
import type { Database } from '../../platform/db/database.js';
import type { Actor } from '../../platform/http/context.js';
import { DomainError } from '../../platform/http/errors.js';
import type { AccessGate } from '../access/index.js';
import { appendAuditEvent } from '../audit/index.js';
import {
  findAppointmentForTeleconsult,
  practitionerAccountHere,
  practitionerNameOfUser,
  teleconsultPartyNames,
  type TeleconsultAppointment,
} from '../scheduling/index.js';
import { iceSettings, type IceSettings } from './ice.js';
import type { RoomInfo } from './rooms.js';
import type { TeleconsultStore } from './store.js';
import { joinRefusal, joinWindow, participationOf, type JoinRefusal, type Participation } from './window.js';
import type { Vault } from '../vault/index.js';

export interface TeleconsultInfo {
  appointmentId: string;
  role: Participation;
  start: string;
  end: string;
  opensAt: string;
  closesAt: string;
  timeZone: string;
  /** Why joining is not possible now; null when it is. */
  refusal: JoinRefusal | null;
  /** Only while the window is open: TURN credentials are not handed out in advance. */
  ice: IceSettings | null;
}

export interface Admission {
  room: RoomInfo;
  role: Participation;
  /** The joining person's display name, shown to the other participants. */
  name: string;
}

const REFUSAL_TEXT: Record<JoinRefusal, string> = {
  not_teleconsult: 'This appointment is not a video consultation',
  not_active: 'This appointment is not confirmed',
  too_early: 'The consultation opens 15 minutes before its start',
  too_late: 'The consultation closed 30 minutes after its planned end',
};

export function createTeleconsultService(deps: { db: Database; gate: AccessGate; vault: Vault; store: TeleconsultStore; config: Config; now: () => number }) {
  const { db, gate, store } = deps;

  /** The appointment and the actor's part in it; "not found" (recorded) for anyone without one. */
  async function locate(actor: Actor, appointmentId: string, ip: string | null): Promise<{ appointment: TeleconsultAppointment; role: Participation; userId: string }> {
    if (actor.kind !== 'user') throw new DomainError('not_found');
    const appointment = await findAppointmentForTeleconsult(db, actor, appointmentId);
    if (!appointment) throw new DomainError('not_found');
    const roleHere = actor.memberships.find((m) => m.establishmentId === appointment.establishmentId)?.role;
    const guestUserIds = await db.withTenant(appointment.establishmentId, (tx) => store.listGuests(tx, appointment.id));
    const role = participationOf({
      userId: actor.userId,
      practitionerUserId: appointment.practitionerUserId,
      patientAccountUserId: appointment.patientAccountUserId,
      guestUserIds,
      roleHere,
    });
    if (!role) {
      // Someone who can see the establishment but is no party to this call (a secretary, another
      // practitioner, another patient of the establishment): refused, recorded, and answered
      // like an appointment that does not exist.
      await db.withTenant(appointment.establishmentId, (tx) =>
        appendAuditEvent(tx, {
          establishmentId: appointment.establishmentId,
          actor,
          actorRole: roleHere ?? 'patient',
          ip,
          action: 'teleconsult.join',
          resourceKind: 'teleconsultation',
          resourceIds: [appointment.id],
          patientIds: [appointment.patientId],
          categories: ['administrative'],
          outcome: 'denied',
        }),
      );
      throw new DomainError('not_found');
    }
    return { appointment, role, userId: actor.userId };
  }

  function gateRequest(actor: Actor, appointment: TeleconsultAppointment, auditAction: string, ip: string | null, categories: Array<'identity' | 'administrative'> = ['administrative']) {
    return {
      actor,
      establishmentId: appointment.establishmentId,
      action: auditAction === 'teleconsult.invite' ? ('write' as const) : ('read' as const),
      resourceKind: 'teleconsultation',
      auditAction,
      categories,
      patientIds: [appointment.patientId],
      resourceIds: [appointment.id],
      purpose: 'teleconsultation',
      ip,
    };
  }

  return {
    async info(actor: Actor, appointmentId: string, ip: string | null): Promise<TeleconsultInfo> {
      const { appointment, role } = await locate(actor, appointmentId, ip);
      const { value } = await gate.access(gateRequest(actor, appointment, 'teleconsult.view', ip), async () => {
        const refusal = joinRefusal(deps.now(), appointment) ?? null;
        const { opensAt, closesAt } = joinWindow(appointment.startsAt, appointment.endsAt);
        return {
          appointmentId: appointment.id,
          role,
          start: appointment.startsAt.toISOString(),
          end: appointment.endsAt.toISOString(),
          opensAt: opensAt.toISOString(),
          closesAt: closesAt.toISOString(),
          timeZone: appointment.timeZone,
          refusal,
          ice: refusal === null ? iceSettings(deps.config.teleconsult, new Date(deps.now())) : null,
        };
      });
      return value;
    },

    /** Checks a WebSocket join before the upgrade: a party, inside the window, through the gate. */
    async admit(actor: Actor, appointmentId: string, ip: string | null): Promise<Admission> {
      const { appointment, role, userId } = await locate(actor, appointmentId, ip);
      const refusal = joinRefusal(deps.now(), appointment);
      if (refusal) throw new DomainError('forbidden', REFUSAL_TEXT[refusal]);
      // The practitioner sees the waiting patient's name: an identity read, through the gate.
      const { value } = await gate.access(gateRequest(actor, appointment, 'teleconsult.join', ip, ['identity', 'administrative']), async (tx) => {
        const names = await teleconsultPartyNames(tx, deps.vault, appointment.id);
        if (!names) throw new DomainError('not_found');
        if (role === 'patient') return names.patient;
        if (role === 'practitioner') return names.practitioner;
        return (await practitionerNameOfUser(tx, userId)) ?? names.practitioner;
      });
      return {
        role,
        name: value,
        room: { appointmentId: appointment.id, establishmentId: appointment.establishmentId, patientId: appointment.patientId, closesAt: joinWindow(appointment.startsAt, appointment.endsAt).closesAt },
      };
    },

    /** The appointment's practitioner invites a colleague of the establishment into the call. */
    async inviteGuest(actor: Actor, appointmentId: string, practitionerId: string, ip: string | null): Promise<{ status: 'invited'; name: string }> {
      const { appointment, role, userId } = await locate(actor, appointmentId, ip);
      if (role !== 'practitioner') throw new DomainError('forbidden', 'Only the appointment’s practitioner invites colleagues');
      const { value } = await gate.access(gateRequest(actor, appointment, 'teleconsult.invite', ip), async (tx) => {
        const guest = await practitionerAccountHere(tx, appointment.establishmentId, practitionerId);
        if (!guest || guest.userId === userId) throw new DomainError('not_found', 'No other practitioner with an account here has this id');
        await store.insertGuest(tx, { establishmentId: appointment.establishmentId, appointmentId: appointment.id, guestUserId: guest.userId, invitedByUserId: userId });
        return guest.name;
      });
      return { status: 'invited', name: value };
    },

    /** Records the start or end of a call (its content is never recorded). */
    async recordCall(kind: 'start' | 'end', room: RoomInfo, actor: Actor | undefined): Promise<void> {
      const auditAction = kind === 'start' ? 'teleconsult.call_start' : 'teleconsult.call_end';
      const who: Actor = actor ?? { kind: 'system', name: 'teleconsult' };
      await gate.access(
        {
          actor: who,
          establishmentId: room.establishmentId,
          action: 'read',
          resourceKind: 'teleconsultation',
          auditAction,
          categories: ['administrative'],
          patientIds: [room.patientId],
          resourceIds: [room.appointmentId],
          purpose: 'teleconsultation',
        },
        async () => undefined,
      );
    },
  };
}
export type TeleconsultService = ReturnType<typeof createTeleconsultService>;

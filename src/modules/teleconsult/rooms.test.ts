import { describe, expect, it } from 'vitest';
import { createRoomRegistry, type Peer, type RoomHooks } from './rooms.js';
import type { ServerMessage } from './protocol.js';

function peer(userId: string, role: Peer['role']): Peer & { inbox: ServerMessage[]; closed: boolean } {
  const p = {
    peerId: `peer-${userId}-${Math.random().toString(36).slice(2, 8)}`,
    userId,
    role,
    name: userId,
    context: undefined,
    inbox: [] as ServerMessage[],
    closed: false,
    send(m: ServerMessage) {
      p.inbox.push(m);
    },
    close() {
      p.closed = true;
    },
  };
  return p;
}

function registry() {
  const calls: string[] = [];
  const hooks: RoomHooks = {
    onCallStart: async () => void calls.push('start'),
    onCallEnd: async () => void calls.push('end'),
    onError: (e) => {
      throw e;
    },
  };
  return { rooms: createRoomRegistry(hooks, () => 0), calls };
}

const info = { appointmentId: 'a1', establishmentId: 'e1', patientId: 'p1', closesAt: new Date(3_600_000) };

describe('call rooms', () => {
  it('keeps the patient waiting until admitted, then starts and ends the call once', () => {
    const { rooms, calls } = registry();
    const patient = peer('pat', 'patient');
    const doctor = peer('doc', 'practitioner');
    rooms.join(info, patient);
    rooms.join(info, doctor);
    expect(rooms.snapshot('a1')).toMatchObject({ waiting: ['pat'], inCall: ['doc'], started: false });
    rooms.handle(patient, { type: 'chat', text: 'hello?' });
    expect(patient.inbox.at(-1)).toEqual({ type: 'error', code: 'not_in_call' });
    rooms.handle(doctor, { type: 'admit', peerId: patient.peerId });
    expect(rooms.snapshot('a1')).toMatchObject({ waiting: [], inCall: ['pat', 'doc'], started: true });
    expect(calls).toEqual(['start']);
    rooms.handle(patient, { type: 'leave' });
    rooms.handle(doctor, { type: 'leave' });
    expect(calls).toEqual(['start', 'end']);
    expect(rooms.snapshot('a1')).toBeUndefined();
  });

  it('a reload replaces the connection, even of someone alone in the room, and the parties still meet', () => {
    const { rooms } = registry();
    const first = peer('pat', 'patient');
    rooms.join(info, first);
    const second = peer('pat', 'patient');
    rooms.join(info, second);
    expect(first.closed).toBe(true);
    expect(first.inbox).toContainEqual({ type: 'ended', reason: 'replaced' });
    const doctor = peer('doc', 'practitioner');
    rooms.join(info, doctor);
    expect(rooms.snapshot('a1')).toMatchObject({ waiting: ['pat'], inCall: ['doc'] });
    expect(doctor.inbox).toContainEqual({ type: 'waiting', waiting: [{ peerId: second.peerId, name: 'pat', role: 'patient' }] });
  });

  it('relays signalling only between admitted peers, and never to oneself', () => {
    const { rooms } = registry();
    const patient = peer('pat', 'patient');
    const doctor = peer('doc', 'practitioner');
    rooms.join(info, doctor);
    rooms.join(info, patient);
    rooms.handle(doctor, { type: 'offer', to: patient.peerId, sdp: 'v=0' });
    expect(doctor.inbox.at(-1)).toEqual({ type: 'error', code: 'not_in_call' });
    expect(patient.inbox.some((m) => m.type === 'offer')).toBe(false);
    rooms.handle(doctor, { type: 'offer', to: doctor.peerId, sdp: 'v=0' });
    expect(doctor.inbox.at(-1)).toEqual({ type: 'error', code: 'not_in_call' });
  });
});

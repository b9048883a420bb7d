// Call rooms, in this process's memory: who is connected to which video appointment, who waits,
// who is in the call. Nothing here is stored: the waiting room, the SDP, the ICE candidates and the
// chat lines live as long as the connections. (Several instances behind a load balancer must send
// one appointment's connections to the same instance, e.g. by hashing the URL path.)
import { randomBytes } from 'node:crypto';
import type { ClientMessage, PeerView, ServerMessage } from './protocol.js';
import type { Participation } from './window.js';

export interface RoomInfo {
  appointmentId: string;
  establishmentId: string;
  patientId: string;
  closesAt: Date;
}

export interface Peer {
  readonly peerId: string;
  readonly userId: string;
  readonly role: Participation;
  readonly name: string;
  /** Opaque to the registry: the route's actor, for the audit hooks. */
  readonly context: unknown;
  send(message: ServerMessage): void;
  close(code: number, reason: string): void;
}

export interface RoomHooks {
  /** The first time a host admits the patient: the call starts. */
  onCallStart(room: RoomInfo, host: Peer): Promise<void>;
  /** The last participant of a started call left, or the window closed. */
  onCallEnd(room: RoomInfo, last: Peer | undefined): Promise<void>;
  onError(error: unknown): void;
}

/** A token bucket: `capacity` messages at once, `perSecond` more each second. */
export class TokenBucket {
  private tokens: number;
  private last: number;
  constructor(
    private readonly capacity: number,
    private readonly perSecond: number,
    private readonly now: () => number,
  ) {
    this.tokens = capacity;
    this.last = now();
  }
  take(): boolean {
    const t = this.now();
    this.tokens = Math.min(this.capacity, this.tokens + ((t - this.last) / 1000) * this.perSecond);
    this.last = t;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

/** Signalling (ICE candidates come in bursts) and chat have their own limits. */
export const MESSAGE_LIMIT = { capacity: 120, perSecond: 20 };
export const CHAT_LIMIT = { capacity: 5, perSecond: 1 };
/** Refused messages after which the connection is closed. */
export const MAX_REFUSALS = 50;

interface Member {
  peer: Peer;
  admitted: boolean;
  messages: TokenBucket;
  chat: TokenBucket;
  refusals: number;
}

interface Room {
  info: RoomInfo;
  members: Map<string, Member>;
  /** Users admitted once: a reload does not send the patient back to the waiting room. */
  admittedUsers: Set<string>;
  started: boolean;
  timer: NodeJS.Timeout;
}

const view = (m: Member): PeerView => ({ peerId: m.peer.peerId, name: m.peer.name, role: m.peer.role });
const isHost = (m: Member) => m.peer.role !== 'patient';

export function newPeerId(): string {
  return randomBytes(12).toString('base64url');
}

export function createRoomRegistry(hooks: RoomHooks, now: () => number = Date.now) {
  const rooms = new Map<string, Room>();

  const admitted = (room: Room) => [...room.members.values()].filter((m) => m.admitted);
  const notifyWaiting = (room: Room) => {
    const waiting = [...room.members.values()].filter((m) => !m.admitted).map(view);
    for (const m of room.members.values()) if (isHost(m)) m.peer.send({ type: 'waiting', waiting });
  };

  function enterCall(room: Room, member: Member): void {
    member.admitted = true;
    room.admittedUsers.add(member.peer.userId);
    const others = admitted(room).filter((m) => m !== member);
    // The newcomer calls the others (it sends the offers); they are told who is coming.
    member.peer.send({ type: 'peers', peers: others.map(view) });
    for (const m of others) m.peer.send({ type: 'peer-joined', peer: view(member) });
  }

  function endRoom(room: Room, reason: 'window_closed'): void {
    clearTimeout(room.timer);
    rooms.delete(room.info.appointmentId);
    for (const m of room.members.values()) {
      m.peer.send({ type: 'ended', reason });
      m.peer.close(4000, reason);
    }
    if (room.started) hooks.onCallEnd(room.info, undefined).catch(hooks.onError);
  }

  function remove(room: Room, member: Member): void {
    if (room.members.get(member.peer.peerId) !== member) return;
    room.members.delete(member.peer.peerId);
    for (const m of admitted(room)) m.peer.send({ type: 'peer-left', peerId: member.peer.peerId });
    notifyWaiting(room);
    if (room.started && member.admitted && admitted(room).length === 0) {
      room.started = false;
      hooks.onCallEnd(room.info, member.peer).catch(hooks.onError);
    }
    if (room.members.size === 0) {
      clearTimeout(room.timer);
      rooms.delete(room.info.appointmentId);
    }
  }

  function find(peer: Peer): { room: Room; member: Member } | undefined {
    for (const room of rooms.values()) {
      const member = room.members.get(peer.peerId);
      if (member && member.peer === peer) return { room, member };
    }
    return undefined;
  }

  return {
    /** Adds a connection; a second connection of the same user replaces the first (a reload). */
    join(info: RoomInfo, peer: Peer): void {
      // First drop the user's previous connection: if it was alone, its room goes with it, and
      // the new connection must not be left in a room that is no longer registered.
      const previous = rooms.get(info.appointmentId);
      for (const m of previous ? [...previous.members.values()] : []) {
        if (m.peer.userId === peer.userId) {
          m.peer.send({ type: 'ended', reason: 'replaced' });
          remove(previous!, m);
          m.peer.close(4000, 'replaced');
        }
      }
      let room = rooms.get(info.appointmentId);
      if (!room) {
        const delay = Math.max(0, info.closesAt.getTime() - now());
        const created: Room = { info, members: new Map(), admittedUsers: new Set(), started: false, timer: setTimeout(() => endRoom(created, 'window_closed'), delay) };
        created.timer.unref();
        rooms.set(info.appointmentId, created);
        room = created;
      }
      const member: Member = {
        peer,
        admitted: false,
        messages: new TokenBucket(MESSAGE_LIMIT.capacity, MESSAGE_LIMIT.perSecond, now),
        chat: new TokenBucket(CHAT_LIMIT.capacity, CHAT_LIMIT.perSecond, now),
        refusals: 0,
      };
      room.members.set(peer.peerId, member);
      const admitNow = isHost(member) || room.admittedUsers.has(peer.userId);
      peer.send({ type: 'welcome', peerId: peer.peerId, role: peer.role, admitted: admitNow, closesAt: info.closesAt.toISOString() });
      if (admitNow) enterCall(room, member);
      notifyWaiting(room);
    },

    /** One validated message from a peer. */
    handle(peer: Peer, message: ClientMessage): void {
      const found = find(peer);
      if (!found) return;
      const { room, member } = found;
      const refuse = (code: 'rate_limited' | 'forbidden' | 'not_in_call') => {
        member.refusals += 1;
        peer.send({ type: 'error', code });
        if (member.refusals >= MAX_REFUSALS) {
          remove(room, member);
          peer.close(1008, 'too many refused messages');
        }
      };
      if (!member.messages.take() || (message.type === 'chat' && !member.chat.take())) return refuse('rate_limited');
      if (message.type === 'leave') {
        remove(room, member);
        peer.send({ type: 'ended', reason: 'left' });
        peer.close(1000, 'left');
        return;
      }
      if (message.type === 'admit') {
        const target = room.members.get(message.peerId);
        if (!isHost(member) || !target || target.admitted) return refuse('forbidden');
        target.peer.send({ type: 'admitted' });
        enterCall(room, target);
        notifyWaiting(room);
        if (!room.started) {
          room.started = true;
          hooks.onCallStart(room.info, peer).catch(hooks.onError);
        }
        return;
      }
      if (!member.admitted) return refuse('not_in_call');
      switch (message.type) {
        case 'offer':
        case 'answer':
        case 'ice': {
          const target = room.members.get(message.to);
          if (!target?.admitted || target === member) return refuse('not_in_call');
          if (message.type === 'ice') target.peer.send({ type: 'ice', from: peer.peerId, candidate: message.candidate });
          else target.peer.send({ type: message.type, from: peer.peerId, sdp: message.sdp });
          return;
        }
        case 'chat': {
          // Relayed to the call's participants and forgotten: never stored, never logged.
          const line: ServerMessage = { type: 'chat', from: peer.peerId, name: peer.name, text: message.text, at: new Date(now()).toISOString() };
          for (const m of admitted(room)) m.peer.send(line);
          return;
        }
        case 'media':
          for (const m of admitted(room)) if (m !== member) m.peer.send({ type: 'media', from: peer.peerId, audio: message.audio, video: message.video });
          return;
      }
    },

    /** The connection closed (or must close: session revoked). */
    leave(peer: Peer): void {
      const found = find(peer);
      if (found) remove(found.room, found.member);
    },

    /** Ends every call (server shutdown). */
    closeAll(): void {
      for (const room of [...rooms.values()]) {
        clearTimeout(room.timer);
        rooms.delete(room.info.appointmentId);
        for (const m of room.members.values()) m.peer.close(1001, 'server shutting down');
      }
    },

    /** For tests: who is in a room. */
    snapshot(appointmentId: string): { waiting: string[]; inCall: string[]; started: boolean } | undefined {
      const room = rooms.get(appointmentId);
      if (!room) return undefined;
      const members = [...room.members.values()];
      return { waiting: members.filter((m) => !m.admitted).map((m) => m.peer.userId), inCall: members.filter((m) => m.admitted).map((m) => m.peer.userId), started: room.started };
    },
  };
}

export type RoomRegistry = ReturnType<typeof createRoomRegistry>;

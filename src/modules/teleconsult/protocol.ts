// The signalling protocol spoken over the call's WebSocket. Every message from a browser is
// parsed and checked against these schemas (unknown types and fields refused) before anything is
// relayed; the server only forwards SDP and ICE candidates between the call's admitted peers and
// never looks inside them. Chat lines are relayed and forgotten.
import { Type, type Static } from 'typebox';
import { Compile } from 'typebox/compile';

const PeerId = Type.String({ pattern: '^[A-Za-z0-9_-]{8,32}$' });
const Sdp = Type.String({ minLength: 1, maxLength: 20_000 });

export const ClientMessage = Type.Union([
  Type.Object({ type: Type.Literal('offer'), to: PeerId, sdp: Sdp }, { additionalProperties: false }),
  Type.Object({ type: Type.Literal('answer'), to: PeerId, sdp: Sdp }, { additionalProperties: false }),
  Type.Object(
    {
      type: Type.Literal('ice'),
      to: PeerId,
      candidate: Type.Object(
        {
          candidate: Type.String({ maxLength: 1_000 }),
          sdpMid: Type.Optional(Type.Union([Type.String({ maxLength: 64 }), Type.Null()])),
          sdpMLineIndex: Type.Optional(Type.Union([Type.Integer({ minimum: 0, maximum: 64 }), Type.Null()])),
          usernameFragment: Type.Optional(Type.Union([Type.String({ maxLength: 256 }), Type.Null()])),
        },
        { additionalProperties: false },
      ),
    },
    { additionalProperties: false },
  ),
  /** Host only: let a waiting patient into the call. */
  Type.Object({ type: Type.Literal('admit'), peerId: PeerId }, { additionalProperties: false }),
  Type.Object({ type: Type.Literal('chat'), text: Type.String({ minLength: 1, maxLength: 2_000 }) }, { additionalProperties: false }),
  /** Mute and camera state, shown to the others. */
  Type.Object({ type: Type.Literal('media'), audio: Type.Boolean(), video: Type.Boolean() }, { additionalProperties: false }),
  Type.Object({ type: Type.Literal('leave') }, { additionalProperties: false }),
]);
export type ClientMessage = Static<typeof ClientMessage>;

const checker = Compile(ClientMessage);

/** Parses one frame; undefined when it is not JSON or not a valid message. */
export function parseClientMessage(raw: string): ClientMessage | undefined {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return undefined;
  }
  return checker.Check(value) ? (value as ClientMessage) : undefined;
}

export interface PeerView {
  peerId: string;
  name: string;
  role: 'patient' | 'practitioner' | 'guest';
}

export type ServerMessage =
  | { type: 'welcome'; peerId: string; role: PeerView['role']; admitted: boolean; closesAt: string }
  | { type: 'waiting'; waiting: PeerView[] }
  | { type: 'admitted' }
  | { type: 'peers'; peers: PeerView[] }
  | { type: 'peer-joined'; peer: PeerView }
  | { type: 'peer-left'; peerId: string }
  | { type: 'offer' | 'answer'; from: string; sdp: string }
  | { type: 'ice'; from: string; candidate: unknown }
  | { type: 'chat'; from: string; name: string; text: string; at: string }
  | { type: 'media'; from: string; audio: boolean; video: boolean }
  | { type: 'error'; code: 'invalid_message' | 'rate_limited' | 'forbidden' | 'not_in_call' }
  | { type: 'ended'; reason: 'window_closed' | 'session_ended' | 'replaced' | 'left' };

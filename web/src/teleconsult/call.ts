// The browser side of a video consultation: the signalling WebSocket (same origin, the session
// cookie authenticates it) and one RTCPeerConnection per other participant. Media flows peer to
// peer (DTLS-SRTP), or through the configured TURN relay; the server only relays SDP, ICE
// candidates and chat lines, and keeps none of them.

export interface IceSettings {
  iceServers: Array<{ urls: string[]; username?: string; credential?: string }>;
  iceTransportPolicy: 'all' | 'relay';
}

export type Role = 'patient' | 'practitioner' | 'guest';
export interface PeerView {
  peerId: string;
  name: string;
  role: Role;
}
export interface ChatLine {
  from: string;
  name: string;
  text: string;
  at: string;
  mine: boolean;
}
export type CallPhase = 'connecting' | 'waiting' | 'in_call' | 'ended';
export type EndReason = 'window_closed' | 'session_ended' | 'replaced' | 'left' | 'refused' | 'connection_lost';

export interface CallState {
  phase: CallPhase;
  endReason?: EndReason;
  selfId?: string;
  role?: Role;
  waiting: PeerView[];
  peers: Array<PeerView & { stream?: MediaStream; audio: boolean; video: boolean }>;
  chat: ChatLine[];
  error?: string;
}

type ServerMessage =
  | { type: 'welcome'; peerId: string; role: Role; admitted: boolean }
  | { type: 'waiting'; waiting: PeerView[] }
  | { type: 'admitted' }
  | { type: 'peers'; peers: PeerView[] }
  | { type: 'peer-joined'; peer: PeerView }
  | { type: 'peer-left'; peerId: string }
  | { type: 'offer' | 'answer'; from: string; sdp: string }
  | { type: 'ice'; from: string; candidate: RTCIceCandidateInit }
  | { type: 'chat'; from: string; name: string; text: string; at: string }
  | { type: 'media'; from: string; audio: boolean; video: boolean }
  | { type: 'error'; code: string }
  | { type: 'ended'; reason: EndReason };

export class CallClient {
  private ws: WebSocket | undefined;
  private readonly connections = new Map<string, RTCPeerConnection>();
  private state: CallState = { phase: 'connecting', waiting: [], peers: [], chat: [] };
  private ended = false;

  constructor(
    private readonly appointmentId: string,
    private readonly ice: IceSettings,
    private readonly local: MediaStream,
    private readonly onChange: (state: CallState) => void,
  ) {}

  start(): void {
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const ws = new WebSocket(`${scheme}//${location.host}/api/v1/teleconsultations/${encodeURIComponent(this.appointmentId)}/signal`);
    this.ws = ws;
    ws.onmessage = (event) => {
      if (typeof event.data !== 'string') return;
      void this.receive(JSON.parse(event.data) as ServerMessage);
    };
    ws.onclose = () => {
      if (!this.ended) this.finish(this.state.phase === 'connecting' ? 'refused' : 'connection_lost');
    };
  }

  admit(peerId: string): void {
    this.send({ type: 'admit', peerId });
  }

  chat(text: string): void {
    this.send({ type: 'chat', text });
  }

  setMedia(audio: boolean, video: boolean): void {
    for (const t of this.local.getAudioTracks()) t.enabled = audio;
    for (const t of this.local.getVideoTracks()) t.enabled = video;
    if (this.state.phase === 'in_call') this.send({ type: 'media', audio, video });
  }

  hangUp(): void {
    this.send({ type: 'leave' });
    this.finish('left');
  }

  /** For tests and diagnostics: the peer connections' statistics. */
  async stats(): Promise<RTCStatsReport[]> {
    return Promise.all([...this.connections.values()].map((pc) => pc.getStats()));
  }

  private send(message: unknown): void {
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(message));
  }

  private update(patch: Partial<CallState>): void {
    this.state = { ...this.state, ...patch };
    this.onChange(this.state);
  }

  private finish(reason: EndReason): void {
    if (this.ended) return;
    this.ended = true;
    for (const pc of this.connections.values()) pc.close();
    this.connections.clear();
    for (const t of this.local.getTracks()) t.stop();
    this.ws?.close();
    this.update({ phase: 'ended', endReason: reason, peers: [], waiting: [] });
  }

  private connectionTo(peer: PeerView): RTCPeerConnection {
    const existing = this.connections.get(peer.peerId);
    if (existing) return existing;
    const pc = new RTCPeerConnection({ iceServers: this.ice.iceServers, iceTransportPolicy: this.ice.iceTransportPolicy });
    this.connections.set(peer.peerId, pc);
    for (const track of this.local.getTracks()) pc.addTrack(track, this.local);
    pc.onicecandidate = (event) => {
      if (event.candidate) this.send({ type: 'ice', to: peer.peerId, candidate: event.candidate.toJSON() });
    };
    pc.ontrack = (event) => {
      const stream = event.streams[0] ?? new MediaStream([event.track]);
      this.update({ peers: this.state.peers.map((p) => (p.peerId === peer.peerId ? { ...p, stream } : p)) });
    };
    if (!this.state.peers.some((p) => p.peerId === peer.peerId)) {
      this.update({ peers: [...this.state.peers, { ...peer, audio: true, video: true }] });
    }
    return pc;
  }

  private async receive(m: ServerMessage): Promise<void> {
    switch (m.type) {
      case 'welcome':
        this.update({ selfId: m.peerId, role: m.role, phase: m.admitted ? 'in_call' : 'waiting' });
        return;
      case 'waiting':
        this.update({ waiting: m.waiting });
        return;
      case 'admitted':
        this.update({ phase: 'in_call' });
        return;
      case 'peers':
        // The newcomer calls everyone already in the call.
        for (const peer of m.peers) {
          const pc = this.connectionTo(peer);
          await pc.setLocalDescription(await pc.createOffer());
          this.send({ type: 'offer', to: peer.peerId, sdp: pc.localDescription?.sdp });
        }
        return;
      case 'peer-joined':
        this.connectionTo(m.peer);
        return;
      case 'peer-left': {
        this.connections.get(m.peerId)?.close();
        this.connections.delete(m.peerId);
        this.update({ peers: this.state.peers.filter((p) => p.peerId !== m.peerId) });
        return;
      }
      case 'offer': {
        const peer = this.state.peers.find((p) => p.peerId === m.from) ?? { peerId: m.from, name: '', role: 'practitioner' as const };
        const pc = this.connectionTo(peer);
        await pc.setRemoteDescription({ type: 'offer', sdp: m.sdp });
        await pc.setLocalDescription(await pc.createAnswer());
        this.send({ type: 'answer', to: m.from, sdp: pc.localDescription?.sdp });
        return;
      }
      case 'answer':
        await this.connections.get(m.from)?.setRemoteDescription({ type: 'answer', sdp: m.sdp });
        return;
      case 'ice':
        await this.connections.get(m.from)?.addIceCandidate(m.candidate);
        return;
      case 'chat':
        this.update({ chat: [...this.state.chat, { from: m.from, name: m.name, text: m.text, at: m.at, mine: m.from === this.state.selfId }].slice(-200) });
        return;
      case 'media':
        this.update({ peers: this.state.peers.map((p) => (p.peerId === m.from ? { ...p, audio: m.audio, video: m.video } : p)) });
        return;
      case 'error':
        this.update({ error: m.code });
        return;
      case 'ended':
        this.finish(m.reason);
        return;
    }
  }
}

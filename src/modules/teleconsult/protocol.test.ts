import { describe, expect, it } from 'vitest';
import { parseClientMessage } from './protocol.js';

describe('signalling messages', () => {
  it('accepts the protocol messages', () => {
    for (const m of [
      { type: 'offer', to: 'abcdefgh12', sdp: 'v=0' },
      { type: 'answer', to: 'abcdefgh12', sdp: 'v=0' },
      { type: 'ice', to: 'abcdefgh12', candidate: { candidate: 'candidate:1 1 udp 1 127.0.0.1 5000 typ host', sdpMid: '0', sdpMLineIndex: 0 } },
      { type: 'admit', peerId: 'abcdefgh12' },
      { type: 'chat', text: 'Bonjour' },
      { type: 'media', audio: false, video: true },
      { type: 'leave' },
    ]) {
      expect(parseClientMessage(JSON.stringify(m)), m.type).toEqual(m);
    }
  });

  it('refuses anything else', () => {
    for (const raw of [
      'not json',
      '[]',
      '{}',
      JSON.stringify({ type: 'chat', text: '' }),
      JSON.stringify({ type: 'chat', text: 'x'.repeat(2001) }),
      JSON.stringify({ type: 'chat', text: 'hi', store: true }),
      JSON.stringify({ type: 'offer', to: '../../etc', sdp: 'v=0' }),
      JSON.stringify({ type: 'offer', to: 'abcdefgh12', sdp: 'x'.repeat(20_001) }),
      JSON.stringify({ type: 'admit' }),
      JSON.stringify({ type: 'record', on: true }),
      JSON.stringify({ type: 'ice', to: 'abcdefgh12', candidate: { candidate: 'c', extra: 1 } }),
    ]) {
      expect(parseClientMessage(raw), raw.slice(0, 40)).toBeUndefined();
    }
  });
});

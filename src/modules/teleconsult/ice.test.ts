import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../config.js';
import { iceSettings } from './ice.js';

describe('ICE settings', () => {
  it('gives no server when none is configured (direct connection)', () => {
    expect(iceSettings(loadConfig({}).teleconsult, new Date())).toEqual({ iceServers: [], iceTransportPolicy: 'all' });
  });

  it('derives short-lived coturn credentials from the shared secret', () => {
    const secret = 'a-very-long-shared-secret-for-coturn-0123456789';
    const config = loadConfig({
      HYGIE_STUN_URLS: 'stun:turn.example.org:3478',
      HYGIE_TURN_URLS: 'turn:turn.example.org:3478?transport=udp, turns:turn.example.org:5349',
      HYGIE_TURN_SECRET: secret,
      HYGIE_TURN_TTL: '600',
      HYGIE_TELECONSULT_RELAY_ONLY: 'true',
    }).teleconsult;
    const now = new Date('2026-11-24T09:00:00Z');
    const settings = iceSettings(config, now);
    expect(settings.iceTransportPolicy).toBe('relay');
    expect(settings.iceServers[0]).toEqual({ urls: ['stun:turn.example.org:3478'] });
    const turn = settings.iceServers[1]!;
    expect(turn.urls).toEqual(['turn:turn.example.org:3478?transport=udp', 'turns:turn.example.org:5349']);
    const [expiry] = turn.username!.split(':');
    expect(Number(expiry)).toBe(now.getTime() / 1000 + 600);
    expect(turn.credential).toBe(createHmac('sha1', secret).update(turn.username!).digest('base64'));
    // The secret itself never leaves the server, nor is it printed with the configuration.
    expect(JSON.stringify(settings)).not.toContain(secret);
    expect(JSON.stringify(config)).not.toContain(secret);
  });

  it('refuses half or bad TURN settings with one line each', () => {
    expect(() => loadConfig({ HYGIE_TURN_URLS: 'turn:x.example' })).toThrow(/HYGIE_TURN_URLS and HYGIE_TURN_SECRET go together/);
    expect(() => loadConfig({ HYGIE_TURN_URLS: 'turn:x.example', HYGIE_TURN_SECRET: 'short' })).toThrow(/at least 32/);
    expect(() => loadConfig({ HYGIE_STUN_URLS: 'http://x.example' })).toThrow(/stun:/);
    expect(() => loadConfig({ HYGIE_TELECONSULT_RELAY_ONLY: 'true' })).toThrow(/needs HYGIE_TURN_URLS/);
  });
});

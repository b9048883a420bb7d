// The teleconsultation module's public face: video appointments between a patient and their
// practitioner (WebRTC peer to peer, signalling over a WebSocket on this server).
import type { FastifyPluginAsync } from 'fastify';
import type { Config } from '../../config.js';
import type { Database } from '../../platform/db/database.js';
import type { Actor, Authenticator } from '../../platform/http/context.js';
import type { Logger } from '../../platform/log.js';
import type { AccessGate } from '../access/index.js';
import { createRoomRegistry, type RoomRegistry } from './rooms.js';
import { teleconsultPlugin } from './routes.js';
import { createTeleconsultService } from './service.js';
import { createTeleconsultStore } from './store.js';
import type { Vault } from '../vault/index.js';

export { joinWindow, OPENS_BEFORE_MS, CLOSES_AFTER_MS } from './window.js';
export { iceSettings, type IceSettings } from './ice.js';

export interface TeleconsultDeps {
  config: Config;
  db: Database;
  gate: AccessGate;
  /** Opens the waiting patient's name (encrypted by records). */
  vault: Vault;
  logger: Logger;
  /** The session authenticator, to re-check an open call's session. */
  authenticate: Authenticator;
  /** Epoch milliseconds; tests pin it. */
  now?: () => number;
}

export function createTeleconsultModule(deps: TeleconsultDeps): { routes: FastifyPluginAsync; rooms: RoomRegistry } {
  const now = deps.now ?? Date.now;
  const service = createTeleconsultService({ db: deps.db, gate: deps.gate, vault: deps.vault, store: createTeleconsultStore(), config: deps.config, now });
  const rooms = createRoomRegistry(
    {
      onCallStart: (room, host) => service.recordCall('start', room, host.context as Actor),
      onCallEnd: (room, last) => service.recordCall('end', room, last?.context as Actor | undefined),
      onError: (error) => deps.logger.error({ err: error }, 'teleconsultation audit failed'),
    },
    now,
  );
  return { routes: teleconsultPlugin({ service, rooms, authenticate: deps.authenticate }), rooms };
}

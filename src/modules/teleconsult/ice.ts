// The ICE servers a browser gets for a call. TURN credentials follow the "TURN REST API" scheme
// that coturn implements with `use-auth-secret`: username = "<expiry>:<opaque id>", password =
// base64(HMAC-SHA1(shared secret, username)). They expire on their own, so a leaked one is worth
// little, and the TURN server needs no database of users. The opaque id is a random value per
// request: the TURN server's logs name no account.
import { createHmac, randomBytes } from 'node:crypto';
import type { TeleconsultConfig } from '../../config.js';

export interface IceServer {
  urls: string[];
  username?: string;
  credential?: string;
}

export interface IceSettings {
  iceServers: IceServer[];
  iceTransportPolicy: 'all' | 'relay';
}

export function iceSettings(config: TeleconsultConfig, now: Date): IceSettings {
  const servers: IceServer[] = [];
  if (config.stunUrls.length > 0) servers.push({ urls: config.stunUrls });
  const secret = config.turnSecret?.keys[0];
  if (config.turnUrls.length > 0 && secret) {
    const expiry = Math.floor(now.getTime() / 1000) + config.turnTtlSeconds;
    const username = `${expiry}:${randomBytes(9).toString('base64url')}`;
    const credential = createHmac('sha1', secret).update(username).digest('base64');
    servers.push({ urls: config.turnUrls, username, credential });
  }
  return { iceServers: servers, iceTransportPolicy: config.relayOnly ? 'relay' : 'all' };
}

/**
 * TURN REST-API credentials (coturn `use-auth-secret`): username `<expiry unix s>:<user>`,
 * credential base64(HMAC-SHA1(shared secret, username)). The TURN server checks both.
 */
import { createHmac } from 'node:crypto';
import type { TurnCredentials } from '../../protocol/workspace/models';

export interface TurnConfig {
  urls: string[];
  secret: string | undefined;
  ttlSeconds: number;
}

export function turnCredentials(config: TurnConfig, user: string, nowMs: number): TurnCredentials {
  const expiry = Math.floor(nowMs / 1000) + config.ttlSeconds;
  const expiresAt = new Date(expiry * 1000).toISOString();
  if (!config.secret || config.urls.length === 0) return { iceServers: [], ttlSeconds: config.ttlSeconds, expiresAt };
  const username = `${expiry}:${user}`;
  const credential = createHmac('sha1', config.secret).update(username).digest('base64');
  return { iceServers: [{ urls: config.urls, username, credential }], ttlSeconds: config.ttlSeconds, expiresAt };
}

/** What every service receives: the database, the write queue, crypto, the clock, the logger, settings and the live-session controls. */
import type { Role } from '../../protocol/workspace/common';
import type { SecretBox } from '../crypto/keys';
import type { ScryptCost } from '../crypto/passwords';
import type { SessionTokenSigner } from '../crypto/tokens';
import type { TurnConfig } from '../crypto/turn';
import type { Store } from '../db/store';
import type { WriteQueue } from '../db/writeQueue';
import type { Logger } from '../log';

/** The WebSocket side, as the services see it (revocation and presence). */
export interface SessionControl {
  closeMember(workspaceId: string, memberId: string, reason: string): void;
  /** Closes (4401) every socket whose session token was minted under that sign-in. */
  closeSignIn(signInId: string, reason: string): void;
  closeInstance(instanceId: string, reason: string): void;
  closeWorkspace(workspaceId: string, reason: string): void;
  setRole(workspaceId: string, memberId: string, role: Role): void;
  /** Whether a socket of the instance is open (on any node when several share the database). */
  isInstanceConnected(instanceId: string): Promise<boolean>;
}

export interface ServiceSettings {
  scryptCost: ScryptCost;
  maxFailedLogins: number;
  lockoutMs: number;
  accountTokenTtlMs: number;
  inviteTtlMs: number;
  heartbeatIntervalMs: number;
  turn: TurnConfig;
}

/** Set when several nodes share a PostgreSQL database. */
export interface ClusterInfo {
  nodeId: string;
  /** A node whose heartbeat is older than this is dead (its sockets are gone). */
  staleMs: number;
}

export interface ServerContext {
  /** The storage port (SQLite or PostgreSQL). */
  db: Store;
  queue: WriteQueue;
  /** AES-256-GCM under a key derived from the master key. */
  box: SecretBox;
  signer: SessionTokenSigner;
  now(): number;
  log: Logger;
  settings: ServiceSettings;
  sessions: SessionControl;
  cluster?: ClusterInfo;
}

let lastMs = NaN;
let lastIso = '';
/** ISO-8601 of a unix-ms time (memoised: a batch formats the same instant many times). */
export function iso(ms: number): string {
  if (ms !== lastMs) {
    lastMs = ms;
    lastIso = new Date(ms).toISOString();
  }
  return lastIso;
}
export const isoOrNull = (ms: number | null | undefined): string | null => (ms === null || ms === undefined ? null : iso(ms));

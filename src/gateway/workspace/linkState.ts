/**
 * The workspace connection as the UI sees it: one state machine (`LinkPhase`) plus the details the
 * status bar tooltip shows. Cheap to import (no zod, no sockets): the extension reads it at activation;
 * the runtime link (`workspaceLink.ts`, loaded when the gateway starts) writes it.
 */
import type { Role } from '../../protocol/workspace/common';
import { Disposable, Emitter, type Event } from '../util/disposable';

/**
 * - `local`: no workspace configured: local agents and local tasks only.
 * - `signedOut`: a workspace URL is set (or a session ended: `reason` says why).
 * - `connecting` → `connected` → (`reconnecting` ⇄ `offline`) → `connected`.
 * - `error`: a failure reconnecting cannot fix (the server refuses the protocol, a bad URL).
 */
export type LinkPhase = 'local' | 'signedOut' | 'connecting' | 'connected' | 'reconnecting' | 'offline' | 'error';

/** Why the session ended, when `phase` is `signedOut`. */
export type SignedOutReason = 'never' | 'signedOut' | 'expired' | 'revoked';

export interface LinkWorkspace {
  id: string;
  slug: string;
  name: string;
  role: Role;
}

export interface LinkStatus {
  phase: LinkPhase;
  signedOutReason?: SignedOutReason;
  /** A short reason for `error`, `offline` and `signedOut` (expired / revoked). */
  message?: string;
  serverUrl?: string;
  workspace?: LinkWorkspace;
  user?: { email: string; name: string };
  memberId?: string;
  instance?: { id: string; name: string };
  /** Reconnect attempt (1-based) while `reconnecting` / `offline`. */
  attempt?: number;
  /** Epoch ms of the next attempt while `reconnecting` / `offline`. */
  retryAt?: number;
  /** Round trip of the last WebSocket ping. */
  latencyMs?: number;
  /** Epoch ms of the last heartbeat received from the server. */
  lastHeartbeatAt?: number;
  connectedAt?: number;
  /** Task updates persisted and not yet acknowledged by the workspace. */
  queued: number;
}

export const LOCAL_STATUS: LinkStatus = { phase: 'local', queued: 0 };

/** Holds the current LinkStatus and tells listeners when it changes. Owned by the Gateway across restarts. */
export class LinkStatusHolder extends Disposable {
  private _status: LinkStatus = LOCAL_STATUS;
  private readonly onDidChangeEmitter = this._register(new Emitter<LinkStatus>());
  readonly onDidChange: Event<LinkStatus> = this.onDidChangeEmitter.event;

  get current(): LinkStatus {
    return this._status;
  }

  /** Replaces the status (fires only when something changed). */
  set(next: LinkStatus): void {
    if (JSON.stringify(next) === JSON.stringify(this._status)) return;
    this._status = next;
    this.onDidChangeEmitter.fire(next);
  }

  update(patch: Partial<LinkStatus>): void {
    this.set({ ...this._status, ...patch });
  }
}

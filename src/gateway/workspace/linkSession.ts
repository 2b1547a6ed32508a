/**
 * The WSS session with the workspace server: mint a short-lived session token over REST (memory only),
 * open `/v1/ws`, `hello` with the last event seq processed (so missed events are replayed), then
 * heartbeats both ways and a watchdog that drops a half-open socket within two heartbeat intervals.
 *
 * Reconnects use exponential backoff with full jitter (250 ms doubling to a 30 s cap; `backoff.ts`).
 * Authentication failures are terminal (no reconnect storm): a revoked member or instance (4403, or
 * 401/403 when minting), an expired token that cannot be renewed, a protocol error (4400). The token is
 * renewed before it expires by opening the next socket before closing the current one. Nothing here
 * knows about tasks: a reconnect never touches running work (OpenClaw #38091).
 */
import type WebSocket from 'ws';
import { PROTOCOL_VERSION, SESSION_TTL_MS } from '../../protocol/workspace/common';
import type { WorkspaceEvent } from '../../protocol/workspace/events';
import type { ClientSignalFrame, ServerSignalFrame, WelcomeFrame } from '../../protocol/workspace/frames';
import type { InstanceMetrics } from '../../protocol/workspace/models';
import type { Logger } from '../ports';
import { Disposable, Emitter, type Event } from '../util/disposable';
import { backoffDelay, DEFAULT_BACKOFF, type BackoffPolicy } from './backoff';
import { ServerApiError, type ServerApi } from './serverApi';
import { RpcInterruptedError, WsConnection, type ServerMessage } from './wsConnection';
import { errorMessage } from '../errors';

export interface SessionOptions {
  api: ServerApi;
  /** Opens the socket (the gateway passes NetService.openWebSocket with purpose `workspace:ws`). */
  openWebSocket(url: string, headers: Record<string, string>, signal: AbortSignal): Promise<WebSocket>;
  credentials(): { workspaceId: string; workspaceToken: string };
  /** The resume point: the last event seq processed (null: start live). */
  lastSeq(): number | null;
  client: { name: string; version: string; platform: string };
  logger: Logger;
  backoff?: BackoffPolicy;
  random?: () => number;
  /** Renew the session token this long after minting it (default: 90% of its lifetime). */
  renewAfterMs?: number;
  rpcTimeoutMs?: number;
  /** Time for `welcome` after the upgrade. */
  welcomeTimeoutMs?: number;
  /**
   * Report `offline` (still retrying) once reconnecting has failed at the network level for
   * `offlineAfterMs` (default 15 s) and at least `offlineAfterAttempts` times (default 3); a short
   * server restart stays `reconnecting`.
   */
  offlineAfterAttempts?: number;
  offlineAfterMs?: number;
  /** Whether tasks are running here (the heartbeat's status). */
  busy?: () => boolean;
  /** Called when the watchdog finds the socket half-open (pooled REST connections are likely dead too). */
  onHalfOpen?: () => void;
  /** CPU, memory and disk for each heartbeat (cloud desktops). */
  metrics?: () => InstanceMetrics | undefined;
}

export type SessionPhase = 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'offline' | 'stopped';

export interface SessionState {
  phase: SessionPhase;
  attempt: number;
  retryAt?: number;
  lastError?: string;
}

/** Why the session stopped for good: the link turns it into Signed out or Error. */
export interface SessionEnd {
  kind: 'revoked' | 'expired' | 'protocol' | 'closed' | 'bad_server';
  message: string;
}

class CloseBeforeWelcome extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
  ) {
    super(`the server closed the connection (${code}${reason ? ` ${reason}` : ''})`);
  }
}

type Failure = { end: SessionEnd } | { retry: 'now' | 'backoff'; network: boolean; minDelayMs?: number; message: string };

/** A connection that ends sooner than this counts as a flap: the backoff keeps growing instead of starting over. */
const FLAP_MS = 1000;
/** Failing this long (and 3 attempts) at the network level reads Offline: a short restart stays Reconnecting. */
export const OFFLINE_AFTER_MS = 15_000;

export class LinkSession extends Disposable {
  private conn: WsConnection | undefined;
  private running = false;
  private generation = 0;
  private attempt = 0;
  /** When the current run of failed attempts began (undefined while connected). */
  private failingSince: number | undefined;
  private offlineTimer: NodeJS.Timeout | undefined;
  private flaps = 0;
  private refused = 0;
  private connectedAt = 0;
  private abort: AbortController | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private watchdogTimer: NodeJS.Timeout | undefined;
  private renewTimer: NodeJS.Timeout | undefined;
  private renewing = false;
  private heartbeatMs = 15_000;
  private _state: SessionState = { phase: 'idle', attempt: 0 };
  private readonly log: Logger;
  private malformed = 0;

  private readonly stateEmitter = this._register(new Emitter<SessionState>());
  readonly onDidChangeState: Event<SessionState> = this.stateEmitter.event;
  private readonly endEmitter = this._register(new Emitter<SessionEnd>());
  readonly onDidEnd: Event<SessionEnd> = this.endEmitter.event;
  private readonly welcomeEmitter = this._register(new Emitter<WelcomeFrame>());
  readonly onDidWelcome: Event<WelcomeFrame> = this.welcomeEmitter.event;
  private readonly eventEmitter = this._register(new Emitter<WorkspaceEvent>());
  /** Server events, each once, in seq order (`lastSeq` filters replays and overlaps). */
  readonly onDidReceiveEvent: Event<WorkspaceEvent> = this.eventEmitter.event;
  private readonly syncEmitter = this._register(new Emitter<{ resync: boolean; headSeq: number }>());
  /** Caught up after (re)connecting; `resync`: events were missed beyond what the server keeps — refetch state. */
  readonly onDidSync: Event<{ resync: boolean; headSeq: number }> = this.syncEmitter.event;
  private readonly signalEmitter = this._register(new Emitter<ServerSignalFrame>());
  /** Cloud desktop signalling relayed by the server (offer, answer, ice, bye). */
  readonly onDidReceiveSignal: Event<ServerSignalFrame> = this.signalEmitter.event;
  private readonly signalErrorEmitter = this._register(new Emitter<{ ref: string; code: string; message: string }>());
  /** The server refused a signal frame this session sent with an `id` (`target_offline`, `forbidden`…). */
  readonly onDidRefuseSignal: Event<{ ref: string; code: string; message: string }> = this.signalErrorEmitter.event;
  private readonly heartbeatEmitter = this._register(new Emitter<{ at: number; latencyMs?: number }>());
  readonly onDidHeartbeat: Event<{ at: number; latencyMs?: number }> = this.heartbeatEmitter.event;

  constructor(private readonly o: SessionOptions) {
    super();
    this.log = o.logger;
  }

  get state(): SessionState {
    return this._state;
  }

  get isConnected(): boolean {
    return this._state.phase === 'connected' && !!this.conn?.isOpen;
  }

  /** The server's id of the current socket (tests drop it from the server side). */
  get connectionId(): string | undefined {
    return this.conn?.connectionId;
  }

  /** The close code of the last connection that ended (4401: the session token was refused). */
  get lastCloseCode(): number | undefined {
    return this._lastClose;
  }

  private _lastClose: number | undefined;

  get malformedFrames(): number {
    return this.malformed;
  }

  start(): void {
    if (this.running || this.isDisposed) return;
    this.running = true;
    this.attempt = 0;
    this.refused = 0;
    this.clearFailing();
    this.setState({ phase: 'connecting', attempt: 0 });
    void this.connect();
  }

  /** Drops the current socket (if any) and connects again at once. */
  reconnectNow(): void {
    if (!this.running) return this.start();
    this.clearRetry();
    this.clearFailing();
    this.attempt = 0;
    this.flaps = 0;
    this.dropConnection();
    this.setState({ phase: 'connecting', attempt: 0 });
    void this.connect();
  }

  stop(): void {
    this.running = false;
    this.generation++;
    this.clearRetry();
    this.clearFailing();
    this.abort?.abort();
    this.dropConnection(1000, 'client stopping');
    this.setState({ phase: 'stopped', attempt: 0 });
  }

  /** Sends an RPC on the current socket. RpcInterruptedError when not connected or the socket goes. */
  request(method: string, params: unknown, idempotencyKey?: string): Promise<unknown> {
    if (!this.conn || this._state.phase !== 'connected') return Promise.reject(new RpcInterruptedError('not connected to the workspace'));
    return this.conn.request(method, params, idempotencyKey);
  }

  /** Sends a signalling frame on the current socket; false when not connected (the caller retries on reconnect). */
  sendSignal(frame: Omit<ClientSignalFrame, 'type'>): boolean {
    if (!this.conn || this._state.phase !== 'connected') return false;
    this.conn.send({ type: 'signal', ...frame });
    return true;
  }

  private setState(s: SessionState): void {
    this._state = s;
    this.stateEmitter.fire(s);
  }

  private async connect(): Promise<void> {
    const gen = ++this.generation;
    this.abort?.abort();
    const abort = (this.abort = new AbortController());
    try {
      const conn = await this.open(abort.signal);
      if (gen !== this.generation || !this.running) {
        conn.close(1000, 'superseded');
        return;
      }
      this.adopt(conn);
    } catch (err) {
      if (gen !== this.generation || !this.running) return;
      this.fail(this.classify(err));
    }
  }

  /** Mint → upgrade → hello → welcome. The socket keeps replaying until `resumed` (handled as messages). */
  private async open(signal: AbortSignal): Promise<WsConnection> {
    const { workspaceId, workspaceToken } = this.o.credentials();
    const mint = await this.o.api.mintSession(workspaceToken, workspaceId, 'daemon');
    this.renewAfter = this.o.renewAfterMs ?? SESSION_TTL_MS[mint.scope] * 0.9;
    const ws = await this.o.openWebSocket(this.o.api.wsUrl(mint.wsPath), { authorization: `Bearer ${mint.token}` }, signal);
    return new Promise<WsConnection>((resolve, reject) => {
      let welcomed = false;
      const conn = new WsConnection(
        ws,
        {
          onMessage: (m, c) => {
            if (m.type === 'welcome' && !welcomed) {
              welcomed = true;
              clearTimeout(timer);
              this.welcomeEmitter.fire(m.frame);
              this.heartbeatMs = m.frame.heartbeatIntervalMs;
              resolve(c);
              return;
            }
            this.onMessage(m, c);
          },
          onClose: (code, reason, c) => {
            if (!welcomed) {
              clearTimeout(timer);
              reject(new CloseBeforeWelcome(code, reason));
            } else this.onClose(code, reason, c);
          },
          onPong: (latencyMs, c) => {
            if (c === this.conn) this.heartbeatEmitter.fire({ at: Date.now(), latencyMs });
          },
          onMalformed: (what) => this.onMalformed(what),
        },
        this.log,
        this.o.rpcTimeoutMs ?? 20_000,
      );
      const timer = setTimeout(() => {
        conn.close(1000, 'no welcome', true);
        reject(new Error('the server did not answer hello'));
      }, this.o.welcomeTimeoutMs ?? 15_000);
      signal.addEventListener('abort', () => conn.close(1000, 'aborted', true), { once: true });
      conn.send({ type: 'hello', protocol: PROTOCOL_VERSION, lastSeq: this.o.lastSeq(), client: this.o.client });
    });
  }

  private renewAfter = SESSION_TTL_MS.daemon * 0.9;

  private adopt(conn: WsConnection): void {
    const old = this.conn;
    this.conn = conn;
    this.connectedAt = Date.now();
    old?.close(1000, 'session renewed');
    if (!conn.isOpen) {
      // It closed between `welcome` and now (the close was ignored as not yet current).
      this.conn = undefined;
      const { code, reason } = conn.closeInfo ?? { code: 1006, reason: '' };
      this.onCloseOf(code, reason, 0);
      return;
    }
    this.startTimers();
    this.clearFailing();
    // Measure the round trip at once: the tooltip shows latency from the start, not after the first heartbeat interval.
    conn.ping();
    if (this._state.phase !== 'connected') this.setState({ phase: 'connected', attempt: this.attempt });
    const sync = conn.pendingSync;
    conn.pendingSync = undefined;
    if (sync) this.syncEmitter.fire(sync);
    this.log.info(old ? 'session token renewed on a new socket' : `connected (${conn.connectionId ?? '?'})`);
  }

  private onMessage(m: ServerMessage, c: WsConnection): void {
    switch (m.type) {
      case 'event': {
        const last = this.o.lastSeq() ?? 0;
        if (m.event.seq > last) this.eventEmitter.fire(m.event);
        return;
      }
      case 'resumed':
        if (m.count) this.log.info(`resumed: ${m.count} missed event(s) replayed (seq ${m.fromSeq + 1}–${m.toSeq})`);
        return this.synced(c, { resync: false, headSeq: m.toSeq });
      case 'resync':
        this.log.warn(`the server no longer has every missed event (${m.reason}); refetching state`);
        return this.synced(c, { resync: true, headSeq: m.headSeq });
      case 'heartbeat':
        if (c === this.conn) this.heartbeatEmitter.fire({ at: Date.now() });
        return;
      case 'shutdown':
        this.log.info(`the server is shutting down (${m.reason})${m.restartExpected ? '; reconnecting when it is back' : ''}`);
        return;
      case 'error':
        if (m.ref?.startsWith('sig-')) {
          this.signalErrorEmitter.fire({ ref: m.ref, code: m.error.code, message: m.error.message });
          return;
        }
        this.log.warn(`the server reported ${m.error.code}: ${m.error.message}`);
        return;
      case 'signal':
        if (c === this.conn) this.signalEmitter.fire(m.frame);
        return;
      case 'welcome':
        return;
    }
  }

  /** Caught up: announced once the socket is the current one (requests can go out then). */
  private synced(c: WsConnection, sync: { resync: boolean; headSeq: number }): void {
    if (c === this.conn) this.syncEmitter.fire(sync);
    else c.pendingSync = sync;
  }

  private onMalformed(what: string): void {
    this.malformed++;
    if (this.malformed <= 5 || this.malformed % 100 === 0) this.log.warn(`ignored ${what} from the server (${this.malformed} so far); the connection stays up`);
  }

  private onClose(code: number, reason: string, c: WsConnection): void {
    if (c !== this.conn) return; // a retired socket (renewal) or a superseded attempt
    this.conn = undefined;
    this.onCloseOf(code, reason, Date.now() - this.connectedAt);
  }

  private onCloseOf(code: number, reason: string, lived: number): void {
    this._lastClose = code;
    this.stopTimers();
    if (!this.running) return;
    this.flaps = lived < FLAP_MS ? this.flaps + 1 : 0;
    if (lived >= FLAP_MS) this.refused = 0;
    if (this.flaps < 3) this.attempt = 0;
    this.log.info(`connection closed (${code}${reason ? ` ${reason}` : ''}) after ${Math.round(lived / 1000)} s`);
    this.fail(this.classify(new CloseBeforeWelcome(code, reason)));
  }

  private classify(err: unknown): Failure {
    if (err instanceof ServerApiError) {
      if (err.status === 401) {
        return {
          end: { kind: err.code === 'token_expired' ? 'expired' : 'revoked', message: `The workspace refused this machine's credentials: ${err.message}` },
        };
      }
      if (err.status === 403) return { end: { kind: 'revoked', message: `Access to the workspace was revoked: ${err.message}` } };
      if (err.status === 404 || err.kind === 'invalid_response') return { end: { kind: 'bad_server', message: err.message } };
      return { retry: 'backoff', network: err.kind === 'network', minDelayMs: err.retryAfterMs, message: err.message };
    }
    if (err instanceof CloseBeforeWelcome) {
      this._lastClose = err.code;
      switch (err.code) {
        case 4401:
          // Expired or rejected session token: mint a fresh one at once, but not forever.
          if (++this.refused > 3) return { end: { kind: 'protocol', message: `The workspace keeps refusing new session tokens (${err.reason || '4401'}).` } };
          return { retry: this.refused === 1 ? 'now' : 'backoff', network: false, message: 'session token refused; minting a new one' };
        case 4403:
          return { end: { kind: 'revoked', message: `Access to the workspace was revoked${err.reason ? ` (${err.reason})` : ''}.` } };
        case 4400:
          return { end: { kind: 'protocol', message: `The workspace server refused this client's protocol${err.reason ? ` (${err.reason})` : ''}.` } };
        case 1000:
          return { end: { kind: 'closed', message: 'The workspace server closed the connection.' } };
        default:
          return { retry: 'backoff', network: err.code === 1006, message: err.message };
      }
    }
    const message = errorMessage(err);
    return { retry: 'backoff', network: true, message };
  }

  private fail(f: Failure): void {
    if ('end' in f) {
      this.log.warn(`stopped: ${f.end.message}`);
      this.running = false;
      this.generation++;
      this.dropConnection(1000, 'client stopping');
      this.setState({ phase: 'stopped', attempt: this.attempt, lastError: f.end.message });
      this.endEmitter.fire(f.end);
      return;
    }
    this.attempt++;
    const now = Date.now();
    this.failingSince ??= now;
    const delay = f.retry === 'now' ? 0 : Math.max(f.minDelayMs ?? 0, backoffDelay(this.attempt, this.o.backoff ?? DEFAULT_BACKOFF, this.o.random));
    const window = this.o.offlineAfterMs ?? OFFLINE_AFTER_MS;
    const offline = f.network && this.attempt >= (this.o.offlineAfterAttempts ?? 3) && now - this.failingSince >= window;
    this.log.info(`reconnecting in ${delay} ms (attempt ${this.attempt}): ${f.message}`);
    this.setState({ phase: offline ? 'offline' : 'reconnecting', attempt: this.attempt, retryAt: now + delay, lastError: f.message });
    if (this.offlineTimer) clearTimeout(this.offlineTimer);
    this.offlineTimer = undefined;
    if (!offline && f.network) {
      // Still failing when the window ends (the next attempt may be far off): Offline then, not at the next failure.
      this.offlineTimer = setTimeout(
        () => {
          this.offlineTimer = undefined;
          if (this.running && this._state.phase === 'reconnecting' && this.attempt >= (this.o.offlineAfterAttempts ?? 3))
            this.setState({ ...this._state, phase: 'offline' });
        },
        Math.max(0, (this.failingSince ?? now) + window - now),
      );
    }
    this.clearRetry();
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (this.running) void this.connect();
    }, delay);
  }

  private startTimers(): void {
    this.stopTimers();
    const hb = this.heartbeatMs;
    this.heartbeatTimer = setInterval(() => {
      const metrics = this.o.metrics?.();
      this.conn?.send({ type: 'heartbeat', ts: Date.now(), status: this.o.busy?.() ? 'busy' : 'idle', ...(metrics ? { metrics } : {}) });
      this.conn?.ping();
    }, hb);
    // Nothing received for 1.6 intervals (the server sends a heartbeat every interval): the socket is
    // half-open. Checked every 0.2 intervals, so it is noticed within two heartbeat intervals.
    this.watchdogTimer = setInterval(
      () => {
        const c = this.conn;
        if (!c || Date.now() - c.lastReceivedAt <= hb * 1.6) return;
        this.log.warn(`nothing from the server for ${Date.now() - c.lastReceivedAt} ms (heartbeat every ${hb} ms): the connection is half-open; reconnecting`);
        c.close(4000, 'heartbeat timeout', true);
        this.o.onHalfOpen?.();
        this.onClose(1006, 'heartbeat timeout', c);
      },
      Math.max(10, Math.floor(hb / 5)),
    );
    this.renewTimer = setTimeout(() => void this.renew(), this.renewAfter);
  }

  private stopTimers(): void {
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    if (this.watchdogTimer) clearInterval(this.watchdogTimer);
    if (this.renewTimer) clearTimeout(this.renewTimer);
    this.heartbeatTimer = this.watchdogTimer = this.renewTimer = undefined;
  }

  /** Make before break: the next socket is open (and caught up) before the current one closes. */
  private async renew(): Promise<void> {
    if (this.renewing || !this.conn || !this.running) return;
    this.renewing = true;
    const gen = this.generation;
    try {
      const next = await this.open(new AbortController().signal);
      if (gen !== this.generation || !this.running || !this.conn) {
        next.close(1000, 'superseded');
        return;
      }
      this.adopt(next);
    } catch (err) {
      const f = this.classify(err);
      if ('end' in f && gen === this.generation) this.fail(f);
      else {
        this.log.warn(`could not renew the session token (${'message' in f ? f.message : f.end.message}); trying again in a minute`);
        this.renewTimer = setTimeout(() => void this.renew(), 60_000);
      }
    } finally {
      this.renewing = false;
    }
  }

  private dropConnection(code = 1000, reason = 'reconnecting'): void {
    const c = this.conn;
    this.conn = undefined;
    this.stopTimers();
    c?.close(code, reason, code !== 1000);
  }

  private clearFailing(): void {
    this.failingSince = undefined;
    if (this.offlineTimer) clearTimeout(this.offlineTimer);
    this.offlineTimer = undefined;
  }

  private clearRetry(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }

  override dispose(): void {
    this.stop();
    super.dispose();
  }
}

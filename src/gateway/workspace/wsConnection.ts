/**
 * One WebSocket to the workspace server, after the upgrade: JSON frames in (validated; a malformed
 * frame is logged and skipped, the socket stays up), frames out through a token bucket that keeps
 * below the server's frame rate, and `req`/`res` RPC with per-request timeouts. Lifecycle decisions
 * (reconnect, renew, give up) belong to `LinkSession`.
 */
import { jsonTooDeep, MAX_JSON_DEPTH } from '../../protocol/jsonLimits';
import type WebSocket from 'ws';
import type { ErrorBody } from '../../protocol/workspace/common';
import { eventSchema, type WorkspaceEvent } from '../../protocol/workspace/events';
import {
  errorFrameSchema,
  resFrameSchema,
  resumedFrameSchema,
  resyncFrameSchema,
  serverHeartbeatFrameSchema,
  serverSignalFrameSchema,
  shutdownFrameSchema,
  type ServerSignalFrame,
  welcomeFrameSchema,
  type WelcomeFrame,
} from '../../protocol/workspace/frames';
import type { Logger } from '../ports';

/** The RPC was answered with an error. `permanent`: sending it again cannot succeed. */
export class RpcError extends Error {
  override readonly name = 'RpcError';
  constructor(
    readonly code: string,
    message: string,
    readonly permanent: boolean,
  ) {
    super(message);
  }
}

/** The socket closed (or timed out) before the answer: the request may or may not have been applied. */
export class RpcInterruptedError extends Error {
  override readonly name = 'RpcInterruptedError';
}

/** Error codes of a failed `res` that a retry cannot fix (the idempotency store replays them anyway). */
const RETRYABLE_RPC_CODES = new Set(['internal', 'rate_limited', 'not_ready']);

export type ServerMessage =
  | { type: 'welcome'; frame: WelcomeFrame }
  | { type: 'event'; event: WorkspaceEvent }
  | { type: 'resumed'; fromSeq: number; toSeq: number; count: number }
  | { type: 'resync'; reason: string; headSeq: number }
  | { type: 'heartbeat'; ts: number; headSeq: number }
  | { type: 'shutdown'; reason: string; restartExpected: boolean }
  | { type: 'error'; ref: string | null; error: ErrorBody }
  | { type: 'signal'; frame: ServerSignalFrame };

export interface ConnectionHandlers {
  onMessage(m: ServerMessage, conn: WsConnection): void;
  onClose(code: number, reason: string, conn: WsConnection): void;
  onPong(latencyMs: number, conn: WsConnection): void;
  onMalformed(what: string, conn: WsConnection): void;
}

interface Pending {
  resolve(result: unknown): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

let nextId = 0;

export class WsConnection {
  lastReceivedAt = Date.now();
  connectionId: string | undefined;
  /** How the server closed it (set once closed by the peer or the network). */
  closeInfo: { code: number; reason: string } | undefined;
  /** `resumed`/`resync` that arrived before the session adopted this socket. */
  pendingSync: { resync: boolean; headSeq: number } | undefined;
  private closed = false;
  private readonly pending = new Map<string, Pending>();
  private readonly queue: string[] = [];
  private tokens = 1;
  private tokensAt = Date.now();
  private rate = 50;
  private burst = 1;
  private drainTimer: NodeJS.Timeout | undefined;
  private pingSentAt: number | undefined;

  constructor(
    private readonly ws: WebSocket,
    private readonly handlers: ConnectionHandlers,
    private readonly log: Logger,
    private readonly rpcTimeoutMs: number,
  ) {
    ws.on('message', (data: WebSocket.RawData, isBinary: boolean) => this.onData(data, isBinary));
    ws.on('pong', () => {
      this.lastReceivedAt = Date.now();
      if (this.pingSentAt !== undefined) this.handlers.onPong(Date.now() - this.pingSentAt, this);
      this.pingSentAt = undefined;
    });
    ws.on('ping', () => (this.lastReceivedAt = Date.now()));
    ws.on('error', (err: Error) => this.log.debug(`socket error: ${err.message}`));
    ws.on('close', (code: number, reason: Buffer) => this.onClosed(code, reason.toString()));
  }

  get isOpen(): boolean {
    return !this.closed;
  }

  /** Applies the server's frame limit: stay at 80% of its rate, bursts up to its per-second rate. */
  setLimits(framesPerSecond: number): void {
    this.rate = Math.max(1, framesPerSecond * 0.8);
    this.burst = Math.max(1, Math.floor(framesPerSecond));
    this.tokens = this.burst;
    this.tokensAt = Date.now();
  }

  send(frame: object): void {
    if (this.closed) return;
    this.queue.push(JSON.stringify(frame));
    this.drain();
  }

  private drain(): void {
    if (this.drainTimer || this.closed) return;
    const now = Date.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.tokensAt) / 1000) * this.rate);
    this.tokensAt = now;
    while (this.queue.length && this.tokens >= 1) {
      this.tokens -= 1;
      this.ws.send(this.queue.shift() as string);
    }
    if (this.queue.length) {
      this.drainTimer = setTimeout(
        () => {
          this.drainTimer = undefined;
          this.drain();
        },
        Math.ceil(((1 - this.tokens) / this.rate) * 1000),
      );
    }
  }

  ping(): void {
    if (this.closed) return;
    this.pingSentAt = Date.now();
    try {
      this.ws.ping();
    } catch {
      // closing: the close handler reports it
    }
  }

  /** Sends a `req` and resolves with its result; RpcError on a failed `res`, RpcInterruptedError when the socket goes. */
  request(method: string, params: unknown, idempotencyKey?: string): Promise<unknown> {
    if (this.closed) return Promise.reject(new RpcInterruptedError('not connected'));
    const id = `r${++nextId}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new RpcInterruptedError(`no answer to ${method} within ${Math.round(this.rpcTimeoutMs / 1000)} s`));
      }, this.rpcTimeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      this.send(idempotencyKey ? { type: 'req', id, method, params, idempotencyKey } : { type: 'req', id, method, params });
    });
  }

  get pendingRequests(): number {
    return this.pending.size;
  }

  /** Closes the socket (or drops it at once with `terminate`); pending requests are interrupted. */
  close(code = 1000, reason = 'client closing', terminate = false): void {
    if (this.closed) return;
    this.closed = true;
    this.interrupt('the connection closed');
    try {
      if (terminate) this.ws.terminate();
      else this.ws.close(code, reason);
    } catch {
      this.ws.terminate();
    }
  }

  private interrupt(why: string): void {
    if (this.drainTimer) clearTimeout(this.drainTimer);
    this.drainTimer = undefined;
    this.queue.length = 0;
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      this.pending.delete(id);
      p.reject(new RpcInterruptedError(why));
    }
  }

  private onClosed(code: number, reason: string): void {
    const wasClosed = this.closed;
    this.closeInfo ??= { code, reason };
    this.closed = true;
    this.interrupt(`the connection closed (${code})`);
    if (!wasClosed) this.handlers.onClose(code, reason, this);
  }

  private onData(data: WebSocket.RawData, isBinary: boolean): void {
    this.lastReceivedAt = Date.now();
    if (this.closed) return;
    if (isBinary) return this.handlers.onMalformed('a binary frame', this);
    const text = String(data);
    // The server refuses input nested deeper than MAX_JSON_DEPTH (its frames wrap that value in a few more
    // levels); a frame nested deeper than twice that would break every later step (and the state file).
    if (jsonTooDeep(text, 2 * MAX_JSON_DEPTH)) return this.handlers.onMalformed('a frame nested too deeply', this);
    let obj: unknown;
    try {
      obj = JSON.parse(text);
    } catch {
      return this.handlers.onMalformed('a frame that is not JSON', this);
    }
    if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) return this.handlers.onMalformed('a frame that is not a JSON object', this);
    const type = (obj as { type?: unknown }).type;
    const bad = (what: string): void => this.handlers.onMalformed(`an invalid ${what} frame`, this);
    switch (type) {
      case 'event': {
        const r = eventSchema.safeParse(obj);
        return r.success ? this.handlers.onMessage({ type: 'event', event: r.data }, this) : bad(`event (${describe(obj)})`);
      }
      case 'res': {
        const r = resFrameSchema.safeParse(obj);
        if (!r.success) return bad('res');
        const p = this.pending.get(r.data.id);
        if (!p) return;
        this.pending.delete(r.data.id);
        clearTimeout(p.timer);
        if (r.data.ok) p.resolve(r.data.result);
        else p.reject(new RpcError(r.data.error.code, r.data.error.message, !RETRYABLE_RPC_CODES.has(r.data.error.code)));
        return;
      }
      case 'heartbeat': {
        const r = serverHeartbeatFrameSchema.safeParse(obj);
        return r.success ? this.handlers.onMessage({ type: 'heartbeat', ts: r.data.ts, headSeq: r.data.headSeq }, this) : bad('heartbeat');
      }
      case 'welcome': {
        const r = welcomeFrameSchema.safeParse(obj);
        if (!r.success) return bad('welcome');
        this.connectionId = r.data.connectionId;
        this.setLimits(r.data.limits.maxFramesPerSecond);
        return this.handlers.onMessage({ type: 'welcome', frame: r.data }, this);
      }
      case 'resumed': {
        const r = resumedFrameSchema.safeParse(obj);
        return r.success
          ? this.handlers.onMessage({ type: 'resumed', fromSeq: r.data.fromSeq, toSeq: r.data.toSeq, count: r.data.count }, this)
          : bad('resumed');
      }
      case 'resync': {
        const r = resyncFrameSchema.safeParse(obj);
        return r.success ? this.handlers.onMessage({ type: 'resync', reason: r.data.reason, headSeq: r.data.headSeq }, this) : bad('resync');
      }
      case 'shutdown': {
        const r = shutdownFrameSchema.safeParse(obj);
        return r.success
          ? this.handlers.onMessage({ type: 'shutdown', reason: r.data.reason, restartExpected: r.data.restartExpected }, this)
          : bad('shutdown');
      }
      case 'error': {
        const r = errorFrameSchema.safeParse(obj);
        return r.success ? this.handlers.onMessage({ type: 'error', ref: r.data.ref, error: r.data.error }, this) : bad('error');
      }
      case 'signal': {
        const r = serverSignalFrameSchema.safeParse(obj);
        return r.success ? this.handlers.onMessage({ type: 'signal', frame: r.data }, this) : bad('signal');
      }
      default:
        return this.handlers.onMalformed(`a frame of unknown type ${JSON.stringify(typeof type === 'string' ? type.slice(0, 40) : (type ?? null))}`, this);
    }
  }
}

function describe(obj: object): string {
  const o = obj as { name?: unknown; seq?: unknown };
  return `${typeof o.name === 'string' ? o.name.slice(0, 40) : '?'} seq ${typeof o.seq === 'number' ? o.seq : '?'}`;
}

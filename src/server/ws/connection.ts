/**
 * One authenticated WebSocket. The first frame must be `hello`; then heartbeats, `req` (RPC) and
 * `signal` frames. A frame that is not JSON, is binary, has an unknown type or fails validation gets an
 * `error` frame (or a failed `res` when it carried a req id) and the socket stays up — unless it is the
 * 21st bad frame in a row (close 4400). Frame rate: a token bucket; over it → `rate_limited` errors, and
 * close 4429 if the client keeps pushing.
 */
import type { RawData, WebSocket } from 'ws';
import { CLOSE_CODES, LIMITS, type CloseCodeName, type ErrorCode } from '../../protocol/workspace/common';
import {
  CLIENT_FRAME_TYPES,
  clientHeartbeatFrameSchema,
  clientSignalFrameSchema,
  helloFrameSchema,
  reqFrameSchema,
  type ServerFrame,
} from '../../protocol/workspace/frames';
import type { SessionScope } from '../../protocol/workspace/common';
import type { Logger } from '../log';
import type { Access } from '../services/access';

export interface ConnectionHost {
  onHello(conn: Connection, lastSeq: number | null | undefined, client: { name: string; version: string }): void;
  onHeartbeat(conn: Connection, frame: ReturnType<typeof clientHeartbeatFrameSchema.parse>): void;
  onReq(conn: Connection, frame: ReturnType<typeof reqFrameSchema.parse>): void;
  onSignal(conn: Connection, frame: ReturnType<typeof clientSignalFrameSchema.parse>): void;
  onClose(conn: Connection): void;
}

export interface ConnectionLimits {
  framesPerSecond: number;
  frameBurst: number;
  helloTimeoutMs: number;
}

const TEXT = { binary: false } as const;

interface RawSocket {
  cork(): void;
  uncork(): void;
  write(data: Buffer): boolean;
}

/** An event ready to send: its JSON (`frame`) and the same as a complete unmasked text frame (`wire`). */
export interface WireEvent {
  seq: number;
  frame: Buffer;
  wire: Buffer;
}

/** A server→client WebSocket text frame (FIN, opcode 1, no mask) around `payload` (RFC 6455 §5.2). */
export function textFrame(payload: Buffer): Buffer {
  const n = payload.length;
  const head = n < 126 ? 2 : n < 65536 ? 4 : 10;
  const out = Buffer.allocUnsafe(head + n);
  out[0] = 0x81;
  if (n < 126) out[1] = n;
  else if (n < 65536) {
    out[1] = 126;
    out.writeUInt16BE(n, 2);
  } else {
    out[1] = 127;
    out.writeBigUInt64BE(BigInt(n), 2);
  }
  payload.copy(out, head);
  return out;
}

type Issue = { path: ReadonlyArray<PropertyKey>; message: string; code: string };
const issuesOf = (issues: readonly Issue[]) => issues.slice(0, 20).map((i) => ({ path: i.path.map(String).join('.'), message: i.message, code: i.code }));

export class Connection {
  ready = false;
  /** Heartbeat slice (assigned by the hub). */
  slot = 0;
  replaying = false;
  /** Highest event seq sent (or covered by replay). */
  lastSentSeq = 0;
  /** Live events that arrived while the replay was still being written. */
  readonly pendingLive: WireEvent[] = [];
  lastReceivedAt = Date.now();
  closed = false;
  private disposed = false;
  private corked = false;
  private badInARow = 0;
  private tokens: number;
  private tokensAt = Date.now();
  private droppedInARow = 0;
  private readonly timers: NodeJS.Timeout[] = [];

  constructor(
    readonly id: string,
    readonly ws: WebSocket,
    public access: Access,
    readonly scope: SessionScope,
    readonly tokenExp: number,
    private readonly host: ConnectionHost,
    private readonly limits: ConnectionLimits,
    private readonly log: Logger,
    msUntilExpiry: number,
  ) {
    this.tokens = limits.frameBurst;
    ws.on('message', (data, isBinary) => this.onMessage(data, isBinary));
    ws.on('pong', () => (this.lastReceivedAt = Date.now()));
    ws.on('error', (err) => this.log.debug('socket error', { conn: id, err }));
    ws.on('close', () => this.dispose());
    this.timer(() => !this.ready && this.close('protocolError', 'hello timeout'), limits.helloTimeoutMs);
    this.timer(() => this.close('unauthorized', 'token expired'), Math.min(Math.max(msUntilExpiry, 0), 2 ** 31 - 1));
  }

  private timer(fn: () => void, ms: number): void {
    const t = setTimeout(fn, ms);
    t.unref();
    this.timers.push(t);
  }

  send(frame: ServerFrame | string, cb?: (err?: Error) => void): void {
    if (this.closed) return;
    this.write(typeof frame === 'string' ? frame : JSON.stringify(frame), cb);
  }

  /**
   * Writes a text frame. Everything written in one tick (a commit's responses and events) leaves in
   * one syscall: the socket is corked on the first write and uncorked on the next tick. (`_socket` is
   * ws's underlying net.Socket; without it, frames simply go out one by one.)
   */
  /**
   * ws's underlying net.Socket. With permessage-deflate off, ws writes every frame to it synchronously
   * and in order, so frames written here directly interleave correctly with ws's own.
   */
  private socket(): RawSocket | undefined {
    return (this.ws as unknown as { _socket?: RawSocket | null })._socket ?? undefined;
  }

  private write(data: string | Buffer, cb?: (err?: Error) => void): void {
    const sock = this.socket();
    if (sock && !this.corked) {
      this.corked = true;
      sock.cork();
      process.nextTick(() => {
        this.corked = false;
        sock.uncork();
      });
    }
    this.ws.send(data, TEXT, cb);
  }

  /**
   * Delivers live events in order (those at or below `lastSentSeq` are skipped); several events leave
   * in one write. `wire` is the complete WebSocket frame, built once for every connection (see
   * `textFrame`), written straight to the socket; a slow consumer is closed 4429 and resumes from the
   * database.
   */
  sendEvents(events: ReadonlyArray<WireEvent>): void {
    if (this.closed) return;
    if (this.replaying) {
      this.pendingLive.push(...events);
      return;
    }
    if (this.ws.bufferedAmount > LIMITS.maxBufferedBytes) {
      this.close('rateLimited', 'slow consumer: reconnect and resume');
      return;
    }
    const sock = this.ws.readyState === this.ws.OPEN ? this.socket() : undefined;
    if (sock && events.length > 1) sock.cork();
    for (const e of events) {
      if (e.seq <= this.lastSentSeq) continue;
      this.lastSentSeq = e.seq;
      if (sock) sock.write(e.wire);
      else this.ws.send(e.frame, TEXT);
    }
    if (sock && events.length > 1) sock.uncork();
  }

  sendError(code: ErrorCode, message: string, ref: string | null, details?: Record<string, unknown>): void {
    this.send({ type: 'error', ref, error: details ? { code, message, details } : { code, message } });
  }

  close(name: CloseCodeName, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.ws.close(CLOSE_CODES[name].code, reason.slice(0, 120));
    this.dispose();
  }

  private dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.closed = true;
    for (const t of this.timers.splice(0)) clearTimeout(t);
    this.host.onClose(this);
  }

  private bad(code: ErrorCode, message: string, ref: string | null, details?: Record<string, unknown>): void {
    if (++this.badInARow > LIMITS.maxConsecutiveBadFrames) {
      this.close('protocolError', 'too many bad frames');
      return;
    }
    this.sendError(code, message, ref, details);
  }

  private allowFrame(): boolean {
    const now = Date.now();
    this.tokens = Math.min(this.limits.frameBurst, this.tokens + ((now - this.tokensAt) / 1000) * this.limits.framesPerSecond);
    this.tokensAt = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      this.droppedInARow = 0;
      return true;
    }
    if (++this.droppedInARow > this.limits.frameBurst) this.close('rateLimited', 'frame rate limit exceeded');
    else this.sendError('rate_limited', 'too many frames: slow down', null, { retryAfterSec: 1 });
    return false;
  }

  private onMessage(data: RawData, isBinary: boolean): void {
    this.lastReceivedAt = Date.now();
    if (this.closed || !this.allowFrame()) return;
    if (isBinary) return this.bad('bad_frame', 'binary frames are not accepted', null);
    let obj: unknown;
    try {
      obj = JSON.parse(data.toString());
    } catch {
      return this.bad('bad_frame', 'frame is not valid JSON', null);
    }
    if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) return this.bad('bad_frame', 'frame must be a JSON object', null);
    const rec = obj as Record<string, unknown>;
    const ref = typeof rec.id === 'string' ? rec.id.slice(0, 100) : null;
    const type = rec.type;
    if (typeof type !== 'string' || !(CLIENT_FRAME_TYPES as readonly string[]).includes(type)) {
      return this.bad('unknown_type', `unknown frame type ${JSON.stringify(typeof type === 'string' ? type.slice(0, 40) : (type ?? null))}`, ref);
    }
    if (!this.ready && type !== 'hello') return this.close('protocolError', 'first frame must be hello');
    switch (type) {
      case 'hello': {
        if (this.ready) return this.bad('not_ready', 'hello was already received', ref);
        if (rec.protocol !== 1) return this.close('protocolError', 'unsupported protocol version (server speaks 1)');
        const r = helloFrameSchema.safeParse(obj);
        if (!r.success) return this.bad('validation_failed', 'invalid hello', ref, { issues: issuesOf(r.error.issues) });
        this.badInARow = 0;
        this.ready = true;
        return this.host.onHello(this, r.data.lastSeq, r.data.client);
      }
      case 'heartbeat': {
        const r = clientHeartbeatFrameSchema.safeParse(obj);
        if (!r.success) return this.bad('validation_failed', 'invalid heartbeat', ref, { issues: issuesOf(r.error.issues) });
        this.badInARow = 0;
        return this.host.onHeartbeat(this, r.data);
      }
      case 'req': {
        const r = reqFrameSchema.safeParse(obj);
        if (!r.success) {
          if (ref === null) return this.bad('validation_failed', 'invalid req', null, { issues: issuesOf(r.error.issues) });
          if (++this.badInARow > LIMITS.maxConsecutiveBadFrames) return this.close('protocolError', 'too many bad frames');
          return this.send({
            type: 'res',
            id: ref,
            ok: false,
            error: { code: 'validation_failed', message: 'invalid req', details: { issues: issuesOf(r.error.issues) } },
          });
        }
        this.badInARow = 0;
        return this.host.onReq(this, r.data);
      }
      case 'signal': {
        const r = clientSignalFrameSchema.safeParse(obj);
        if (!r.success) return this.bad('validation_failed', 'invalid signal', ref, { issues: issuesOf(r.error.issues) });
        this.badInARow = 0;
        return this.host.onSignal(this, r.data);
      }
    }
  }
}

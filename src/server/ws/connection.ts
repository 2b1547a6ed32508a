/**
 * One authenticated WebSocket. The first frame must be `hello`; then heartbeats, `req` (RPC) and
 * `signal` frames. A frame that is not JSON, is binary, nests too deep, has an unknown type or fails
 * validation gets an `error` frame (or a failed `res` when it carried a req id) and the socket stays
 * up — unless it is the 21st bad frame in a row (close 4400). Frame rate: a token bucket; once it is
 * empty, frames are dropped with one `rate_limited` error frame per second (never one per frame), and a
 * client that keeps pushing after dropping its burst allowance again is closed 4429.
 *
 * Nothing a client sends can throw out of here: the message handler is guarded (a failure answers
 * `internal` for that frame only), every send is encoded under a guard, and every outgoing queue is
 * bounded in bytes (LIMITS.maxBufferedBytes: a slow consumer is closed 4429 and resumes from the log).
 */
import type { RawData, WebSocket } from 'ws';
import { clip, jsonTooDeep, kindOf } from '../../protocol/jsonLimits';
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
  /** `bytes`: the frame's size, counted in `conn.inFlightBytes` until the answer is sent. */
  onReq(conn: Connection, frame: ReturnType<typeof reqFrameSchema.parse>, bytes: number): void;
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
const issuesOf = (issues: readonly Issue[]) =>
  issues.slice(0, 20).map((i) => ({ path: clip(i.path.map(String).join('.'), 200), message: clip(i.message, 200), code: i.code }));

export class Connection {
  ready = false;
  /** Heartbeat slice (assigned by the hub). */
  slot = 0;
  replaying = false;
  /** Highest event seq sent (or covered by replay). */
  lastSentSeq = 0;
  /** Live events that arrived while the replay was still being written (bounded: `pendingBytes`). */
  readonly pendingLive: WireEvent[] = [];
  private pendingBytes = 0;
  lastReceivedAt = Date.now();
  closed = false;
  /** The sign-in its session token was minted under (none for a workspace token). */
  signInId: string | undefined;
  /** Bytes of the requests handed to the host whose answer is not sent yet. */
  inFlightBytes = 0;
  private disposed = false;
  private corked = false;
  private badInARow = 0;
  private tokens: number;
  private tokensAt = Date.now();
  /** Frames dropped since the bucket was last (nearly) full. */
  private dropped = 0;
  private limitedErrorAt = 0;
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
    const t = setTimeout(() => this.guarded('timer', fn), ms);
    t.unref();
    this.timers.push(t);
  }

  /** Runs a callback of this socket; a throw is logged and closes only this socket (1011). */
  private guarded(what: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.log.error(`${what} failed`, { conn: this.id, err: err instanceof Error ? err : String(err) });
      this.close('internal', 'internal error');
    }
  }

  /**
   * Sends a frame; false when it was not sent (socket closed, or closed now as a slow consumer). A
   * frame that cannot be encoded is never thrown out of here: a `res` becomes a failed `internal` one.
   */
  send(frame: ServerFrame | string, cb?: (err?: Error) => void): boolean {
    if (this.closed) return false;
    let text: string;
    try {
      text = typeof frame === 'string' ? frame : JSON.stringify(frame);
    } catch (err) {
      this.log.error('frame could not be encoded', {
        conn: this.id,
        type: typeof frame === 'string' ? 'text' : frame.type,
        err: err instanceof Error ? err : String(err),
      });
      if (typeof frame === 'string' || frame.type !== 'res') return false;
      text = JSON.stringify({ type: 'res', id: frame.id, ok: false, error: { code: 'internal', message: 'the answer could not be encoded' } });
    }
    if (!this.room(text.length)) return false;
    this.write(text, cb);
    return true;
  }

  /**
   * Whether `bytes` more may be queued on this socket (LIMITS.maxBufferedBytes); if not, the socket
   * is closed 4429 "slow consumer" and false is returned. `bufferedAmount` counts what ws and the
   * kernel-side socket have not sent yet; one frame larger than the limit goes out when nothing is queued.
   */
  private room(bytes: number): boolean {
    const queued = this.ws.bufferedAmount;
    if (queued === 0 || queued + bytes <= LIMITS.maxBufferedBytes) return true;
    this.slowConsumer();
    return false;
  }

  private slowConsumer(): void {
    this.log.warn('slow consumer closed', { conn: this.id, buffered: this.ws.bufferedAmount });
    this.close('rateLimited', 'slow consumer: reconnect and resume');
    // The close frame waits behind what the client does not read: give it a moment, then drop the socket.
    const t = setTimeout(() => this.ws.terminate(), 5_000);
    t.unref();
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
   * database. During a replay they are held back, up to the same byte limit.
   */
  sendEvents(events: ReadonlyArray<WireEvent>): void {
    if (this.closed) return;
    let bytes = 0;
    for (const e of events) bytes += e.wire.length;
    if (this.replaying) {
      this.pendingBytes += bytes;
      if (this.pendingBytes > LIMITS.maxBufferedBytes) return this.slowConsumer();
      this.pendingLive.push(...events);
      return;
    }
    if (!this.room(bytes)) return;
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

  /**
   * Sends a frame built once for many sockets (a heartbeat): its complete WebSocket frame is written
   * straight to the socket, in order with everything else sent here. Not held back during a replay.
   */
  sendWire(f: Pick<WireEvent, 'frame' | 'wire'>): void {
    if (this.closed || !this.room(f.wire.length)) return;
    const sock = this.ws.readyState === this.ws.OPEN ? this.socket() : undefined;
    if (sock) sock.write(f.wire);
    else this.ws.send(f.frame, TEXT);
  }

  /** The live events held back during the replay (and forgets them). */
  takePending(): WireEvent[] {
    this.pendingBytes = 0;
    return this.pendingLive.splice(0);
  }

  sendError(code: ErrorCode, message: string, ref: string | null, details?: Record<string, unknown>): void {
    this.send({ type: 'error', ref, error: details ? { code, message, details } : { code, message } });
  }

  close(name: CloseCodeName, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    try {
      // A close reason is at most 123 bytes of UTF-8.
      let r = reason.slice(0, 120);
      while (Buffer.byteLength(r) > 123) r = r.slice(0, -1);
      this.ws.close(CLOSE_CODES[name].code, r);
    } catch (err) {
      this.log.warn('close failed; terminating', { conn: this.id, err: err instanceof Error ? err : String(err) });
      this.ws.terminate();
    }
    this.dispose();
  }

  private dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.closed = true;
    for (const t of this.timers.splice(0)) clearTimeout(t);
    this.pendingLive.length = 0;
    this.pendingBytes = 0;
    this.host.onClose(this);
  }

  private bad(code: ErrorCode, message: string, ref: string | null, details?: Record<string, unknown>): void {
    if (++this.badInARow > LIMITS.maxConsecutiveBadFrames) {
      this.close('protocolError', 'too many bad frames');
      return;
    }
    this.sendError(code, message, ref, details);
  }

  /**
   * The token bucket. Over it, a frame is dropped; the first drop (then at most one a second) gets a
   * `rate_limited` error frame. Drops count until the bucket has refilled almost completely; a client
   * that drops more than its burst allowance is closed 4429 — a sustained flood ends in well under a second.
   */
  private allowFrame(): boolean {
    const now = Date.now();
    const { frameBurst, framesPerSecond } = this.limits;
    this.tokens = Math.min(frameBurst, this.tokens + ((now - this.tokensAt) / 1000) * framesPerSecond);
    this.tokensAt = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      if (this.tokens >= frameBurst - 2) this.dropped = 0;
      return true;
    }
    if (++this.dropped > frameBurst) {
      this.close('rateLimited', 'frame rate limit exceeded');
    } else if (now - this.limitedErrorAt >= 1000) {
      this.limitedErrorAt = now;
      this.sendError('rate_limited', 'too many frames: slow down; frames are dropped', null, { retryAfterSec: 1 });
    }
    return false;
  }

  private onMessage(data: RawData, isBinary: boolean): void {
    this.lastReceivedAt = Date.now();
    if (this.closed || !this.allowFrame()) return;
    try {
      this.handle(data, isBinary);
    } catch (err) {
      // A bug for this frame only: the socket and the server stay up.
      this.log.error('frame handler failed', { conn: this.id, err: err instanceof Error ? err : String(err) });
      this.sendError('internal', 'internal error', null);
    }
  }

  private handle(data: RawData, isBinary: boolean): void {
    if (isBinary) return this.bad('bad_frame', 'binary frames are not accepted', null);
    const text = data.toString();
    if (jsonTooDeep(text, LIMITS.jsonDepth)) return this.bad('bad_frame', `frame nests deeper than ${LIMITS.jsonDepth} levels`, null);
    let obj: unknown;
    try {
      obj = JSON.parse(text);
    } catch {
      return this.bad('bad_frame', 'frame is not valid JSON', null);
    }
    if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) return this.bad('bad_frame', 'frame must be a JSON object', null);
    const rec = obj as Record<string, unknown>;
    const ref = typeof rec.id === 'string' && rec.id ? rec.id.slice(0, 100) : null;
    const type = rec.type;
    if (typeof type !== 'string')
      return this.bad('unknown_type', type === undefined ? 'frame has no type' : `frame type must be a string, not ${kindOf(type)}`, ref);
    if (!(CLIENT_FRAME_TYPES as readonly string[]).includes(type)) return this.bad('unknown_type', `unknown frame type ${JSON.stringify(clip(type, 40))}`, ref);
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
          this.send({
            type: 'res',
            id: ref,
            ok: false,
            error: { code: 'validation_failed', message: 'invalid req', details: { issues: issuesOf(r.error.issues) } },
          });
          return;
        }
        this.badInARow = 0;
        if (this.inFlightBytes + text.length > LIMITS.maxInFlightBytes) {
          this.send({
            type: 'res',
            id: r.data.id,
            ok: false,
            error: { code: 'rate_limited', message: 'too many requests at once: wait for answers', details: { retryAfterSec: 1 } },
          });
          return;
        }
        return this.host.onReq(this, r.data, text.length);
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

/**
 * WebSocket endpoint `/v1/ws`. The session token comes from `Authorization: Bearer` (Node clients) or
 * from a `bearer.<token>` entry of `Sec-WebSocket-Protocol` (browsers, which also offer `multiclaw.v1`;
 * only that one is echoed, never the token). A bad token still gets the upgrade, then an immediate
 * close with 4401 (invalid, tampered or expired) or 4403 (member or instance revoked) and a reason a
 * browser can read — an HTTP 401 on the upgrade would reach a browser only as "1006".
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { LIMITS, PROTOCOL_VERSION, WS_BEARER_PREFIX, WS_PATH, WS_SUBPROTOCOL, type CloseCodeName } from '../../protocol/workspace/common';
import type { ClientHeartbeatFrame, ClientSignalFrame, reqFrameSchema } from '../../protocol/workspace/frames';
import type { z } from 'zod';
import { CLOSE_CODES } from '../../protocol/workspace/common';
import { newId, type SessionClaims } from '../crypto/tokens';
import type { Logger } from '../log';
import type { Access } from '../services/access';
import { iso } from '../services/context';
import type { Services } from '../services/registry';
import { Connection, type ConnectionHost, type ConnectionLimits } from './connection';
import type { Hub } from './hub';
import { dispatchRpc } from './rpc';
import { relaySignal } from './signalling';

type Verdict = { ok: true; claims: SessionClaims } | { ok: false; close: CloseCodeName; reason: string };

export function tokenFromRequest(req: IncomingMessage): string | undefined {
  const auth = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
  if (auth) return auth[1];
  const protos = String(req.headers['sec-websocket-protocol'] ?? '')
    .split(',')
    .map((p) => p.trim());
  const p = protos.find((x) => x.startsWith(WS_BEARER_PREFIX));
  return p ? p.slice(WS_BEARER_PREFIX.length) : undefined;
}

export class WsEndpoint implements ConnectionHost {
  private readonly wss: WebSocketServer;
  private readonly claims = new WeakMap<Connection, SessionClaims>();
  private readonly chains = new WeakMap<Connection, Promise<void>>();

  constructor(
    private readonly services: Services,
    private readonly hub: Hub,
    private readonly limits: ConnectionLimits & { heartbeatIntervalMs: number },
    private readonly log: Logger,
  ) {
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: LIMITS.wsFrameBytes,
      perMessageDeflate: false,
      clientTracking: false,
      handleProtocols: (protocols) => (protocols.has(WS_SUBPROTOCOL) ? WS_SUBPROTOCOL : false),
    });
  }

  /** The server's 'upgrade' listener: nothing thrown here may reach the event loop. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => undefined);
    this.upgrade(req, socket, head).catch((err: unknown) => {
      this.log.error('ws upgrade failed', { err: err instanceof Error ? err : String(err) });
      socket.destroy();
    });
  }

  private async upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (path !== WS_PATH) {
      socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      return;
    }
    const verdict = await this.authenticate(tokenFromRequest(req));
    if (socket.destroyed) return;
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      try {
        if (!verdict.ok) {
          this.log.info('ws rejected', { code: CLOSE_CODES[verdict.close].code, reason: verdict.reason, ip: req.socket.remoteAddress });
          ws.close(CLOSE_CODES[verdict.close].code, verdict.reason);
          return;
        }
        this.attach(ws, verdict.claims).catch((err: unknown) => {
          this.log.error('ws attach failed', { err: err instanceof Error ? err : String(err) });
          ws.terminate();
        });
      } catch (err) {
        this.log.error('ws attach failed', { err: err instanceof Error ? err : String(err) });
        ws.terminate();
      }
    });
  }

  private async authenticate(token: string | undefined): Promise<Verdict> {
    if (!token) return { ok: false, close: 'unauthorized', reason: 'missing session token' };
    const v = this.services.ctx.signer.verify(token, this.services.ctx.now());
    if (!v.ok) return { ok: false, close: 'unauthorized', reason: v.reason === 'expired' ? 'token expired' : 'invalid token' };
    const a = await this.services.access.fromSession(v.claims);
    if ('revoked' in a) return { ok: false, close: a.close, reason: a.revoked };
    return { ok: true, claims: v.claims };
  }

  private async attach(ws: WebSocket, claims: SessionClaims): Promise<void> {
    // Checked again after the handshake: a member removed meanwhile must not slip in. Frames wait meanwhile.
    ws.pause();
    const access = await this.services.access.fromSession(claims);
    ws.resume();
    if ('revoked' in access) {
      ws.close(CLOSE_CODES[access.close].code, access.revoked);
      return;
    }
    const conn = new Connection(newId('conn'), ws, access, claims.scope, claims.exp, this, this.limits, this.log, claims.exp - this.services.ctx.now());
    conn.signInId = claims.sid;
    this.claims.set(conn, claims);
    this.hub.add(conn);
    this.log.debug('ws open', { conn: conn.id, workspaceId: access.workspaceId, memberId: access.memberId, instanceId: access.instanceId });
  }

  onHello(conn: Connection, lastSeq: number | null | undefined): void {
    conn.replaying = true; // live events queue on the connection until the replay is out
    this.hello(conn, lastSeq).catch((err: unknown) => {
      this.log.error('resume failed', { conn: conn.id, err: err instanceof Error ? err : String(err) });
      conn.close('internal', 'resume failed');
    });
  }

  private async hello(conn: Connection, lastSeq: number | null | undefined): Promise<void> {
    const a = conn.access;
    const headSeq = await this.hub.headSeq(a.workspaceId);
    conn.send({
      type: 'welcome',
      protocol: PROTOCOL_VERSION,
      connectionId: conn.id,
      workspaceId: a.workspaceId,
      principal: { userId: a.userId, memberId: a.memberId, role: a.role, instanceId: a.instanceId, scope: conn.scope },
      headSeq,
      heartbeatIntervalMs: this.limits.heartbeatIntervalMs,
      tokenExpiresAt: iso(conn.tokenExp),
      limits: { maxFrameBytes: LIMITS.wsFrameBytes, maxFramesPerSecond: this.limits.framesPerSecond },
    });
    await this.hub.resume(conn, lastSeq, headSeq);
  }

  onHeartbeat(conn: Connection, frame: ClientHeartbeatFrame): void {
    if (frame.metrics && conn.access.instanceId) this.services.instances.recordMetrics(conn.access.instanceId, frame.metrics);
    this.hub.heartbeatFrom(conn);
  }

  /**
   * The connection's access as it is now, read from the database at every use (a role changed by
   * another node or the admin CLI, a removed member, a signed-out sign-in); a revoked one is closed.
   */
  private async current(conn: Connection): Promise<Access | undefined> {
    const claims = this.claims.get(conn);
    if (!claims) return undefined;
    const a = await this.services.access.fromSession(claims);
    if (conn.closed) return undefined;
    if ('revoked' in a) {
      conn.close(a.close, a.revoked);
      return undefined;
    }
    conn.access = a;
    return a;
  }

  /** Frames that need the access re-read run in arrival order per connection (signalling order matters). */
  private inOrder(conn: Connection, fn: () => Promise<void>): void {
    const prev = this.chains.get(conn) ?? Promise.resolve();
    const next = prev.then(fn).catch((err: unknown) => this.log.error('ws frame failed', { conn: conn.id, err: err instanceof Error ? err : String(err) }));
    this.chains.set(conn, next);
  }

  onReq(conn: Connection, frame: z.infer<typeof reqFrameSchema>, bytes: number): void {
    conn.inFlightBytes += bytes;
    this.inOrder(conn, async () => {
      const access = await this.current(conn);
      if (!access) {
        conn.inFlightBytes -= bytes;
        return;
      }
      this.dispatch(conn, access, frame, bytes);
    });
  }

  private dispatch(conn: Connection, access: Access, frame: z.infer<typeof reqFrameSchema>, bytes: number): void {
    dispatchRpc(this.services, access, frame)
      .then(
        (res) => conn.send(res),
        (err: unknown) => {
          this.log.error('rpc failed', { conn: conn.id, method: frame.method.slice(0, 60), err: err instanceof Error ? err : String(err) });
          return conn.send({ type: 'res', id: frame.id, ok: false, error: { code: 'internal', message: 'internal error' } });
        },
      )
      .catch((err: unknown) => this.log.error('rpc answer failed', { conn: conn.id, err: err instanceof Error ? err : String(err) }))
      .finally(() => (conn.inFlightBytes -= bytes));
  }

  onSignal(conn: Connection, frame: ClientSignalFrame): void {
    this.inOrder(conn, async () => {
      if (await this.current(conn)) relaySignal(this.hub, conn, frame);
    });
  }

  onClose(conn: Connection): void {
    this.chains.delete(conn);
    this.hub.remove(conn);
  }

  close(): void {
    this.wss.close();
  }
}

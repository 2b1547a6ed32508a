/**
 * The local API listener: HTTP + WebSocket on 127.0.0.1 only (never 0.0.0.0), one per gateway start,
 * with a fresh 256-bit session token. Every request and upgrade passes the guard (guard.ts) before
 * routing; bodies are bounded and requests time out (slow-loris). The discovery file tells local
 * clients (the `multiclaw` CLI) the port and token.
 */
import { readFileSync, rmSync } from 'node:fs';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import * as path from 'node:path';
import type { Duplex } from 'node:stream';
import { clip } from '../../protocol/jsonLimits';
import { DISCOVERY_FILE_NAME } from '../../protocol/localApi';
import { isGatewayNotRunning } from '../errors';
import type { Redactor } from '../log/redact';
import { type Logger, systemClock } from '../ports';
import type { TaskService } from '../tasks/taskService';
import { Disposable } from '../util/disposable';
import { removeDiscoveryFile, writeDiscoveryFile } from './discovery';
import { EventHub } from './events';
import { AuthDelay, bearerToken, checkHost, checkOrigin, checkQuery, isAcceptableToken, newToken, type Refusal, TokenVerifier } from './guard';
import { ApiError, endRaw, errorBody, refuseUpgrade, sendError, sendJson } from './http';
import { OPENAI_ERROR_TYPE } from './openAiCompat';
import { type ApiContext, route } from './routes';
import { DEFAULT_LOCAL_API_LIMITS, type LocalApiHost, type LocalApiInfo, type LocalApiLimits, type LocalApiOptions } from './types';

export interface LocalApiDeps {
  host: LocalApiHost;
  tasks: TaskService;
  /** The gateway's storage dir: the discovery file goes here. */
  storageDir: string;
  redactor: Redactor;
  logger: Logger;
  /** The port to try first (`multiclaw.gateway.port`); 0 = any free port. */
  port: number;
  options?: LocalApiOptions;
}

/** Starts the listener; resolves once it listens and the discovery file is written. */
export async function startLocalApi(deps: LocalApiDeps): Promise<LocalApiServer> {
  const server = new LocalApiServer(deps);
  try {
    await server.listen();
  } catch (err) {
    server.dispose();
    throw err;
  }
  return server;
}

export class LocalApiServer extends Disposable implements LocalApiInfo {
  readonly token: string;
  readonly requestedPort: number;
  readonly discoveryFile: string;
  private _port = 0;
  /** The Host header almost every client sends (`127.0.0.1:<port>`): checked first, without parsing. */
  private usualHost = '';
  private readonly server: http.Server;
  private readonly verifier: TokenVerifier;
  private readonly authDelay: AuthDelay;
  private readonly limits: LocalApiLimits;
  private readonly hub: EventHub;
  private readonly ctx: ApiContext;
  private readonly log: Logger;
  private closed = false;

  constructor(private readonly deps: LocalApiDeps) {
    super();
    const o = deps.options ?? {};
    const clock = o.clock ?? systemClock;
    this.log = deps.logger;
    this.limits = { ...DEFAULT_LOCAL_API_LIMITS, ...o.limits };
    if (o.token !== undefined && !isAcceptableToken(o.token)) throw new Error('The local API token must be 32–512 characters of [A-Za-z0-9._~+/=-].');
    this.token = o.token ?? newToken();
    deps.redactor.add(this.token);
    this.verifier = new TokenVerifier(this.token);
    this.authDelay = new AuthDelay(this.limits);
    this.requestedPort = deps.port;
    this.discoveryFile = path.join(deps.storageDir, DISCOVERY_FILE_NAME);
    this.hub = this._register(new EventHub(deps.host, deps.tasks, this.limits, this.log.child('events')));
    this.ctx = {
      gateway: deps.host,
      limits: this.limits,
      log: this.log,
      host: o.host ?? 'vscode',
      version: o.version ?? '0.0.0',
      startedAt: clock.now(),
      now: () => clock.now(),
      port: () => this._port,
    };
    this.server = http.createServer(
      {
        headersTimeout: this.limits.headersTimeoutMs,
        requestTimeout: this.limits.requestTimeoutMs,
        connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(this.limits.headersTimeoutMs / 4))),
        maxHeaderSize: 16 * 1024,
        requireHostHeader: true,
      },
      (req, res) => this.onRequest(req, res),
    );
    this.server.keepAliveTimeout = this.limits.keepAliveTimeoutMs;
    this.server.maxConnections = this.limits.maxConnections;
    this.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.onUpgrade(req, socket, head));
    // Node's headers timeout starts at a request's first byte: a connection that sends nothing would
    // hold its slot forever. Until a request arrives, an idle socket is dropped after the same time.
    this.server.on('connection', (socket: Socket) => {
      socket.setTimeout(this.limits.headersTimeoutMs);
      socket.once('data', () => socket.setTimeout(0));
    });
    this.server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => this.onClientError(err, socket));
  }

  get port(): number {
    return this._port;
  }

  get url(): string {
    return `http://127.0.0.1:${this._port}`;
  }

  /** Connected `/v1/events` clients. */
  get eventClients(): number {
    return this.hub.size;
  }

  async listen(): Promise<void> {
    try {
      this._port = await this.listenOn(this.requestedPort);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || this.requestedPort === 0) throw err;
      this._port = await this.listenOn(0);
      this.log.warn(
        `port ${this.requestedPort} is in use (another MultiClaw window or program?); the local API listens on 127.0.0.1:${this._port} instead. Clients find it through ${this.discoveryFile}.`,
      );
    }
    this.usualHost = `127.0.0.1:${this._port}`;
    const discovery = { port: this._port, token: this.token, pid: process.pid, startedAt: new Date(this.ctx.startedAt).toISOString() };
    await writeDiscoveryFile(this.discoveryFile, discovery);
    const shared = this.deps.options?.sharedDiscoveryFile;
    if (shared) {
      // Best effort: the CLI also finds the gateway in its storage dir on the usual editors.
      await writeDiscoveryFile(shared, discovery).catch((err: unknown) =>
        this.log.warn(`could not write ${shared}:`, err instanceof Error ? err : String(err)),
      );
    }
    this.log.info(`local API listening on ${this.url} (discovery file ${this.discoveryFile}${shared ? ` and ${shared}` : ''})`);
  }

  private listenOn(port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => {
        this.server.off('listening', onListening);
        reject(err);
      };
      const onListening = (): void => {
        this.server.off('error', onError);
        resolve((this.server.address() as AddressInfo).port);
      };
      this.server.once('error', onError);
      this.server.once('listening', onListening);
      this.server.listen({ port, host: '127.0.0.1', exclusive: true });
    });
  }

  /**
   * The guard, in order: Host, Origin/Referer, token in the query (none of these counts as a failed
   * authentication), then the bearer token — a failure holds this connection's answer (AuthDelay).
   */
  private guard(req: IncomingMessage, query: string): Refusal | undefined {
    const host = req.headers.host;
    const refusal = (host === this.usualHost ? undefined : checkHost(host, this._port)) ?? checkOrigin(req.headers) ?? checkQuery(query);
    if (refusal) return refusal;
    const token = bearerToken(req.headers);
    if (token !== undefined && this.verifier.verify(token)) {
      this.authDelay.succeed(req.socket);
      return undefined;
    }
    const { failures, delayMs } = this.authDelay.fail(req.socket);
    this.log.debug(
      `refused a request without a valid token (${req.method ?? '?'} ${clip((req.url ?? '').split('?')[0] ?? '', 100)}); failure ${failures} on this connection, answered after ${delayMs} ms`,
    );
    return {
      status: 401,
      code: 'unauthorized',
      headers: { 'www-authenticate': 'Bearer realm="multiclaw"' },
      delayMs,
      message:
        token === undefined
          ? 'Send the session token as "Authorization: Bearer <token>" (MultiClaw: Copy Local API Token, or the discovery file).'
          : 'The token is not valid for this gateway session (it changes at every gateway start).',
    };
  }

  /** Runs `answer` after `ms` (at once for 0); dropped if the connection closes meanwhile. */
  private later(socket: Socket, ms: number | undefined, answer: () => void): void {
    if (!ms) return answer();
    const t = setTimeout(() => {
      socket.off('close', cancel);
      this.safely('a delayed refusal', answer);
    }, ms);
    const cancel = (): void => clearTimeout(t);
    socket.once('close', cancel);
  }

  /** Runs a listener callback; a throw is logged and fails only that request. */
  private safely(what: string, fn: () => void, onError?: () => void): void {
    try {
      fn();
    } catch (err) {
      this.log.error(`${what} failed:`, err instanceof Error ? err : String(err));
      try {
        onError?.();
      } catch {
        // nothing more to do for this connection
      }
    }
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    this.safely(
      'request',
      () => this.handleRequest(req, res),
      () => (res.headersSent ? res.destroy() : sendError(res, new ApiError(500, 'internal', 'Internal error; see the MultiClaw log.'))),
    );
  }

  private handleRequest(req: IncomingMessage, res: ServerResponse): void {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const pathname = q === -1 ? url : url.slice(0, q);
    const query = q === -1 ? '' : url.slice(q + 1);
    const refusal = this.guard(req, query);
    if (refusal) {
      this.later(req.socket, refusal.delayMs, () => sendJson(res, refusal.status, errorBody(refusal.code, refusal.message), refusal.headers));
      return;
    }
    try {
      const { handler, params } = route(req.method ?? 'GET', pathname);
      const p = handler(this.ctx, req, res, params, query);
      if (p) p.catch((err: unknown) => this.fail(res, err, pathname));
    } catch (err) {
      this.fail(res, err, pathname);
    }
  }

  private fail(res: ServerResponse, err: unknown, pathname: string): void {
    const type = pathname === '/v1/chat/completions' || pathname === '/v1/models' ? OPENAI_ERROR_TYPE : undefined;
    if (err instanceof ApiError) return sendError(res, err, type);
    if (isGatewayNotRunning(err)) return sendError(res, new ApiError(503, 'gateway_not_running', 'The gateway is not running.'), type);
    this.log.error(`request ${pathname} failed:`, err instanceof Error ? err : String(err));
    if (res.headersSent) {
      res.destroy();
      return;
    }
    sendError(res, new ApiError(500, 'internal', 'Internal error; see the MultiClaw log.'), type);
  }

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => undefined);
    this.safely(
      'upgrade',
      () => this.handleUpgrade(req, socket, head),
      () => socket.destroy(),
    );
  }

  private handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const pathname = q === -1 ? url : url.slice(0, q);
    const refusal = this.guard(req, q === -1 ? '' : url.slice(q + 1));
    if (refusal) return this.later(req.socket, refusal.delayMs, () => refuseUpgrade(socket, refusal.status, refusal.code, refusal.message, refusal.headers));
    if (pathname !== '/v1/events') return refuseUpgrade(socket, 404, 'not_found', `No WebSocket endpoint ${clip(pathname, 100)}; use /v1/events.`);
    if (this.closed) return refuseUpgrade(socket, 503, 'gateway_not_running', 'The gateway is stopping.');
    this.hub.accept(req, socket, head, this.deps.host.state);
  }

  private onClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const timeout = err.code === 'ERR_HTTP_REQUEST_TIMEOUT';
    const tooLarge = err.code === 'HPE_HEADER_OVERFLOW';
    const [status, reason] = timeout ? [408, 'Request Timeout'] : tooLarge ? [431, 'Request Header Fields Too Large'] : [400, 'Bad Request'];
    const body = JSON.stringify(
      errorBody(timeout ? 'timeout' : 'invalid_request', timeout ? 'The request took too long to arrive.' : 'The request is not valid HTTP/1.1.'),
    );
    endRaw(
      socket,
      `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }

  /** Closes event sockets, stops listening, drops open connections and removes the discovery file. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.shutdown();
    for (const file of this.discoveryFiles())
      await removeDiscoveryFile(file, this.token).catch((err: unknown) => this.log.warn(`could not remove ${file}:`, err instanceof Error ? err : String(err)));
    this.log.info('local API stopped');
    this.dispose();
  }

  private discoveryFiles(): string[] {
    const shared = this.deps.options?.sharedDiscoveryFile;
    return shared ? [this.discoveryFile, shared] : [this.discoveryFile];
  }

  private shutdown(): void {
    this.closed = true;
    this.hub.dispose();
    this.server.close();
    this.server.closeAllConnections();
  }

  override dispose(): void {
    if (this.isDisposed) return;
    if (!this.closed) {
      this.shutdown();
      for (const file of this.discoveryFiles()) {
        try {
          const current = JSON.parse(readFileSync(file, 'utf8')) as { token?: unknown };
          if (current.token === this.token) rmSync(file, { force: true });
        } catch {
          // no file, or not ours
        }
      }
    }
    super.dispose();
  }
}

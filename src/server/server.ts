/**
 * The reference workspace server: one port, REST under /v1 and WSS at /v1/ws, HTTP or HTTPS
 * (TLS 1.2 minimum), SQLite (WAL) in the data dir. `WorkspaceServer.start()` builds everything by hand;
 * `close()` says goodbye to every socket (1001), flushes the write queue and closes the database.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { deriveKey, loadMasterKey, SecretBox } from './crypto/keys';
import { DEFAULT_SCRYPT_COST, type ScryptCost } from './crypto/passwords';
import { newId, SessionTokenSigner } from './crypto/tokens';
import { ClusterNode } from './cluster';
import * as path from 'node:path';
import { DB_FILE, openDatabase, type SyncMode } from './db/database';
import type { PostgresStore } from './db/postgresStore';
import { SqliteStore } from './db/sqliteStore';
import type { Store } from './db/store';
import { WalSync } from './db/walSync';
import { Readiness } from './http/readiness';
import { WriteQueue, type CommitMode } from './db/writeQueue';
import { createHandlers } from './http/handlers';
import { RateLimiter } from './http/rateLimit';
import { Router } from './http/router';
import { nullLogger, type Logger } from './log';
import type { ServerContext } from './services/context';
import { createServices, type Services } from './services/registry';
import { HEARTBEAT_SLICES, Hub } from './ws/hub';
import { WsEndpoint } from './ws/wsServer';

export const SERVER_VERSION = '0.1.0';

/** A request Node's parser refused (too large, too slow, not HTTP): a typed JSON answer when the socket can take one, then close. */
function answerClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const [status, reason, code, message] =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'Request Header Fields Too Large', 'headers_too_large', 'the request line and headers exceed 16 KiB']
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'Request Timeout', 'request_timeout', 'the request did not arrive in time']
        : [400, 'Bad Request', 'bad_request', 'the request is not valid HTTP/1.1'];
  const body = JSON.stringify({ error: { code, message } });
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
  const t = setTimeout(() => socket.destroy(), 2_000);
  t.unref();
  socket.once('close', () => clearTimeout(t));
}

export interface WorkspaceServerOptions {
  dataDir: string;
  host?: string;
  /** 0 = any free port */
  port?: number;
  tls?: { cert: string | Buffer; key: string | Buffer };
  logger?: Logger;
  /** Clock for tokens, lockouts and records (tests move it). */
  now?: () => number;
  env?: NodeJS.ProcessEnv;
  scryptCost?: ScryptCost;
  heartbeatIntervalMs?: number;
  helloTimeoutMs?: number;
  maxFailedLogins?: number;
  lockoutMs?: number;
  /** Auth routes (sign-in, invite acceptance) per client address. */
  authRateLimit?: { burst: number; perMinute: number };
  wsFramesPerSecond?: number;
  wsFrameBurst?: number;
  commitMode?: CommitMode;
  synchronous?: SyncMode;
  turn?: { urls: string[]; secret?: string; ttlSeconds?: number };
  eventRetention?: { maxPerWorkspace: number; maxAgeMs: number };
  /** `postgres://…`: PostgreSQL instead of the SQLite file in the data dir (several nodes may share it). */
  databaseUrl?: string;
  /** This node's id in the cluster (default: random). */
  nodeId?: string;
}

export class WorkspaceServer {
  private readonly timers: NodeJS.Timeout[] = [];
  private closed = false;

  private constructor(
    readonly services: Services,
    readonly hub: Hub,
    private readonly ws: WsEndpoint,
    private readonly server: http.Server | https.Server,
    private readonly db: Store,
    private readonly queue: WriteQueue,
    readonly tls: boolean,
    private readonly log: Logger,
    readonly readiness: Readiness,
    /** Set on PostgreSQL: this node's part in the cluster. */
    readonly cluster?: ClusterNode,
  ) {}

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  get url(): string {
    const a = this.server.address() as AddressInfo;
    const host = a.family === 'IPv6' ? `[${a.address}]` : a.address;
    return `${this.tls ? 'https' : 'http'}://${host}:${a.port}`;
  }

  get wsUrl(): string {
    return `${this.url.replace(/^http/, 'ws')}/v1/ws`;
  }

  static async start(o: WorkspaceServerOptions): Promise<WorkspaceServer> {
    const log = o.logger ?? nullLogger;
    const now = o.now ?? Date.now;
    // Durable commits: batched mode fsyncs the WAL off the event loop (WalSync) with SQLite at NORMAL;
    // per-op mode (the baseline) lets SQLite fsync inside every COMMIT.
    const commitMode = o.commitMode ?? 'batched';
    const pgUrl = o.databaseUrl;
    const offLoopSync = !pgUrl && (o.synchronous ?? 'FULL') === 'FULL' && commitMode === 'batched';
    const db: Store = pgUrl
      ? await (await import('./db/postgresStore')).PostgresStore.open({ url: pgUrl, onError: (err) => log.warn('database connection error', { err }) })
      : new SqliteStore(openDatabase(o.dataDir, offLoopSync ? 'NORMAL' : (o.synchronous ?? 'FULL')));
    const walSync = offLoopSync ? new WalSync(path.join(o.dataDir, DB_FILE)) : undefined;
    const master = loadMasterKey(o.dataDir, o.env ?? process.env);
    if (master.fixedPermissions) log.warn('master key file had open permissions; set to 0600');
    const heartbeatIntervalMs = o.heartbeatIntervalMs ?? 15_000;
    const hub = new Hub(log.child({ topic: 'ws' }), heartbeatIntervalMs);
    const cluster =
      db.dialect === 'postgres'
        ? new ClusterNode(db as PostgresStore, hub, o.nodeId ?? newId('node'), heartbeatIntervalMs, log.child({ topic: 'cluster' }), now)
        : undefined;
    const queue = new WriteQueue(db, now, (events) => hub.publish(events), commitMode, walSync);
    queue.onDeliverError = (err) => log.error('event fan-out failed', { err: err instanceof Error ? err : String(err) });
    const ctx: ServerContext = {
      db,
      queue,
      now,
      log,
      box: new SecretBox(deriveKey(master.key, 'at-rest/v1')),
      signer: new SessionTokenSigner(deriveKey(master.key, 'session-token/v1')),
      sessions: cluster ? cluster.sessions() : hub,
      cluster: cluster?.info,
      settings: {
        scryptCost: o.scryptCost ?? DEFAULT_SCRYPT_COST,
        maxFailedLogins: o.maxFailedLogins ?? 5,
        lockoutMs: o.lockoutMs ?? 15 * 60_000,
        accountTokenTtlMs: 30 * 24 * 3600_000,
        inviteTtlMs: 7 * 24 * 3600_000,
        heartbeatIntervalMs,
        turn: { urls: o.turn?.urls ?? [], secret: o.turn?.secret, ttlSeconds: o.turn?.ttlSeconds ?? 3600 },
      },
    };
    const services = createServices(ctx);
    hub.bind(services);
    if (cluster) {
      hub.remoteSignal = (from, f) => cluster.relaySignal(from, f);
      await cluster.start(services);
    }
    const rate = o.authRateLimit ?? { burst: 10, perMinute: 10 };
    const readiness = new Readiness(db, SERVER_VERSION, cluster);
    const router = new Router(
      services,
      createHandlers(services, readiness),
      new RateLimiter(rate.burst, rate.perMinute / 60, Date.now),
      log.child({ topic: 'http' }),
    );
    const framesPerSecond = o.wsFramesPerSecond ?? 200;
    const ws = new WsEndpoint(
      services,
      hub,
      {
        framesPerSecond,
        frameBurst: o.wsFrameBurst ?? framesPerSecond * 2,
        helloTimeoutMs: o.helloTimeoutMs ?? 15_000,
        heartbeatIntervalMs,
      },
      log.child({ topic: 'ws' }),
    );
    const onRequest = (req: http.IncomingMessage, res: http.ServerResponse): void => {
      router.handle(req, res).catch((err: unknown) => {
        log.error('request handler failed', { err: err instanceof Error ? err : String(err) });
        res.destroy();
      });
    };
    const server = o.tls ? https.createServer({ cert: o.tls.cert, key: o.tls.key, minVersion: 'TLSv1.2' }, onRequest) : http.createServer(onRequest);
    server.requestTimeout = 30_000;
    server.headersTimeout = 15_000;
    server.keepAliveTimeout = 5_000;
    server.on('upgrade', (req: http.IncomingMessage, socket, head: Buffer) => ws.handleUpgrade(req, socket, head));
    server.on('clientError', (err: NodeJS.ErrnoException, socket) => answerClientError(err, socket));
    const s = new WorkspaceServer(services, hub, ws, server, db, queue, Boolean(o.tls), log, readiness, cluster);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(o.port ?? 8787, o.host ?? '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    const retention = o.eventRetention ?? { maxPerWorkspace: 100_000, maxAgeMs: 30 * 24 * 3600_000 };
    s.every(Math.max(10, Math.floor(heartbeatIntervalMs / HEARTBEAT_SLICES)), () => hub.tick());
    s.every(1000, () => void hub.pollExternalWrites().catch((err: unknown) => log.warn('poll failed', { err: err instanceof Error ? err : String(err) })));
    s.every(10 * 60_000, () => void services.events.prune(retention.maxPerWorkspace, retention.maxAgeMs).catch(() => undefined));
    log.info('listening', {
      url: s.url,
      port: s.port,
      tls: s.tls,
      dataDir: o.dataDir,
      database: db.dialect,
      node: cluster?.nodeId,
      keyFrom: master.source,
      commitMode,
      sync: pgUrl ? 'postgres (durable at COMMIT)' : offLoopSync ? 'full (fdatasync off the event loop)' : (o.synchronous ?? 'FULL'),
    });
    return s;
  }

  private every(ms: number, fn: () => void): void {
    const t = setInterval(() => {
      try {
        fn();
      } catch (err) {
        this.log.error('timer failed', { err: err instanceof Error ? err : String(err) });
      }
    }, ms);
    t.unref();
    this.timers.push(t);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.readiness.draining = true;
    for (const t of this.timers.splice(0)) clearInterval(t);
    this.hub.shutdown('server shutting down');
    this.ws.close();
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
    await this.queue.close();
    await this.cluster?.stop();
    await this.db.close();
    this.log.info('closed', { batches: this.queue.batches, ops: this.queue.ops });
  }
}

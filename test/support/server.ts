/**
 * Test harness for the reference workspace server: a real server on 127.0.0.1:0 in a temp data dir
 * (cheap scrypt, movable clock, captured logs), a small REST client (fetch) and a `ws` client that
 * queues frames so tests wait on them instead of sleeping.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';
import type { Role } from '../../src/protocol/workspace/common';
import { Admin } from '../../src/server/admin';
import { createLogger } from '../../src/server/log';
import { WorkspaceServer, type WorkspaceServerOptions } from '../../src/server/server';
import { testCluster } from './postgresHooks';

export const FAST_SCRYPT = { log2N: 10, r: 8, p: 1 };

export interface TestServer {
  server: WorkspaceServer;
  url: string;
  wsUrl: string;
  dataDir: string;
  admin: Admin;
  logs: string[];
  /** Moves the server clock (tokens, lockouts). */
  advance(ms: number): void;
  close(): Promise<void>;
}

/** The database of each data dir while the suites run on PostgreSQL (a restarted server finds its data). */
const databases = new Map<string, string>();

/** Under the `unit-postgres` tier, the database URL for a server on `dataDir` (its own database in the test cluster). */
async function databaseFor(dataDir: string): Promise<string | undefined> {
  const cluster = testCluster();
  if (!cluster) return undefined;
  let url = databases.get(dataDir);
  if (!url) databases.set(dataDir, (url = await cluster.createDatabase()));
  return url;
}

export async function startTestServer(opts: Partial<WorkspaceServerOptions> = {}): Promise<TestServer> {
  const dataDir = opts.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'mc-server-'));
  const databaseUrl = 'databaseUrl' in opts ? opts.databaseUrl : await databaseFor(dataDir);
  const logs: string[] = [];
  let offset = 0;
  const server = await WorkspaceServer.start({
    host: '127.0.0.1',
    port: 0,
    scryptCost: FAST_SCRYPT,
    env: {},
    logger: createLogger((l) => logs.push(l), 'debug'),
    now: () => Date.now() + offset,
    authRateLimit: { burst: 1000, perMinute: 60_000 },
    wsFramesPerSecond: 2000,
    ...opts,
    dataDir,
    databaseUrl,
  });
  return {
    server,
    url: server.url,
    wsUrl: server.wsUrl,
    dataDir,
    logs,
    admin: new Admin(dataDir, server.services, FAST_SCRYPT),
    advance: (ms) => (offset += ms),
    close: async () => {
      await server.close();
      if (!opts.dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface HttpResult<T = Record<string, unknown>> {
  status: number;
  body: T;
  headers: Headers;
}

export const idemKey = (): string => `test-${randomUUID()}`;

/** One REST call. `idem: true` sends a fresh Idempotency-Key. */
export async function call<T = Record<string, unknown>>(
  base: string,
  method: string,
  p: string,
  o: { token?: string; body?: unknown; idem?: string | true; headers?: Record<string, string>; raw?: string | Buffer } = {},
): Promise<HttpResult<T>> {
  const headers: Record<string, string> = { ...o.headers };
  if (o.token) headers.authorization = `Bearer ${o.token}`;
  if (o.idem) headers['idempotency-key'] = o.idem === true ? idemKey() : o.idem;
  let body: string | Buffer | undefined = o.raw;
  if (o.body !== undefined) {
    body = JSON.stringify(o.body);
    headers['content-type'] ??= 'application/json';
  }
  const res = await fetch(base + p, { method, headers, body });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : {}) as T, headers: res.headers };
}

export interface Person {
  email: string;
  password: string;
  userId: string;
  memberId: string;
  /** account token */
  token: string;
}

export interface Team {
  ts: TestServer;
  wid: string;
  owner: Person;
  people: Record<string, Person>;
}

let counter = 0;

/** A workspace with an Owner plus one person per extra role, all signed in over REST. */
export async function makeTeam(
  ts: TestServer,
  roles: Role[] = ['admin', 'member', 'viewer'],
  slug = `team-${++counter}-${Date.now() % 100000}`,
): Promise<Team> {
  const mk = async (role: Role, i: number): Promise<{ email: string; password: string; userId: string }> => {
    const email = `${role}${i}-${slug}@example.test`;
    const password = `pw-${randomUUID()}`;
    return { email, password, userId: await ts.admin.createUser(email, `${role} ${i}`, password) };
  };
  const o = await mk('owner', 0);
  const w = await ts.admin.createWorkspace(slug, `Team ${slug}`, o.email);
  const login = async (u: { email: string; password: string; userId: string }): Promise<Person> => {
    const r = await call<{ session: { token: string } }>(ts.url, 'POST', '/v1/auth/login', { body: { email: u.email, password: u.password } });
    if (r.status !== 200) throw new Error(`login failed ${r.status} ${JSON.stringify(r.body)}`);
    return { ...u, memberId: (await ts.admin.member(slug, u.email)).id, token: r.body.session.token };
  };
  const people: Record<string, Person> = {};
  for (const [i, role] of roles.entries()) {
    const u = await mk(role, i + 1);
    await ts.admin.addMember(slug, u.email, role);
    people[role] = await login(u);
  }
  return { ts, wid: w.id, owner: await login(o), people };
}

export async function sessionToken(ts: TestServer, token: string, workspaceId?: string, scope: 'user' | 'daemon' = 'user'): Promise<string> {
  const r = await call<{ token: string }>(ts.url, 'POST', '/v1/session-tokens', { token, body: { workspaceId, scope } });
  if (r.status !== 200) throw new Error(`mint failed ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.token;
}

export interface Registered {
  instanceId: string;
  instanceSecret: string;
  workspaceToken: string;
}

export async function registerInstance(team: Team, who: Person, kind: 'gateway' | 'desktop' = 'gateway'): Promise<Registered> {
  const r = await call<{ instance: { id: string }; instanceSecret: string; workspaceToken: string }>(
    team.ts.url,
    'POST',
    `/v1/workspaces/${team.wid}/instances`,
    {
      token: who.token,
      idem: true,
      body: { name: `${kind}-${randomUUID().slice(0, 6)}`, platform: 'linux', version: '0.1.0', kind },
    },
  );
  if (r.status !== 201) throw new Error(`register failed ${r.status} ${JSON.stringify(r.body)}`);
  return { instanceId: r.body.instance.id, instanceSecret: r.body.instanceSecret, workspaceToken: r.body.workspaceToken };
}

export type Frame = Record<string, unknown> & { type: string };

/** A `ws` client that queues frames; `next()` waits for (and consumes) the first matching one. */
export class WsClient {
  readonly frames: Frame[] = [];
  private waiters: Array<{ pred: (f: Frame) => boolean; resolve: (f: Frame) => void }> = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  readonly opened: Promise<void>;

  constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const f = JSON.parse(data.toString()) as Frame;
      const i = this.waiters.findIndex((w) => w.pred(f));
      if (i >= 0) this.waiters.splice(i, 1)[0].resolve(f);
      else this.frames.push(f);
    });
    this.closed = new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    this.opened = new Promise((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    this.opened.catch(() => undefined);
  }

  static async connect(url: string, token: string | undefined, how: 'header' | 'protocol' = 'header'): Promise<WsClient> {
    const ws =
      how === 'header'
        ? new WebSocket(url, { headers: token ? { authorization: `Bearer ${token}` } : {} })
        : new WebSocket(url, ['multiclaw.v1', `bearer.${token ?? ''}`]);
    const c = new WsClient(ws);
    await c.opened;
    return c;
  }

  /** Connects and completes the hello handshake (waits for `resumed`, or `resync`). */
  static async ready(url: string, token: string, lastSeq?: number | null): Promise<{ client: WsClient; welcome: Frame }> {
    const client = await WsClient.connect(url, token);
    client.send({ type: 'hello', protocol: 1, lastSeq, client: { name: 'test', version: '0' } });
    const welcome = await client.next((f) => f.type === 'welcome');
    await client.next((f) => f.type === 'resumed' || f.type === 'resync');
    return { client, welcome };
  }

  send(obj: unknown): void {
    this.ws.send(JSON.stringify(obj));
  }

  next(pred: (f: Frame) => boolean = () => true, timeoutMs = 5000): Promise<Frame> {
    const i = this.frames.findIndex(pred);
    if (i >= 0) return Promise.resolve(this.frames.splice(i, 1)[0]);
    return new Promise((resolve, reject) => {
      const w = { pred, resolve: (f: Frame) => (clearTimeout(t), resolve(f)) };
      const t = setTimeout(() => {
        this.waiters = this.waiters.filter((x) => x !== w);
        reject(new Error(`no matching frame within ${timeoutMs} ms; have ${JSON.stringify(this.frames.slice(-5))}`));
      }, timeoutMs);
      this.waiters.push(w);
    });
  }

  /** Sends a req and waits for its res. */
  async rpc(method: string, params: unknown, idempotencyKey?: string): Promise<Frame> {
    const id = randomUUID();
    this.send({ type: 'req', id, method, params, idempotencyKey });
    return this.next((f) => f.type === 'res' && f.id === id);
  }

  close(): void {
    this.ws.close();
  }
}

/**
 * Mocha hooks for a suite against one reference server: `before` starts it (options as
 * startTestServer) and makes a team (`roles`, default admin/member/viewer), then hands both to `set`
 * (which may do more set-up); `after` closes the server.
 */
export function useTeamServer(
  set: (e: { ts: TestServer; team: Team }) => void | Promise<void>,
  o: { roles?: Role[]; slug?: string; server?: Partial<WorkspaceServerOptions> } = {},
): void {
  let ts: TestServer | undefined;
  before(async () => {
    ts = await startTestServer(o.server);
    await set({ ts, team: await makeTeam(ts, o.roles, o.slug) });
  });
  after(async () => ts?.close());
}

/** A gateway with its local API on 127.0.0.1 (a free port) against the local provider fixture server. */
import http from 'node:http';
import WebSocket from 'ws';
import type { WorkspacePort } from '../../../../src/gateway/agent/workspacePort';
import type { GatewayConfig } from '../../../../src/gateway/config';
import type { LocalApiInfo, LocalApiLimits } from '../../../../src/gateway/localApi/types';
import type { Clock } from '../../../../src/gateway/ports';
import type { LocalEvent } from '../../../../src/protocol/localApi';
import type { ProviderServer } from '../../../fixtures/providerServer';
import { createTestGateway, type TestGateway } from '../../../support/gateway';
import { MapSecrets } from '../../../support/secrets';

export { configFor } from '../../../support/gateway';
export { ManualClock } from '../../../support/clock';
export { MapSecrets } from '../../../support/secrets';

export interface ApiHarness extends TestGateway {
  api: LocalApiInfo;
}

export async function startApiGateway(
  server: ProviderServer,
  o: {
    limits?: Partial<LocalApiLimits>;
    clock?: Clock;
    config?: Partial<GatewayConfig['localApi']>;
    openaiKey?: boolean;
    dir?: string;
    workspace?: WorkspacePort;
    agent?: Partial<NonNullable<GatewayConfig['agent']>>;
  } = {},
): Promise<ApiHarness> {
  const secrets = new MapSecrets();
  if (o.openaiKey) secrets.map.set('multiclaw.providerKey.openai', server.keys.openai);
  const t = await createTestGateway(server, {
    dir: o.dir,
    secrets,
    workspace: o.workspace,
    localApi: { host: 'headless', version: '9.9.9-test', clock: o.clock, limits: o.limits },
    config: (c) => {
      c.localApi = { ...c.localApi, enabled: true, ...o.config };
      if (o.agent) c.agent = { ...c.agent!, ...o.agent };
    },
  });
  const api = t.gateway.localApi;
  if (!api) {
    await t.close();
    throw new Error(`the local API did not start:\n${t.sink.lines.join('\n')}`);
  }
  return { ...t, api };
}

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  json: unknown;
}

export interface RawRequest {
  method?: string;
  path: string;
  /** Default: the valid token. `null` = no Authorization header. */
  token?: string | null;
  /** Default `127.0.0.1:<port>`; `null` = no Host header. */
  host?: string | null;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Address to connect to (default 127.0.0.1). */
  address?: string;
  /** A keep-alive agent, to send several requests over one connection (default: a new connection each). */
  agent?: http.Agent;
}

/** One HTTP request with exactly the headers given (no automatic Host). */
export function request(api: LocalApiInfo, r: RawRequest): Promise<Reply> {
  const headers: Record<string, string> = { ...r.headers };
  const token = r.token === undefined ? api.token : r.token;
  if (token !== null) headers.authorization = `Bearer ${token}`;
  const host = r.host === undefined ? `127.0.0.1:${api.port}` : r.host;
  if (host !== null) headers.host = host;
  if (r.body !== undefined && !headers['content-type']) headers['content-type'] = 'application/json';
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: r.address ?? '127.0.0.1', port: api.port, method: r.method ?? 'GET', path: r.path, headers, setHost: false, agent: r.agent ?? false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(r.body);
  });
}

export function errorCode(reply: Reply): string | undefined {
  return (reply.json as { error?: { code?: string } } | undefined)?.error?.code;
}

/** Opens `/v1/events`; resolves with the socket and a queue of frames, or rejects with the refusal's status and body. */
export function openEvents(api: LocalApiInfo, o: { headers?: Record<string, string>; path?: string; token?: string | null } = {}): Promise<EventStream> {
  const token = o.token === undefined ? api.token : o.token;
  const headers: Record<string, string> = { ...o.headers };
  if (token !== null) headers.authorization = `Bearer ${token}`;
  const ws = new WebSocket(`ws://127.0.0.1:${api.port}${o.path ?? '/v1/events'}`, { headers, perMessageDeflate: false });
  const stream = new EventStream(ws);
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(stream));
    ws.once('unexpected-response', (_req, res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        reject(Object.assign(new Error(`upgrade refused: ${res.statusCode}`), { status: res.statusCode, body: Buffer.concat(chunks).toString('utf8') })),
      );
    });
    ws.once('error', reject);
  });
}

export class EventStream {
  readonly frames: LocalEvent[] = [];
  private waiters: Array<() => void> = [];
  private isClosed = false;
  readonly closed: Promise<{ code: number; reason: string }>;

  constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => {
      this.frames.push(JSON.parse(data.toString('utf8')) as LocalEvent);
      for (const w of this.waiters.splice(0)) w();
    });
    this.closed = new Promise((resolve) =>
      ws.once('close', (code: number, reason: Buffer) => {
        this.isClosed = true;
        for (const w of this.waiters.splice(0)) w();
        resolve({ code, reason: reason.toString() });
      }),
    );
  }

  /** Resolves with the first frame (already received or coming) that matches. */
  async next<T extends LocalEvent>(pred: (e: LocalEvent) => e is T): Promise<T>;
  async next(pred: (e: LocalEvent) => boolean): Promise<LocalEvent>;
  async next(pred: (e: LocalEvent) => boolean): Promise<LocalEvent> {
    for (;;) {
      const hit = this.frames.find(pred);
      if (hit) return hit;
      if (this.isClosed) throw new Error(`the events socket closed; frames: ${JSON.stringify(this.frames.map((f) => f.type))}`);
      await new Promise<void>((r) => this.waiters.push(r));
    }
  }

  close(): void {
    this.ws.close();
  }
}

/** Parses a server-sent event stream body into {event, data} pairs. */
export function parseSse(text: string): Array<{ event?: string; data: string }> {
  const out: Array<{ event?: string; data: string }> = [];
  for (const block of text.split('\n\n')) {
    let event: string | undefined;
    const data: string[] = [];
    for (const line of block.split('\n')) {
      if (line.startsWith('event: ')) event = line.slice(7);
      else if (line.startsWith('data: ')) data.push(line.slice(6));
    }
    if (data.length) out.push({ event, data: data.join('\n') });
  }
  return out;
}

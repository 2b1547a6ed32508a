/**
 * Our MCP client interface and its one implementation on `@modelcontextprotocol/sdk` 1.32.x. Nothing
 * else imports the SDK's client, so moving to the v2 client package (`@modelcontextprotocol/client`)
 * changes this file only. Transports: stdio (ours, `stdioTransport.ts`) and Streamable HTTP with a
 * fallback to the deprecated HTTP+SSE transport on a 4xx, both through the fetch the host gives
 * (NetService with purpose `mcp`: proxy, TLS policy, ledger). Every request carries our timeout.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport, StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { FetchLike, Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { ErrorCode, McpError, ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import type { Logger } from '../ports';
import type { JsonSchema } from '../providers/types';
import { Disposable, Emitter, type Event } from '../util/disposable';
import { formatToolResult, type McpCallResult } from './mcpResult';
import { StderrTap } from './stderrTap';
import { StdioTransport, type StdioServerSpec } from './stdioTransport';

export interface McpTool {
  name: string;
  description: string;
  inputSchema: JsonSchema;
}

export type McpTransportSpec = ({ kind: 'stdio' } & StdioServerSpec) | { kind: 'http'; url: string; headers: Record<string, string>; sseOnly?: boolean };

/** `fetch` as the SDK calls it; the host passes NetService.fetch with purpose `mcp`. */
export type McpFetch = (url: string | URL, init?: RequestInit) => Promise<Response>;

export interface McpClientOptions {
  transport: McpTransportSpec;
  logger: Logger;
  fetch: McpFetch;
  /** initialize (and the SSE fallback's) deadline. */
  connectTimeoutMs: number;
  /** Each request's timeout; a progress notification resets it. */
  requestTimeoutMs: number;
  /** A call may run this long in total even while it reports progress. */
  maxTotalTimeoutMs: number;
  maxResultChars: number;
  /** stdio: one message larger than this closes the connection. */
  maxMessageBytes: number;
}

export interface McpProgress {
  progress: number;
  total?: number;
  message?: string;
}

export interface McpCallOptions {
  signal?: AbortSignal;
  onProgress?: (p: McpProgress) => void;
}

export interface McpConnectInfo {
  transport: 'stdio' | 'streamable-http' | 'sse';
  serverName?: string;
  serverVersion?: string;
  protocolVersion?: string;
  /** The server's own instructions (untrusted text). */
  instructions?: string;
}

export interface McpClient {
  /** The server sent notifications/tools/list_changed. */
  readonly onDidChangeTools: Event<void>;
  /** The connection ended without `close()` (process exit, HTTP session lost): why. */
  readonly onDidClose: Event<Error>;
  connect(): Promise<McpConnectInfo>;
  listTools(): Promise<McpTool[]>;
  callTool(name: string, args: Record<string, unknown>, options?: McpCallOptions): Promise<McpCallResult>;
  close(): Promise<void>;
}

/** A request that did not answer in time (our timeout, not the SDK's silent 60 s). */
export function isMcpTimeout(err: unknown): boolean {
  return err instanceof McpError && err.code === ErrorCode.RequestTimeout;
}

export function createMcpClient(options: McpClientOptions): McpClient {
  return new SdkMcpClient(options);
}

const seconds = (ms: number): string => `${Math.round(ms / 100) / 10} s`;

class SdkMcpClient extends Disposable implements McpClient {
  private readonly onDidChangeToolsEmitter = this._register(new Emitter<void>());
  readonly onDidChangeTools = this.onDidChangeToolsEmitter.event;
  private readonly onDidCloseEmitter = this._register(new Emitter<Error>());
  readonly onDidClose = this.onDidCloseEmitter.event;
  private client: Client | undefined;
  private transport: Transport | undefined;
  private tap: StderrTap | undefined;
  private closing = false;
  private connected = false;

  constructor(private readonly o: McpClientOptions) {
    super();
  }

  async connect(): Promise<McpConnectInfo> {
    const t = this.o.transport;
    if (t.kind === 'stdio') return this.connectStdio(t);
    if (t.sseOnly) return this.connectWith(this.sseTransport(t), 'sse');
    try {
      return await this.connectWith(
        new StreamableHTTPClientTransport(new URL(t.url), { requestInit: { headers: t.headers }, fetch: this.fetch }),
        'streamable-http',
      );
    } catch (err) {
      // The SDK's documented migration path: a server that refuses the Streamable HTTP POST with a 4xx speaks the old HTTP+SSE transport.
      const code = err instanceof StreamableHTTPError ? err.code : undefined;
      if (code === undefined || code < 400 || code >= 500 || code === 401 || code === 403) throw httpError(err, t.url);
      this.o.logger.info(`Streamable HTTP was refused (HTTP ${code}); trying the HTTP+SSE transport`);
      return this.connectWith(this.sseTransport(t), 'sse').catch((e2: unknown) => {
        throw httpError(e2, t.url);
      });
    }
  }

  private readonly fetch: FetchLike = (url, init) => this.o.fetch(url, init);

  private sseTransport(t: Extract<McpTransportSpec, { kind: 'http' }>): Transport {
    return new SSEClientTransport(new URL(t.url), { requestInit: { headers: t.headers }, fetch: this.fetch });
  }

  private async connectStdio(spec: StdioServerSpec): Promise<McpConnectInfo> {
    this.tap = new StderrTap(this.o.logger);
    const transport = new StdioTransport(spec, { maxMessageBytes: this.o.maxMessageBytes, stderr: this.tap });
    try {
      return await this.connectWith(transport, 'stdio');
    } catch (err) {
      throw this.stdioError(err, transport, 'start');
    }
  }

  private stdioError(err: unknown, transport: StdioTransport, when: 'start' | 'run'): Error {
    const tail = this.tap?.tailText() ?? '';
    const tailText = tail ? `\nIts last stderr lines:\n${tail}` : ' It wrote nothing to stderr.';
    if (transport.failure) return new Error(`${transport.failure.message}.${tailText}`, { cause: err });
    // Before the exit: a timed-out start is killed by our close(), which is not the server's doing.
    if (isMcpTimeout(err)) return new Error(`the server did not answer "initialize" within ${seconds(this.o.connectTimeoutMs)}.${tailText}`, { cause: err });
    const exit = transport.exit;
    if (exit) {
      const how = exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
      return new Error(`the server ${how} ${when === 'start' ? 'during start' : 'while running'}.${tailText}`, { cause: err });
    }
    return err instanceof Error ? err : new Error(String(err));
  }

  private async connectWith(transport: Transport, kind: McpConnectInfo['transport']): Promise<McpConnectInfo> {
    const client = new Client({ name: 'multiclaw', version: '0.1.0' }, { capabilities: {} });
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => this.onDidChangeToolsEmitter.fire());
    client.onclose = () => this.onTransportClosed(transport);
    this.client = client;
    this.transport = transport;
    try {
      await client.connect(transport, { timeout: this.o.connectTimeoutMs });
    } catch (err) {
      this.closing = true;
      await client.close().catch(() => undefined);
      this.client = undefined;
      this.closing = false;
      if (isMcpTimeout(err) && kind !== 'stdio')
        throw new Error(`the server did not answer "initialize" within ${seconds(this.o.connectTimeoutMs)}`, { cause: err });
      throw err;
    }
    this.connected = true;
    const v = client.getServerVersion();
    return { transport: kind, serverName: v?.name, serverVersion: v?.version, protocolVersion: protocolOf(transport), instructions: client.getInstructions() };
  }

  private onTransportClosed(transport: Transport): void {
    if (this.closing || !this.connected || transport !== this.transport) return;
    this.connected = false;
    const err = transport instanceof StdioTransport ? this.stdioError(undefined, transport, 'run') : new Error('the server closed the connection');
    this.onDidCloseEmitter.fire(err);
  }

  private get live(): Client {
    if (!this.client || !this.connected) throw new Error('the MCP server is not connected');
    return this.client;
  }

  async listTools(): Promise<McpTool[]> {
    const tools: McpTool[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 100; page++) {
      const r = await this.live.listTools(cursor ? { cursor } : {}, { timeout: this.o.requestTimeoutMs });
      for (const t of r.tools) tools.push({ name: t.name, description: t.description ?? '', inputSchema: t.inputSchema as JsonSchema });
      cursor = r.nextCursor;
      if (!cursor) break;
    }
    return tools;
  }

  async callTool(name: string, args: Record<string, unknown>, options: McpCallOptions = {}): Promise<McpCallResult> {
    const raw = await this.live.callTool({ name, arguments: args }, undefined, {
      signal: options.signal,
      timeout: this.o.requestTimeoutMs,
      resetTimeoutOnProgress: true,
      maxTotalTimeout: this.o.maxTotalTimeoutMs,
      // Always set: it makes the SDK send a progress token, without which there is no progress to reset the timeout.
      onprogress: (p) => options.onProgress?.({ progress: p.progress, total: p.total, message: p.message }),
    });
    return formatToolResult(raw as Record<string, unknown>, this.o.maxResultChars);
  }

  async close(): Promise<void> {
    this.closing = true;
    this.connected = false;
    const c = this.client;
    this.client = undefined;
    await c?.close().catch(() => undefined);
    this.tap?.end();
    this.dispose();
  }
}

function protocolOf(transport: Transport): string | undefined {
  const v = (transport as { protocolVersion?: unknown }).protocolVersion;
  return typeof v === 'string' ? v : undefined;
}

function httpError(err: unknown, url: string): Error {
  const code = err instanceof StreamableHTTPError ? err.code : undefined;
  const host = (() => {
    try {
      return new URL(url).host;
    } catch {
      return url;
    }
  })();
  if (code === 401 || code === 403 || (err instanceof Error && err.name === 'UnauthorizedError'))
    return new Error(
      `${host} refused the connection (HTTP ${code ?? 401}): the server needs authorization. OAuth sign-in is not supported yet; ` +
        'add an "Authorization" header whose value is ${secret:NAME}, with the token stored as that secret.',
      { cause: err },
    );
  const msg = err instanceof Error ? err.message : String(err);
  return new Error(`could not connect to ${host}: ${msg}`, { cause: err });
}

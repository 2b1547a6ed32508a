/**
 * The one owner of outbound connections. Every HTTP(S) request (`fetch`) and WebSocket (`openWebSocket`)
 * gets its socket from the connector: one proxy decision, one TLS policy, one connection ledger.
 * There is one undici Agent per purpose, so each pooled connection is recorded with its purpose.
 */
import type { LookupFunction, Socket } from 'node:net';
import type { Dispatcher, RequestInit, Response } from 'undici';
import Agent from 'undici/lib/dispatcher/agent';
import { fetch as undiciFetch } from 'undici/lib/web/fetch';
import type WebSocket from 'ws';
import type { Logger } from '../ports';
import type { IDisposable } from '../util/disposable';
import { openSocket, type ConnectorContext } from './connector';
import { NetError } from './errors';
import { ConnectionLedger, type ConnectionPurpose } from './ledger';
import { LinkPreviews, type FetchResponse, type LinkPreviewOptions } from './linkPreviews';
import { defaultNetConfig, type NetConfig } from './netConfig';
import { resolveProxySettings, type ProxySettings } from './proxySettings';
import { buildTrust, type TrustStore } from './tlsPolicy';
import type { WebSocketOptions } from './webSocket';

export { ConnectionLedger, type ConnectionPurpose, type LedgerEntry } from './ledger';
export { NetError } from './errors';

export interface NetOptions {
  /** Idle time before an unused keep-alive socket is closed. */
  keepAliveTimeoutMs?: number;
  /** Time to wait for response headers. */
  headersTimeoutMs?: number;
  /** Time for DNS + TCP + proxy CONNECT + TLS. */
  connectTimeoutMs?: number;
  config?: NetConfig;
  /** The environment to read proxy variables and NODE_EXTRA_CA_CERTS from (default process.env). */
  env?: Record<string, string | undefined>;
  /** DNS hook (tests map host names to loopback addresses). */
  lookup?: LookupFunction;
  logger?: Logger;
  /** A ledger that outlives this service (the gateway keeps one across restarts). */
  ledger?: ConnectionLedger;
  /** Tests: replaces the system trust store (e.g. [] to trust only configured CAs). */
  trustBase?: readonly string[];
  /** Timeouts, cache and concurrency of link titles and favicons. */
  linkPreviews?: LinkPreviewOptions;
}

interface ConnectorOptions {
  hostname: string;
  host?: string;
  protocol: string;
  port: string | number;
  servername?: string;
}

type Callback = (err: Error | null, socket: Socket | null) => void;

const noop = (): void => undefined;
const silent: Logger = { trace: noop, debug: noop, info: noop, warn: noop, error: noop, child: () => silent };

export class NetService implements IDisposable {
  readonly ledger: ConnectionLedger;
  private readonly ownsLedger: boolean;
  private readonly agents = new Map<ConnectionPurpose, Agent>();
  private readonly log: Logger;
  private _config!: NetConfig;
  private _proxy!: ProxySettings;
  private _trust!: TrustStore;
  private readonly insecureHosts = new Set<string>();
  private disposed = false;
  private _links: LinkPreviews | undefined;

  constructor(private readonly options: NetOptions = {}) {
    this.ledger = options.ledger ?? new ConnectionLedger();
    this.ownsLedger = !options.ledger;
    this.log = (options.logger ?? silent).child('net');
    this.configure(options.config ?? defaultNetConfig());
  }

  get config(): NetConfig {
    return this._config;
  }

  get proxySettings(): ProxySettings {
    return this._proxy;
  }

  get trust(): TrustStore {
    return this._trust;
  }

  /** Applies new settings; pooled connections close once idle, new ones use the new policy. */
  configure(config: NetConfig): void {
    const env = this.options.env ?? process.env;
    this._config = config;
    this._proxy = resolveProxySettings(env, config, (m) => this.log.warn(m));
    this._trust = buildTrust({ caCertificates: config.caCertificates, extraCaFile: env.NODE_EXTRA_CA_CERTS || undefined, base: this.options.trustBase });
    for (const p of this._trust.problems) this.log.warn(p);
    if (!config.strictSSL)
      this.log.warn('TLS certificate verification is OFF (multiclaw.network.strictSSL is false): connections are not protected against interception.');
    this.insecureHosts.clear();
    this._links?.clear();
    const old = [...this.agents.values()];
    this.agents.clear();
    for (const a of old) void a.close().catch(noop);
  }

  /** Link titles and favicons for the chat view (through this service; cached). */
  get links(): LinkPreviews {
    return (this._links ??= new LinkPreviews(
      (url, init, purpose) => this.fetch(url, init, purpose) as Promise<unknown> as Promise<FetchResponse>,
      () => this._config,
      this.options.linkPreviews,
    ));
  }

  /** The context every socket is opened with (also used by Diagnose Connection). */
  connectorContext(): ConnectorContext {
    return {
      proxy: this._proxy,
      trust: this._trust,
      strictSSL: this._config.strictSSL,
      ledger: this.ledger,
      connectTimeoutMs: this.options.connectTimeoutMs ?? 15_000,
      lookup: this.options.lookup,
      onInsecure: (host, err) => {
        if (this.insecureHosts.has(host)) return;
        this.insecureHosts.add(host);
        this.log.warn(`strictSSL is off: using an unverified connection to ${host}: ${err.message}`);
      },
    };
  }

  private agentFor(purpose: ConnectionPurpose): Dispatcher {
    if (this.disposed) throw new Error('NetService is disposed');
    let agent = this.agents.get(purpose);
    if (!agent) {
      agent = new Agent({
        keepAliveTimeout: this.options.keepAliveTimeoutMs ?? 10_000,
        headersTimeout: this.options.headersTimeoutMs ?? 60_000,
        // Streams are watched by our own idle watchdog; undici's body timeout is only a backstop.
        bodyTimeout: 0,
        connect: ((o: ConnectorOptions, cb: Callback) => {
          const scheme = o.protocol === 'https:' ? 'https' : 'http';
          openSocket(
            { hostname: o.hostname, port: Number(o.port) || (scheme === 'https' ? 443 : 80), scheme, purpose, alpn: ['http/1.1'] },
            this.connectorContext(),
          ).then(
            ({ socket }) => cb(null, socket),
            (e: Error) => cb(e, null),
          );
        }) as never,
      });
      this.agents.set(purpose, agent);
    }
    return agent;
  }

  async fetch(url: string | URL, init: RequestInit, purpose: ConnectionPurpose): Promise<Response> {
    const u = typeof url === 'string' ? new URL(url) : url;
    if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new TypeError(`only http(s) URLs can be fetched, not ${u.protocol}`);
    try {
      return await undiciFetch(u, { ...init, dispatcher: this.agentFor(purpose) });
    } catch (err) {
      const cause = (err as { cause?: unknown }).cause;
      if (cause instanceof NetError) throw cause;
      throw err;
    }
  }

  /** Opens a WebSocket (ws:/wss:) through the same proxy decision, TLS policy and ledger. */
  async openWebSocket(url: string | URL, options: WebSocketOptions, purpose: ConnectionPurpose): Promise<WebSocket> {
    const u = typeof url === 'string' ? new URL(url) : url;
    if (u.protocol !== 'wss:' && u.protocol !== 'ws:') throw new TypeError(`a WebSocket URL must be ws: or wss:, not ${u.protocol}`);
    if (this.disposed) throw new Error('NetService is disposed');
    const { openWebSocket } = await import('./webSocket');
    return openWebSocket(
      u,
      options,
      async (hostname, port, scheme, signal) =>
        (await openSocket({ hostname, port, scheme, purpose, alpn: ['http/1.1'], signal }, this.connectorContext())).socket,
    );
  }

  /** Closes the pooled connections of one purpose (e.g. after its peer went half-open); new requests connect afresh. */
  resetConnections(purpose: ConnectionPurpose): void {
    const a = this.agents.get(purpose);
    this.agents.delete(purpose);
    if (a) void a.destroy().catch(noop);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const a of this.agents.values()) void a.destroy().catch(noop);
    this.agents.clear();
    if (this.ownsLedger) this.ledger.dispose();
  }
}

import type { Dispatcher, RequestInit, Response } from 'undici';
import EnvHttpProxyAgent from 'undici/lib/dispatcher/env-http-proxy-agent';
import { fetch as undiciFetch } from 'undici/lib/web/fetch';
import { Emitter, type IDisposable } from '../util/disposable';

/** Why a connection was opened; the ledger groups hosts by it. */
export type ConnectionPurpose =
  | 'provider:openai'
  | 'provider:anthropic'
  | 'provider:gemini'
  | 'provider:openai-compatible'
  | 'cloud:api'
  | 'cloud:ws'
  | 'link-preview'
  | 'favicon'
  | 'diagnostics';

export interface LedgerEntry {
  host: string;
  port: number;
  purpose: ConnectionPurpose;
  method: string;
  start: number;
  end?: number;
  status?: number;
  error?: string;
}

/** Records every outbound request made through `NetService` (host, purpose, time). No bodies, no headers. */
export class ConnectionLedger implements IDisposable {
  private readonly entries: LedgerEntry[] = [];
  private readonly onDidChangeEmitter = new Emitter<LedgerEntry>();
  readonly onDidChange = this.onDidChangeEmitter.event;

  constructor(private readonly capacity = 2000) {}

  record(entry: LedgerEntry): LedgerEntry {
    this.entries.push(entry);
    if (this.entries.length > this.capacity) this.entries.shift();
    this.onDidChangeEmitter.fire(entry);
    return entry;
  }

  update(entry: LedgerEntry, patch: Partial<LedgerEntry>): void {
    Object.assign(entry, patch);
    this.onDidChangeEmitter.fire(entry);
  }

  list(): readonly LedgerEntry[] {
    return this.entries;
  }

  hosts(): string[] {
    return [...new Set(this.entries.map((e) => `${e.host}:${e.port}`))].sort();
  }

  dispose(): void {
    this.onDidChangeEmitter.dispose();
  }
}

export interface NetOptions {
  /** Idle time before an unused keep-alive socket is closed. */
  keepAliveTimeoutMs?: number;
  /** Time to wait for response headers. */
  headersTimeoutMs?: number;
}

/**
 * The one owner of outbound HTTP(S). Every request goes through one undici dispatcher (proxy decision
 * from HTTP_PROXY / HTTPS_PROXY / NO_PROXY) and is recorded in the ledger with its purpose.
 */
export class NetService implements IDisposable {
  readonly ledger = new ConnectionLedger();
  readonly dispatcher: Dispatcher;

  constructor(options: NetOptions = {}) {
    this.dispatcher = new EnvHttpProxyAgent({
      keepAliveTimeout: options.keepAliveTimeoutMs ?? 10_000,
      headersTimeout: options.headersTimeoutMs ?? 60_000,
      // Streams are watched by our own idle watchdog; undici's body timeout is only a backstop.
      bodyTimeout: 0,
      connect: { minVersion: 'TLSv1.2' } as never,
    });
  }

  async fetch(url: string | URL, init: RequestInit, purpose: ConnectionPurpose): Promise<Response> {
    const u = typeof url === 'string' ? new URL(url) : url;
    const entry = this.ledger.record({
      host: u.hostname,
      port: Number(u.port) || (u.protocol === 'https:' ? 443 : 80),
      purpose,
      method: init.method ?? 'GET',
      start: Date.now(),
    });
    try {
      const res = await undiciFetch(u, { ...init, dispatcher: this.dispatcher });
      this.ledger.update(entry, { status: res.status });
      return res;
    } catch (err) {
      this.ledger.update(entry, { error: err instanceof Error ? err.message : String(err), end: Date.now() });
      throw err;
    }
  }

  dispose(): void {
    void this.dispatcher.close().catch(() => undefined);
    this.ledger.dispose();
  }
}

/**
 * The connection ledger: one record per outbound connection (host, port, purpose, proxy, TLS version,
 * bytes, start, end, error). No URLs beyond the host, no headers, no bodies. It backs
 * `MultiClaw: Show Network Activity` and the test that asserts the exact set of hosts contacted.
 */
import { Emitter, type IDisposable } from '../util/disposable';

/** Why a connection was opened; the ledger groups hosts by it. */
export type ConnectionPurpose =
  | 'provider:openai'
  | 'provider:anthropic'
  | 'provider:gemini'
  | 'provider:openai-compatible'
  | 'workspace:api'
  | 'workspace:ws'
  | 'link-preview'
  | 'favicon'
  | 'diagnostics'
  /** The agent's web_fetch tool (Allowed domains enforced by the policy, re-checked at each redirect). */
  | 'agent:web-fetch'
  /** The cloud desktop's own WebRTC peer (werift): the viewer or TURN it reached. */
  | 'desktop:peer'
  /** The viewer webview's WebRTC connection, as its getStats() reports it (Chromium owns that socket). */
  | 'desktop:viewer'
  /** An MCP server over HTTP (Streamable HTTP or HTTP+SSE), configured by the user. */
  | 'mcp'
  /** The one-time probe for local model servers on 127.0.0.1 (Ollama, LM Studio, llama.cpp, vLLM). */
  | 'local-models';

export interface LedgerEntry {
  readonly id: number;
  host: string;
  port: number;
  purpose: ConnectionPurpose;
  scheme: 'https' | 'http' | 'wss' | 'ws' | 'udp' | 'tcp' | 'tls';
  /** The proxy that carried it (host:port, no credentials), or null when direct. */
  proxied: string | null;
  /** Negotiated TLS version ("TLSv1.3"), when TLS. */
  tlsVersion?: string;
  /** false when the certificate did not verify and strictSSL is off. */
  verified?: boolean;
  bytesSent: number;
  bytesReceived: number;
  start: number;
  end?: number;
  error?: string;
}

export type LedgerInit = Omit<LedgerEntry, 'id' | 'bytesSent' | 'bytesReceived' | 'start'> & { start?: number };

export interface HostActivity {
  host: string;
  port: number;
  purpose: ConnectionPurpose;
  connections: number;
  open: number;
  failed: number;
  proxied: string | null;
  tlsVersion?: string;
  bytesSent: number;
  bytesReceived: number;
  first: number;
  last: number;
  lastError?: string;
}

type Sampler = () => { sent: number; received: number };

export class ConnectionLedger implements IDisposable {
  private readonly entries: LedgerEntry[] = [];
  private readonly samplers = new Map<LedgerEntry, Sampler>();
  private nextId = 1;
  private readonly onDidChangeEmitter = new Emitter<LedgerEntry>();
  /** Fires when a connection opens, changes or ends. */
  readonly onDidChange = this.onDidChangeEmitter.event;

  constructor(private readonly capacity = 2000) {}

  open(init: LedgerInit, sample?: Sampler): LedgerEntry {
    const entry: LedgerEntry = { ...init, id: this.nextId++, bytesSent: 0, bytesReceived: 0, start: init.start ?? Date.now() };
    this.entries.push(entry);
    if (this.entries.length > this.capacity) this.samplers.delete(this.entries.shift()!);
    if (sample) this.samplers.set(entry, sample);
    this.onDidChangeEmitter.fire(entry);
    return entry;
  }

  update(entry: LedgerEntry, patch: Partial<Omit<LedgerEntry, 'id'>>, sample?: Sampler): void {
    Object.assign(entry, patch);
    if (sample) this.samplers.set(entry, sample);
    this.onDidChangeEmitter.fire(entry);
  }

  /** Ends a connection (idempotent: the first end wins). */
  close(entry: LedgerEntry, error?: string): void {
    if (entry.end !== undefined) return;
    this.sample(entry);
    this.samplers.delete(entry);
    entry.end = Date.now();
    if (error && !entry.error) entry.error = error;
    this.onDidChangeEmitter.fire(entry);
  }

  private sample(entry: LedgerEntry): void {
    const s = this.samplers.get(entry);
    if (!s) return;
    const { sent, received } = s();
    entry.bytesSent = sent;
    entry.bytesReceived = received;
  }

  /** Every recorded connection, oldest first; byte counts of open ones are current. */
  list(): readonly LedgerEntry[] {
    for (const e of this.samplers.keys()) this.sample(e);
    return this.entries;
  }

  /** The distinct `host:port` pairs contacted, sorted. */
  hosts(): string[] {
    return [...new Set(this.entries.map((e) => `${e.host}:${e.port}`))].sort();
  }

  /** One row per purpose and host:port, for the activity view. */
  activity(): HostActivity[] {
    const rows = new Map<string, HostActivity>();
    for (const e of this.list()) {
      const key = `${e.purpose} ${e.host}:${e.port}`;
      let r = rows.get(key);
      if (!r) {
        r = {
          host: e.host,
          port: e.port,
          purpose: e.purpose,
          connections: 0,
          open: 0,
          failed: 0,
          proxied: e.proxied,
          bytesSent: 0,
          bytesReceived: 0,
          first: e.start,
          last: e.start,
        };
        rows.set(key, r);
      }
      r.connections++;
      if (e.end === undefined) r.open++;
      if (e.error) {
        r.failed++;
        r.lastError = e.error;
      }
      r.proxied = e.proxied;
      if (e.tlsVersion) r.tlsVersion = e.tlsVersion;
      r.bytesSent += e.bytesSent;
      r.bytesReceived += e.bytesReceived;
      r.last = Math.max(r.last, e.end ?? e.start);
    }
    return [...rows.values()].sort((a, b) => a.purpose.localeCompare(b.purpose) || a.host.localeCompare(b.host) || a.port - b.port);
  }

  clear(): void {
    this.entries.length = 0;
    this.samplers.clear();
  }

  dispose(): void {
    this.onDidChangeEmitter.dispose();
  }
}

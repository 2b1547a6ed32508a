/**
 * The gateway's side of one viewer webview: the webview owns the RTCPeerConnection; this relays its
 * signalling over the workspace WSS (so the webview never sees a workspace token and needs no
 * connect-src), hands it short-lived TURN credentials chosen for the connection mode, and records
 * what its `getStats()` reports in the connection ledger (owner: the webview).
 *
 * Modes: `auto` — every TURN URL, policy `all` (direct first, then TURN); `relay` — only TURN over
 * TCP/TLS on port 443 (`turns:` or `?transport=tcp`), policy `relay`: works where UDP is blocked and
 * through an HTTP proxy (Chromium tunnels TURN/TCP through its proxy with CONNECT).
 */
import { randomUUID } from 'node:crypto';
import { roleHas } from '../../protocol/workspace/common';
import { turnCredentialsSchema } from '../../protocol/workspace/models';
import { viewerToHostSchema, type ConnectionMode, type HostToViewer, type ViewerState, type ViewerStats } from '../../protocol/viewer';
import type { ConnectionLedger, LedgerEntry } from '../net/ledger';
import type { Logger } from '../ports';
import { Disposable } from '../util/disposable';
import type { WorkspaceLink } from '../workspace/workspaceLink';
import { errorMessage } from '../errors';

export interface ViewerRelayDeps {
  link: WorkspaceLink;
  instance: { id: string; name: string };
  mode: () => ConnectionMode;
  post: (m: HostToViewer) => void;
  ledger: ConnectionLedger;
  logger: Logger;
  onState?: (state: ViewerState, detail: string | undefined, relay: boolean | undefined) => void;
  onDiagnose?: () => void;
}

/** TURN URLs usable in relay mode: TCP or TLS on 443 only. */
export function relayUrls(urls: readonly string[]): string[] {
  return urls.filter((u) => {
    const m = /^(turns?):(?:\[[^\]]+\]|[^:?]+)(?::(\d+))?(?:\?(.*))?$/.exec(u);
    if (!m) return false;
    const port = m[2] ? Number(m[2]) : m[1] === 'turns' ? 5349 : 3478;
    const tcp = m[1] === 'turns' || /(?:^|&)transport=tcp(?:&|$)/.test(m[3] ?? '');
    return port === 443 && tcp;
  });
}

function hostPort(url: string): { host: string; port: number } | undefined {
  const m = /^turns?:(\[[^\]]+\]|[^:?]+)(?::(\d+))?/.exec(url);
  if (!m) return undefined;
  return { host: m[1].replace(/^\[|\]$/g, ''), port: m[2] ? Number(m[2]) : url.startsWith('turns:') ? 5349 : 3478 };
}

export class ViewerRelay extends Disposable {
  private sessionId: string | undefined;
  private seq = 0;
  private readonly refs = new Set<string>();
  private readonly ledgerEntries = new Map<string, LedgerEntry>();
  private readonly log: Logger;
  /** The last state the webview reported (tests and the panel title read it). */
  state: ViewerState = 'connecting';
  relay: boolean | undefined;
  lastStats: ViewerStats | undefined;
  badMessages = 0;

  constructor(private readonly d: ViewerRelayDeps) {
    super();
    this.log = d.logger.child('viewer');
    this._register(
      d.link.onDidReceiveSignal((f) => {
        if (f.sessionId !== this.sessionId || f.from.instanceId !== d.instance.id) return;
        d.post({ type: 'signal', sessionId: f.sessionId, kind: f.kind, payload: f.payload });
      }),
    );
    this._register(
      d.link.onDidRefuseSignal((e) => {
        if (!this.refs.delete(e.ref)) return;
        const offline = e.code === 'target_offline';
        d.post({ type: 'unavailable', reason: offline ? `${d.instance.name} is offline` : e.message, retry: offline });
      }),
    );
    this._register(
      d.link.onDidReceiveEvent((e) => {
        if (e.name === 'instance.presence' && e.data.instanceId === d.instance.id) {
          if (e.data.online) d.post({ type: 'desktopOnline' });
          else d.post({ type: 'unavailable', reason: `${d.instance.name} went offline`, retry: true });
        } else if (e.name === 'instance.updated' && e.data.instance.id === d.instance.id && e.data.instance.status === 'stopped') {
          d.post({ type: 'unavailable', reason: `${d.instance.name} was stopped`, retry: true });
        } else if (e.name === 'instance.removed' && e.data.instanceId === d.instance.id) {
          d.post({ type: 'unavailable', reason: `${d.instance.name} was terminated`, retry: false });
        }
      }),
    );
    this._register(
      d.link.onDidChangeConnected((up) => {
        if (!up) d.post({ type: 'unavailable', reason: 'the workspace connection was lost', retry: true });
      }),
    );
  }

  /** A message from the webview (validated here: a bad one is counted and dropped). */
  handle(raw: unknown): void {
    const r = viewerToHostSchema.safeParse(raw);
    if (!r.success) {
      if (++this.badMessages <= 3) this.log.warn(`ignored an invalid message from the viewer: ${r.error.issues[0]?.message ?? ''}`);
      return;
    }
    const m = r.data;
    switch (m.type) {
      case 'ready':
      case 'connect':
        void this.start(m.type === 'ready' ? 'opened' : m.reason);
        return;
      case 'signal': {
        if (m.sessionId !== this.sessionId) return;
        const id = `sig-${++this.seq}`;
        if (m.kind === 'offer') this.refs.add(id);
        const sent = this.d.link.sendSignal({ id, sessionId: m.sessionId, kind: m.kind, to: { instanceId: this.d.instance.id }, payload: m.payload });
        if (!sent) this.d.post({ type: 'unavailable', reason: 'not connected to the workspace', retry: true });
        return;
      }
      case 'stats':
        if (m.sessionId === this.sessionId) this.record(m.stats);
        return;
      case 'state':
        if (m.state !== this.state) this.log.info(`${this.d.instance.name}: ${m.state}${m.detail ? ` (${m.detail})` : ''}`);
        this.state = m.state;
        this.relay = m.relay;
        this.d.onState?.(m.state, m.detail, m.relay);
        return;
      case 'diagnose':
        this.d.onDiagnose?.();
        return;
    }
  }

  /** Starts (or restarts) a session: fresh TURN credentials, a new session id. */
  private async start(reason: string): Promise<void> {
    const link = this.d.link;
    if (this.sessionId) link.sendSignal({ sessionId: this.sessionId, kind: 'bye', to: { instanceId: this.d.instance.id }, payload: {} });
    this.sessionId = undefined;
    this.closeLedger();
    if (!link.isConnected) {
      this.d.post({
        type: 'unavailable',
        reason: link.isSignedIn ? 'not connected to the workspace yet' : 'sign in to the workspace first',
        retry: link.isSignedIn,
      });
      return;
    }
    let creds;
    try {
      creds = turnCredentialsSchema.parse(await link.request('turn.credentials', {}));
    } catch (err) {
      this.d.post({ type: 'unavailable', reason: `no TURN credentials: ${errorMessage(err)}`, retry: true });
      return;
    }
    const mode = this.d.mode();
    const iceServers = mode === 'relay' ? creds.iceServers.map((s) => ({ ...s, urls: relayUrls(s.urls) })).filter((s) => s.urls.length > 0) : creds.iceServers;
    if (mode === 'relay' && !iceServers.length) {
      this.d.post({ type: 'unavailable', reason: 'relay mode needs a TURN server on port 443 (TCP or TLS); this workspace has none', retry: false });
      return;
    }
    for (const s of iceServers)
      for (const u of s.urls) this.ledgerFor(`turn ${u}`, hostPort(u), u.startsWith('turns:') ? 'tls' : /transport=tcp/.test(u) ? 'tcp' : 'udp');
    const role = link.account?.workspace.role ?? 'viewer';
    this.sessionId = `vs-${randomUUID()}`;
    this.log.info(`connecting to ${this.d.instance.name} (${mode}; ${reason})`);
    this.d.post({
      type: 'start',
      sessionId: this.sessionId,
      instance: this.d.instance,
      mode,
      iceServers,
      iceTransportPolicy: mode === 'relay' ? 'relay' : 'all',
      mayControl: roleHas(role, 'agents.use'),
    });
  }

  private ledgerFor(key: string, hp: { host: string; port: number } | undefined, scheme: 'udp' | 'tcp' | 'tls'): LedgerEntry | undefined {
    if (!hp) return undefined;
    let e = this.ledgerEntries.get(key);
    if (!e) {
      e = this.d.ledger.open({ host: hp.host, port: hp.port, purpose: 'desktop:viewer', scheme, proxied: null });
      this.ledgerEntries.set(key, e);
    }
    return e;
  }

  /** The webview's selected pair and counters → ledger entries for the TURN server and the peer. */
  private record(s: ViewerStats): void {
    this.lastStats = s;
    const p = s.pair;
    if (!p) return;
    const scheme = (p.local.relayProtocol ?? p.local.protocol) === 'tls' ? 'tls' : (p.local.relayProtocol ?? p.local.protocol) === 'tcp' ? 'tcp' : 'udp';
    if (p.local.type === 'relay' && p.local.url) {
      const e = this.ledgerFor(`turn ${p.local.url}`, hostPort(p.local.url), scheme);
      if (e) this.d.ledger.update(e, { bytesReceived: s.bytesReceived, bytesSent: s.bytesSent });
    }
    if (p.remote.address && p.remote.port) {
      const e = this.ledgerFor(
        `peer ${p.remote.address}:${p.remote.port}`,
        { host: p.remote.address, port: p.remote.port },
        p.remote.protocol === 'tcp' ? 'tcp' : 'udp',
      );
      if (e && p.local.type !== 'relay') this.d.ledger.update(e, { bytesReceived: s.bytesReceived, bytesSent: s.bytesSent });
    }
  }

  private closeLedger(): void {
    for (const e of this.ledgerEntries.values()) if (e.end === undefined) this.d.ledger.update(e, { end: Date.now() });
    this.ledgerEntries.clear();
  }

  override dispose(): void {
    if (this.sessionId) this.d.link.sendSignal({ sessionId: this.sessionId, kind: 'bye', to: { instanceId: this.d.instance.id }, payload: {} });
    this.closeLedger();
    super.dispose();
  }
}

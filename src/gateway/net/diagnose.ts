/**
 * Diagnose Connection: for each host the configuration uses, the same path the product takes (the
 * proxy decision, DNS, TCP or a CONNECT tunnel, TLS under the policy), then an HTTP request or a
 * WebSocket upgrade. The report names hosts, the proxy (without credentials), TLS versions and
 * issuers: never keys, tokens, paths or query strings, so it is safe to paste into a ticket.
 */
import { randomBytes } from 'node:crypto';
import dns from 'node:dns';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { openSocket } from './connector';
import { describeIssuer, NetError, type NetErrorKind } from './errors';
import type { ConnectionPurpose } from './ledger';
import type { NetService } from './net';
import { decideProxy, redactProxy } from './proxySettings';

export interface DiagnoseTarget {
  label: string;
  /** https:, http:, wss: or ws: URL (only its scheme, host, port and path are used). */
  url: string;
  purpose: ConnectionPurpose;
}

export type StepName = 'DNS' | 'Proxy' | 'TCP' | 'TLS' | 'HTTP' | 'WebSocket upgrade';

export interface DiagnoseStep {
  name: StepName;
  /** null = not applicable / skipped. */
  ok: boolean | null;
  detail: string;
}

export interface TargetReport {
  label: string;
  origin: string;
  steps: DiagnoseStep[];
  ok: boolean;
  advice?: string;
}

export interface DiagnoseReport {
  at: string;
  environment: string[];
  targets: TargetReport[];
}

const FAILED_AT: Partial<Record<NetErrorKind, StepName>> = {
  dns: 'DNS',
  refused: 'TCP',
  timeout: 'TCP',
  unreachable: 'TCP',
  reset: 'TCP',
  proxy_unreachable: 'Proxy',
  proxy_auth: 'Proxy',
  proxy_refused: 'Proxy',
  tls_untrusted: 'TLS',
  tls_hostname: 'TLS',
  tls_expired: 'TLS',
  tls_version: 'TLS',
  tls_other: 'TLS',
};

/** Sends one HTTP/1.1 request on an open socket and returns the status code (or an error). */
function probe(socket: Socket, u: URL, websocket: boolean, timeoutMs: number): Promise<number> {
  const host = u.host;
  const path = u.pathname || '/';
  const upgrade = websocket
    ? `Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\n`
    : 'Connection: close\r\n';
  return new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => finish(new Error(`no HTTP answer within ${timeoutMs / 1000} s`)), timeoutMs);
    const finish = (err?: Error, status?: number): void => {
      clearTimeout(timer);
      socket.removeAllListeners('data');
      socket.destroy();
      if (err) reject(err);
      else resolve(status!);
    };
    socket.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      const m = /^HTTP\/\d(?:\.\d)? (\d{3})/.exec(buf);
      if (m) finish(undefined, Number(m[1]));
      else if (buf.includes('\r\n') || buf.length > 1024) finish(new Error('the answer was not HTTP'));
    });
    socket.once('error', (e: Error) => finish(e));
    socket.once('close', () => finish(new Error('the connection closed without an answer')));
    socket.write(`GET ${path} HTTP/1.1\r\nHost: ${host}\r\nUser-Agent: MultiClaw-Diagnose\r\n${upgrade}\r\n`);
  });
}

function lookup(net: NetService, host: string): Promise<string[]> {
  const fn = net.connectorContext().lookup ?? dns.lookup;
  return new Promise((resolve, reject) => {
    (fn as typeof dns.lookup)(host, { all: true }, (err, addresses) => (err ? reject(err) : resolve((addresses as dns.LookupAddress[]).map((a) => a.address))));
  });
}

export async function diagnoseTarget(net: NetService, target: DiagnoseTarget, timeoutMs = 10_000): Promise<TargetReport> {
  const u = new URL(target.url);
  const scheme = u.protocol.replace(':', '') as 'https' | 'http' | 'wss' | 'ws';
  const secure = scheme === 'https' || scheme === 'wss';
  const websocket = scheme === 'wss' || scheme === 'ws';
  const host = u.hostname.replace(/^\[|\]$/g, '');
  const port = Number(u.port) || (secure ? 443 : 80);
  const origin = `${scheme}://${u.host}`;
  const steps: DiagnoseStep[] = [];
  const decision = decideProxy(net.proxySettings, u);
  if (decision.proxy) {
    steps.push({ name: 'DNS', ok: null, detail: 'resolved by the proxy' });
  } else {
    try {
      steps.push({ name: 'DNS', ok: true, detail: (await lookup(net, host)).slice(0, 4).join(', ') });
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      steps.push({ name: 'DNS', ok: false, detail: `cannot resolve ${host} (${e.code ?? e.message})` });
      return { label: target.label, origin, steps, ok: false, advice: 'Check the host name and your DNS settings.' };
    }
  }
  let socket: Socket;
  try {
    socket = (
      await openSocket({ hostname: host, port, scheme, purpose: 'diagnostics', alpn: ['http/1.1'] }, { ...net.connectorContext(), connectTimeoutMs: timeoutMs })
    ).socket;
  } catch (err) {
    const e = err instanceof NetError ? err : undefined;
    const failedAt = (e && FAILED_AT[e.kind]) ?? 'TCP';
    const order: StepName[] = ['Proxy', 'TCP', 'TLS'];
    for (const name of order) {
      if (name === 'Proxy' && !decision.proxy) steps.push({ name, ok: null, detail: `direct (${decision.reason})` });
      else if (name === failedAt) {
        steps.push({ name, ok: false, detail: (err as Error).message });
        break;
      } else steps.push({ name, ok: true, detail: name === 'Proxy' ? `CONNECT through ${redactProxy(decision.proxy!)}` : 'connected' });
    }
    return { label: target.label, origin, steps, ok: false, advice: e?.advice };
  }
  steps.push(
    decision.proxy
      ? { name: 'Proxy', ok: true, detail: `CONNECT through ${redactProxy(decision.proxy)} (${decision.reason})` }
      : { name: 'Proxy', ok: null, detail: `direct (${decision.reason})` },
  );
  steps.push({ name: 'TCP', ok: true, detail: `connected to ${host}:${port}` });
  if (secure) {
    const t = socket as TLSSocket;
    const verified = t.authorized ? 'verified' : 'NOT verified (strictSSL is off)';
    steps.push({
      name: 'TLS',
      ok: t.authorized,
      detail: `${t.getProtocol() ?? '?'}, certificate issued by ${describeIssuer(t.getPeerCertificate(true))}, ${verified}`,
    });
  } else {
    steps.push({ name: 'TLS', ok: null, detail: 'not used (plain HTTP)' });
  }
  try {
    const status = await probe(socket, u, websocket, timeoutMs);
    if (websocket) {
      const ok = status === 101 || status === 401 || status === 403;
      steps.push({
        name: 'WebSocket upgrade',
        ok,
        detail:
          status === 101
            ? 'HTTP 101 Switching Protocols'
            : `HTTP ${status}${ok ? ' (the server answered; it asks to sign in)' : ' (the upgrade was refused on the way: a proxy or firewall may strip WebSocket upgrades)'}`,
      });
    } else {
      steps.push({
        name: 'HTTP',
        ok: status < 500,
        detail: `HTTP ${status}${status === 401 || status === 404 ? ' (reachable; expected without credentials)' : ''}`,
      });
    }
  } catch (err) {
    steps.push({ name: websocket ? 'WebSocket upgrade' : 'HTTP', ok: false, detail: (err as Error).message });
  }
  const ok = steps.every((s) => s.ok !== false);
  return {
    label: target.label,
    origin,
    steps,
    ok,
    advice: ok ? undefined : 'A proxy or firewall may block or alter this traffic. Share the allowlist (README, "Network") with your IT team.',
  };
}

export async function diagnose(net: NetService, targets: readonly DiagnoseTarget[], environment: string[], timeoutMs?: number): Promise<DiagnoseReport> {
  const results: TargetReport[] = [];
  for (const t of targets) results.push(await diagnoseTarget(net, t, timeoutMs));
  return { at: new Date().toISOString(), environment, targets: results };
}

/** What the report says about the proxy and TLS configuration (no credentials). */
export function describeEnvironment(net: NetService): string[] {
  const p = net.proxySettings;
  const t = net.trust;
  return [
    `HTTPS proxy: ${p.https ? redactProxy(p.https) : 'none'} (from ${p.source.https})`,
    `HTTP proxy: ${p.http ? redactProxy(p.http) : 'none'} (from ${p.source.http})`,
    `No-proxy rules: ${p.noProxy.length} (from ${p.source.noProxy}); loopback is always direct`,
    `TLS: minimum TLS 1.2; trust = ${t.sources.base === 'system' ? 'OS trust store' : "Node's bundled roots"} (${t.sources.baseCount}) + NODE_EXTRA_CA_CERTS (${t.sources.extra}) + multiclaw.network.caCertificates (${t.sources.configured})`,
    `Certificate verification: ${net.config.strictSSL ? 'on' : 'OFF (multiclaw.network.strictSSL is false)'}`,
  ];
}

const MARK = (ok: boolean | null): string => (ok === null ? '–' : ok ? '✓' : '✗');

export function formatReport(r: DiagnoseReport, header: string[] = []): string {
  const lines = ['# MultiClaw connection report', '', ...header, `Generated: ${r.at}`, '', '## Configuration', ...r.environment.map((e) => `- ${e}`), ''];
  if (!r.targets.length) lines.push('No hosts to check: configure a provider first.', '');
  for (const t of r.targets) {
    lines.push(`## ${MARK(t.ok)} ${t.label} — ${t.origin}`);
    for (const s of t.steps) lines.push(`- ${MARK(s.ok)} ${s.name}: ${s.detail}`);
    if (t.advice) lines.push('', `What to do: ${t.advice}`);
    lines.push('');
  }
  const failed = r.targets.filter((t) => !t.ok).length;
  lines.push(`Summary: ${r.targets.length - failed} of ${r.targets.length} reachable.`);
  return lines.join('\n') + '\n';
}

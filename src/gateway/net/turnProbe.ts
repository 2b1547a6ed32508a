/**
 * TURN reachability for Diagnose Connection: a STUN Binding request to each TURN URL over its
 * transport (UDP datagram; TCP or TLS stream, same message) and whether a Binding response came back.
 * Direct sockets from the gateway (the webview's own WebRTC sockets follow the browser's proxy, which
 * this cannot test); each probe is a `diagnostics` entry in the connection ledger.
 */
import { randomBytes } from 'node:crypto';
import * as dgram from 'node:dgram';
import * as net from 'node:net';
import * as tls from 'node:tls';
import type { ConnectionLedger } from './ledger';

export interface TurnProbeResult {
  url: string;
  transport: 'udp' | 'tcp' | 'tls';
  host: string;
  port: number;
  ok: boolean;
  ms?: number;
  error?: string;
}

export function parseTurnUrl(url: string): { host: string; port: number; transport: 'udp' | 'tcp' | 'tls' } | undefined {
  const m = /^(turns?):(\[[^\]]+\]|[^:?]+)(?::(\d+))?(?:\?(.*))?$/.exec(url);
  if (!m) return undefined;
  const secure = m[1] === 'turns';
  const transport = secure ? 'tls' : /(?:^|&)transport=tcp(?:&|$)/.test(m[4] ?? '') ? 'tcp' : 'udp';
  return { host: m[2].replace(/^\[|\]$/g, ''), port: m[3] ? Number(m[3]) : secure ? 5349 : 3478, transport };
}

function bindingRequest(): { msg: Buffer; txid: Buffer } {
  const txid = randomBytes(12);
  const msg = Buffer.alloc(20);
  msg.writeUInt16BE(0x0001, 0);
  msg.writeUInt16BE(0, 2);
  msg.writeUInt32BE(0x2112a442, 4);
  txid.copy(msg, 8);
  return { msg, txid };
}

const isResponse = (b: Buffer, txid: Buffer): boolean => b.length >= 20 && (b.readUInt16BE(0) & 0x0110) === 0x0100 && b.subarray(8, 20).equals(txid);

function probeOne(url: string, timeoutMs: number, tlsOptions: tls.ConnectionOptions): Promise<TurnProbeResult> {
  const p = parseTurnUrl(url);
  if (!p) return Promise.resolve({ url, transport: 'udp', host: '', port: 0, ok: false, error: 'not a TURN URL' });
  const base = { url, ...p };
  const started = Date.now();
  const { msg, txid } = bindingRequest();
  return new Promise((resolve) => {
    let done = false;
    let cleanup = (): void => undefined;
    const finish = (ok: boolean, error?: string): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      cleanup();
      resolve(ok ? { ...base, ok, ms: Date.now() - started } : { ...base, ok, error });
    };
    const timer = setTimeout(() => finish(false, `no answer within ${timeoutMs} ms`), timeoutMs);
    if (p.transport === 'udp') {
      const s = dgram.createSocket(net.isIPv6(p.host) ? 'udp6' : 'udp4');
      cleanup = () => s.close();
      s.on('message', (b) => isResponse(b, txid) && finish(true));
      s.on('error', (e) => finish(false, e.message));
      s.send(msg, p.port, p.host, (e) => e && finish(false, e.message));
      return;
    }
    const sock =
      p.transport === 'tls'
        ? tls.connect({ host: p.host, port: p.port, servername: net.isIP(p.host) ? undefined : p.host, ...tlsOptions })
        : net.connect(p.port, p.host);
    cleanup = () => sock.destroy();
    let buf = Buffer.alloc(0);
    sock.on(p.transport === 'tls' ? 'secureConnect' : 'connect', () => sock.write(msg));
    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (isResponse(buf, txid)) finish(true);
    });
    sock.on('error', (e) => finish(false, e.message));
    sock.on('close', () => finish(false, 'the server closed the connection'));
  });
}

/** Probes every URL (in parallel); records each in the ledger. */
export async function probeTurn(
  urls: string[],
  ledger: ConnectionLedger,
  o: { timeoutMs?: number; tls?: tls.ConnectionOptions } = {},
): Promise<TurnProbeResult[]> {
  const results = await Promise.all(urls.map((u) => probeOne(u, o.timeoutMs ?? 3000, o.tls ?? {})));
  for (const r of results) {
    if (!r.host) continue;
    const e = ledger.open({ host: r.host, port: r.port, purpose: 'diagnostics', scheme: r.transport, proxied: null });
    ledger.update(e, { end: Date.now(), ...(r.ok ? {} : { error: r.error }) });
  }
  return results;
}

/**
 * Opens every outbound socket: the proxy decision, DNS + TCP (or a CONNECT tunnel through the proxy),
 * then TLS under the one policy, verified before a byte is written, and a ledger record for it.
 * undici's Agent (fetch) and the ws client (WebSocket) both get their sockets from `openSocket`.
 */
import net, { type LookupFunction, type Socket } from 'node:net';
import tls, { type TLSSocket } from 'node:tls';
import { certificateError, NetError, proxyStatusError, socketError } from './errors';
import type { ConnectionLedger, ConnectionPurpose, LedgerEntry } from './ledger';
import { decideProxy, redactProxy, type ProxySettings } from './proxySettings';
import type { TrustStore } from './tlsPolicy';

export interface ConnectTarget {
  hostname: string;
  port: number;
  scheme: 'https' | 'http' | 'wss' | 'ws';
  purpose: ConnectionPurpose;
  /** ALPN to offer over TLS (undici speaks http/1.1). */
  alpn?: string[];
  signal?: AbortSignal;
}

export interface ConnectorContext {
  proxy: ProxySettings;
  trust: TrustStore;
  strictSSL: boolean;
  ledger: ConnectionLedger;
  connectTimeoutMs: number;
  /** DNS hook (tests map names to loopback addresses). */
  lookup?: LookupFunction;
  /** Called once per connection whose certificate failed while strictSSL is off. */
  onInsecure(host: string, error: NetError): void;
}

const MAX_PROXY_HEADER = 16 * 1024;

function tcp(host: string, port: number, lookup: LookupFunction | undefined): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host, port, lookup, noDelay: true, keepAlive: true, keepAliveInitialDelay: 60_000 });
    const fail = (e: Error): void => reject(e);
    s.once('error', fail);
    s.once('connect', () => {
      s.off('error', fail);
      resolve(s);
    });
  });
}

/** Sends CONNECT host:port and reads the proxy's status line; leaves the socket paused at the tunnel's first byte. */
export function connectTunnel(socket: Socket, host: string, port: number, proxy: URL): Promise<{ status: number; statusText: string }> {
  const target = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  let auth = '';
  if (proxy.username) {
    const cred = `${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`;
    auth = `Proxy-Authorization: Basic ${Buffer.from(cred).toString('base64')}\r\n`;
  }
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const done = (err: Error | undefined, value?: { status: number; statusText: string }): void => {
      socket.off('data', onData);
      socket.off('error', onError);
      socket.off('close', onClose);
      socket.pause();
      if (err) reject(err);
      else resolve(value!);
    };
    const onError = (e: Error): void => done(e);
    const onClose = (): void => done(Object.assign(new Error('the proxy closed the connection during CONNECT'), { code: 'ECONNRESET' }));
    const onData = (chunk: Buffer): void => {
      buf = Buffer.concat([buf, chunk]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) {
        if (buf.length > MAX_PROXY_HEADER) done(new Error('the proxy sent an oversized response to CONNECT'));
        return;
      }
      const m = /^HTTP\/\d(?:\.\d)? (\d{3})(?: ([^\r\n]*))?/.exec(buf.subarray(0, end).toString('latin1'));
      if (!m) return done(new Error('the proxy sent an unreadable response to CONNECT'));
      const rest = buf.subarray(end + 4);
      done(undefined, { status: Number(m[1]), statusText: (m[2] ?? '').trim() });
      if (rest.length) socket.unshift(rest); // after done(): paused, with no data listener
    };
    socket.on('data', onData);
    socket.once('error', onError);
    socket.once('close', onClose);
    socket.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n${auth}Proxy-Connection: keep-alive\r\n\r\n`);
  });
}

function tlsUpgrade(raw: Socket, servername: string, ctx: ConnectorContext, alpn: string[] | undefined): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    // rejectUnauthorized is false only so that a failure can name the presented issuer: the result is
    // checked below before the socket is handed to anyone, and a failure destroys it (unless strictSSL is off).
    const s = tls.connect({
      socket: raw,
      servername: net.isIP(servername) ? undefined : servername,
      secureContext: ctx.trust.context,
      minVersion: 'TLSv1.2',
      rejectUnauthorized: false,
      ALPNProtocols: alpn,
    });
    const fail = (e: Error): void => reject(e);
    s.once('error', fail);
    s.once('secureConnect', () => {
      s.off('error', fail);
      resolve(s);
    });
  });
}

/** Verifies a TLS socket under the policy; throws (after destroying it) when it must not be used. */
function verify(s: TLSSocket, host: string, port: number, ctx: ConnectorContext, proxy?: string): boolean {
  if (s.authorized) return true;
  const err = certificateError(host, port, String(s.authorizationError ?? 'UNKNOWN'), s.getPeerCertificate(true), proxy);
  if (ctx.strictSSL) {
    s.destroy();
    throw err;
  }
  ctx.onInsecure(host, err);
  return false;
}

function withTimeout<T>(p: Promise<T>, ms: number, signal: AbortSignal | undefined, onCancel: (e: Error) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const stop = (e: Error): void => {
      cleanup();
      onCancel(e);
      reject(e);
    };
    const timer = setTimeout(() => stop(Object.assign(new Error('connect timeout'), { code: 'ETIMEDOUT' })), ms);
    const onAbort = (): void => stop(Object.assign(new Error('aborted'), { name: 'AbortError', code: 'ABORT_ERR' }));
    signal?.addEventListener('abort', onAbort, { once: true });
    const cleanup = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    };
    p.then(
      (v) => {
        cleanup();
        resolve(v);
      },
      (e: unknown) => {
        cleanup();
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}

/** Opens a connection to `target` under the current proxy and TLS policy; records it in the ledger. */
export async function openSocket(target: ConnectTarget, ctx: ConnectorContext): Promise<{ socket: Socket; entry: LedgerEntry }> {
  const { hostname, port, scheme } = target;
  const host = hostname.replace(/^\[|\]$/g, '');
  const secure = scheme === 'https' || scheme === 'wss';
  const decision = decideProxy(ctx.proxy, new URL(`${scheme}://${host.includes(':') ? `[${host}]` : host}:${port}`));
  const proxy = decision.proxy;
  const proxyLabel = proxy ? redactProxy(proxy) : undefined;
  const entry = ctx.ledger.open({ host, port, purpose: target.purpose, scheme, proxied: proxy ? proxy.host : null });
  let raw: Socket | undefined;
  const attempt = async (): Promise<Socket> => {
    if (proxy) {
      const pport = Number(proxy.port) || (proxy.protocol === 'https:' ? 443 : 80);
      const phost = proxy.hostname.replace(/^\[|\]$/g, '');
      try {
        raw = await tcp(phost, pport, ctx.lookup);
        if (proxy.protocol === 'https:') raw = await tlsUpgradeProxy(raw, phost, pport, ctx, proxyLabel!);
      } catch (err) {
        throw err instanceof NetError ? err : socketError(err, host, port, proxyLabel);
      }
      const counted = raw;
      ctx.ledger.update(entry, {}, () => ({ sent: counted.bytesWritten, received: counted.bytesRead }));
      const { status, statusText } = await connectTunnel(raw, host, port, proxy).catch((e: unknown) => {
        throw socketError(e, host, port, proxyLabel);
      });
      if (status !== 200) throw proxyStatusError(status, statusText, host, port, proxyLabel!);
    } else {
      raw = await tcp(host, port, ctx.lookup);
      const counted = raw;
      ctx.ledger.update(entry, {}, () => ({ sent: counted.bytesWritten, received: counted.bytesRead }));
    }
    if (!secure) return raw;
    const s = await tlsUpgrade(raw, host, ctx, target.alpn);
    const verified = verify(s, host, port, ctx, proxyLabel);
    ctx.ledger.update(entry, { tlsVersion: s.getProtocol() ?? undefined, verified });
    return s;
  };
  try {
    const socket = await withTimeout(attempt(), ctx.connectTimeoutMs, target.signal, () => raw?.destroy());
    const counted = raw!;
    if (socket !== counted)
      ctx.ledger.update(entry, {}, () => ({
        sent: Math.max(counted.bytesWritten, socket.bytesWritten),
        received: Math.max(counted.bytesRead, socket.bytesRead),
      }));
    counted.once('close', () => ctx.ledger.close(entry));
    socket.once('close', () => ctx.ledger.close(entry));
    socket.once('error', (e: NodeJS.ErrnoException) => {
      // undici ends sockets it no longer needs with its own informational errors (UND_ERR_*): not failures.
      if (!entry.error && typeof e.code === 'string' && !e.code.startsWith('UND_ERR')) ctx.ledger.update(entry, { error: `${e.message}` });
    });
    return { socket, entry };
  } catch (err) {
    raw?.destroy();
    const e =
      err instanceof NetError || (err as Error).name === 'AbortError' ? (err as Error) : socketError(err, host, port, proxy && !raw ? proxyLabel : undefined);
    ctx.ledger.close(entry, e.message);
    throw e;
  }
}

/** TLS to an https:// proxy, verified under the same policy. */
async function tlsUpgradeProxy(raw: Socket, host: string, port: number, ctx: ConnectorContext, label: string): Promise<Socket> {
  const s = await tlsUpgrade(raw, host, ctx, undefined).catch((e: unknown) => {
    throw socketError(e, host, port, label);
  });
  verify(s, host, port, ctx, label);
  return s;
}

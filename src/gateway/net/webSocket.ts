/**
 * WebSocket client connections (for the workspace link) through the same connector as fetch: one proxy
 * decision (CONNECT for wss:, using https_proxy, never wss_proxy), the same TLS policy, the ledger.
 * Loaded on first use (it imports `ws`).
 */
import type { Socket } from 'node:net';
import WebSocket, { type ClientOptions } from 'ws';
import { NetError } from './errors';

export interface WebSocketOptions {
  headers?: Record<string, string>;
  protocols?: string | string[];
  /** Time for the connection and the upgrade together (default 15 s). */
  handshakeTimeoutMs?: number;
  maxPayload?: number;
  signal?: AbortSignal;
}

type Connect = (hostname: string, port: number, scheme: 'ws' | 'wss', signal: AbortSignal | undefined) => Promise<Socket>;

/** Opens a WebSocket and resolves when it is open; rejects with a NetError otherwise. */
export function openWebSocket(url: URL, options: WebSocketOptions, connect: Connect): Promise<WebSocket> {
  const scheme = url.protocol === 'wss:' ? 'wss' : 'ws';
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = Number(url.port) || (scheme === 'wss' ? 443 : 80);
  let connectError: Error | undefined;
  const createConnection = (_opts: unknown, cb: (err: Error | null, s?: Socket) => void): undefined => {
    connect(host, port, scheme, options.signal).then(
      (s) => cb(null, s),
      (e: Error) => {
        connectError = e;
        cb(e);
      },
    );
    return undefined;
  };
  const wsOptions: ClientOptions = {
    headers: options.headers,
    handshakeTimeout: options.handshakeTimeoutMs ?? 15_000,
    maxPayload: options.maxPayload,
    perMessageDeflate: false,
    followRedirects: false,
    createConnection: createConnection as unknown as ClientOptions['createConnection'],
  };
  const ws = new WebSocket(url, options.protocols, wsOptions);
  return new Promise<WebSocket>((resolve, reject) => {
    const cleanup = (): void => {
      ws.off('open', onOpen);
      ws.off('error', onError);
      ws.off('unexpected-response', onResponse);
      options.signal?.removeEventListener('abort', onAbort);
    };
    const onOpen = (): void => {
      cleanup();
      resolve(ws);
    };
    const onError = (e: Error): void => {
      cleanup();
      ws.terminate();
      const cause = connectError ?? e;
      reject(
        cause instanceof NetError
          ? cause
          : new NetError({ kind: 'websocket', host, port, message: `WebSocket to ${host}:${port} failed: ${cause.message}`, original: cause }),
      );
    };
    const onResponse = (_req: unknown, res: { statusCode?: number; statusMessage?: string }): void => {
      cleanup();
      ws.terminate();
      reject(
        new NetError({
          kind: 'websocket',
          host,
          port,
          status: res.statusCode,
          message: `${host}:${port} answered the WebSocket upgrade with HTTP ${res.statusCode ?? '?'} ${res.statusMessage ?? ''}`.trim(),
        }),
      );
    };
    const onAbort = (): void => onError(Object.assign(new Error('aborted'), { name: 'AbortError' }));
    ws.on('open', onOpen);
    ws.on('error', onError);
    ws.on('unexpected-response', onResponse);
    options.signal?.addEventListener('abort', onAbort, { once: true });
  });
}

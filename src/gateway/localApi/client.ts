/**
 * A small client of the local API (the `multiclaw` CLI uses it): JSON requests, the events WebSocket.
 * Loopback only: it connects to 127.0.0.1 and sends the token in the Authorization header.
 */
import http from 'node:http';
import WebSocket from 'ws';
import { type LocalEvent, localEventSchema } from '../../protocol/localApi';

export interface Endpoint {
  port: number;
  token: string;
}

export interface ApiReply {
  status: number;
  body: unknown;
}

/** The gateway could not be reached at all (nothing listens, connection reset). */
export class UnreachableError extends Error {
  override readonly name = 'UnreachableError';
}

export class LocalApiClient {
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 4 });

  constructor(
    readonly endpoint: Endpoint,
    private readonly timeoutMs = 30_000,
  ) {}

  request(method: string, path: string, body?: unknown): Promise<ApiReply> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string> = { authorization: `Bearer ${this.endpoint.token}`, accept: 'application/json' };
    if (payload !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = String(Buffer.byteLength(payload));
    }
    return new Promise((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: this.endpoint.port, method, path, headers, agent: this.agent, timeout: this.timeoutMs }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', (err) => reject(new UnreachableError(err.message)));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = text;
          try {
            parsed = JSON.parse(text);
          } catch {
            // not JSON: keep the text
          }
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
      });
      req.on('timeout', () => req.destroy(new Error(`no answer within ${this.timeoutMs} ms`)));
      req.on('error', (err) => reject(new UnreachableError(err.message)));
      req.end(payload);
    });
  }

  /** Opens `/v1/events`; `onEvent` gets every valid frame. Resolves once the socket is open. */
  events(onEvent: (e: LocalEvent) => void, onClose: (code: number, reason: string) => void): Promise<{ close(): void }> {
    const ws = new WebSocket(`ws://127.0.0.1:${this.endpoint.port}/v1/events`, {
      headers: { authorization: `Bearer ${this.endpoint.token}` },
      perMessageDeflate: false,
      handshakeTimeout: this.timeoutMs,
    });
    ws.on('message', (data: Buffer) => {
      let raw: unknown;
      try {
        raw = JSON.parse(data.toString('utf8'));
      } catch {
        return;
      }
      const r = localEventSchema.safeParse(raw);
      if (r.success) onEvent(r.data);
    });
    return new Promise((resolve, reject) => {
      ws.once('open', () => {
        ws.on('close', (code: number, reason: Buffer) => onClose(code, reason.toString()));
        resolve({ close: () => ws.close() });
      });
      ws.once('unexpected-response', (_req, res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          let body: unknown = Buffer.concat(chunks).toString('utf8');
          try {
            body = JSON.parse(body as string);
          } catch {
            // keep the text
          }
          reject(
            Object.assign(new Error(`the events socket was refused (${res.statusCode ?? 0})`), {
              reply: { status: res.statusCode ?? 0, body } satisfies ApiReply,
            }),
          );
        });
      });
      ws.once('error', (err) => reject(new UnreachableError(err.message)));
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

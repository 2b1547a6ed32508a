/** HTTP plumbing of the local API: JSON replies with error codes, bounded body reading, zod checks. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { z } from 'zod';
import { clip, jsonTooDeep } from '../../protocol/jsonLimits';
import { LOCAL_API_LIMITS, type LocalApiError, type LocalApiErrorCode } from '../../protocol/localApi';
import { errorMessage } from '../errors';

/** A request the API refuses with a status and a code (thrown by handlers, answered by the server). */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly status: number,
    readonly code: LocalApiErrorCode,
    message: string,
    readonly details?: unknown,
    readonly headers?: Record<string, string>,
  ) {
    super(message);
  }
}

const BASE_HEADERS = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
};

export function sendJson(res: ServerResponse, status: number, body: unknown, headers?: Record<string, string>): void {
  const text = JSON.stringify(body);
  if (res.headersSent) {
    res.end();
    return;
  }
  const h: Record<string, string | number> = {
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  };
  if (headers) Object.assign(h, headers);
  res.writeHead(status, h);
  res.end(text);
}

export function errorBody(code: LocalApiErrorCode, message: string, details?: unknown, type?: string): LocalApiError {
  const error: LocalApiError['error'] = { code, message };
  if (type) error.type = type;
  if (details !== undefined) error.details = details;
  return { error };
}

export function sendError(res: ServerResponse, err: ApiError, type?: string): void {
  sendJson(res, err.status, errorBody(err.code, err.message, err.details, type), err.headers);
}

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  421: 'Misdirected Request',
  429: 'Too Many Requests',
  503: 'Service Unavailable',
};

/** Answers a refused WebSocket upgrade on the raw socket with a JSON error, then closes it. */
export function refuseUpgrade(socket: Duplex, status: number, code: LocalApiErrorCode, message: string, headers: Record<string, string> = {}): void {
  const body = JSON.stringify(errorBody(code, message));
  const extra = Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  endRaw(
    socket,
    `HTTP/1.1 ${status} ${REASONS[status] ?? 'Error'}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
      `Cache-Control: no-store\r\n${extra}Connection: close\r\n\r\n${body}`,
  );
}

/** A raw socket gets this long to take our answer and hang up; then it is destroyed. */
const RAW_CLOSE_GRACE_MS = 2_000;

/**
 * Writes a last answer on a raw socket (a refused upgrade, a malformed request) and closes it for
 * sure: the server allows half-open sockets, so one whose incoming side is never read would never
 * reach 'end' and would hold a connection slot forever. Drain what comes in, then destroy.
 */
export function endRaw(socket: Duplex, text: string): void {
  socket.end(text);
  socket.resume();
  const t = setTimeout(() => socket.destroy(), RAW_CLOSE_GRACE_MS);
  t.unref();
  socket.once('close', () => clearTimeout(t));
  socket.once('end', () => socket.destroy());
}

/** After a refused body, read and drop this much more before cutting the connection. */
const DISCARD_LIMIT = 8 * 1024 * 1024;

/**
 * Reads a JSON body of at most `limit` bytes. An oversized body is refused (413) as soon as it is
 * known to be too big; the rest is drained (bounded) so the client can read the answer.
 */
export async function readJson(req: IncomingMessage, limit: number): Promise<unknown> {
  const type = String(req.headers['content-type'] ?? '')
    .split(';')[0]
    .trim()
    .toLowerCase();
  if (type !== 'application/json') {
    drain(req);
    throw new ApiError(415, 'unsupported_media_type', 'Send the body as JSON with "Content-Type: application/json".');
  }
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (Number.isFinite(declared) && declared > limit) {
    drain(req);
    throw tooLarge(limit);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  const text = await new Promise<string>((resolve, reject) => {
    const onData = (c: Buffer): void => {
      size += c.length;
      if (size > limit) {
        req.off('data', onData);
        drain(req);
        reject(tooLarge(limit));
        return;
      }
      chunks.push(c);
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.once('error', (err) => reject(new ApiError(400, 'invalid_request', `The request body could not be read: ${err.message}`)));
    req.once('close', () => {
      if (!req.complete) reject(new ApiError(400, 'invalid_request', 'The request ended before its body.'));
    });
  });
  if (!text.trim()) throw new ApiError(400, 'invalid_json', 'The request body is empty; send a JSON object.');
  // Before parsing: a value nested thousands deep would overflow every recursive step after it.
  if (jsonTooDeep(text, LOCAL_API_LIMITS.jsonDepth))
    throw new ApiError(400, 'invalid_json', `The request body nests deeper than ${LOCAL_API_LIMITS.jsonDepth} levels.`);
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ApiError(400, 'invalid_json', `The request body is not valid JSON: ${clip(errorMessage(err), 200)}`);
  }
}

function tooLarge(limit: number): ApiError {
  return new ApiError(413, 'payload_too_large', `The request body is larger than ${limit} bytes.`, undefined, { connection: 'close' });
}

/** Drops the rest of a refused body, up to DISCARD_LIMIT, then cuts the connection. */
function drain(req: IncomingMessage): void {
  let dropped = 0;
  req.on('data', (c: Buffer) => {
    dropped += c.length;
    if (dropped > DISCARD_LIMIT) req.socket.destroy();
  });
  req.resume();
}

/** Validates with zod; failures → 400 `invalid_request` with the issues (path + message) as details. */
export function validate<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issues = r.error.issues.slice(0, 20).map((i) => ({ path: clip(i.path.map(String).join('.'), 200), message: clip(i.message, 200) }));
  throw new ApiError(400, 'invalid_request', `Invalid ${what}: ${issues.map((i) => `${i.path || '(root)'}: ${i.message}`).join('; ')}`, { issues });
}

/** Writes one server-sent event. */
export function writeSse(res: ServerResponse, event: string | undefined, data: unknown): void {
  res.write(`${event ? `event: ${event}\n` : ''}data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`);
}

export function startSse(res: ServerResponse): void {
  res.writeHead(200, { ...BASE_HEADERS, 'content-type': 'text/event-stream; charset=utf-8', connection: 'keep-alive', 'x-accel-buffering': 'no' });
  res.flushHeaders();
}

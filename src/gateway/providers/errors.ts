import { z } from 'zod';
import { PROVIDER_LABELS, type ProviderId } from './types';
import { errorMessage } from '../errors';

export type ProviderErrorKind =
  | 'auth'
  | 'rate_limit'
  | 'context_length'
  | 'bad_request'
  | 'not_found'
  | 'server'
  | 'network'
  | 'idle_timeout'
  | 'malformed'
  | 'truncated'
  | 'cancelled';

const RETRYABLE: Record<ProviderErrorKind, boolean> = {
  auth: false,
  rate_limit: true,
  context_length: false,
  bad_request: false,
  not_found: false,
  server: true,
  network: true,
  idle_timeout: true,
  malformed: false,
  truncated: true,
  cancelled: false,
};

export interface ProviderErrorInit {
  kind: ProviderErrorKind;
  provider: ProviderId;
  status?: number;
  retryAfterMs?: number;
  /** The provider's own message (kept for logs; shown only where it says what is wrong). */
  detail?: string;
  cause?: unknown;
  /** Overrides the kind's default. */
  retryable?: boolean;
  /** Overrides the generated user-facing message. */
  message?: string;
}

/** A typed provider failure. `message` is short, user-facing and says what to do. */
export class ProviderError extends Error {
  override readonly name = 'ProviderError';
  readonly kind: ProviderErrorKind;
  readonly provider: ProviderId;
  readonly status?: number;
  readonly retryAfterMs?: number;
  readonly retryable: boolean;
  readonly detail?: string;

  constructor(init: ProviderErrorInit) {
    super(init.message ?? userMessage(init), init.cause === undefined ? undefined : { cause: init.cause });
    this.kind = init.kind;
    this.provider = init.provider;
    this.status = init.status;
    this.retryAfterMs = init.retryAfterMs;
    this.retryable = init.retryable ?? RETRYABLE[init.kind];
    this.detail = init.detail;
  }
}

function clip(text: string, max = 200): string {
  const t = text.trim().replace(/\s+/g, ' ');
  return t.length > max ? `${t.slice(0, max - 1)}…` : t;
}

function userMessage(init: ProviderErrorInit): string {
  const { kind, provider } = init;
  const p = PROVIDER_LABELS[provider];
  const why = init.detail ? ` (${clip(init.detail)})` : '';
  switch (kind) {
    case 'auth':
      return `${p} rejected the API key${why}. Check or replace the ${p} key.`;
    case 'rate_limit': {
      const wait = init.retryAfterMs !== undefined ? ` Try again in ${Math.max(1, Math.ceil(init.retryAfterMs / 1000))} s` : ' Wait a moment and retry';
      return `${p} is rate limiting requests.${wait}, or check your plan's limits.`;
    }
    case 'context_length':
      return `The conversation is too long for this ${p} model. Start a new conversation or choose a model with a larger context.`;
    case 'bad_request':
      return `${p} rejected the request${why}. Check the model name and settings.`;
    case 'not_found':
      return `${p} does not know this model or endpoint${why}. Check the model name and base URL.`;
    case 'server':
      return `${p} had a server error${init.status ? ` (${init.status})` : ''}${why}. Retry in a moment.`;
    case 'network':
      return `Could not reach ${p}${why}. Check your network, proxy settings and the base URL.`;
    case 'idle_timeout':
      return `${p} stopped sending data${why}. Retry.`;
    case 'malformed':
      return `${p} sent a response MultiClaw could not read${why}. Retry; if it persists, check the base URL.`;
    case 'truncated':
      return `The ${p} reply ended before it was complete. Retry.`;
    case 'cancelled':
      return 'Request cancelled.';
  }
}

// ---------------------------------------------------------------------------------------------
// Retry-After

/**
 * Reads the server's wait hint: `retry-after-ms` (milliseconds), else `Retry-After` as seconds or
 * an HTTP-date. Returns undefined when absent or unreadable.
 */
export function parseRetryAfter(headers: { get(name: string): string | null }, now = Date.now()): number | undefined {
  const ms = headers.get('retry-after-ms');
  if (ms !== null && ms.trim() !== '') {
    const n = Number(ms);
    if (Number.isFinite(n) && n >= 0) return Math.round(n);
  }
  const ra = headers.get('retry-after');
  if (ra === null || ra.trim() === '') return undefined;
  const trimmed = ra.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

/** google.protobuf.Duration in JSON form: "37s", "0.250s". */
function parseDuration(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)s$/.exec(text.trim());
  return m ? Math.round(Number(m[1]) * 1000) : undefined;
}

// ---------------------------------------------------------------------------------------------
// Error bodies, one shape per provider

const openAiError = z.object({
  error: z.object({
    message: z.string().nullish(),
    type: z.string().nullish(),
    code: z.union([z.string(), z.number()]).nullish(),
  }),
});

const anthropicError = z.object({
  type: z.literal('error'),
  error: z.object({ type: z.string(), message: z.string().nullish() }),
});

const geminiError = z.object({
  error: z.object({
    code: z.number().nullish(),
    message: z.string().nullish(),
    status: z.string().nullish(),
    details: z.array(z.looseObject({ '@type': z.string().optional(), reason: z.string().optional(), retryDelay: z.string().optional() })).nullish(),
  }),
});

export type OpenAiErrorBody = z.infer<typeof openAiError>;
export type AnthropicErrorBody = z.infer<typeof anthropicError>;
export type GeminiErrorBody = z.infer<typeof geminiError>;

const CONTEXT_RE = /maximum context length|context[ _](?:length|window|limit)|prompt is too long|too many tokens|input token count/i;

function kindFromStatus(status: number): ProviderErrorKind {
  if (status === 401 || status === 403) return 'auth';
  if (status === 404) return 'not_found';
  if (status === 413) return 'context_length';
  if (status === 429) return 'rate_limit';
  if (status === 408 || status === 409 || status >= 500) return 'server';
  return 'bad_request';
}

export interface ErrorContext {
  provider: ProviderId;
  status?: number;
  retryAfterMs?: number;
}

/** Maps an OpenAI(-compatible) error body (HTTP error or mid-stream `{"error":…}`). */
export function openAiErrorFrom(body: OpenAiErrorBody['error'], ctx: ErrorContext): ProviderError {
  const message = body.message ?? '';
  const code = body.code == null ? '' : String(body.code);
  const type = body.type ?? '';
  let kind: ProviderErrorKind;
  if (code === 'context_length_exceeded' || CONTEXT_RE.test(message)) kind = 'context_length';
  else if (code === 'invalid_api_key' || type === 'authentication_error') kind = 'auth';
  else if (code === 'rate_limit_exceeded' || code === 'insufficient_quota' || type === 'rate_limit_error') kind = 'rate_limit';
  else if (code === 'model_not_found') kind = 'not_found';
  else if (ctx.status !== undefined) kind = kindFromStatus(ctx.status);
  else if (type === 'server_error' || type === 'api_error' || type === '') kind = 'server';
  else kind = 'bad_request';
  // insufficient_quota is a 429 that waiting does not fix
  const retryable = code === 'insufficient_quota' ? false : undefined;
  return new ProviderError({ kind, provider: ctx.provider, status: ctx.status, retryAfterMs: ctx.retryAfterMs, detail: message || code || type, retryable });
}

/** Maps an Anthropic error object (HTTP error body or `event: error`). */
export function anthropicErrorFrom(body: AnthropicErrorBody['error'], ctx: ErrorContext): ProviderError {
  const message = body.message ?? '';
  let kind: ProviderErrorKind;
  switch (body.type) {
    case 'authentication_error':
    case 'permission_error':
      kind = 'auth';
      break;
    case 'rate_limit_error':
      kind = 'rate_limit';
      break;
    case 'overloaded_error':
    case 'api_error':
    case 'timeout_error':
      kind = 'server';
      break;
    case 'not_found_error':
      kind = 'not_found';
      break;
    case 'request_too_large':
      kind = 'context_length';
      break;
    case 'invalid_request_error':
      kind = CONTEXT_RE.test(message) ? 'context_length' : 'bad_request';
      break;
    default:
      kind = ctx.status !== undefined ? kindFromStatus(ctx.status) : 'server';
  }
  return new ProviderError({ kind, provider: ctx.provider, status: ctx.status, retryAfterMs: ctx.retryAfterMs, detail: message || body.type });
}

/** Maps a Gemini (google.rpc.Status) error object. */
export function geminiErrorFrom(body: GeminiErrorBody['error'], ctx: ErrorContext): ProviderError {
  const message = body.message ?? '';
  const status = body.status ?? '';
  const details = body.details ?? [];
  const reason = details.find((d) => d.reason)?.reason ?? '';
  const delay = details.find((d) => d.retryDelay)?.retryDelay;
  const retryAfterMs = ctx.retryAfterMs ?? (delay ? parseDuration(delay) : undefined);
  let kind: ProviderErrorKind;
  if (status === 'UNAUTHENTICATED' || status === 'PERMISSION_DENIED' || reason === 'API_KEY_INVALID' || /api key not valid/i.test(message)) kind = 'auth';
  else if (status === 'RESOURCE_EXHAUSTED') kind = 'rate_limit';
  else if (status === 'INVALID_ARGUMENT' || status === 'FAILED_PRECONDITION' || status === 'OUT_OF_RANGE')
    kind = CONTEXT_RE.test(message) ? 'context_length' : 'bad_request';
  else if (status === 'NOT_FOUND') kind = 'not_found';
  else if (status === 'INTERNAL' || status === 'UNAVAILABLE' || status === 'DEADLINE_EXCEEDED' || status === 'ABORTED' || status === 'UNKNOWN') kind = 'server';
  else kind = kindFromStatus(ctx.status ?? body.code ?? 500);
  return new ProviderError({ kind, provider: ctx.provider, status: ctx.status ?? body.code ?? undefined, retryAfterMs, detail: message || status });
}

/** Maps a non-2xx HTTP response body of any provider to a typed error. */
export function errorFromResponse(provider: ProviderId, status: number, bodyText: string, retryAfterMs: number | undefined): ProviderError {
  const ctx: ErrorContext = { provider, status, retryAfterMs };
  let json: unknown;
  try {
    json = JSON.parse(bodyText);
  } catch {
    json = undefined;
  }
  if (json !== undefined) {
    if (provider === 'anthropic') {
      const a = anthropicError.safeParse(json);
      if (a.success) return anthropicErrorFrom(a.data.error, ctx);
    } else if (provider === 'gemini') {
      const g = geminiError.safeParse(json);
      if (g.success) return geminiErrorFrom(g.data.error, ctx);
    } else {
      const o = openAiError.safeParse(json);
      if (o.success) return openAiErrorFrom(o.data.error, ctx);
    }
    // Some OpenAI-compatible servers answer `{"error":"text"}` or `{"detail":…}`.
    const loose = z.object({ error: z.string() }).safeParse(json);
    if (loose.success) return fromStatus(provider, status, loose.data.error, retryAfterMs);
  }
  return fromStatus(provider, status, bodyText.slice(0, 300), retryAfterMs);
}

function fromStatus(provider: ProviderId, status: number, detail: string, retryAfterMs: number | undefined): ProviderError {
  const kind = CONTEXT_RE.test(detail) && status < 500 ? 'context_length' : kindFromStatus(status);
  return new ProviderError({ kind, provider, status, retryAfterMs, detail: detail || `HTTP ${status}` });
}

export const errorBodySchemas = { openAiError, anthropicError, geminiError };

/** The innermost useful message of an undici error chain ("connect ECONNREFUSED 127.0.0.1:1"). */
export function networkDetail(err: unknown): string {
  let cur: unknown = err;
  let best = '';
  for (let i = 0; i < 5 && cur instanceof Error; i++) {
    const code = (cur as Error & { code?: unknown }).code;
    if (cur.message && cur.message !== 'fetch failed' && cur.message !== 'terminated')
      best = typeof code === 'string' && !cur.message.includes(code) ? `${cur.message} (${code})` : cur.message;
    cur = cur.cause;
  }
  return best || errorMessage(err);
}

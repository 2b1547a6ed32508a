/**
 * The streaming core shared by every provider: one HTTP request through NetService, an idle
 * watchdog, cancellation that closes the socket at once, SSE parsing, and retry before the first
 * token. Each provider supplies an adapter: how to build its request and how to decode its events.
 */
import type { z } from 'zod';
import type { NetService } from '../net/net';
import type { Logger } from '../ports';
import { errorFromResponse, networkDetail, parseRetryAfter, ProviderError } from './errors';
import { DEFAULT_RETRY_POLICY, retryStream, type RetryPolicy } from './retry';
import { SseParser, type SseEvent } from './sse';
import {
  PROVIDER_LABELS,
  PROVIDER_PURPOSE,
  type ChatRequest,
  type ProviderClient,
  type ProviderEndpoint,
  type ProviderId,
  type StreamEvent,
  type StreamOptions,
} from './types';

export type DoneEvent = Extract<StreamEvent, { type: 'done' }>;

export interface WireRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
}

/** Turns one provider's SSE events into deltas; one decoder per attempt. */
export interface StreamDecoder {
  /** Returns the event's text delta, if any. Throws ProviderError (`malformed`, or a provider error event). */
  onEvent(event: SseEvent): string | undefined;
  /** The terminal event arrived: stop reading (`[DONE]`, `message_stop`). */
  readonly complete: boolean;
  /** The final event if the stream may end here; undefined means it ended early (truncated). */
  done(): DoneEvent | undefined;
}

export interface ProviderAdapter {
  readonly id: ProviderId;
  buildRequest(request: ChatRequest, endpoint: ProviderEndpoint): WireRequest;
  createDecoder(): StreamDecoder;
}

export interface ProviderDeps {
  net: NetService;
  logger: Logger;
  /** Backoff tuning (tests shorten it); `StreamOptions.maxAttempts` overrides `maxAttempts`. */
  retry?: Partial<RetryPolicy>;
}

export const DEFAULT_IDLE_TIMEOUT_MS = 60_000;
/** Error bodies are read up to this size (they are a few hundred bytes in practice). */
const MAX_ERROR_BODY = 64 * 1024;
/** After the terminal event, how long to wait for the end of the body (so the socket is reused). */
const DRAIN_MS = 250;

/** Parses one event's JSON; invalid JSON is a `malformed` error, never a crash. */
export function parseEventJson(provider: ProviderId, data: string): unknown {
  try {
    return JSON.parse(data);
  } catch {
    throw malformed(provider, `invalid JSON in a stream event: ${data.slice(0, 80)}`);
  }
}

/** A stream event we cannot read. */
export function malformed(provider: ProviderId, detail: string, cause?: unknown): ProviderError {
  return new ProviderError({ kind: 'malformed', provider, detail, cause });
}

/** A zod failure on a stream event, as a `malformed` error naming the first bad field. */
export function malformedEvent(provider: ProviderId, what: string, error: z.ZodError): ProviderError {
  const issue = error.issues[0];
  const where = issue && issue.path.length > 0 ? issue.path.join('.') : 'event';
  return malformed(provider, `unexpected ${what}: ${where}: ${issue?.message ?? 'invalid'}`, error);
}

/** Fires `onIdle` when a wait (for headers or the next chunk) lasts longer than `ms`. One timer, re-armed lazily. */
class IdleWatchdog {
  fired = false;
  private timer: NodeJS.Timeout | undefined;
  private since = 0;
  private waiting = false;

  constructor(private readonly ms: number, private readonly onIdle: () => void) {}

  begin(): void {
    if (this.ms <= 0 || !Number.isFinite(this.ms)) return;
    this.waiting = true;
    this.since = Date.now();
    this.timer ??= setTimeout(this.check, this.ms);
  }

  end(): void {
    this.waiting = false;
  }

  private readonly check = (): void => {
    this.timer = undefined;
    if (!this.waiting) return;
    const left = this.ms - (Date.now() - this.since);
    if (left > 0) {
      this.timer = setTimeout(this.check, left);
    } else {
      this.fired = true;
      this.onIdle();
    }
  };

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}

async function readBounded(body: ReadableStream<Uint8Array> | null, limit: number): Promise<string> {
  if (!body) return '';
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
    if (text.length >= limit) {
      await reader.cancel().catch(() => undefined);
      break;
    }
  }
  return text + decoder.decode();
}

/** A ProviderClient for any SSE-streaming provider, given its adapter. */
export class SseProviderClient implements ProviderClient {
  readonly id: ProviderId;
  private readonly log: Logger;
  private readonly label: string;

  constructor(
    private readonly adapter: ProviderAdapter,
    private readonly endpoint: ProviderEndpoint,
    private readonly deps: ProviderDeps,
  ) {
    this.id = adapter.id;
    this.label = PROVIDER_LABELS[adapter.id];
    this.log = deps.logger.child(`provider:${adapter.id}`);
  }

  stream(request: ChatRequest, options: StreamOptions = {}): AsyncIterable<StreamEvent> {
    const policy: RetryPolicy = { ...DEFAULT_RETRY_POLICY, ...this.deps.retry };
    if (options.maxAttempts !== undefined) policy.maxAttempts = Math.max(1, options.maxAttempts);
    if (!this.endpoint.apiKey && this.id !== 'openai-compatible') {
      return failing(new ProviderError({ kind: 'auth', provider: this.id, message: `No ${this.label} API key is set. Add one to use ${this.label}.` }));
    }
    let wire: WireRequest;
    try {
      wire = this.adapter.buildRequest(request, this.endpoint);
    } catch (err) {
      return failing(new ProviderError({ kind: 'bad_request', provider: this.id, detail: err instanceof Error ? err.message : String(err), cause: err }));
    }
    return retryStream((n) => this.attempt(wire, request.model, n, options), {
      provider: this.id,
      policy,
      signal: options.signal,
      onRetry: (n, delayMs, error) => {
        this.log.debug(`attempt ${n} failed (${(error as ProviderError).kind}); retrying in ${delayMs} ms`);
        options.onRetry?.(n, delayMs, error);
      },
    });
  }

  private async *attempt(wire: WireRequest, model: string, n: number, options: StreamOptions): AsyncGenerator<StreamEvent, void, undefined> {
    const provider = this.id;
    const userSignal = options.signal;
    if (userSignal?.aborted) throw new ProviderError({ kind: 'cancelled', provider, cause: userSignal.reason });
    const idleMs = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
    const ctrl = new AbortController();
    const onUserAbort = (): void => ctrl.abort(userSignal?.reason);
    userSignal?.addEventListener('abort', onUserAbort, { once: true });
    const watchdog = new IdleWatchdog(idleMs, () => ctrl.abort(new Error('idle timeout')));
    const fail = (err: unknown): ProviderError => {
      if (err instanceof ProviderError) return err;
      if (userSignal?.aborted) return new ProviderError({ kind: 'cancelled', provider, cause: err });
      if (watchdog.fired) return new ProviderError({ kind: 'idle_timeout', provider, detail: `no data for ${Math.round(idleMs / 1000)} s` });
      return new ProviderError({ kind: 'network', provider, detail: networkDetail(err), cause: err });
    };
    const t0 = performance.now();
    let finished = false;
    let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
    this.log.debug(`POST ${new URL(wire.url).pathname} model=${model} attempt=${n}`);
    try {
      let res: Awaited<ReturnType<NetService['fetch']>>;
      watchdog.begin();
      try {
        res = await this.deps.net.fetch(wire.url, { method: 'POST', headers: wire.headers, body: wire.body, signal: ctrl.signal }, PROVIDER_PURPOSE[provider]);
        if (res.status < 200 || res.status > 299) {
          const text = await readBounded(res.body, MAX_ERROR_BODY);
          finished = true;
          throw errorFromResponse(provider, res.status, text, parseRetryAfter(res.headers));
        }
        const type = res.headers.get('content-type') ?? '';
        if (type.includes('application/json')) {
          await readBounded(res.body, MAX_ERROR_BODY);
          finished = true;
          throw new ProviderError({ kind: 'malformed', provider, detail: `expected an event stream, got ${type}` });
        }
      } catch (err) {
        throw fail(err);
      } finally {
        watchdog.end();
      }
      this.log.debug(`HTTP ${res.status} after ${Math.round(performance.now() - t0)} ms`);
      if (!res.body) throw new ProviderError({ kind: 'malformed', provider, detail: 'empty response body' });
      reader = res.body.getReader();
      const parser = new SseParser();
      const decoder = this.adapter.createDecoder();
      const signal = ctrl.signal;
      let deltas = 0;
      read: for (;;) {
        let chunk: Awaited<ReturnType<typeof reader.read>>;
        watchdog.begin();
        try {
          chunk = await reader.read();
        } catch (err) {
          throw fail(err);
        } finally {
          watchdog.end();
        }
        if (chunk.done) {
          finished = true;
          break;
        }
        parser.push(chunk.value);
        for (let event = parser.next(); event !== undefined; event = parser.next()) {
          const text = decoder.onEvent(event);
          if (text) {
            deltas++;
            yield { type: 'delta', text };
            if (signal.aborted) throw fail(signal.reason);
          }
          if (decoder.complete) break read;
        }
      }
      const tail = finished ? parser.end() : { incomplete: false };
      const done = decoder.done();
      if (!done) {
        throw new ProviderError({ kind: 'truncated', provider, detail: tail.incomplete ? 'the stream ended inside an event' : 'the stream ended without its final event' });
      }
      const u = done.usage;
      this.log.debug(`done: ${done.rawFinishReason ?? done.finishReason}, ${deltas} deltas in ${Math.round(performance.now() - t0)} ms, tokens in=${u?.inputTokens ?? '?'} out=${u?.outputTokens ?? '?'}`);
      yield done;
      if (!finished) finished = await drain(reader, DRAIN_MS);
    } catch (err) {
      const error = fail(err);
      this.log.debug(`attempt ${n} failed: ${error.kind}${error.status ? ` (HTTP ${error.status})` : ''}${error.detail ? `: ${error.detail}` : ''}`);
      throw error;
    } finally {
      watchdog.dispose();
      userSignal?.removeEventListener('abort', onUserAbort);
      // Anything still unread: abort, which destroys the socket at once (a cancel never waits).
      if (!finished) ctrl.abort();
    }
  }
}

/** Reads the rest of a finished stream briefly, so the connection can be reused; false if it did not end. */
async function drain(reader: ReadableStreamDefaultReader<Uint8Array>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  const rest = (async (): Promise<boolean> => {
    for (let i = 0; i < 16; i++) {
      if ((await reader.read()).done) return true;
    }
    return false;
  })().catch(() => false);
  try {
    return await Promise.race([rest, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function failing(error: ProviderError): AsyncIterable<StreamEvent> {
  return {
    [Symbol.asyncIterator]: () => ({
      next: () => Promise.reject(error),
    }),
  };
}

/** Joins a base URL and a path without doubling slashes. */
export function joinUrl(baseUrl: string, path: string): string {
  return baseUrl.replace(/\/+$/, '') + path;
}

/**
 * One streamed completion, as a hand-written async iterator (the hot path: one delta per `next()`,
 * resolved synchronously from already-received bytes when possible, no generator layers).
 *
 * Per attempt: one request through NetService, an idle watchdog, SSE parsing and the provider's
 * decoder. Failures before the first output (a text delta or a tool call) are retried (backoff with
 * full jitter, Retry-After honoured); after it they are surfaced. Cancelling aborts the request,
 * which destroys the socket.
 */
import type { NetService } from '../net/net';
import type { Logger } from '../ports';
import { errorFromResponse, networkDetail, parseRetryAfter, ProviderError } from './errors';
import { retryDelayFor, sleep, type RetryPolicy } from './retry';
import { SseParser } from './sse';
import type { StreamDecoder, WireRequest } from './adapter';
import { PROVIDER_PURPOSE, type ProviderId, type StreamEvent, type StreamOptions } from './types';

export const DEFAULT_IDLE_TIMEOUT_MS = 60_000;
/** Error bodies are read up to this size (they are a few hundred bytes in practice). */
const MAX_ERROR_BODY = 64 * 1024;
/** After the terminal event, how long to wait for the end of the body (so the socket is reused). */
const DRAIN_MS = 250;

export interface StreamContext {
  provider: ProviderId;
  net: NetService;
  log: Logger;
  wire: WireRequest;
  model: string;
  createDecoder: () => StreamDecoder;
  policy: RetryPolicy;
  options: StreamOptions;
}

/** `ending`: the final events are queued (pending tool calls, then `done`); `finished`: handed out, the body is drained. */
type Phase = 'connect' | 'stream' | 'ending' | 'finished' | 'closed';
const DONE: IteratorResult<StreamEvent> = { value: undefined, done: true };

/** Fires `onIdle` when a wait (for headers or the next chunk) lasts longer than `ms`. One timer, re-armed lazily. */
class IdleWatchdog {
  fired = false;
  private timer: NodeJS.Timeout | undefined;
  private since = 0;
  private waiting = false;

  constructor(
    private readonly ms: number,
    private readonly onIdle: () => void,
  ) {}

  begin(): void {
    if (!(this.ms > 0) || !Number.isFinite(this.ms)) return;
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

export class ProviderStream implements AsyncIterableIterator<StreamEvent> {
  private phase: Phase = 'connect';
  private attempt = 0;
  /** Output (a delta or a tool call) has been handed out: from here on, errors are surfaced, never retried. */
  private started = false;
  private ctrl = new AbortController();
  private watchdog = new IdleWatchdog(0, () => undefined);
  private reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  private parser = new SseParser();
  private decoder: StreamDecoder | undefined;
  /** Events a decoder produced beyond the text it returned, handed out in order from `head`. */
  private readonly queue: StreamEvent[] = [];
  private head = 0;
  private eof = false;
  private deltas = 0;
  private toolCalls = 0;
  private t0 = 0;
  /** The caller's signal aborted (a plain field: checked once per delta). */
  private cancelled = false;
  private readonly onUserAbort = (): void => {
    this.cancelled = true;
    this.ctrl.abort(this.ctx.options.signal?.reason);
  };

  constructor(private readonly ctx: StreamContext) {}

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<StreamEvent>> {
    if (this.phase === 'stream' || this.phase === 'ending') {
      try {
        const r = this.pump();
        if (r !== undefined) return Promise.resolve(r);
      } catch (err) {
        return this.recover(err).then(() => this.advance());
      }
    }
    return this.advance();
  }

  async return(): Promise<IteratorResult<StreamEvent>> {
    this.close();
    return DONE;
  }

  /** The slow path: connect, read more bytes, finish, or retry. */
  private async advance(): Promise<IteratorResult<StreamEvent>> {
    for (;;) {
      try {
        switch (this.phase) {
          case 'connect':
            await this.connect();
            break;
          case 'stream':
          case 'ending': {
            const r = this.pump();
            if (r !== undefined) return r;
            await this.read();
            if (this.eof) return this.end();
            break;
          }
          case 'finished':
            if (!this.eof && this.reader) this.eof = await drain(this.reader, DRAIN_MS);
            this.close();
            return DONE;
          case 'closed':
            return DONE;
        }
      } catch (err) {
        await this.recover(err);
      }
    }
  }

  /** Decodes buffered events until one yields something; undefined when more bytes are needed. */
  private pump(): IteratorResult<StreamEvent> | undefined {
    const queue = this.queue;
    if (this.head < queue.length) return this.take();
    if (this.phase === 'ending') throw new Error('ProviderStream: ending without a final event');
    const parser = this.parser;
    const decoder = this.decoder!;
    if (decoder.complete) return this.end();
    for (let event = parser.next(); event !== undefined; event = parser.next()) {
      const text = decoder.onEvent(event, queue);
      if (text) {
        if (this.cancelled) throw new ProviderError({ kind: 'cancelled', provider: this.ctx.provider });
        this.started = true;
        this.deltas++;
        return { value: { type: 'delta', text }, done: false };
      }
      if (this.head < queue.length) return this.take();
      if (decoder.complete) return this.end();
    }
    return undefined;
  }

  /** Hands out the next queued event. */
  private take(): IteratorResult<StreamEvent> {
    const queue = this.queue;
    const value = queue[this.head++]!;
    if (this.head === queue.length) {
      queue.length = 0;
      this.head = 0;
    }
    if (value.type === 'done') {
      this.phase = 'finished';
      return { value, done: false };
    }
    if (this.cancelled) throw new ProviderError({ kind: 'cancelled', provider: this.ctx.provider });
    if (value.type === 'delta') {
      this.deltas++;
      this.started = true;
    } else if (value.type !== 'usage') {
      this.started = true;
      if (value.type === 'toolCall') this.toolCalls++;
    }
    return { value, done: false };
  }

  private async connect(): Promise<void> {
    const { options, provider, wire, net } = this.ctx;
    const signal = options.signal;
    if (signal?.aborted) throw new ProviderError({ kind: 'cancelled', provider, cause: signal.reason });
    if (this.attempt === 0) signal?.addEventListener('abort', this.onUserAbort);
    this.attempt++;
    const ctrl = (this.ctrl = new AbortController());
    this.watchdog = new IdleWatchdog(options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS, () => ctrl.abort(new Error('idle timeout')));
    this.parser = new SseParser();
    this.decoder = this.ctx.createDecoder();
    this.queue.length = 0;
    this.head = 0;
    this.eof = false;
    this.reader = undefined;
    this.t0 = performance.now();
    this.ctx.log.debug(`POST ${new URL(wire.url).pathname} model=${this.ctx.model} attempt=${this.attempt}`);
    this.watchdog.begin();
    try {
      const res = await net.fetch(wire.url, { method: 'POST', headers: wire.headers, body: wire.body, signal: ctrl.signal }, PROVIDER_PURPOSE[provider]);
      if (res.status < 200 || res.status > 299) {
        const text = await readBounded(res.body, MAX_ERROR_BODY);
        this.eof = true;
        throw errorFromResponse(provider, res.status, text, parseRetryAfter(res.headers));
      }
      const type = res.headers.get('content-type') ?? '';
      if (type.includes('application/json') || !res.body) {
        await readBounded(res.body, MAX_ERROR_BODY);
        this.eof = true;
        throw new ProviderError({ kind: 'malformed', provider, detail: `expected an event stream, got ${type || 'an empty body'}` });
      }
      this.ctx.log.debug(`HTTP ${res.status} after ${Math.round(performance.now() - this.t0)} ms`);
      this.reader = res.body.getReader();
      this.phase = 'stream';
    } finally {
      this.watchdog.end();
    }
  }

  private async read(): Promise<void> {
    this.watchdog.begin();
    try {
      const r = await this.reader!.read();
      if (r.done) this.eof = true;
      else this.parser.push(r.value);
    } finally {
      this.watchdog.end();
    }
  }

  /** The stream may end here: the final event, or `truncated`. */
  private end(): IteratorResult<StreamEvent> {
    const tail = this.eof ? this.parser.end() : { incomplete: false };
    const done = this.decoder!.done(this.queue);
    if (!done) {
      throw new ProviderError({
        kind: 'truncated',
        provider: this.ctx.provider,
        detail: tail.incomplete ? 'the stream ended inside an event' : 'the stream ended without its final event',
      });
    }
    const u = done.usage;
    this.ctx.log.debug(
      `done: ${done.rawFinishReason ?? done.finishReason}, ${this.deltas} deltas, ${this.toolCalls + this.queue.filter((e) => e.type === 'toolCall').length} tool calls in ${Math.round(performance.now() - this.t0)} ms, tokens in=${u?.inputTokens ?? '?'} out=${u?.outputTokens ?? '?'}${u?.cachedInputTokens ? ` cached=${u.cachedInputTokens}` : ''}`,
    );
    this.queue.push(done);
    this.phase = 'ending';
    return this.take();
  }

  /** Classifies a failure, ends the attempt, and either waits for the retry or throws. */
  private async recover(err: unknown): Promise<void> {
    const { provider, options, policy, log } = this.ctx;
    const error = this.classify(err);
    this.endAttempt();
    log.debug(`attempt ${this.attempt} failed: ${error.kind}${error.status ? ` (HTTP ${error.status})` : ''}${error.detail ? `: ${error.detail}` : ''}`);
    const delay = options.signal?.aborted ? undefined : retryDelayFor(error, this.attempt, this.started, policy);
    if (delay === undefined) {
      this.close();
      throw error;
    }
    log.debug(`retrying in ${delay} ms`);
    options.onRetry?.(this.attempt, delay, error);
    try {
      await sleep(delay, provider, options.signal);
    } catch (cancelled) {
      this.close();
      throw cancelled;
    }
    this.phase = 'connect';
  }

  private classify(err: unknown): ProviderError {
    const provider = this.ctx.provider;
    if (err instanceof ProviderError) return err;
    if (this.ctx.options.signal?.aborted) return new ProviderError({ kind: 'cancelled', provider, cause: err });
    if (this.watchdog.fired) {
      const s = (this.ctx.options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS) / 1000;
      return new ProviderError({ kind: 'idle_timeout', provider, detail: `no data for ${s} s` });
    }
    return new ProviderError({ kind: 'network', provider, detail: networkDetail(err), cause: err });
  }

  /** Ends the current attempt; a body not read to its end is aborted, which destroys the socket at once. */
  private endAttempt(): void {
    this.watchdog.dispose();
    if (!this.eof) this.ctrl.abort();
    this.reader = undefined;
  }

  private close(): void {
    if (this.phase === 'closed') return;
    this.phase = 'closed';
    this.endAttempt();
    this.ctx.options.signal?.removeEventListener('abort', this.onUserAbort);
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

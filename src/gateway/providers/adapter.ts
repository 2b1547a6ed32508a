/**
 * The provider adapter contract: how a provider builds its wire request and decodes its stream
 * events. Types only, so the stream runner (providerStream.ts) and the client (streamClient.ts)
 * both depend on it and not on each other.
 */
import type { NetService } from '../net/net';
import type { Logger } from '../ports';
import type { RetryPolicy } from './retry';
import type { SseEvent } from './sse';
import type { ToolNameMap } from './toolNames';
import type { ChatRequest, ProviderEndpoint, ProviderId, StreamEvent } from './types';

export type DoneEvent = Extract<StreamEvent, { type: 'done' }>;

export interface WireRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
  /** Our tool names ↔ the provider's (sanitised) ones, for the decoder; absent when the request has no tools. */
  toolNames?: ToolNameMap;
}

/**
 * Turns one provider's SSE events into stream events; one decoder per attempt.
 *
 * Per SSE event a decoder may produce several stream events (a text delta, a tool call's start, a
 * finished tool call…). The common case, a text delta, is returned (no allocation beyond the
 * string); anything else is pushed to `out`. The returned text comes before what was pushed to
 * `out` in the same call; a decoder that must order text after other events pushes a `delta` to `out`.
 */
export interface StreamDecoder {
  /** Throws ProviderError (`malformed`, or a provider error event). */
  onEvent(event: SseEvent, out: StreamEvent[]): string | undefined;
  /** The terminal event arrived: stop reading (`[DONE]`, `message_stop`). */
  readonly complete: boolean;
  /**
   * The stream ends here (terminal event or end of body): pushes what is still pending (tool calls
   * that complete with the reply) to `out` and returns the final event. Undefined means it ended
   * early (truncated); a decoder may instead throw a `truncated` ProviderError that says what was cut.
   */
  done(out: StreamEvent[]): DoneEvent | undefined;
}

export interface ProviderAdapter {
  readonly id: ProviderId;
  buildRequest(request: ChatRequest, endpoint: ProviderEndpoint): WireRequest;
  createDecoder(wire: WireRequest): StreamDecoder;
}

export interface ProviderDeps {
  net: NetService;
  logger: Logger;
  /** Backoff tuning (tests shorten it); `StreamOptions.maxAttempts` overrides `maxAttempts`. */
  retry?: Partial<RetryPolicy>;
}

/**
 * The provider adapter contract: how a provider builds its wire request and decodes its stream
 * events. Types only, so the stream runner (providerStream.ts) and the client (streamClient.ts)
 * both depend on it and not on each other.
 */
import type { NetService } from '../net/net';
import type { Logger } from '../ports';
import type { RetryPolicy } from './retry';
import type { SseEvent } from './sse';
import type { ChatRequest, ProviderEndpoint, ProviderId, StreamEvent } from './types';

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

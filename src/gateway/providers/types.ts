import type { ConnectionPurpose } from '../net/net';

import type { ProviderId } from '../../protocol/providerIds';

export { isProviderId, PROVIDER_IDS, type ProviderId } from '../../protocol/providerIds';

export const PROVIDER_LABELS: Record<ProviderId, string> = {
  openai: 'OpenAI',
  anthropic: 'Anthropic',
  gemini: 'Google Gemini',
  'openai-compatible': 'OpenAI-compatible',
};

export const PROVIDER_PURPOSE: Record<ProviderId, ConnectionPurpose> = {
  openai: 'provider:openai',
  anthropic: 'provider:anthropic',
  gemini: 'provider:gemini',
  'openai-compatible': 'provider:openai-compatible',
};

export interface ChatMessage {
  role: 'user' | 'assistant';
  content: string;
}

export interface ChatRequest {
  model: string;
  system?: string;
  messages: ChatMessage[];
  maxTokens?: number;
  temperature?: number;
}

export interface Usage {
  inputTokens?: number;
  outputTokens?: number;
}

/** Normalised finish reasons across providers. */
export type FinishReason = 'stop' | 'length' | 'content_filter' | 'tool_calls' | 'error' | 'cancelled' | 'other';

export type StreamEvent =
  | { type: 'delta'; text: string }
  | { type: 'usage'; usage: Usage }
  | { type: 'done'; finishReason: FinishReason; rawFinishReason?: string; usage?: Usage };

export interface ProviderEndpoint {
  /** Base URL, e.g. https://api.openai.com/v1 (overridable in settings). */
  baseUrl: string;
  /** API key; undefined only for OpenAI-compatible servers that need none. */
  apiKey?: string;
}

export interface StreamOptions {
  signal?: AbortSignal;
  /** A stalled stream (no bytes for this long) becomes a retryable `idle_timeout` error. */
  idleTimeoutMs?: number;
  /** Attempts before the first token (1 = no retry). */
  maxAttempts?: number;
  /** Called before each retry (for logs / UI). */
  onRetry?: (attempt: number, delayMs: number, error: Error) => void;
}

export interface ProviderClient {
  readonly id: ProviderId;
  /** Streams a chat completion. Throws ProviderError (typed) on failure; yields events in order. */
  stream(request: ChatRequest, options?: StreamOptions): AsyncIterable<StreamEvent>;
}

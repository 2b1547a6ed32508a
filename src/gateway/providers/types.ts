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

/** A JSON Schema object (the `parameters` / `input_schema` of a tool), passed to the provider as is. */
export type JsonSchema = Record<string, unknown>;

/** A tool the model may call. `name` is ours (e.g. `read_file`, `github__create_issue`); each adapter sanitises it to its provider's rules and maps it back. */
export interface ToolDefinition {
  name: string;
  description: string;
  inputSchema: JsonSchema;
}

/** A complete tool call from the model (emitted once its arguments have fully arrived). */
export interface ToolCall {
  /** The provider's call id (Gemini has none: the adapter mints one, unique within the conversation). */
  id: string;
  /** Our tool name (the adapter maps the sanitised wire name back). */
  name: string;
  /** The parsed arguments (`{}` when the model sent none). */
  arguments: Record<string, unknown>;
  /** Set when the arguments were not a JSON object: the raw text (capped) and why. The loop answers the model with an error result. */
  invalidArguments?: { raw: string; error: string };
  /** Opaque provider data that must round-trip with this call (Gemini `thoughtSignature`). */
  providerData?: Record<string, unknown>;
}

/** An image attached to a user message (base64, no data: prefix). */
export interface ImagePart {
  mediaType: 'image/png' | 'image/jpeg' | 'image/gif' | 'image/webp';
  data: string;
}

export type ChatMessage =
  | { role: 'user'; content: string; images?: ImagePart[] }
  /** An assistant turn: its text and the tool calls it made (in order). */
  | { role: 'assistant'; content: string; toolCalls?: ToolCall[] }
  /** The result of one tool call, sent back in the next request. */
  | { role: 'tool'; toolCallId: string; toolName: string; content: string; isError?: boolean };

export interface ChatRequest {
  model: string;
  system?: string;
  messages: ChatMessage[];
  maxTokens?: number;
  temperature?: number;
  /** Tools the model may call this turn (none: a plain chat request, no `tools` field on the wire). */
  tools?: ToolDefinition[];
  /** `auto` (default) or `none` (tools described but not callable: e.g. the final answer of a budget-stopped run). */
  toolChoice?: 'auto' | 'none';
}

export interface Usage {
  inputTokens?: number;
  outputTokens?: number;
  /** Prompt tokens served from the provider's cache (Anthropic cache reads, OpenAI cached_tokens). */
  cachedInputTokens?: number;
}

/** Normalised finish reasons across providers. */
export type FinishReason = 'stop' | 'length' | 'content_filter' | 'tool_calls' | 'error' | 'cancelled' | 'other';

export type StreamEvent =
  | { type: 'delta'; text: string }
  /** The model started a tool call (name known, arguments streaming): for progress in the UI. */
  | { type: 'toolCallStart'; id: string; name: string }
  /** A tool call whose arguments are complete. */
  | { type: 'toolCall'; call: ToolCall }
  | { type: 'usage'; usage: Usage }
  /** The end of the reply. `detail`: the provider's explanation of an abnormal finish (Gemini's `finishMessage`, e.g. for MALFORMED_FUNCTION_CALL). */
  | { type: 'done'; finishReason: FinishReason; rawFinishReason?: string; usage?: Usage; detail?: string };

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

/**
 * Anthropic Messages streaming (`POST {baseUrl}/messages`, `stream: true`): message_start,
 * content_block_start/delta/stop, message_delta, message_stop, ping, and `event: error`.
 * Unknown event types are ignored (Anthropic may add new ones); known ones are checked with zod.
 */
import { z } from 'zod';
import { anthropicErrorFrom, errorBodySchemas } from './errors';
import type { SseEvent } from './sse';
import { joinUrl, malformed, malformedEvent, parseEventJson, SseProviderClient } from './streamClient';
import type { DoneEvent, ProviderAdapter, ProviderDeps, StreamDecoder, WireRequest } from './adapter';
import type { ChatRequest, FinishReason, ProviderEndpoint, Usage } from './types';

export const ANTHROPIC_VERSION = '2023-06-01';
export const ANTHROPIC_DEFAULT_MAX_TOKENS = 4096;

const count = z.number().nullish();

const blockDelta = z.object({
  index: z.number(),
  delta: z.object({ type: z.string(), text: z.string().optional() }),
});

const messageStart = z.object({
  message: z.object({
    usage: z.object({ input_tokens: count, output_tokens: count, cache_creation_input_tokens: count, cache_read_input_tokens: count }).nullish(),
  }),
});

const messageDelta = z.object({
  delta: z.object({ stop_reason: z.string().nullish() }),
  usage: z.object({ output_tokens: count, input_tokens: count }).nullish(),
});

const blockEdge = z.object({ index: z.number() });

const FINISH: Record<string, FinishReason> = {
  end_turn: 'stop',
  stop_sequence: 'stop',
  max_tokens: 'length',
  tool_use: 'tool_calls',
  refusal: 'content_filter',
  model_context_window_exceeded: 'length',
};

class AnthropicDecoder implements StreamDecoder {
  complete = false;
  private stop: string | undefined;
  private readonly usage: Usage = {};

  onEvent(event: SseEvent): string | undefined {
    const json = parseEventJson('anthropic', event.data);
    const type = typeof json === 'object' && json !== null ? (json as { type?: unknown }).type : undefined;
    switch (type) {
      case 'content_block_delta': {
        const r = blockDelta.safeParse(json);
        if (!r.success) throw malformedEvent('anthropic', 'content_block_delta', r.error);
        const delta = r.data.delta;
        if (delta.type !== 'text_delta') return undefined; // thinking / tool input: not reply text
        if (delta.text === undefined) throw malformed('anthropic', 'unexpected text_delta: delta.text is missing');
        return delta.text;
      }
      case 'message_start': {
        const r = messageStart.safeParse(json);
        if (!r.success) throw malformedEvent('anthropic', 'message_start', r.error);
        const u = r.data.message.usage;
        if (u) {
          this.usage.inputTokens = (u.input_tokens ?? 0) + (u.cache_creation_input_tokens ?? 0) + (u.cache_read_input_tokens ?? 0);
          if (u.output_tokens != null) this.usage.outputTokens = u.output_tokens;
        }
        return undefined;
      }
      case 'message_delta': {
        const r = messageDelta.safeParse(json);
        if (!r.success) throw malformedEvent('anthropic', 'message_delta', r.error);
        if (r.data.delta.stop_reason) this.stop = r.data.delta.stop_reason;
        const u = r.data.usage;
        if (u?.output_tokens != null) this.usage.outputTokens = u.output_tokens;
        return undefined;
      }
      case 'content_block_start':
      case 'content_block_stop': {
        const r = blockEdge.safeParse(json);
        if (!r.success) throw malformedEvent('anthropic', String(type), r.error);
        return undefined;
      }
      case 'message_stop':
        this.complete = true;
        return undefined;
      case 'ping':
        return undefined;
      case 'error': {
        const r = errorBodySchemas.anthropicError.safeParse(json);
        if (!r.success) throw malformedEvent('anthropic', 'error event', r.error);
        throw anthropicErrorFrom(r.data.error, { provider: 'anthropic' });
      }
      default:
        if (typeof type !== 'string') {
          throw malformed('anthropic', 'unexpected event: type is missing');
        }
        return undefined; // a new event type: ignore
    }
  }

  done(): DoneEvent | undefined {
    if (!this.complete) return undefined;
    const raw = this.stop;
    const done: DoneEvent = { type: 'done', finishReason: raw === undefined ? 'other' : (FINISH[raw] ?? 'other') };
    if (raw !== undefined) done.rawFinishReason = raw;
    if (this.usage.inputTokens !== undefined || this.usage.outputTokens !== undefined) done.usage = { ...this.usage };
    return done;
  }
}

export function anthropicAdapter(): ProviderAdapter {
  return {
    id: 'anthropic',
    buildRequest(request: ChatRequest, endpoint: ProviderEndpoint): WireRequest {
      const body: Record<string, unknown> = {
        model: request.model,
        max_tokens: request.maxTokens ?? ANTHROPIC_DEFAULT_MAX_TOKENS,
        messages: request.messages.map((m) => ({ role: m.role, content: m.content })),
        stream: true,
      };
      if (request.system) body.system = request.system;
      if (request.temperature !== undefined) body.temperature = request.temperature;
      return {
        url: joinUrl(endpoint.baseUrl, '/messages'),
        headers: {
          'content-type': 'application/json',
          accept: 'text/event-stream',
          'anthropic-version': ANTHROPIC_VERSION,
          'x-api-key': endpoint.apiKey ?? '',
        },
        body: JSON.stringify(body),
      };
    },
    createDecoder: () => new AnthropicDecoder(),
  };
}

export function createAnthropicClient(endpoint: ProviderEndpoint, deps: ProviderDeps): SseProviderClient {
  return new SseProviderClient(anthropicAdapter(), endpoint, deps);
}

/**
 * OpenAI Chat Completions streaming (`POST {baseUrl}/chat/completions`, `stream: true`), used for
 * both `openai` and `openai-compatible` servers (Ollama, LM Studio, vLLM…). Those sometimes omit
 * usage or `[DONE]`; a stream that ended after a `finish_reason` is complete.
 */
import { z } from 'zod';
import { errorBodySchemas, openAiErrorFrom, ProviderError } from './errors';
import type { SseEvent } from './sse';
import { joinUrl, malformedEvent, parseEventJson, SseProviderClient } from './streamClient';
import type { DoneEvent, ProviderAdapter, ProviderDeps, StreamDecoder, WireRequest } from './adapter';
import type { ChatRequest, FinishReason, ProviderEndpoint, ProviderId, Usage } from './types';

/** Only the fields we read are checked; unknown fields pass (the API adds them often). */
const chunkSchema = z.object({
  choices: z
    .array(
      z.object({
        delta: z.object({ content: z.string().nullish() }).nullish(),
        finish_reason: z.string().nullish(),
      }),
    )
    .nullish(),
  usage: z.object({ prompt_tokens: z.number().nullish(), completion_tokens: z.number().nullish() }).nullish(),
  error: z.unknown().optional(),
});

const FINISH: Record<string, FinishReason> = {
  stop: 'stop',
  length: 'length',
  content_filter: 'content_filter',
  tool_calls: 'tool_calls',
  function_call: 'tool_calls',
};

class OpenAiDecoder implements StreamDecoder {
  complete = false;
  private finish: string | undefined;
  private usage: Usage | undefined;

  constructor(private readonly provider: ProviderId) {}

  onEvent(event: SseEvent): string | undefined {
    const data = event.data;
    if (data === '[DONE]') {
      this.complete = true;
      return undefined;
    }
    const json = parseEventJson(this.provider, data);
    const parsed = chunkSchema.safeParse(json);
    if (!parsed.success) throw malformedEvent(this.provider, 'chunk', parsed.error);
    const chunk = parsed.data;
    if (chunk.error !== undefined && chunk.error !== null) throw this.streamError(chunk.error);
    if (event.type === 'error') throw this.streamError(json);
    if (chunk.usage) {
      this.usage = { inputTokens: chunk.usage.prompt_tokens ?? undefined, outputTokens: chunk.usage.completion_tokens ?? undefined };
    }
    const choice = chunk.choices?.[0];
    if (!choice) return undefined;
    if (choice.finish_reason) this.finish = choice.finish_reason;
    return choice.delta?.content ?? undefined;
  }

  private streamError(error: unknown): ProviderError {
    const body = errorBodySchemas.openAiError.shape.error.safeParse(error);
    if (body.success) return openAiErrorFrom(body.data, { provider: this.provider });
    const text = typeof error === 'string' ? error : JSON.stringify(error).slice(0, 200);
    return new ProviderError({ kind: 'server', provider: this.provider, detail: text });
  }

  done(): DoneEvent | undefined {
    if (!this.complete && this.finish === undefined) return undefined;
    const raw = this.finish;
    const done: DoneEvent = { type: 'done', finishReason: raw === undefined ? 'other' : (FINISH[raw] ?? 'other') };
    if (raw !== undefined) done.rawFinishReason = raw;
    if (this.usage) done.usage = this.usage;
    return done;
  }
}

export function openAiAdapter(id: 'openai' | 'openai-compatible' = 'openai'): ProviderAdapter {
  return {
    id,
    buildRequest(request: ChatRequest, endpoint: ProviderEndpoint): WireRequest {
      const messages: Array<{ role: string; content: string }> = [];
      if (request.system) messages.push({ role: 'system', content: request.system });
      for (const m of request.messages) messages.push({ role: m.role, content: m.content });
      const body: Record<string, unknown> = {
        model: request.model,
        messages,
        stream: true,
        stream_options: { include_usage: true },
      };
      // OpenAI deprecated max_tokens for max_completion_tokens; compatible servers still read max_tokens.
      if (request.maxTokens !== undefined) body[id === 'openai' ? 'max_completion_tokens' : 'max_tokens'] = request.maxTokens;
      if (request.temperature !== undefined) body.temperature = request.temperature;
      const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'text/event-stream' };
      if (endpoint.apiKey) headers.authorization = `Bearer ${endpoint.apiKey}`;
      return { url: joinUrl(endpoint.baseUrl, '/chat/completions'), headers, body: JSON.stringify(body) };
    },
    createDecoder: () => new OpenAiDecoder(id),
  };
}

export function createOpenAiClient(endpoint: ProviderEndpoint, deps: ProviderDeps, id: 'openai' | 'openai-compatible' = 'openai'): SseProviderClient {
  return new SseProviderClient(openAiAdapter(id), endpoint, deps);
}

/**
 * Gemini streaming (`POST {baseUrl}/models/{model}:streamGenerateContent?alt=sse`). The key goes in
 * the `x-goog-api-key` header, never in the URL (URLs end up in logs and proxies). Each event is a
 * GenerateContentResponse; the one carrying `finishReason` ends the reply.
 */
import { z } from 'zod';
import { errorBodySchemas, geminiErrorFrom } from './errors';
import type { SseEvent } from './sse';
import { joinUrl, malformedEvent, parseEventJson, SseProviderClient } from './streamClient';
import type { DoneEvent, ProviderAdapter, ProviderDeps, StreamDecoder, WireRequest } from './adapter';
import type { ChatRequest, FinishReason, ProviderEndpoint, Usage } from './types';

const responseSchema = z.object({
  candidates: z
    .array(
      z.object({
        content: z.object({ parts: z.array(z.object({ text: z.string().optional(), thought: z.boolean().optional() })).optional() }).optional(),
        finishReason: z.string().optional(),
      }),
    )
    .optional(),
  usageMetadata: z
    .object({ promptTokenCount: z.number().optional(), candidatesTokenCount: z.number().optional(), thoughtsTokenCount: z.number().optional() })
    .optional(),
  promptFeedback: z.object({ blockReason: z.string().optional() }).optional(),
  error: z.unknown().optional(),
});

const FINISH: Record<string, FinishReason> = {
  STOP: 'stop',
  MAX_TOKENS: 'length',
  SAFETY: 'content_filter',
  RECITATION: 'content_filter',
  BLOCKLIST: 'content_filter',
  PROHIBITED_CONTENT: 'content_filter',
  SPII: 'content_filter',
  IMAGE_SAFETY: 'content_filter',
  MALFORMED_FUNCTION_CALL: 'error',
};

class GeminiDecoder implements StreamDecoder {
  readonly complete = false; // Gemini has no terminal event after the finishReason: read to the end
  private finish: string | undefined;
  private finishReason: FinishReason | undefined;
  private usage: Usage | undefined;

  onEvent(event: SseEvent): string | undefined {
    const json = parseEventJson('gemini', event.data);
    const parsed = responseSchema.safeParse(json);
    if (!parsed.success) throw malformedEvent('gemini', 'response chunk', parsed.error);
    const chunk = parsed.data;
    if (chunk.error !== undefined) {
      const body = errorBodySchemas.geminiError.shape.error.safeParse(chunk.error);
      if (!body.success) throw malformedEvent('gemini', 'error event', body.error);
      throw geminiErrorFrom(body.data, { provider: 'gemini' });
    }
    const meta = chunk.usageMetadata;
    if (meta) {
      const out =
        meta.candidatesTokenCount === undefined && meta.thoughtsTokenCount === undefined
          ? undefined
          : (meta.candidatesTokenCount ?? 0) + (meta.thoughtsTokenCount ?? 0);
      this.usage = { inputTokens: meta.promptTokenCount, outputTokens: out };
    }
    const candidate = chunk.candidates?.[0];
    if (!candidate) {
      const blocked = chunk.promptFeedback?.blockReason;
      if (blocked) {
        this.finish = blocked;
        this.finishReason = 'content_filter';
      }
      return undefined;
    }
    if (candidate.finishReason) {
      this.finish = candidate.finishReason;
      this.finishReason = FINISH[candidate.finishReason] ?? 'other';
    }
    const parts = candidate.content?.parts;
    if (!parts) return undefined;
    let text: string | undefined;
    for (const part of parts) {
      if (part.text === undefined || part.thought) continue;
      text = text === undefined ? part.text : text + part.text;
    }
    return text;
  }

  done(): DoneEvent | undefined {
    if (this.finish === undefined || this.finishReason === undefined) return undefined;
    const done: DoneEvent = { type: 'done', finishReason: this.finishReason, rawFinishReason: this.finish };
    if (this.usage) done.usage = this.usage;
    return done;
  }
}

export function geminiAdapter(): ProviderAdapter {
  return {
    id: 'gemini',
    buildRequest(request: ChatRequest, endpoint: ProviderEndpoint): WireRequest {
      const model = request.model.replace(/^models\//, '');
      const body: Record<string, unknown> = {
        contents: request.messages.map((m) => ({ role: m.role === 'assistant' ? 'model' : 'user', parts: [{ text: m.content }] })),
      };
      if (request.system) body.systemInstruction = { parts: [{ text: request.system }] };
      const config: Record<string, number> = {};
      if (request.maxTokens !== undefined) config.maxOutputTokens = request.maxTokens;
      if (request.temperature !== undefined) config.temperature = request.temperature;
      if (Object.keys(config).length > 0) body.generationConfig = config;
      return {
        url: joinUrl(endpoint.baseUrl, `/models/${encodeURIComponent(model)}:streamGenerateContent?alt=sse`),
        headers: { 'content-type': 'application/json', accept: 'text/event-stream', 'x-goog-api-key': endpoint.apiKey ?? '' },
        body: JSON.stringify(body),
      };
    },
    createDecoder: () => new GeminiDecoder(),
  };
}

export function createGeminiClient(endpoint: ProviderEndpoint, deps: ProviderDeps): SseProviderClient {
  return new SseProviderClient(geminiAdapter(), endpoint, deps);
}

/**
 * Gemini streaming (`POST {baseUrl}/models/{model}:streamGenerateContent?alt=sse`). The key goes in
 * the `x-goog-api-key` header, never in the URL (URLs end up in logs and proxies). Each event is a
 * GenerateContentResponse; the one carrying `finishReason` ends the reply.
 *
 * Tools are `tools: [{ functionDeclarations }]` (parameters as JSON Schema). A call is a
 * `functionCall` part, whole (args as an object), usually without an id: we mint one. Its
 * `thoughtSignature` rides in `ToolCall.providerData` and goes back on the call's part (Gemini 3
 * refuses a call turn without it; history without one gets the documented placeholder). Results
 * go back as `functionResponse` parts, one user turn for all the calls of a turn.
 */
import { z } from 'zod';
import { errorBodySchemas, geminiErrorFrom } from './errors';
import type { SseEvent } from './sse';
import { joinUrl, malformedEvent, parseEventJson, SseProviderClient } from './streamClient';
import { argumentsFromValue, GEMINI_TOOL_NAMES, mintCallId, ToolNameMap } from './toolNames';
import type { DoneEvent, ProviderAdapter, ProviderDeps, StreamDecoder, WireRequest } from './adapter';
import type { ChatMessage, ChatRequest, FinishReason, ProviderEndpoint, StreamEvent, ToolCall, Usage } from './types';

/** What Google documents for a call turn whose signature is unknown (history from another model). */
export const GEMINI_SIGNATURE_PLACEHOLDER = 'skip_thought_signature_validator';

const partSchema = z.object({
  text: z.string().optional(),
  thought: z.boolean().optional(),
  thoughtSignature: z.string().optional(),
  functionCall: z.object({ name: z.string(), args: z.unknown().optional(), id: z.string().optional() }).optional(),
});

const responseSchema = z.object({
  candidates: z
    .array(
      z.object({
        content: z.object({ parts: z.array(partSchema).optional() }).optional(),
        finishReason: z.string().optional(),
        finishMessage: z.string().optional(),
      }),
    )
    .optional(),
  usageMetadata: z
    .object({
      promptTokenCount: z.number().optional(),
      candidatesTokenCount: z.number().optional(),
      thoughtsTokenCount: z.number().optional(),
      cachedContentTokenCount: z.number().optional(),
    })
    .optional(),
  promptFeedback: z.object({ blockReason: z.string().optional() }).optional(),
  error: z.unknown().optional(),
});

type Part = z.infer<typeof partSchema>;

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
  UNEXPECTED_TOOL_CALL: 'error',
};

/** What a Gemini call keeps in `ToolCall.providerData`. */
interface GeminiCallData {
  thoughtSignature?: string;
  /** The id Gemini gave the call (absent: ours was minted, and is never sent back). */
  geminiId?: string;
}

class GeminiDecoder implements StreamDecoder {
  readonly complete = false; // Gemini has no terminal event after the finishReason: read to the end
  private finish: string | undefined;
  private finishReason: FinishReason | undefined;
  private finishMessage: string | undefined;
  private usage: Usage | undefined;
  private calls = 0;

  constructor(private readonly names: ToolNameMap | undefined) {}

  onEvent(event: SseEvent, out: StreamEvent[]): string | undefined {
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
      const outTokens =
        meta.candidatesTokenCount === undefined && meta.thoughtsTokenCount === undefined
          ? undefined
          : (meta.candidatesTokenCount ?? 0) + (meta.thoughtsTokenCount ?? 0);
      this.usage = { inputTokens: meta.promptTokenCount, outputTokens: outTokens };
      if (meta.cachedContentTokenCount !== undefined) this.usage.cachedInputTokens = meta.cachedContentTokenCount;
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
      if (candidate.finishMessage) this.finishMessage = candidate.finishMessage;
    }
    const parts = candidate.content?.parts;
    if (!parts) return undefined;
    let text: string | undefined;
    let ordered = false;
    for (const part of parts) {
      if (part.functionCall) {
        // Text before a call in the same chunk goes out first, in order.
        if (text) out.push({ type: 'delta', text });
        text = undefined;
        ordered = true;
        this.onCall(part, part.functionCall, out);
        continue;
      }
      if (part.text === undefined || part.thought) continue;
      text = text === undefined ? part.text : text + part.text;
    }
    if (!ordered) return text;
    if (text) out.push({ type: 'delta', text });
    return undefined;
  }

  private onCall(part: Part, fc: NonNullable<Part['functionCall']>, out: StreamEvent[]): void {
    const id = fc.id || mintCallId();
    const name = this.names ? this.names.fromWire(fc.name) : fc.name;
    const call: ToolCall = { id, name, ...argumentsFromValue(fc.args) };
    const data: GeminiCallData = {};
    if (part.thoughtSignature) data.thoughtSignature = part.thoughtSignature;
    if (fc.id) data.geminiId = fc.id;
    if (data.thoughtSignature !== undefined || data.geminiId !== undefined) call.providerData = { ...data };
    this.calls++;
    out.push({ type: 'toolCallStart', id, name }, { type: 'toolCall', call });
  }

  done(): DoneEvent | undefined {
    if (this.finish === undefined || this.finishReason === undefined) return undefined;
    // A turn of calls ends with STOP.
    const finishReason = this.calls > 0 && this.finishReason === 'stop' ? 'tool_calls' : this.finishReason;
    const done: DoneEvent = { type: 'done', finishReason, rawFinishReason: this.finish };
    if (this.finishMessage) done.detail = this.finishMessage;
    if (this.usage) done.usage = this.usage;
    return done;
  }
}

type WirePart = Record<string, unknown>;

function callData(call: ToolCall): GeminiCallData {
  const d = call.providerData ?? {};
  return {
    thoughtSignature: typeof d.thoughtSignature === 'string' ? d.thoughtSignature : undefined,
    geminiId: typeof d.geminiId === 'string' ? d.geminiId : undefined,
  };
}

function wireContents(messages: ChatMessage[], names: ToolNameMap): Array<{ role: string; parts: WirePart[] }> {
  const out: Array<{ role: string; parts: WirePart[] }> = [];
  const calls = new Map<string, GeminiCallData>();
  /** The user turn holding this model turn's function responses. */
  let responses: WirePart[] | undefined;
  for (const m of messages) {
    switch (m.role) {
      case 'user': {
        responses = undefined;
        const parts: WirePart[] = (m.images ?? []).map((img) => ({ inlineData: { mimeType: img.mediaType, data: img.data } }));
        if (m.content || parts.length === 0) parts.push({ text: m.content });
        out.push({ role: 'user', parts });
        break;
      }
      case 'assistant': {
        responses = undefined;
        const parts: WirePart[] = m.content || !m.toolCalls?.length ? [{ text: m.content }] : [];
        const toolCalls = m.toolCalls ?? [];
        const signed = toolCalls.some((c) => callData(c).thoughtSignature !== undefined);
        toolCalls.forEach((c, i) => {
          const data = callData(c);
          calls.set(c.id, data);
          const part: WirePart = { functionCall: { ...(data.geminiId ? { id: data.geminiId } : {}), name: names.toWire(c.name), args: c.arguments } };
          const signature = data.thoughtSignature ?? (!signed && i === 0 ? GEMINI_SIGNATURE_PLACEHOLDER : undefined);
          if (signature !== undefined) part.thoughtSignature = signature;
          parts.push(part);
        });
        out.push({ role: 'model', parts });
        break;
      }
      case 'tool': {
        const id = calls.get(m.toolCallId)?.geminiId;
        const part: WirePart = {
          functionResponse: { ...(id ? { id } : {}), name: names.toWire(m.toolName), response: m.isError ? { error: m.content } : { output: m.content } },
        };
        if (responses) {
          responses.push(part);
        } else {
          responses = [part];
          out.push({ role: 'user', parts: responses });
        }
        break;
      }
    }
  }
  return out;
}

export function geminiAdapter(): ProviderAdapter {
  return {
    id: 'gemini',
    buildRequest(request: ChatRequest, endpoint: ProviderEndpoint): WireRequest {
      const model = request.model.replace(/^models\//, '');
      const tools = request.tools ?? [];
      const names = new ToolNameMap(
        tools.map((t) => t.name),
        GEMINI_TOOL_NAMES,
      );
      const body: Record<string, unknown> = { contents: wireContents(request.messages, names) };
      if (request.system) body.systemInstruction = { parts: [{ text: request.system }] };
      if (tools.length > 0) {
        body.tools = [
          {
            functionDeclarations: tools.map((t) => ({
              name: names.toWire(t.name),
              description: t.description,
              parametersJsonSchema: { type: 'object', ...t.inputSchema },
            })),
          },
        ];
        if (request.toolChoice === 'none') body.toolConfig = { functionCallingConfig: { mode: 'NONE' } };
      }
      const config: Record<string, number> = {};
      if (request.maxTokens !== undefined) config.maxOutputTokens = request.maxTokens;
      if (request.temperature !== undefined) config.temperature = request.temperature;
      if (Object.keys(config).length > 0) body.generationConfig = config;
      return {
        url: joinUrl(endpoint.baseUrl, `/models/${encodeURIComponent(model)}:streamGenerateContent?alt=sse`),
        headers: { 'content-type': 'application/json', accept: 'text/event-stream', 'x-goog-api-key': endpoint.apiKey ?? '' },
        body: JSON.stringify(body),
        toolNames: names,
      };
    },
    createDecoder: (wire) => new GeminiDecoder(wire.toolNames),
  };
}

export function createGeminiClient(endpoint: ProviderEndpoint, deps: ProviderDeps): SseProviderClient {
  return new SseProviderClient(geminiAdapter(), endpoint, deps);
}

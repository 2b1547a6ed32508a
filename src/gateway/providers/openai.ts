/**
 * OpenAI Chat Completions streaming (`POST {baseUrl}/chat/completions`, `stream: true`), used for
 * both `openai` and `openai-compatible` servers (Ollama, LM Studio, vLLM…). Those sometimes omit
 * usage or `[DONE]`; a stream that ended after a `finish_reason` is complete.
 *
 * Tool calls arrive as `delta.tool_calls` fragments: the first names the call (`index`, `id`,
 * `function.name`), the rest append to `function.arguments`. They are accumulated by index and id:
 * Ollama sends every call at index 0, told apart only by a new id. A call is complete at the
 * `finish_reason` (or `[DONE]`, or the end of the body after one); a body that ends inside a call
 * is a `truncated` error.
 */
import { z } from 'zod';
import { errorBodySchemas, openAiErrorFrom, ProviderError } from './errors';
import type { SseEvent } from './sse';
import { joinUrl, malformedEvent, parseEventJson, SseProviderClient, truncatedToolCall } from './streamClient';
import { legalName, mintCallId, OPENAI_CALL_IDS, OPENAI_TOOL_NAMES, parseToolArguments, ToolNameMap } from './toolNames';
import type { DoneEvent, ProviderAdapter, ProviderDeps, StreamDecoder, WireRequest } from './adapter';
import type { ChatMessage, ChatRequest, FinishReason, ProviderEndpoint, ProviderId, StreamEvent, Usage } from './types';

const count = z.number().nullish();

const toolCallDelta = z.object({
  index: count,
  id: z.string().nullish(),
  function: z
    .object({
      name: z.string().nullish(),
      // A string per the API; a few compatible servers send the arguments as an object, whole.
      arguments: z.union([z.string(), z.record(z.string(), z.unknown())]).nullish(),
    })
    .nullish(),
});

/** Only the fields we read are checked; unknown fields pass (the API adds them often). */
const chunkSchema = z.object({
  choices: z
    .array(
      z.object({
        delta: z.object({ content: z.string().nullish(), tool_calls: z.array(toolCallDelta).nullish() }).nullish(),
        finish_reason: z.string().nullish(),
      }),
    )
    .nullish(),
  usage: z.object({ prompt_tokens: count, completion_tokens: count, prompt_tokens_details: z.object({ cached_tokens: count }).nullish() }).nullish(),
  error: z.unknown().optional(),
});

type ToolCallDelta = z.infer<typeof toolCallDelta>;

/**
 * The common chunk, checked by hand: one choice whose delta has only text, no finish, no usage, no
 * error. It is what chunkSchema would accept and read the same way (the fields read are checked
 * exactly as the schema does); anything else (or anything odd) goes through the schema. Saves
 * zod's work on every text delta, the bulk of a stream.
 */
function plainTextDelta(json: unknown): string | undefined {
  if (typeof json !== 'object' || json === null) return undefined;
  const chunk = json as { choices?: unknown; usage?: unknown; error?: unknown };
  if (chunk.usage != null || chunk.error !== undefined) return undefined;
  const choices = chunk.choices;
  if (!Array.isArray(choices) || choices.length !== 1) return undefined;
  const choice = choices[0] as { delta?: unknown; finish_reason?: unknown } | null;
  if (typeof choice !== 'object' || choice === null || choice.finish_reason != null) return undefined;
  const delta = choice.delta as { content?: unknown; tool_calls?: unknown } | null | undefined;
  if (typeof delta !== 'object' || delta === null || delta.tool_calls != null) return undefined;
  return typeof delta.content === 'string' ? delta.content : undefined;
}

const FINISH: Record<string, FinishReason> = {
  stop: 'stop',
  length: 'length',
  content_filter: 'content_filter',
  tool_calls: 'tool_calls',
  function_call: 'tool_calls',
};

interface PendingCall {
  index: number;
  id: string;
  /** The server sent no id: we made one up (a later id does not start a new call). */
  minted: boolean;
  /** The wire name. */
  name: string;
  args: string;
  announced: boolean;
}

class OpenAiDecoder implements StreamDecoder {
  complete = false;
  private finish: string | undefined;
  private usage: Usage | undefined;
  /** Calls whose arguments may still grow, in the order they started. */
  private calls: PendingCall[] = [];
  private readonly byIndex = new Map<number, PendingCall>();
  private callCount = 0;

  constructor(
    private readonly provider: ProviderId,
    private readonly names: ToolNameMap | undefined,
  ) {}

  onEvent(event: SseEvent, out: StreamEvent[]): string | undefined {
    const data = event.data;
    if (data === '[DONE]') {
      this.complete = true;
      return undefined;
    }
    const json = parseEventJson(this.provider, data);
    const text = plainTextDelta(json);
    if (text !== undefined) return text;
    const parsed = chunkSchema.safeParse(json);
    if (!parsed.success) throw malformedEvent(this.provider, 'chunk', parsed.error);
    const chunk = parsed.data;
    if (chunk.error !== undefined && chunk.error !== null) throw this.streamError(chunk.error);
    if (event.type === 'error') throw this.streamError(json);
    const u = chunk.usage;
    if (u) {
      this.usage = { inputTokens: u.prompt_tokens ?? undefined, outputTokens: u.completion_tokens ?? undefined };
      const cached = u.prompt_tokens_details?.cached_tokens;
      if (cached != null) this.usage.cachedInputTokens = cached;
    }
    const choice = chunk.choices?.[0];
    if (!choice) return undefined;
    const delta = choice.delta;
    const calls = delta?.tool_calls;
    if (calls) for (const c of calls) this.onToolDelta(c, out);
    if (choice.finish_reason) {
      this.finish = choice.finish_reason;
      this.flush(out);
    }
    return delta?.content ?? undefined;
  }

  private onToolDelta(tc: ToolCallDelta, out: StreamEvent[]): void {
    const fn = tc.function;
    const name = fn?.name || undefined;
    const id = tc.id || undefined;
    let call: PendingCall | undefined;
    if (tc.index != null) {
      call = this.byIndex.get(tc.index);
      // Same index, another call: a new id (Ollama), or a different name.
      if (call && ((id !== undefined && id !== call.id && !call.minted) || (name !== undefined && call.name !== '' && name !== call.name))) call = undefined;
    } else {
      call = id !== undefined ? this.calls.find((c) => c.id === id) : this.calls.at(-1);
    }
    if (!call) {
      if (name === undefined && id === undefined && (fn?.arguments ?? '') === '') return;
      call = { index: tc.index ?? this.callCount, id: id ?? '', minted: false, name: '', args: '', announced: false };
      this.callCount++;
      this.calls.push(call);
      this.byIndex.set(call.index, call);
    }
    if (name !== undefined && call.name === '') call.name = name;
    if (id !== undefined && call.id === '') call.id = id;
    const args = fn?.arguments;
    if (typeof args === 'string') call.args += args;
    else if (args != null) call.args = JSON.stringify(args);
    if (!call.announced && call.name !== '') this.announce(call, out);
  }

  private announce(call: PendingCall, out: StreamEvent[]): void {
    if (call.id === '') {
      call.id = mintCallId();
      call.minted = true;
    }
    call.announced = true;
    out.push({ type: 'toolCallStart', id: call.id, name: this.ourName(call.name) });
  }

  private ourName(wire: string): string {
    return this.names ? this.names.fromWire(wire) : wire;
  }

  /** Emits every pending call as complete. */
  private flush(out: StreamEvent[]): void {
    if (this.calls.length === 0) return;
    const hint = this.finish === 'length' ? 'the reply hit the output token limit while writing them' : undefined;
    for (const call of this.calls) {
      if (!call.announced) this.announce(call, out);
      const parsed = parseToolArguments(call.args, hint);
      if (call.name === '' && !parsed.invalidArguments) parsed.invalidArguments = { raw: call.args, error: 'the call names no tool' };
      out.push({ type: 'toolCall', call: { id: call.id, name: this.ourName(call.name), ...parsed } });
    }
    this.calls = [];
    this.byIndex.clear();
  }

  private streamError(error: unknown): ProviderError {
    const body = errorBodySchemas.openAiError.shape.error.safeParse(error);
    if (body.success) return openAiErrorFrom(body.data, { provider: this.provider });
    const text = typeof error === 'string' ? error : JSON.stringify(error).slice(0, 200);
    return new ProviderError({ kind: 'server', provider: this.provider, detail: text });
  }

  done(out: StreamEvent[]): DoneEvent | undefined {
    if (!this.complete && this.finish === undefined) {
      const cut = this.calls.at(-1);
      if (cut) throw truncatedToolCall(this.provider, this.ourName(cut.name), cut.args.length);
      return undefined;
    }
    this.flush(out);
    const raw = this.finish;
    let finishReason: FinishReason = raw === undefined ? 'other' : (FINISH[raw] ?? 'other');
    // Some servers (Ollama) end a turn of tool calls with "stop".
    if (this.callCount > 0 && (finishReason === 'stop' || finishReason === 'other')) finishReason = 'tool_calls';
    const done: DoneEvent = { type: 'done', finishReason };
    if (raw !== undefined) done.rawFinishReason = raw;
    if (this.usage) done.usage = this.usage;
    return done;
  }
}

type WireContent = string | null | Array<Record<string, unknown>>;

function userContent(m: Extract<ChatMessage, { role: 'user' }>): WireContent {
  if (!m.images?.length) return m.content;
  const parts: Array<Record<string, unknown>> = [];
  if (m.content) parts.push({ type: 'text', text: m.content });
  for (const img of m.images) parts.push({ type: 'image_url', image_url: { url: `data:${img.mediaType};base64,${img.data}` } });
  return parts;
}

function wireMessages(request: ChatRequest, names: ToolNameMap): Array<Record<string, unknown>> {
  const callId = (id: string): string => legalName(id, OPENAI_CALL_IDS, 'call');
  const messages: Array<Record<string, unknown>> = [];
  if (request.system) messages.push({ role: 'system', content: request.system });
  for (const m of request.messages) {
    switch (m.role) {
      case 'user':
        messages.push({ role: 'user', content: userContent(m) });
        break;
      case 'assistant':
        if (m.toolCalls?.length) {
          messages.push({
            role: 'assistant',
            content: m.content,
            tool_calls: m.toolCalls.map((c) => ({
              id: callId(c.id),
              type: 'function',
              function: { name: names.toWire(c.name), arguments: JSON.stringify(c.arguments) },
            })),
          });
        } else {
          messages.push({ role: 'assistant', content: m.content });
        }
        break;
      case 'tool':
        messages.push({ role: 'tool', tool_call_id: callId(m.toolCallId), content: m.content });
        break;
    }
  }
  return messages;
}

export function openAiAdapter(id: 'openai' | 'openai-compatible' = 'openai'): ProviderAdapter {
  return {
    id,
    buildRequest(request: ChatRequest, endpoint: ProviderEndpoint): WireRequest {
      const tools = request.tools ?? [];
      const names = new ToolNameMap(
        tools.map((t) => t.name),
        OPENAI_TOOL_NAMES,
      );
      const body: Record<string, unknown> = {
        model: request.model,
        messages: wireMessages(request, names),
        stream: true,
        stream_options: { include_usage: true },
      };
      // OpenAI deprecated max_tokens for max_completion_tokens; compatible servers still read max_tokens.
      if (request.maxTokens !== undefined) body[id === 'openai' ? 'max_completion_tokens' : 'max_tokens'] = request.maxTokens;
      if (request.temperature !== undefined) body.temperature = request.temperature;
      if (tools.length > 0) {
        body.tools = tools.map((t) => ({ type: 'function', function: { name: names.toWire(t.name), description: t.description, parameters: t.inputSchema } }));
        if (request.toolChoice === 'none') body.tool_choice = 'none';
      }
      const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'text/event-stream' };
      if (endpoint.apiKey) headers.authorization = `Bearer ${endpoint.apiKey}`;
      return { url: joinUrl(endpoint.baseUrl, '/chat/completions'), headers, body: JSON.stringify(body), toolNames: names };
    },
    createDecoder: (wire) => new OpenAiDecoder(id, wire.toolNames),
  };
}

export function createOpenAiClient(endpoint: ProviderEndpoint, deps: ProviderDeps, id: 'openai' | 'openai-compatible' = 'openai'): SseProviderClient {
  return new SseProviderClient(openAiAdapter(id), endpoint, deps);
}

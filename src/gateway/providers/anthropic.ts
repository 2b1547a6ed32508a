/**
 * Anthropic Messages streaming (`POST {baseUrl}/messages`, `stream: true`): message_start,
 * content_block_start/delta/stop, message_delta, message_stop, ping, and `event: error`.
 * Unknown event types are ignored (Anthropic may add new ones); known ones are checked with zod.
 *
 * A tool call is a `tool_use` content block: `content_block_start` names it (id, name), its input
 * arrives as `input_json_delta` fragments for that block index, and `content_block_stop` completes
 * it. Results go back as `tool_result` blocks (with `is_error`) in the next user message; the
 * results of one turn's calls share that message.
 */
import { z } from 'zod';
import { anthropicErrorFrom, errorBodySchemas } from './errors';
import type { SseEvent } from './sse';
import { joinUrl, malformed, malformedEvent, parseEventJson, SseProviderClient, truncatedToolCall } from './streamClient';
import { ANTHROPIC_CALL_IDS, ANTHROPIC_TOOL_NAMES, argumentsFromValue, legalName, parseToolArguments, ToolNameMap } from './toolNames';
import type { DoneEvent, ProviderAdapter, ProviderDeps, StreamDecoder, WireRequest } from './adapter';
import type { ChatMessage, ChatRequest, FinishReason, ProviderEndpoint, StreamEvent, Usage } from './types';

export const ANTHROPIC_VERSION = '2023-06-01';
export const ANTHROPIC_DEFAULT_MAX_TOKENS = 4096;

const count = z.number().nullish();
const usageFields = z.object({ input_tokens: count, output_tokens: count, cache_creation_input_tokens: count, cache_read_input_tokens: count });

const blockDelta = z.object({
  index: z.number(),
  delta: z.object({ type: z.string(), text: z.string().optional(), partial_json: z.string().optional() }),
});

const messageStart = z.object({ message: z.object({ usage: usageFields.nullish() }) });

const messageDelta = z.object({
  delta: z.object({ stop_reason: z.string().nullish() }),
  usage: usageFields.nullish(),
});

const blockStart = z.object({
  index: z.number(),
  content_block: z.object({ type: z.string(), id: z.string().optional(), name: z.string().optional(), input: z.unknown().optional() }),
});

const blockStop = z.object({ index: z.number() });

const FINISH: Record<string, FinishReason> = {
  end_turn: 'stop',
  stop_sequence: 'stop',
  max_tokens: 'length',
  tool_use: 'tool_calls',
  pause_turn: 'other',
  refusal: 'content_filter',
  model_context_window_exceeded: 'length',
};

interface ToolBlock {
  id: string;
  /** Our name. */
  name: string;
  json: string;
  input: unknown;
}

class AnthropicDecoder implements StreamDecoder {
  complete = false;
  private stop: string | undefined;
  private readonly usage: Usage = {};
  private readonly blocks = new Map<number, ToolBlock>();

  constructor(private readonly names: ToolNameMap | undefined) {}

  onEvent(event: SseEvent, out: StreamEvent[]): string | undefined {
    const json = parseEventJson('anthropic', event.data);
    const type = typeof json === 'object' && json !== null ? (json as { type?: unknown }).type : undefined;
    switch (type) {
      case 'content_block_delta': {
        const r = blockDelta.safeParse(json);
        if (!r.success) throw malformedEvent('anthropic', 'content_block_delta', r.error);
        const delta = r.data.delta;
        if (delta.type === 'text_delta') {
          if (delta.text === undefined) throw malformed('anthropic', 'unexpected text_delta: delta.text is missing');
          return delta.text;
        }
        if (delta.type === 'input_json_delta') {
          const block = this.blocks.get(r.data.index);
          if (!block) throw malformed('anthropic', `unexpected input_json_delta: block ${r.data.index} is not a tool_use block`);
          if (delta.partial_json === undefined) throw malformed('anthropic', 'unexpected input_json_delta: delta.partial_json is missing');
          block.json += delta.partial_json;
        }
        return undefined; // thinking, signatures, citations: not reply text
      }
      case 'content_block_start': {
        const r = blockStart.safeParse(json);
        if (!r.success) throw malformedEvent('anthropic', 'content_block_start', r.error);
        const b = r.data.content_block;
        if (b.type === 'tool_use') {
          if (!b.id || !b.name) throw malformed('anthropic', 'unexpected tool_use block: id and name are required');
          const name = this.names ? this.names.fromWire(b.name) : b.name;
          this.blocks.set(r.data.index, { id: b.id, name, json: '', input: b.input });
          out.push({ type: 'toolCallStart', id: b.id, name });
        }
        return undefined;
      }
      case 'content_block_stop': {
        const r = blockStop.safeParse(json);
        if (!r.success) throw malformedEvent('anthropic', 'content_block_stop', r.error);
        const block = this.blocks.get(r.data.index);
        if (block) {
          this.blocks.delete(r.data.index);
          this.emit(block, out);
        }
        return undefined;
      }
      case 'message_start': {
        const r = messageStart.safeParse(json);
        if (!r.success) throw malformedEvent('anthropic', 'message_start', r.error);
        this.readUsage(r.data.message.usage);
        return undefined;
      }
      case 'message_delta': {
        const r = messageDelta.safeParse(json);
        if (!r.success) throw malformedEvent('anthropic', 'message_delta', r.error);
        if (r.data.delta.stop_reason) this.stop = r.data.delta.stop_reason;
        this.readUsage(r.data.usage);
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

  /** message_start carries the prompt's usage; message_delta the running output count (and, in newer versions, the input again). */
  private readUsage(u: z.infer<typeof usageFields> | null | undefined): void {
    if (!u) return;
    if (u.input_tokens != null || u.cache_read_input_tokens != null || u.cache_creation_input_tokens != null) {
      this.usage.inputTokens = (u.input_tokens ?? 0) + (u.cache_creation_input_tokens ?? 0) + (u.cache_read_input_tokens ?? 0);
      if (u.cache_read_input_tokens != null) this.usage.cachedInputTokens = u.cache_read_input_tokens;
    }
    if (u.output_tokens != null) this.usage.outputTokens = u.output_tokens;
  }

  private emit(block: ToolBlock, out: StreamEvent[]): void {
    const hint = this.stop === 'max_tokens' ? 'the reply hit the output token limit while writing them' : undefined;
    const parsed = block.json !== '' ? parseToolArguments(block.json, hint) : argumentsFromValue(block.input);
    out.push({ type: 'toolCall', call: { id: block.id, name: block.name, ...parsed } });
  }

  done(out: StreamEvent[]): DoneEvent | undefined {
    if (!this.complete) {
      const open = [...this.blocks.values()].at(-1);
      if (open) throw truncatedToolCall('anthropic', open.name, open.json.length);
      return undefined;
    }
    for (const block of this.blocks.values()) this.emit(block, out);
    this.blocks.clear();
    const raw = this.stop;
    const done: DoneEvent = { type: 'done', finishReason: raw === undefined ? 'other' : (FINISH[raw] ?? 'other') };
    if (raw !== undefined) done.rawFinishReason = raw;
    if (this.usage.inputTokens !== undefined || this.usage.outputTokens !== undefined) done.usage = { ...this.usage };
    return done;
  }
}

type Block = Record<string, unknown>;
interface WireMessage {
  role: 'user' | 'assistant';
  content: string | Block[];
}

const blocksOf = (content: string | Block[]): Block[] => (typeof content === 'string' ? (content ? [{ type: 'text', text: content }] : []) : content);

function wireMessages(messages: ChatMessage[], names: ToolNameMap): WireMessage[] {
  const callId = (id: string): string => legalName(id, ANTHROPIC_CALL_IDS, 'toolu');
  const out: WireMessage[] = [];
  /** The last message is the user message holding tool results: what the user adds before the next assistant turn joins it, after the results. */
  let results: Block[] | undefined;
  const pushUser = (content: string | Block[]): void => {
    if (results) results.push(...blocksOf(content));
    else out.push({ role: 'user', content });
  };
  for (const m of messages) {
    switch (m.role) {
      case 'user':
        if (!m.images?.length) {
          pushUser(m.content);
        } else {
          const blocks: Block[] = m.images.map((img) => ({ type: 'image', source: { type: 'base64', media_type: img.mediaType, data: img.data } }));
          if (m.content) blocks.push({ type: 'text', text: m.content });
          pushUser(blocks);
        }
        break;
      case 'assistant': {
        results = undefined;
        if (!m.toolCalls?.length) {
          out.push({ role: 'assistant', content: m.content });
          break;
        }
        const blocks: Block[] = m.content ? [{ type: 'text', text: m.content }] : [];
        for (const c of m.toolCalls) blocks.push({ type: 'tool_use', id: callId(c.id), name: names.toWire(c.name), input: c.arguments });
        out.push({ role: 'assistant', content: blocks });
        break;
      }
      case 'tool': {
        const result: Block = { type: 'tool_result', tool_use_id: callId(m.toolCallId) };
        if (m.content) result.content = m.content;
        if (m.isError) result.is_error = true;
        if (results) {
          results.push(result);
        } else {
          results = [result];
          out.push({ role: 'user', content: results });
        }
        break;
      }
    }
  }
  return out;
}

export function anthropicAdapter(): ProviderAdapter {
  return {
    id: 'anthropic',
    buildRequest(request: ChatRequest, endpoint: ProviderEndpoint): WireRequest {
      const tools = request.tools ?? [];
      const names = new ToolNameMap(
        tools.map((t) => t.name),
        ANTHROPIC_TOOL_NAMES,
      );
      const body: Record<string, unknown> = {
        model: request.model,
        max_tokens: request.maxTokens ?? ANTHROPIC_DEFAULT_MAX_TOKENS,
        messages: wireMessages(request.messages, names),
        stream: true,
      };
      if (request.system) body.system = request.system;
      if (request.temperature !== undefined) body.temperature = request.temperature;
      if (tools.length > 0) {
        body.tools = tools.map((t) => ({ name: names.toWire(t.name), description: t.description, input_schema: { type: 'object', ...t.inputSchema } }));
        if (request.toolChoice === 'none') body.tool_choice = { type: 'none' };
      }
      return {
        url: joinUrl(endpoint.baseUrl, '/messages'),
        headers: {
          'content-type': 'application/json',
          accept: 'text/event-stream',
          'anthropic-version': ANTHROPIC_VERSION,
          'x-api-key': endpoint.apiKey ?? '',
        },
        body: JSON.stringify(body),
        toolNames: names,
      };
    },
    createDecoder: (wire) => new AnthropicDecoder(wire.toolNames),
  };
}

export function createAnthropicClient(endpoint: ProviderEndpoint, deps: ProviderDeps): SseProviderClient {
  return new SseProviderClient(anthropicAdapter(), endpoint, deps);
}

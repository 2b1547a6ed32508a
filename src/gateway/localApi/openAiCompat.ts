/**
 * The OpenAI-compatible surface (off by default; setting `multiclaw.gateway.openAiCompatibleApi`):
 * `POST /v1/chat/completions` (streaming and not) and `GET /v1/models`. `model` names an agent
 * (`<id>`, `multiclaw/<id>` or `agent:<id>`); the agent's provider, model and system prompt answer.
 * Stateless: nothing is stored, and a client that disconnects cancels its request.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type ChatCompletionRequest, chatCompletionRequestSchema } from '../../protocol/localApi';
import type { ResolvedAgent } from '../agents';
import { createProviderClient, ProviderError } from '../providers';
import type { ChatMessage, FinishReason, Usage } from '../providers/types';
import { ApiError, errorBody, readJson, sendJson, validate, writeSse } from './http';
import type { ApiContext } from './routes';
import { errorMessage } from '../errors';

/** Error `type` of this surface's JSON errors (OpenAI clients read it). */
export const OPENAI_ERROR_TYPE = 'invalid_request_error';

function requireEnabled(ctx: ApiContext): void {
  if (!ctx.gateway.config.localApi.openAiCompatibleApi) {
    throw new ApiError(404, 'disabled', 'The OpenAI-compatible API is off. Turn on the setting multiclaw.gateway.openAiCompatibleApi.');
  }
}

export function handleModels(ctx: ApiContext, _req: IncomingMessage, res: ServerResponse): void {
  requireEnabled(ctx);
  const created = Math.floor(ctx.startedAt / 1000);
  const data = ctx.gateway
    .agents()
    .filter((a) => a.available)
    .map((a) => ({ id: a.id, object: 'model', created, owned_by: 'multiclaw' }));
  sendJson(res, 200, { object: 'list', data });
}

/** The agent a `model` names. */
export function agentForModel(agents: ResolvedAgent[], model: string): ResolvedAgent | undefined {
  const id = model.replace(/^multiclaw\//, '').replace(/^agent:/, '');
  return agents.find((a) => a.id === id);
}

function textOf(content: ChatCompletionRequest['messages'][number]['content']): string {
  if (typeof content === 'string') return content;
  if (!content) return '';
  return content.map((p) => (p.type === 'text' && typeof p.text === 'string' ? p.text : '')).join('');
}

/** The provider request: the agent's system prompt, then the request's system messages; user and assistant turns. */
function toProviderRequest(agent: ResolvedAgent, body: ChatCompletionRequest): { system?: string; messages: ChatMessage[] } {
  const system: string[] = agent.systemPrompt ? [agent.systemPrompt] : [];
  const messages: ChatMessage[] = [];
  for (const m of body.messages) {
    if (m.role === 'system' || m.role === 'developer') system.push(textOf(m.content));
    else if (m.role === 'user' || m.role === 'assistant') messages.push({ role: m.role, content: textOf(m.content) });
  }
  if (!messages.some((m) => m.role === 'user')) throw new ApiError(400, 'invalid_request', 'messages must hold at least one user message.');
  return { system: system.filter(Boolean).join('\n\n') || undefined, messages };
}

/** This surface relays text only (no tools are offered to the agent's model here), so a turn of tool calls ends as a plain stop. */
const FINISH: Record<FinishReason, string> = {
  stop: 'stop',
  length: 'length',
  content_filter: 'content_filter',
  tool_calls: 'stop',
  error: 'stop',
  cancelled: 'stop',
  other: 'stop',
};

export async function handleChatCompletions(ctx: ApiContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  requireEnabled(ctx);
  const body = validate(chatCompletionRequestSchema, await readJson(req, ctx.limits.bodyBytes), 'chat completion request');
  const g = ctx.gateway;
  const agent = agentForModel(g.agents(), body.model);
  if (!agent) throw new ApiError(404, 'agent_not_found', `The model "${body.model}" names no agent. GET /v1/models lists them.`);
  if (!agent.available) throw new ApiError(409, 'agent_unavailable', `The agent "${agent.id}" has no configured provider (${agent.provider}).`);
  const { system, messages } = toProviderRequest(agent, body);
  const config = g.config;
  const client = createProviderClient(
    agent.provider,
    { baseUrl: config.providers[agent.provider].baseUrl, apiKey: g.keyFor(agent) },
    { net: g.net, logger: ctx.log },
  );
  const abort = new AbortController();
  res.on('close', () => {
    if (!res.writableFinished) abort.abort();
  });

  const id = `chatcmpl-${randomUUID().replace(/-/g, '')}`;
  const created = Math.floor(ctx.now() / 1000);
  const stream = body.stream === true;
  const chunk = (delta: Record<string, unknown>, finish: string | null): unknown => ({
    id,
    object: 'chat.completion.chunk',
    created,
    model: agent.id,
    choices: [{ index: 0, delta, finish_reason: finish }],
  });
  let text = '';
  let usage: Usage = {};
  let finish: FinishReason = 'stop';
  let headersOut = false;
  const open = (): void => {
    if (headersOut || !stream) return;
    headersOut = true;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      connection: 'keep-alive',
    });
    writeSse(res, undefined, chunk({ role: 'assistant', content: '' }, null));
  };
  try {
    const maxTokens = body.max_completion_tokens ?? body.max_tokens ?? undefined;
    for await (const ev of client.stream(
      { model: agent.model, system, messages, maxTokens, temperature: body.temperature ?? undefined },
      { signal: abort.signal, idleTimeoutMs: config.idleTimeoutMs, maxAttempts: config.maxAttempts },
    )) {
      if (ev.type === 'delta') {
        text += ev.text;
        if (stream) {
          open();
          writeSse(res, undefined, chunk({ content: ev.text }, null));
        }
      } else if (ev.type === 'usage') {
        usage = { ...usage, ...ev.usage };
      } else if (ev.type === 'done') {
        finish = ev.finishReason;
        usage = { ...usage, ...ev.usage };
      }
      // toolCallStart / toolCall: not relayed (this surface offers the model no tools).
    }
  } catch (err) {
    if (abort.signal.aborted) return;
    const pe = err instanceof ProviderError ? err : undefined;
    const message = pe ? pe.message : `Unexpected error: ${errorMessage(err)}`;
    ctx.log.warn(`chat completion for ${agent.id} failed:`, err instanceof Error ? err : String(err));
    if (!headersOut) throw new ApiError(502, 'provider_error', message, pe ? { kind: pe.kind, retryable: pe.retryable } : undefined);
    writeSse(res, undefined, errorBody('provider_error', message, pe ? { kind: pe.kind, retryable: pe.retryable } : undefined, 'server_error'));
    res.end();
    return;
  }
  const usageOut = {
    prompt_tokens: usage.inputTokens ?? 0,
    completion_tokens: usage.outputTokens ?? 0,
    total_tokens: (usage.inputTokens ?? 0) + (usage.outputTokens ?? 0),
  };
  if (stream) {
    open();
    writeSse(res, undefined, { ...(chunk({}, FINISH[finish]) as object), usage: usageOut });
    writeSse(res, undefined, '[DONE]');
    res.end();
    return;
  }
  sendJson(res, 200, {
    id,
    object: 'chat.completion',
    created,
    model: agent.id,
    choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: FINISH[finish] }],
    usage: usageOut,
  });
}

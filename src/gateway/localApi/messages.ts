/**
 * `POST /v1/conversations/:id/messages` (`:id` may be `new`): sends a user message and streams the
 * agent's reply as server-sent events — `start`, `delta`…, `done` (messageStreamEventSchema). A client
 * that disconnects does not cancel the reply: it completes and is stored in the conversation.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type MessageStreamEvent, sendMessageRequestSchema } from '../../protocol/localApi';
import { isChatInputError } from '../chat/errors';
import { type Conversation, ConversationNotFoundError, isConversationId } from '../store/conversationStore';
import { ApiError, readJson, startSse, validate, writeSse } from './http';
import type { ApiContext } from './routes';

const HEARTBEAT_MS = 15_000;

export async function handleSendMessage(ctx: ApiContext, req: IncomingMessage, res: ServerResponse, params: string[]): Promise<void> {
  const body = validate(sendMessageRequestSchema, await readJson(req, ctx.limits.bodyBytes), 'message');
  const g = ctx.gateway;
  const id = params[0];
  let conversation: Conversation | undefined;
  if (id !== 'new') {
    if (!isConversationId(id)) throw new ApiError(404, 'conversation_not_found', `No conversation ${id}.`);
    try {
      conversation = await g.store.open(id);
    } catch (err) {
      if (err instanceof ConversationNotFoundError) throw new ApiError(404, 'conversation_not_found', `No conversation ${id}.`);
      throw err;
    }
  }
  const agentId = body.agentId ?? conversation?.meta.agentId ?? undefined;
  if (!agentId)
    throw new ApiError(400, 'invalid_request', 'Invalid message: agentId is required for a new conversation.', {
      issues: [{ path: 'agentId', message: 'required' }],
    });
  const agent = g.agents().find((a) => a.id === agentId);
  if (!agent) throw new ApiError(404, 'agent_not_found', `Unknown agent "${agentId}". See GET /v1/agents.`);
  if (!agent.available) throw new ApiError(409, 'agent_unavailable', `The agent "${agentId}" has no configured provider (${agent.provider}).`);
  if (conversation && g.chat.isBusy(conversation.id)) throw new ApiError(409, 'conversation_busy', 'A reply is still streaming in this conversation.');
  if (conversation && conversation.messages.length > 0 && conversation.meta.agentId && conversation.meta.agentId !== agent.id) {
    throw new ApiError(400, 'invalid_request', `This conversation is locked to the agent "${conversation.meta.agentId}"; start a new one for another agent.`);
  }
  const created = !conversation;
  conversation ??= await g.store.create({ agentId: agent.id });
  const cid = conversation.id;

  const pending: string[] = [];
  let streaming = false;
  const sub = g.chat.onDidEvent((e) => {
    if (e.type !== 'delta' || e.conversationId !== cid) return;
    if (streaming) send({ type: 'delta', text: e.text });
    else pending.push(e.text);
  });
  let open = true;
  const send = (ev: MessageStreamEvent): void => {
    if (open) writeSse(res, ev.type, ev);
  };
  try {
    let started: Awaited<ReturnType<typeof g.chat.send>>;
    try {
      started = await g.chat.send(cid, agent.id, body.text);
    } catch (err) {
      if (created) await g.store.delete(cid).catch(() => undefined);
      if (isChatInputError(err)) {
        throw g.chat.isBusy(cid) ? new ApiError(409, 'conversation_busy', err.message) : new ApiError(400, 'invalid_request', err.message);
      }
      throw err;
    }
    const user = [...started.conversation.messages].reverse().find((m) => m.role === 'user');
    res.on('close', () => {
      open = false;
    });
    startSse(res);
    const heartbeat = setInterval(() => {
      if (open) res.write(': keep-alive\n\n');
    }, HEARTBEAT_MS);
    try {
      send({ type: 'start', conversationId: cid, userMessageId: user?.id ?? '', agentId: agent.id });
      streaming = true;
      for (const text of pending.splice(0)) send({ type: 'delta', text });
      await started.done;
      const reply = [...conversation.messages].reverse().find((m) => m.role === 'assistant');
      const done: MessageStreamEvent = { type: 'done', messageId: reply?.id ?? '', status: reply?.status ?? 'error', text: reply?.text ?? '' };
      if (reply?.finishReason) done.finishReason = reply.finishReason;
      if (reply?.error) done.error = reply.error;
      send(done);
    } finally {
      clearInterval(heartbeat);
      if (open) res.end();
    }
  } finally {
    sub.dispose();
  }
}

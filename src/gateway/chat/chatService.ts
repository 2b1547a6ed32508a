import type { ResolvedAgent } from '../agents';
import type { GatewayConfig } from '../config';
import type { ProviderKeys } from '../keys';
import type { NetService } from '../net/net';
import type { Logger } from '../ports';
import { createProviderClient } from '../providers';
import { ProviderError } from '../providers/errors';
import type { ChatMessage } from '../providers/types';
import type { Conversation, ConversationStore, StoredMessage } from '../store/conversationStore';
import { Disposable, Emitter } from '../util/disposable';
import { ChatInputError } from './errors';
import { errorMessage } from '../errors';

export interface ChatErrorInfo {
  kind: string;
  message: string;
  retryable: boolean;
}

export type ChatEvent =
  | { type: 'messageAdded'; conversationId: string; message: StoredMessage }
  | { type: 'delta'; conversationId: string; messageId: string; text: string }
  | { type: 'messageUpdated'; conversationId: string; message: StoredMessage }
  | { type: 'messageRemoved'; conversationId: string; messageId: string }
  | { type: 'busy'; conversationId: string; busy: boolean };

export interface ChatServiceDeps {
  store: ConversationStore;
  net: NetService;
  keys: ProviderKeys;
  logger: Logger;
  config: () => GatewayConfig;
  agents: () => ResolvedAgent[];
  /** The API key for an agent (workspace keys, then local ones); default: the local key of its provider. */
  keyFor?: (agent: ResolvedAgent) => string | undefined;
}

export { ChatInputError };

/**
 * Runs chat turns: persists the user message, streams the agent's reply from its provider into the
 * conversation file and out as events, and handles stop and retry. One turn at a time per conversation.
 */
export class ChatService extends Disposable {
  private readonly running = new Map<string, AbortController>();
  private readonly onDidEventEmitter = this._register(new Emitter<ChatEvent>());
  readonly onDidEvent = this.onDidEventEmitter.event;

  constructor(private readonly deps: ChatServiceDeps) {
    super();
  }

  isBusy(conversationId: string): boolean {
    return this.running.has(conversationId);
  }

  busyConversations(): string[] {
    return [...this.running.keys()];
  }

  /**
   * Sends a user message; creates the conversation when `conversationId` is null (`onConversation`
   * learns its id before any of its events fire). Resolves once the turn has started.
   */
  async send(
    conversationId: string | null,
    agentId: string,
    text: string,
    onConversation?: (c: Conversation) => void,
  ): Promise<{ conversation: Conversation; done: Promise<void> }> {
    const agent = this.deps.agents().find((a) => a.id === agentId);
    if (!agent) throw new ChatInputError(`Unknown agent "${agentId}".`);
    if (!text.trim()) throw new ChatInputError('The message is empty.');
    const conversation = conversationId ? await this.deps.store.open(conversationId) : await this.deps.store.create({ agentId: agent.id });
    if (this.running.has(conversation.id)) throw new ChatInputError('A reply is still streaming. Stop it first.');
    if (conversation.messages.length > 0 && conversation.meta.agentId && conversation.meta.agentId !== agent.id) {
      throw new ChatInputError('This conversation is locked to its agent. Start a new conversation to use another one.');
    }
    if (!conversation.meta.agentId) await conversation.setAgent(agent.id);
    onConversation?.(conversation);
    const user = await conversation.appendUser(text);
    this.onDidEventEmitter.fire({ type: 'messageAdded', conversationId: conversation.id, message: user });
    return { conversation, done: this.runTurn(conversation, agent) };
  }

  /** Re-runs the reply after a failed, interrupted or stopped one (the failed reply is removed). */
  async retry(conversationId: string, messageId: string): Promise<{ done: Promise<void> }> {
    if (this.running.has(conversationId)) throw new ChatInputError('A reply is still streaming.');
    const conversation = await this.deps.store.open(conversationId);
    const last = conversation.messages[conversation.messages.length - 1];
    if (!last || last.id !== messageId || last.role !== 'assistant' || last.status === 'complete') {
      throw new ChatInputError('Only the last reply can be retried, and only when it did not complete.');
    }
    const agentId = conversation.meta.agentId ?? last.agentId;
    const agent = this.deps.agents().find((a) => a.id === agentId);
    if (!agent) throw new ChatInputError(`The agent "${agentId ?? '?'}" of this conversation is no longer defined.`);
    await conversation.removeMessage(messageId);
    this.onDidEventEmitter.fire({ type: 'messageRemoved', conversationId, messageId });
    return { done: this.runTurn(conversation, agent) };
  }

  stop(conversationId: string): boolean {
    const c = this.running.get(conversationId);
    if (!c) return false;
    c.abort();
    return true;
  }

  stopAll(): void {
    for (const c of this.running.values()) c.abort();
  }

  private history(conversation: Conversation): ChatMessage[] {
    return conversation.messages.filter((m) => m.role === 'user' || m.status === 'complete').map((m) => ({ role: m.role, content: m.text }));
  }

  private async runTurn(conversation: Conversation, agent: ResolvedAgent): Promise<void> {
    const abort = new AbortController();
    const cid = conversation.id;
    this.running.set(cid, abort);
    this.onDidEventEmitter.fire({ type: 'busy', conversationId: cid, busy: true });
    const history = this.history(conversation);
    const reply = await conversation.beginAssistant(agent.id);
    this.onDidEventEmitter.fire({ type: 'messageAdded', conversationId: cid, message: reply });
    const log = this.deps.logger.child(`chat`);
    const started = Date.now();
    try {
      const config = this.deps.config();
      const apiKey = this.deps.keyFor ? this.deps.keyFor(agent) : this.deps.keys.get(agent.provider);
      if (!agent.available) {
        throw new ProviderError({
          kind: 'auth',
          provider: agent.provider,
          retryable: false,
          message:
            agent.provider === 'openai-compatible'
              ? 'No base URL is set for the OpenAI-compatible provider. Set multiclaw.providers.openaiCompatible.baseUrl.'
              : (agent.unavailableReason ?? `No API key is set for ${agent.provider}. Run "MultiClaw: Set Provider API Key".`),
        });
      }
      const client = createProviderClient(
        agent.provider,
        { baseUrl: agent.baseUrl ?? config.providers[agent.provider].baseUrl, apiKey },
        { net: this.deps.net, logger: this.deps.logger },
      );
      let finishReason: string | undefined;
      let usage: StoredMessage['usage'];
      for await (const ev of client.stream(
        { model: agent.model, system: agent.systemPrompt, messages: history, maxTokens: agent.maxTokens },
        {
          signal: abort.signal,
          idleTimeoutMs: config.idleTimeoutMs,
          maxAttempts: config.maxAttempts,
          onRetry: (attempt, delayMs, err) => log.warn(`attempt ${attempt} failed (${err.message}); retrying in ${delayMs} ms`),
        },
      )) {
        if (ev.type === 'delta') {
          conversation.appendDelta(reply.id, ev.text);
          this.onDidEventEmitter.fire({ type: 'delta', conversationId: cid, messageId: reply.id, text: ev.text });
        } else if (ev.type === 'usage') {
          usage = { ...usage, ...ev.usage };
        } else if (ev.type === 'done') {
          finishReason = ev.finishReason;
          usage = { ...usage, ...ev.usage };
        }
      }
      await conversation.finishAssistant(reply.id, { status: 'complete', finishReason, usage });
      log.info(`reply from ${agent.provider}/${agent.model} complete in ${Date.now() - started} ms (${finishReason ?? 'no finish reason'})`);
    } catch (err) {
      const cancelled = abort.signal.aborted || (err instanceof ProviderError && err.kind === 'cancelled');
      if (cancelled) {
        await conversation.finishAssistant(reply.id, { status: 'cancelled', finishReason: 'cancelled' });
        log.info('reply stopped by the user');
      } else {
        const info = toErrorInfo(err);
        await conversation.finishAssistant(reply.id, { status: 'error', error: info });
        log.warn(`reply from ${agent.provider}/${agent.model} failed:`, err instanceof Error ? err : String(err));
      }
    } finally {
      this.running.delete(cid);
      const final = conversation.messages.find((m) => m.id === reply.id);
      if (final) this.onDidEventEmitter.fire({ type: 'messageUpdated', conversationId: cid, message: final });
      this.onDidEventEmitter.fire({ type: 'busy', conversationId: cid, busy: false });
    }
  }

  override dispose(): void {
    this.stopAll();
    super.dispose();
  }
}

export function toErrorInfo(err: unknown): ChatErrorInfo {
  if (err instanceof ProviderError) return { kind: err.kind, message: err.message, retryable: err.retryable };
  const message = errorMessage(err);
  return { kind: 'internal', message: `Unexpected error: ${message}`, retryable: true };
}

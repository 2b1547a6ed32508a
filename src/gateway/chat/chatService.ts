import type { ToolCallView, FileChange } from '../../protocol/agent';
import { AgentLoop, type AgentSettings } from '../agent/agentLoop';
import type { Guardrails } from '../agent/policy';
import type { AgentTools } from '../agent/toolRunner';
import type { ResolvedAgent } from '../agents';
import { DEFAULT_AGENT_CONFIG, type GatewayConfig } from '../config';
import type { ProviderKeys } from '../keys';
import type { NetService } from '../net/net';
import type { Logger } from '../ports';
import { createProviderClient } from '../providers';
import { ProviderError } from '../providers/errors';
import type { Conversation, ConversationStore, StoredMessage } from '../store/conversationStore';
import type { ContextItem } from '../store/model';
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
  | { type: 'busy'; conversationId: string; busy: boolean }
  /** A tool call's card changed (every status change; `awaiting_approval` carries `.approval`). */
  | { type: 'toolCall'; conversationId: string; call: ToolCallView }
  /** The files this conversation's agent changed, pending review. */
  | { type: 'changes'; conversationId: string; files: FileChange[] };

export interface SendOptions {
  /** `plan`: read-only tools (a task's plan); `act` (default): every tool the policy allows. */
  mode?: 'plan' | 'act';
  /** The workspace task this turn works for (approvals carry it). */
  taskId?: string;
  /** What the user attached to the message (stored with it; the model gets it before the text). */
  context?: readonly ContextItem[];
  /** `task`: the text is a task's prompt (shown as a task event, not as the user speaking). */
  origin?: 'task';
}

/** No guardrails (local mode): nothing blocked, nothing forced to ask, no budget. */
export const NO_GUARDRAILS: Guardrails = { blockedTools: [], approvalRequired: [] };

export interface ChatServiceDeps {
  store: ConversationStore;
  net: NetService;
  keys: ProviderKeys;
  logger: Logger;
  config: () => GatewayConfig;
  agents: () => ResolvedAgent[];
  /** The API key for an agent (workspace keys, then local ones); default: the local key of its provider. */
  keyFor?: (agent: ResolvedAgent) => string | undefined;
  /** The editor tools (absent: agents only talk). */
  tools?: AgentTools;
  /** Guardrails for an agent (workspace floor + the agent's own); default none. */
  guardrailsFor?: (agent: ResolvedAgent) => Guardrails;
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
  readonly loop: AgentLoop;

  constructor(private readonly deps: ChatServiceDeps) {
    super();
    this.loop = new AgentLoop({
      net: deps.net,
      logger: deps.logger,
      settings: (): AgentSettings => ({ ...DEFAULT_AGENT_CONFIG, ...deps.config().agent }),
      emit: (e) => this.onDidEventEmitter.fire(e),
      tools: deps.tools,
    });
  }

  /** Fires a chat event from outside a turn (the changes tracker). */
  fire(e: ChatEvent): void {
    this.onDidEventEmitter.fire(e);
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
    options: SendOptions = {},
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
    const user = await conversation.appendUser(text, options.context, options.origin);
    this.onDidEventEmitter.fire({ type: 'messageAdded', conversationId: conversation.id, message: user });
    return { conversation, done: this.runTurn(conversation, agent, options) };
  }

  /** Re-runs the reply after a failed, interrupted or stopped one (the failed reply is removed). */
  async retry(conversationId: string, messageId: string): Promise<{ done: Promise<void> }> {
    const conversation = await this.idle(conversationId);
    const last = conversation.messages[conversation.messages.length - 1];
    if (!last || last.id !== messageId || last.role !== 'assistant' || last.status === 'complete') {
      throw new ChatInputError('Only the last reply can be retried, and only when it did not complete.');
    }
    const agent = this.agentOf(conversation, last.agentId);
    await conversation.removeMessage(messageId);
    this.onDidEventEmitter.fire({ type: 'messageRemoved', conversationId, messageId });
    return { done: this.runTurn(conversation, agent) };
  }

  /**
   * Regenerates the last reply (`messageId`: its last message): forks after the user message it
   * answers, so the old reply stays as the other branch, and runs the turn again. `onForked` runs
   * between the fork and the turn (the chat view shows the new branch).
   */
  async regenerate(conversationId: string, messageId: string, onForked?: (c: Conversation) => Promise<void>): Promise<{ done: Promise<void> }> {
    const conversation = await this.idle(conversationId);
    const messages = conversation.messages;
    const last = messages.at(-1);
    if (!last || last.id !== messageId || last.role !== 'assistant') throw new ChatInputError('Only the last reply can be regenerated.');
    const user = messages.findLast((m) => m.role === 'user');
    if (!user) throw new ChatInputError('This reply answers no message of yours, so there is nothing to regenerate.');
    const agent = this.agentOf(conversation, last.agentId);
    await conversation.fork(user.id);
    await onForked?.(conversation);
    return { done: this.runTurn(conversation, agent) };
  }

  /**
   * Edits a sent message: forks before it (the old message and what followed stay as the other
   * branch), sends `text` in its place with what the old one had attached, and runs the turn.
   */
  async edit(
    conversationId: string,
    messageId: string,
    text: string,
    onForked?: (c: Conversation) => Promise<void>,
  ): Promise<{ message: StoredMessage; done: Promise<void> }> {
    if (!text.trim()) throw new ChatInputError('The message is empty.');
    const conversation = await this.idle(conversationId);
    const messages = conversation.messages;
    const i = messages.findIndex((m) => m.id === messageId);
    const old = messages[i];
    if (!old || old.role !== 'user') throw new ChatInputError('Only a message you sent in the shown branch can be edited.');
    const agent = this.agentOf(conversation, messages.find((m) => m.role === 'assistant')?.agentId);
    const message = await conversation.fork(messages[i - 1]?.id ?? null, { text, context: old.context });
    if (!message) throw new Error('fork returned no message');
    this.onDidEventEmitter.fire({ type: 'messageAdded', conversationId, message });
    await onForked?.(conversation);
    return { message, done: this.runTurn(conversation, agent) };
  }

  /** Shows the previous (-1) or next (1) version of a message that was edited or regenerated. */
  async switchBranch(conversationId: string, messageId: string, offset: -1 | 1): Promise<void> {
    const conversation = await this.idle(conversationId);
    const target = conversation.siblingOf(messageId, offset);
    if (!target) throw new ChatInputError(`There is no ${offset < 0 ? 'earlier' : 'later'} version of that message.`);
    await conversation.showBranch(target);
  }

  /** The conversation, when no reply is running in it. */
  private async idle(conversationId: string): Promise<Conversation> {
    if (this.running.has(conversationId)) throw new ChatInputError('A reply is still streaming. Stop it first.');
    return this.deps.store.open(conversationId);
  }

  private agentOf(conversation: Conversation, fallback: string | undefined): ResolvedAgent {
    const agentId = conversation.meta.agentId ?? fallback;
    const agent = this.deps.agents().find((a) => a.id === agentId);
    if (!agent) throw new ChatInputError(`The agent "${agentId ?? '?'}" of this conversation is no longer defined.`);
    return agent;
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

  private async runTurn(conversation: Conversation, agent: ResolvedAgent, options: SendOptions = {}): Promise<void> {
    const abort = new AbortController();
    const cid = conversation.id;
    this.running.set(cid, abort);
    this.onDidEventEmitter.fire({ type: 'busy', conversationId: cid, busy: true });
    const log = this.deps.logger.child(`chat`);
    const started = Date.now();
    try {
      const config = this.deps.config();
      const result = await this.loop.run({
        conversation,
        agent,
        mode: options.mode ?? 'act',
        taskId: options.taskId,
        signal: abort.signal,
        guardrails: this.deps.guardrailsFor?.(agent) ?? NO_GUARDRAILS,
        streamOptions: {
          idleTimeoutMs: config.idleTimeoutMs,
          maxAttempts: config.maxAttempts,
          onRetry: (attempt, delayMs, err) => log.warn(`attempt ${attempt} failed (${err.message}); retrying in ${delayMs} ms`),
        },
        createClient: () => {
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
          const apiKey = this.deps.keyFor ? this.deps.keyFor(agent) : this.deps.keys.get(agent.provider);
          return createProviderClient(
            agent.provider,
            { baseUrl: agent.baseUrl ?? config.providers[agent.provider].baseUrl, apiKey },
            { net: this.deps.net, logger: this.deps.logger },
          );
        },
      });
      log.info(
        `turn with ${agent.provider}/${agent.model} ended (${result.end}) in ${Date.now() - started} ms: ${result.steps} request(s), ${result.tokens} tokens`,
      );
    } catch (err) {
      log.error('the turn failed:', err instanceof Error ? err : String(err));
    } finally {
      this.running.delete(cid);
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

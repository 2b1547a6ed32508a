import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import type { ChatEvent } from '../../gateway/chat/chatService';
import { ChatInputError, isChatInputError } from '../../gateway/chat/errors';
import { errorMessage } from '../../gateway/errors';
import type { Gateway } from '../../gateway/gateway';
import type { Logger } from '../../gateway/ports';
import { Disposable, Emitter } from '../../gateway/util/disposable';
import type {
  ChatCommandMethod,
  ChatCommandParams,
  ChatNotificationMethod,
  ChatNotificationParams,
  ChatRequestMethod,
  ChatRequestParams,
  ChatRequestResult,
  ChatState,
  ConversationInfo,
} from '../../protocol/chatView';
import type * as ChatProtocol from '../../protocol/chatView';
import { CMD, CTX, setContext, VIEW } from '../commandIds';
import { agentCommandHandlers, viewCall, type AgentParts } from './agentHandlers';
import { branchCommandHandlers } from './branchHandlers';
import { hostCommandHandlers, sendRefusal } from './hostActions';
import { toViewMessage } from './viewMessage';
import { Pricing } from './usageView';
import { EditorContext, type ActiveRef } from './editorContext';
import { sendContext, type SlashOptions } from './slashContext';

/** The zod schemas load with the first webview message, keeping zod off the activation path. */
let protocol: Promise<typeof ChatProtocol> | undefined;
const loadProtocol = (): Promise<typeof ChatProtocol> => (protocol ??= import('../../protocol/chatView'));
import { renderChatHtml } from './chatHtml';

const PAGE = 100;

type RequestHandlers = { [M in ChatRequestMethod]: (params: ChatRequestParams<M>) => Promise<ChatRequestResult<M>> };
type CommandHandlers = { [M in ChatCommandMethod]: (params: ChatCommandParams<M>) => Promise<void> | void };

/**
 * Host side of the Chat webview view: zod-checked messages in, typed notifications out, a ready
 * handshake (posts are queued until the webview asks for its state), and only deltas after that.
 */
export class ChatViewProvider extends Disposable implements vscode.WebviewViewProvider {
  static readonly viewId = VIEW.chat;
  private view: vscode.WebviewView | undefined;
  private ready = false;
  private queue: Array<{ method: string; params: unknown }> = [];
  private currentId: string | null = null;
  private selectedAgentId: string | null = null;
  private readonly pendingDeltas = new Map<string, string>();
  private flushScheduled = false;
  private readonly log: Logger;
  private agent: AgentParts | undefined;
  /** The prices the shown costs used: a change re-sends the transcript's costs (a reset). */
  private pricesShown = '';
  private readonly context: EditorContext;
  private readonly onDidBecomeReadyEmitter = this._register(new Emitter<void>());
  /** Fires when the webview has loaded and completed the ready handshake. */
  readonly onDidBecomeReady = this.onDidBecomeReadyEmitter.event;
  private readonly onDidShowConversationEmitter = this._register(new Emitter<string | null>());
  /** `show()` switched the view to a conversation (the workspace commands follow task conversations). */
  readonly onDidShowConversation = this.onDidShowConversationEmitter.event;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly gateway: Gateway,
    logger: Logger,
  ) {
    super();
    this.log = logger.child('chat-view');
    this.context = this._register(new EditorContext(gateway, this.log));
    this._register(this.context.onDidChange(() => void this.sendContext()));
    this._register(this.onDidBecomeReady(() => void this.sendContext()));
    this._register(gateway.onChatEvent((e) => this.onChatEvent(e)));
    this._register(
      gateway.onDidChangeState(({ state }) => {
        this.notify('chat/gateway', { state });
        if (state === 'running' || state === 'stopped') void this.sendReset();
      }),
    );
    this._register(
      gateway.onDidChangeAgents(() => {
        this.notify('chat/agents', { agents: this.agentInfos(), selectedAgentId: this.pickAgent() });
        // Settings or workspace guardrails changed: new prices re-cost the transcript, a new budget moves the bar.
        if (JSON.stringify(gateway.config.modelPrices ?? {}) !== this.pricesShown) void this.sendReset();
        else if (this.currentId) void this.sendUsage(this.currentId);
      }),
    );
  }

  get isReady(): boolean {
    return this.ready;
  }

  /** Whether the view is on screen (approvals are asked on the card then, else in a notification). */
  get isVisible(): boolean {
    return this.view?.visible ?? false;
  }

  /** The agent's approvals and review (the composition root attaches them once both exist). */
  attachAgent(parts: AgentParts): void {
    this.agent = parts;
  }

  get conversationId(): string | null {
    return this.currentId;
  }

  resolveWebviewView(view: vscode.WebviewView): void {
    this.view = view;
    this.ready = false;
    const webviewRoot = vscode.Uri.joinPath(this.extensionUri, 'dist', 'webviews');
    view.webview.options = { enableScripts: true, localResourceRoots: [webviewRoot, vscode.Uri.joinPath(this.extensionUri, 'media')] };
    // Listener first, then HTML: nothing the webview sends can be missed.
    const sub = view.webview.onDidReceiveMessage((raw: unknown) => void this.onMessage(raw));
    view.onDidDispose(() => {
      sub.dispose();
      if (this.view === view) {
        this.view = undefined;
        this.ready = false;
      }
    });
    const uri = (...p: string[]): string => view.webview.asWebviewUri(vscode.Uri.joinPath(webviewRoot, ...p)).toString();
    view.webview.html = renderChatHtml({
      cspSource: view.webview.cspSource,
      nonce: randomBytes(16).toString('base64'),
      scriptUri: uri('chat.js'),
      styleUri: uri('chat.css'),
      codiconsUri: uri('codicons', 'codicon.css'),
    });
  }

  /** Shows a conversation (or a new, empty one for null) in the view. */
  async show(conversationId: string | null, focus = true): Promise<void> {
    this.currentId = conversationId;
    this.onDidShowConversationEmitter.fire(conversationId);
    if (focus) await vscode.commands.executeCommand(`${VIEW.chat}.focus`);
    await this.sendReset();
    setContext(CTX.chatBusy, this.isCurrentBusy());
  }

  focusInput(): void {
    this.notify('chat/focusInput', {});
  }

  stop(): boolean {
    return this.currentId !== null && this.gateway.stopReply(this.currentId);
  }

  private isCurrentBusy(): boolean {
    return this.currentId !== null && this.gateway.isBusy(this.currentId);
  }

  private agentInfos(): ChatState['agents'] {
    return this.gateway.agents().map((a) => ({ id: a.id, name: a.name, provider: a.provider, model: a.model, available: a.available, source: a.source }));
  }

  private pickAgent(): string | null {
    const agents = this.gateway.agents();
    if (this.selectedAgentId && agents.some((a) => a.id === this.selectedAgentId)) return this.selectedAgentId;
    this.selectedAgentId = agents.find((a) => a.available)?.id ?? agents[0]?.id ?? null;
    return this.selectedAgentId;
  }

  async buildState(): Promise<ChatState> {
    const base: ChatState = {
      agents: this.agentInfos(),
      selectedAgentId: this.pickAgent(),
      conversation: { id: null, title: 'New conversation', agentId: null, locked: false, messageCount: 0 },
      messages: [],
      firstIndex: 0,
      busy: false,
      gatewayState: this.gateway.state,
    };
    if (!this.currentId) return base;
    try {
      const c = await this.gateway.conversation(this.currentId);
      if (!c) return base;
      const all = c.messages;
      const first = Math.max(0, all.length - PAGE);
      if (c.meta.agentId) this.selectedAgentId = c.meta.agentId;
      const pricing = this.pricing();
      return {
        ...base,
        selectedAgentId: c.meta.agentId ?? base.selectedAgentId,
        conversation: { ...this.conversationInfo(c.id, c.meta.title, c.meta.agentId, all.length), usage: pricing.conversation(all, c.meta.agentId) },
        messages: all.slice(first).map((m) => toViewMessage(m, pricing, (id) => c.branchOf(id))),
        firstIndex: first,
        busy: this.gateway.isBusy(c.id),
        changes: this.gateway.pendingChanges(c.id),
      };
    } catch (err) {
      this.log.warn(`could not open conversation ${this.currentId}:`, err instanceof Error ? err : String(err));
      this.currentId = null;
      return base;
    }
  }

  private conversationInfo(id: string, title: string, agentId: string | null, count: number): ConversationInfo {
    return { id, title, agentId, locked: count > 0, messageCount: count };
  }

  private pricing(): Pricing {
    this.pricesShown = JSON.stringify(this.gateway.config.modelPrices ?? {});
    return new Pricing(this.gateway);
  }

  /** The conversation's totals after a reply finished (never the transcript). */
  private async sendUsage(conversationId: string): Promise<void> {
    try {
      const c = await this.gateway.conversation(conversationId);
      if (c && conversationId === this.currentId) this.notify('chat/usage', { conversationId, usage: this.pricing().conversation(c.messages, c.meta.agentId) });
    } catch (err) {
      this.log.warn(`could not total the usage of ${conversationId}:`, err instanceof Error ? err : String(err));
    }
  }

  /** The active editor's chip and the rules, after the handshake and on every change. */
  private async sendContext(): Promise<void> {
    if (!this.view || !this.ready) return;
    try {
      this.notify('chat/context', await this.context.snapshot());
    } catch (err) {
      this.log.warn('could not read the chat context:', err instanceof Error ? err : String(err));
    }
  }

  private async sendReset(): Promise<void> {
    if (!this.view || !this.ready) return; // not shown yet: the ready handshake will fetch the state
    this.notify('chat/reset', await this.buildState());
  }

  private notify<M extends ChatNotificationMethod>(method: M, params: ChatNotificationParams<M>): void {
    if (!this.view) return;
    if (!this.ready) {
      // Before the handshake, the state in the ready reply supersedes a reset.
      if (method !== 'chat/reset') this.queue.push({ method, params });
      return;
    }
    void this.view.webview.postMessage({ kind: 'notification', method, params });
  }

  private onChatEvent(e: ChatEvent): void {
    if (e.conversationId !== this.currentId) return;
    switch (e.type) {
      case 'delta': {
        this.pendingDeltas.set(e.messageId, (this.pendingDeltas.get(e.messageId) ?? '') + e.text);
        if (!this.flushScheduled) {
          this.flushScheduled = true;
          setImmediate(() => this.flushDeltas()); // coalesce deltas that arrived in the same I/O turn
        }
        return;
      }
      case 'messageAdded':
        this.flushDeltas();
        this.notify('chat/messageAdded', toViewMessage(e.message, this.pricing()));
        return;
      case 'messageUpdated': {
        this.flushDeltas();
        const m = e.message;
        const usage = this.pricing().message(m);
        this.notify('chat/messageUpdated', { messageId: m.id, status: m.status, finishReason: m.finishReason, usage, error: m.error });
        if (m.status !== 'streaming') void this.sendUsage(e.conversationId);
        return;
      }
      case 'messageRemoved':
        this.notify('chat/messageRemoved', { messageId: e.messageId });
        return;
      case 'busy':
        this.notify('chat/busy', { busy: e.busy });
        setContext(CTX.chatBusy, e.busy);
        return;
      case 'toolCall':
        this.flushDeltas();
        this.notify('chat/toolCall', { call: viewCall(e.call) });
        return;
      case 'changes':
        this.notify('chat/changes', { files: e.files });
        return;
    }
  }

  private flushDeltas(): void {
    this.flushScheduled = false;
    for (const [messageId, text] of this.pendingDeltas) this.notify('chat/delta', { messageId, text });
    this.pendingDeltas.clear();
  }

  private respond(id: number, result?: unknown, error?: string): void {
    void this.view?.webview.postMessage({ kind: 'response', id, result, error });
  }

  /** One handler per request method; the mapped type makes the compiler check none is missing. */
  private readonly requests: RequestHandlers = {
    'chat/ready': async () => {
      const state = await this.buildState();
      this.ready = true;
      this.queue = []; // the state supersedes anything queued before the handshake
      return state;
    },
    'chat/loadOlder': async (p) => {
      const c = this.currentId ? await this.gateway.conversation(this.currentId) : undefined;
      if (!c) return { messages: [], firstIndex: 0 };
      const end = Math.min(p.beforeIndex, c.messages.length);
      const start = Math.max(0, end - p.limit);
      const pricing = this.pricing();
      return { messages: c.messages.slice(start, end).map((m) => toViewMessage(m, pricing, (id) => c.branchOf(id))), firstIndex: start };
    },
  };

  /** One handler per command method (checked for completeness like the webview's notification handlers). */
  private readonly commands: CommandHandlers = {
    'chat/send': async (p) => void (await this.send(p.text, p.agentId, p.attachActive, p)),
    'chat/setRuleEnabled': (p) => this.context.setRuleEnabled(p.id, p.enabled),
    'chat/openRule': (p) => this.context.openRule(p.id),
    'chat/stop': () => void this.stop(),
    'chat/retry': async (p) => {
      if (this.currentId) await this.gateway.chat.retry(this.currentId, p.messageId);
    },
    'chat/newConversation': () => this.show(null, false),
    'chat/selectAgent': (p) => {
      this.selectedAgentId = p.agentId;
    },
    ...hostCommandHandlers(),
    'chat/linkMeta': (p) => {
      // Fetched by the host through NetService (settings, cache, timeouts); the webview only gets text and data: URIs.
      const links = this.gateway.linkPreviews();
      if (!links) return;
      for (const url of p.urls) {
        void links.lookup(url).then((m) => {
          if (m.title || m.favicon) this.notify('chat/linkMeta', m);
        });
      }
    },
    ...agentCommandHandlers(
      () => this.agent,
      () => this.currentId,
    ),
    ...branchCommandHandlers({ gateway: () => this.gateway, conversationId: () => this.currentId, reset: () => this.sendReset() }),
  };

  private async onMessage(raw: unknown): Promise<void> {
    const { chatCommandSchemas, chatRequestSchemas, webviewToHostSchema, MAX_CHAT_MESSAGE_CHARS } = await loadProtocol();
    const env = webviewToHostSchema.safeParse(raw);
    if (!env.success) {
      this.log.warn('ignored a malformed message from the chat webview');
      return;
    }
    const msg = env.data;
    if (msg.kind === 'request') {
      if (!Object.hasOwn(chatRequestSchemas, msg.method)) return this.respond(msg.id, undefined, `unknown request ${msg.method.slice(0, 100)}`);
      const method = msg.method as ChatRequestMethod;
      try {
        const params = chatRequestSchemas[method].parse(method === 'chat/ready' ? (msg.params ?? {}) : msg.params);
        // The schema for `method` validated params, so the handler for the same method accepts them.
        const result = await (this.requests[method] as (p: unknown) => Promise<unknown>)(params);
        this.respond(msg.id, result);
        if (method === 'chat/ready') this.onDidBecomeReadyEmitter.fire();
      } catch (err) {
        this.respond(msg.id, undefined, errorMessage(err));
      }
      return;
    }
    if (!Object.hasOwn(chatCommandSchemas, msg.method)) {
      this.log.warn(`ignored an unknown command from the chat webview: ${msg.method.slice(0, 100)}`);
      return;
    }
    const method = msg.method as ChatCommandMethod;
    const parsed = chatCommandSchemas[method].safeParse(msg.params);
    if (!parsed.success) {
      this.log.warn(`ignored an invalid ${method} from the chat webview: ${parsed.error.issues[0]?.message ?? ''}`);
      if (method === 'chat/send') this.notify('chat/sendRefused', { reason: sendRefusal(msg.params, MAX_CHAT_MESSAGE_CHARS) });
      return;
    }
    try {
      await (this.commands[method] as (p: unknown) => Promise<void> | void)(parsed.data);
    } catch (err) {
      if (method === 'chat/send') this.notify('chat/sendRefused', { reason: `Not sent: ${errorMessage(err)}`.slice(0, 2000) });
      if (isChatInputError(err)) {
        void vscode.window.showWarningMessage(err.message);
      } else {
        this.log.error(`chat command ${method} failed:`, err instanceof Error ? err : String(err));
        void vscode.window.showErrorMessage(`MultiClaw: ${errorMessage(err)}`, 'Open Logs').then((b) => b && vscode.commands.executeCommand(CMD.openLogs));
      }
    }
  }

  /** What the next message takes along (the active editor's chip, the rules): tests and the e2e read it. */
  contextSnapshot(): ReturnType<EditorContext['snapshot']> {
    return this.context.snapshot();
  }

  /** Sends a message in the current conversation (creating it on the first message). */
  async send(text: string, agentId: string, attachActive?: ActiveRef, o: SlashOptions = {}): Promise<{ conversationId: string; done: Promise<void> }> {
    if (!this.gateway.isRunning) throw new ChatInputError('The MultiClaw gateway is stopped. Start it to chat.');
    const context = sendContext(this.context, attachActive, o.problems);
    const onConversation = (c: { id: string; meta: { title: string; agentId: string | null }; messages: readonly unknown[] }): void => {
      // Adopt a new conversation before its first event (the user's message) fires.
      this.currentId = c.id;
      this.notify('chat/conversation', this.conversationInfo(c.id, c.meta.title, c.meta.agentId, c.messages.length));
    };
    const options = { ...(context ? { context } : {}), ...(o.mode ? { mode: o.mode } : {}) };
    const { conversation, done } = await this.gateway.chat.send(this.currentId, agentId, text, onConversation, options);
    this.notify('chat/conversation', this.conversationInfo(conversation.id, conversation.meta.title, conversation.meta.agentId, conversation.messages.length));
    this.selectedAgentId = agentId;
    return { conversationId: conversation.id, done };
  }
}

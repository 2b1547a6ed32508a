import fs from 'node:fs/promises';
import path from 'node:path';
import { AgentGatewayBase } from './agent/agentHost';
import type { AgentRuntime } from './agent/agentRuntime';
import type { WorkspacePort } from './agent/workspacePort';
import type { Guardrails } from './agent/policy';
import { resolveAgents, type ResolvedAgent } from './agents';
import type { ChatEvent, ChatService } from './chat/chatService';
import { defaultGatewayConfig, type GatewayConfig } from './config';
import { errorMessage, GatewayNotRunningError } from './errors';
import { ProviderKeys } from './keys';
import type { LocalApiServer } from './localApi/server';
import type { LocalApiInfo, LocalApiOptions } from './localApi/types';
import type { Redactor } from './log/redact';
import type { McpServerConfig } from './mcp/mcpConfig';
import { ConnectionLedger } from './net/ledger';
import type { LinkPreviews } from './net/linkPreviews';
import type { NetOptions, NetService } from './net/net';
import type { Logger, SecretStore } from './ports';
import type { InstanceMetrics } from '../protocol/workspace/models';
import type { Conversation, ConversationChange, ConversationStore, ConversationSummary } from './store/conversationStore';
import type { SearchHit } from './store/search';
import type { LocalTask, TaskChange, TaskService } from './tasks/taskService';
import { DisposableStore, Emitter, type Event } from './util/disposable';
import { LinkStatusHolder } from './workspace/linkState';
import type { LinkTuning, WorkspaceLink } from './workspace/workspaceLink';
import type { Me, WorkspaceTask, WorkspaceTaskChange } from './workspace/workspaceTasks';

export { GatewayNotRunningError, isGatewayNotRunning } from './errors';

export type GatewayState = 'stopped' | 'starting' | 'running' | 'error';

export interface GatewayStateEvent {
  state: GatewayState;
  /** Set in the `error` state: what went wrong, for the status bar and logs. */
  error?: string;
}

export interface GatewayDeps {
  logger: Logger;
  secrets: SecretStore;
  redactor: Redactor;
  /** Where conversations and other gateway files live (the extension's global storage). */
  storageDir: string;
  config?: GatewayConfig;
  /** The local API listener's host-given options (token, host kind, version; tests: clock, limits). */
  localApi?: LocalApiOptions;
  /** Network hooks for tests (a DNS lookup, a trust base, the environment); settings come from config.network. */
  net?: Pick<NetOptions, 'lookup' | 'trustBase' | 'env' | 'connectTimeoutMs'>;
  /** The client version sent to the workspace (default: the local API's version, else 0.0.0). */
  version?: string;
  /** Workspace link timings for tests (backoff, token renewal, RPC timeout…). */
  linkTuning?: LinkTuning;
  /** A cloud desktop (`multiclaw desktop`): instance credentials only, and metrics in the heartbeats. */
  desktop?: { metrics: () => InstanceMetrics | undefined };
  /** The editor the agents act in (VS Code's, or a NodeWorkspace for the headless CLI); absent: agents get no tools. */
  workspace?: WorkspacePort;
  /** Asked before an MCP server's first start (absent: no server is ever started). */
  mcpConsent?: (server: McpServerConfig) => Promise<boolean>;
  /** The user's skills folder (`<folder>/<name>/SKILL.md`). */
  skillsFolder?: string;
}

/** The parts that exist only while the gateway runs. */
interface Running {
  net: NetService;
  store: ConversationStore;
  chat: ChatService;
  tasks: TaskService;
  localApi?: LocalApiServer;
  /** The workspace link (absent only when it failed to load). */
  link?: WorkspaceLink;
  agent?: AgentRuntime;
  /** The guardrails a turn of this agent runs under (the workspace floor, tightened by the agent's own). */
  guardrailsFor: (agent: ResolvedAgent) => Guardrails;
  /** Forwards the running services' events to the Gateway's own emitters. */
  forwards: DisposableStore;
}

/**
 * The in-process agent gateway: provider keys, agents, conversations and the chat runtime.
 * Plain Node (no `vscode`): the extension host, the headless CLI and tests all drive this object.
 * Constructing it is cheap; the heavy runtime modules load on `start()`.
 *
 * Its events outlive restarts: a view subscribes once (chat events, conversations, local and
 * workspace tasks), and the read helpers answer empty while the gateway is stopped.
 */
export class Gateway extends AgentGatewayBase {
  private _state: GatewayState = 'stopped';
  private _error: string | undefined;
  private _config: GatewayConfig;
  private running: Running | undefined;
  private transition: Promise<void> = Promise.resolve();
  readonly keys: ProviderKeys;
  /** Every outbound connection, kept across restarts (Show Network Activity). */
  readonly ledger = this._register(new ConnectionLedger());
  /** The workspace link's state for the UI (kept across restarts; cheap: no runtime modules). */
  readonly linkStatus = this._register(new LinkStatusHolder());
  private readonly log: Logger;

  private readonly onDidChangeStateEmitter = this._register(new Emitter<GatewayStateEvent>());
  readonly onDidChangeState = this.onDidChangeStateEmitter.event;
  private readonly onDidChangeAgentsEmitter = this._register(new Emitter<void>());
  readonly onDidChangeAgents = this.onDidChangeAgentsEmitter.event;
  private readonly onChatEventEmitter = this._register(new Emitter<ChatEvent>());
  /** Every chat event (deltas, messages, busy) of whichever ChatService runs. */
  readonly onChatEvent: Event<ChatEvent> = this.onChatEventEmitter.event;
  private readonly onDidChangeConversationsEmitter = this._register(new Emitter<ConversationChange>());
  /** A conversation was created, updated or deleted. */
  readonly onDidChangeConversations: Event<ConversationChange> = this.onDidChangeConversationsEmitter.event;
  private readonly onDidChangeLocalTasksEmitter = this._register(new Emitter<TaskChange>());
  readonly onDidChangeLocalTasks: Event<TaskChange> = this.onDidChangeLocalTasksEmitter.event;
  private readonly onDidChangeWorkspaceTasksEmitter = this._register(new Emitter<WorkspaceTaskChange>());
  /** A workspace task changed (the link's task list, across sign-ins and restarts). */
  readonly onDidChangeWorkspaceTasks: Event<WorkspaceTaskChange> = this.onDidChangeWorkspaceTasksEmitter.event;

  constructor(private readonly deps: GatewayDeps) {
    super();
    this.log = deps.logger.child('gateway');
    this._config = deps.config ?? defaultGatewayConfig();
    this.keys = this._register(new ProviderKeys(deps.secrets, deps.redactor, deps.logger.child('keys')));
    this._register(this.keys.onDidChange(() => this.onDidChangeAgentsEmitter.fire()));
  }

  get state(): GatewayState {
    return this._state;
  }

  get lastError(): string | undefined {
    return this._error;
  }

  get config(): GatewayConfig {
    return this._config;
  }

  setConfig(config: GatewayConfig): void {
    const networkChanged = JSON.stringify(config.network) !== JSON.stringify(this._config.network);
    const urlChanged = config.workspace?.url !== this._config.workspace?.url;
    const mcpChanged = JSON.stringify(config.mcp) !== JSON.stringify(this._config.mcp);
    this._config = config;
    if (networkChanged) this.running?.net.configure(config.network);
    if (urlChanged) this.running?.link?.publish();
    if (mcpChanged)
      void this.running?.agent?.addons
        ?.configureMcp(config.mcp)
        .catch((err: unknown) => this.log.warn('MCP settings:', err instanceof Error ? err : String(err)));
    this.onDidChangeAgentsEmitter.fire();
  }

  /** Local agents (settings and provider defaults), then the workspace's agents when signed in. */
  agents(): ResolvedAgent[] {
    const link = this.running?.link;
    const local = resolveAgents(this._config, (p) => this.keys.has(p) || !!link?.config.hasKey(p));
    return link ? [...local, ...link.agents()] : local;
  }

  /** The key an agent's requests carry: a workspace agent prefers the workspace key, a local one the local key. */
  keyFor(agent: ResolvedAgent): string | undefined {
    const ws = this.running?.link?.config;
    if (agent.source === 'workspace') return agent.baseUrl ? ws?.key(agent.provider) : (ws?.key(agent.provider) ?? this.keys.get(agent.provider));
    return this.keys.get(agent.provider) ?? ws?.key(agent.provider);
  }

  // ── The running services: these throw GatewayNotRunningError while stopped (callers offer Start Gateway).

  get chat(): ChatService {
    return this.require().chat;
  }

  get store(): ConversationStore {
    return this.require().store;
  }

  get net(): NetService {
    return this.require().net;
  }

  get tasks(): TaskService {
    return this.require().tasks;
  }

  /** The workspace link (throws when the gateway is not running). */
  get link(): WorkspaceLink {
    const c = this.require().link;
    if (!c) throw new Error('The workspace link did not load; see the MultiClaw log.');
    return c;
  }

  /** The local API listener while it runs (undefined when off or when it could not start). */
  get localApi(): LocalApiInfo | undefined {
    return this.running?.localApi;
  }

  get isRunning(): boolean {
    return this._state === 'running' && !!this.running;
  }

  // ── Read helpers: safe in any state, empty while stopped.

  /** Conversations on this machine, most recent first. */
  async conversations(): Promise<ConversationSummary[]> {
    const r = this.current();
    return r ? r.store.list() : [];
  }

  /** Full-text search over the conversations (titles and every message), best first; [] while stopped. */
  async searchConversations(query: string, options: { limit?: number; signal?: AbortSignal } = {}): Promise<SearchHit[]> {
    const r = this.current();
    if (!r) return [];
    await r.store.flush(); // buffered reply text is searchable too
    const { searchConversations } = await import('./store/search');
    return searchConversations(await r.store.list(), (id) => r.store.filePath(id), query, options);
  }

  /** A conversation by id; undefined while stopped. Throws for an unknown or unreadable one. */
  async conversation(id: string): Promise<Conversation | undefined> {
    return this.current()?.store.open(id);
  }

  /** The token budget (guardrail `maxTokenBudget`) each conversation of this agent runs under; undefined = none, or stopped. */
  tokenBudget(agentId: string): number | undefined {
    const r = this.current();
    const agent = r && this.agents().find((a) => a.id === agentId);
    return agent ? r.guardrailsFor(agent).maxTokenBudget : undefined;
  }

  /** Link titles and favicons for the chat (undefined while stopped). */
  linkPreviews(): LinkPreviews | undefined {
    return this.current()?.net.links;
  }

  /** Ids of the conversations whose reply is streaming. */
  busyConversations(): string[] {
    return this.current()?.chat.busyConversations() ?? [];
  }

  isBusy(conversationId: string): boolean {
    return this.current()?.chat.isBusy(conversationId) ?? false;
  }

  /** Stops a streaming reply; false when none streams (or the gateway is stopped). */
  stopReply(conversationId: string): boolean {
    return this.current()?.chat.stop(conversationId) ?? false;
  }

  localTasks(): LocalTask[] {
    return this.current()?.tasks.list() ?? [];
  }

  /** Local tasks queued and running. */
  taskCounts(): { queued: number; running: number } {
    return this.current()?.tasks.counts() ?? { queued: 0, running: 0 };
  }

  /** The workspace tasks this machine shows (empty when stopped or signed out). */
  workspaceTasks(): WorkspaceTask[] {
    return this.current()?.link?.workspaceTasks?.list() ?? [];
  }

  /** Who "me" is in the workspace (undefined when stopped or signed out). */
  workspaceIdentity(): Me | undefined {
    return this.current()?.link?.workspaceTasks?.identity;
  }

  /** The link while the gateway runs and it loaded; undefined otherwise. */
  linkIfRunning(): WorkspaceLink | undefined {
    return this.current()?.link;
  }

  private current(): Running | undefined {
    return this._state === 'running' ? this.running : undefined;
  }

  private require(): Running {
    const r = this.current();
    if (!r) throw new GatewayNotRunningError();
    return r;
  }

  private setState(state: GatewayState, error?: string): void {
    this._state = state;
    this._error = error;
    this.onDidChangeStateEmitter.fire({ state, error });
  }

  /** Start, stop and restart are serialised: a second call waits for the first to finish. */
  start(): Promise<void> {
    return this.enqueue(() => this.doStart());
  }

  stop(): Promise<void> {
    return this.enqueue(() => this.doStop());
  }

  restart(): Promise<void> {
    return this.enqueue(async () => {
      await this.doStop();
      await this.doStart();
    });
  }

  /** Starts the gateway unless it runs (commands that need the runtime call this first). */
  async ensureRunning(): Promise<void> {
    if (!this.isRunning) await this.start();
  }

  private enqueue(fn: () => Promise<void>): Promise<void> {
    const next = this.transition.then(fn, fn);
    this.transition = next.catch(() => undefined);
    return next;
  }

  private async doStart(): Promise<void> {
    if (this._state === 'running') return;
    this.setState('starting');
    const started = Date.now();
    try {
      const conversationsDir = path.join(this.deps.storageDir, 'conversations');
      await fs.mkdir(conversationsDir, { recursive: true, mode: 0o700 });
      // The runtime (undici, zod schemas, providers, store) loads here, not at activation.
      const [{ NetService }, { ConversationStore }, { ChatService }, { TaskService }, { AgentRuntime, mergeGuardrails }] = await Promise.all([
        import('./net/net'),
        import('./store/conversationStore'),
        import('./chat/chatService'),
        import('./tasks/taskService'),
        import('./agent/agentRuntime'),
      ]);
      await this.keys.load();
      const net = new NetService({ ...this.deps.net, config: this._config.network, logger: this.deps.logger, ledger: this.ledger });
      const store = new ConversationStore(conversationsDir, this.deps.logger.child('store'));
      const port = this.deps.workspace;
      const addons = {
        net,
        secrets: this.deps.secrets,
        redactor: this.deps.redactor,
        mcp: this._config.mcp,
        askConsent: this.deps.mcpConsent,
        skillsFolder: this.deps.skillsFolder,
      };
      const agent = port ? await AgentRuntime.open({ port, storageDir: this.deps.storageDir, store, logger: this.deps.logger, addons }) : undefined;
      const guardrailsFor = (a: ResolvedAgent): Guardrails => {
        const ws = this.running?.link?.config;
        return mergeGuardrails(ws?.guardrails, a.source === 'workspace' ? ws?.agentGuardrails(a.id) : undefined);
      };
      const chat = new ChatService({
        tools: agent?.tools(),
        guardrailsFor,
        store,
        net,
        keys: this.keys,
        logger: this.deps.logger,
        config: () => this._config,
        agents: () => this.agents(),
        keyFor: (agent) => this.keyFor(agent),
      });
      const tasks = await TaskService.open({
        file: path.join(this.deps.storageDir, 'tasks.json'),
        store,
        chat,
        agents: () => this.agents(),
        logger: this.deps.logger.child('tasks'),
      });
      const forwards = new DisposableStore();
      forwards.add(chat.onDidEvent((e) => this.onChatEventEmitter.fire(e)));
      forwards.add(store.onDidChange((e) => this.onDidChangeConversationsEmitter.fire(e)));
      forwards.add(tasks.onDidChange((e) => this.onDidChangeLocalTasksEmitter.fire(e)));
      if (agent) forwards.add(agent.onDidChangeFiles((e) => chat.fire({ type: 'changes', ...e })));
      const running: Running = { net, store, chat, tasks, forwards, agent, guardrailsFor };
      this.attachAgent(agent);
      this.running = running;
      running.localApi = await this.startLocalApi(tasks);
      running.link = await this.openLink(net, tasks);
      if (running.link) forwards.add(running.link.onDidChangeTasks((e) => this.onDidChangeWorkspaceTasksEmitter.fire(e)));
      this.setState('running');
      this.log.info(`started in ${Date.now() - started} ms; ${this.agents().filter((a) => a.available).length} agent(s) available`);
    } catch (err) {
      const message = errorMessage(err);
      this.log.error('failed to start:', err instanceof Error ? err : message);
      this.setState('error', message);
      throw err;
    }
  }

  /** The workspace link: connects when signed in. Failing to load it is logged; local mode keeps working. */
  private async openLink(net: NetService, tasks: TaskService): Promise<WorkspaceLink | undefined> {
    try {
      const { WorkspaceLink } = await import('./workspace/workspaceLink');
      return await WorkspaceLink.open({
        net,
        tasks,
        secrets: this.deps.secrets,
        redactor: this.deps.redactor,
        logger: this.deps.logger,
        storageDir: this.deps.storageDir,
        status: this.linkStatus,
        workspaceUrl: () => this._config.workspace?.url ?? '',
        hasLocalKey: (p) => this.keys.has(p),
        agents: () => this.agents(),
        onAgentsChanged: () => this.onDidChangeAgentsEmitter.fire(),
        version: this.deps.version ?? this.deps.localApi?.version ?? '0.0.0',
        tuning: this.deps.linkTuning,
        instanceOnly: !!this.deps.desktop,
        approvals: this.onDidChangeApprovals,
        metrics: this.deps.desktop?.metrics,
      });
    } catch (err) {
      this.log.error('the workspace link did not load:', err instanceof Error ? err : String(err));
      return undefined;
    }
  }

  /** The local API failing to start (no loopback port) is logged; the gateway runs without it. */
  private async startLocalApi(tasks: TaskService): Promise<LocalApiServer | undefined> {
    if (!this._config.localApi.enabled) return undefined;
    try {
      const { startLocalApi } = await import('./localApi/server');
      return await startLocalApi({
        host: this,
        tasks,
        storageDir: this.deps.storageDir,
        redactor: this.deps.redactor,
        logger: this.deps.logger.child('localApi'),
        port: this._config.localApi.port,
        options: this.deps.localApi,
      });
    } catch (err) {
      this.log.error('the local API did not start:', err instanceof Error ? err : String(err));
      return undefined;
    }
  }

  private async doStop(): Promise<void> {
    const r = this.running;
    if (!r) {
      if (this._state !== 'stopped') this.setState('stopped');
      return;
    }
    this.running = undefined;
    await r.localApi?.close();
    await r.tasks.close(); // interrupted workspace runs are queued in the outbox before the link closes
    await r.link?.disconnect();
    r.link?.dispose();
    r.chat.stopAll();
    await r.agent?.close();
    this.attachAgent(undefined);
    r.chat.dispose();
    await r.store.close(); // writes buffered reply text, then releases the files
    r.net.dispose();
    r.forwards.dispose();
    this.setState('stopped');
    this.log.info('stopped');
  }

  override dispose(): void {
    const r = this.running;
    this.running = undefined;
    if (r) {
      r.link?.dispose();
      r.localApi?.dispose();
      r.agent?.dispose();
      r.tasks.dispose();
      r.chat.dispose();
      r.store.dispose();
      r.net.dispose();
      r.forwards.dispose();
    }
    super.dispose();
  }
}

import fs from 'node:fs/promises';
import path from 'node:path';
import { resolveAgents, type ResolvedAgent } from './agents';
import type { ChatService } from './chat/chatService';
import type { CloudLink, LinkTuning } from './cloud/cloudLink';
import { WorkspaceStatus } from './cloud/linkState';
import { defaultGatewayConfig, type GatewayConfig } from './config';
import { ProviderKeys } from './keys';
import type { LocalApiServer } from './localApi/server';
import type { LocalApiInfo, LocalApiOptions } from './localApi/types';
import type { Redactor } from './log/redact';
import { ConnectionLedger } from './net/ledger';
import type { NetOptions, NetService } from './net/net';
import type { Logger, SecretStore } from './ports';
import type { ConversationStore } from './store/conversationStore';
import type { TaskService } from './tasks/taskService';
import { Disposable, Emitter } from './util/disposable';

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
  cloud?: LinkTuning;
}

/** The parts that exist only while the gateway runs. */
interface Running {
  net: NetService;
  store: ConversationStore;
  chat: ChatService;
  tasks: TaskService;
  localApi?: LocalApiServer;
  /** The workspace link (absent only when it failed to load). */
  cloud?: CloudLink;
}

/**
 * The in-process agent gateway: provider keys, agents, conversations and the chat runtime.
 * Plain Node (no `vscode`): the extension host, the headless CLI and tests all drive this object.
 * Constructing it is cheap; the heavy runtime modules load on `start()`.
 */
export class Gateway extends Disposable {
  private _state: GatewayState = 'stopped';
  private _error: string | undefined;
  private _config: GatewayConfig;
  private running: Running | undefined;
  private transition: Promise<void> = Promise.resolve();
  readonly keys: ProviderKeys;
  /** Every outbound connection, kept across restarts (Show Network Activity). */
  readonly ledger = this._register(new ConnectionLedger());
  /** The workspace connection state for the UI (kept across restarts; cheap: no runtime modules). */
  readonly workspace = this._register(new WorkspaceStatus());
  private readonly log: Logger;

  private readonly onDidChangeStateEmitter = this._register(new Emitter<GatewayStateEvent>());
  readonly onDidChangeState = this.onDidChangeStateEmitter.event;
  private readonly onDidChangeAgentsEmitter = this._register(new Emitter<void>());
  readonly onDidChangeAgents = this.onDidChangeAgentsEmitter.event;

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
    this._config = config;
    if (networkChanged) this.running?.net.configure(config.network);
    if (urlChanged) this.running?.cloud?.publish();
    this.onDidChangeAgentsEmitter.fire();
  }

  /** Local agents (settings and provider defaults), then the workspace's agents when signed in. */
  agents(): ResolvedAgent[] {
    const cloud = this.running?.cloud;
    const local = resolveAgents(this._config, (p) => this.keys.has(p) || !!cloud?.config.hasKey(p));
    return cloud ? [...local, ...cloud.agents()] : local;
  }

  /** The key an agent's requests carry: a workspace agent prefers the workspace key, a local one the local key. */
  keyFor(agent: ResolvedAgent): string | undefined {
    const ws = this.running?.cloud?.config;
    if (agent.source === 'workspace') return agent.baseUrl ? ws?.key(agent.provider) : ws?.key(agent.provider) ?? this.keys.get(agent.provider);
    return this.keys.get(agent.provider) ?? ws?.key(agent.provider);
  }

  /** Throws when the gateway is not running (callers show "Start Gateway"). */
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
  get cloud(): CloudLink {
    const c = this.require().cloud;
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

  private require(): Running {
    if (!this.running || this._state !== 'running') throw new GatewayNotRunningError();
    return this.running;
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
      const [{ NetService }, { ConversationStore }, { ChatService }, { TaskService }] = await Promise.all([
        import('./net/net'), import('./store/conversationStore'), import('./chat/chatService'), import('./tasks/taskService'),
      ]);
      await this.keys.load();
      const net = new NetService({ ...this.deps.net, config: this._config.network, logger: this.deps.logger, ledger: this.ledger });
      const store = new ConversationStore(conversationsDir, this.deps.logger.child('store'));
      const chat = new ChatService({
        store, net, keys: this.keys, logger: this.deps.logger,
        config: () => this._config,
        agents: () => this.agents(),
        keyFor: (agent) => this.keyFor(agent),
      });
      const tasks = await TaskService.open({
        file: path.join(this.deps.storageDir, 'tasks.json'), store, chat, agents: () => this.agents(), logger: this.deps.logger.child('tasks'),
      });
      this.running = { net, store, chat, tasks, localApi: await this.startLocalApi(tasks) };
      this.running.cloud = await this.openCloud(net, tasks);
      this.setState('running');
      this.log.info(`started in ${Date.now() - started} ms; ${this.agents().filter((a) => a.available).length} agent(s) available`);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      this.log.error('failed to start:', err instanceof Error ? err : message);
      this.setState('error', message);
      throw err;
    }
  }

  /** The workspace link: connects when signed in. Failing to load it is logged; local mode keeps working. */
  private async openCloud(net: NetService, tasks: TaskService): Promise<CloudLink | undefined> {
    try {
      const { CloudLink } = await import('./cloud/cloudLink');
      return await CloudLink.open({
        net, tasks, secrets: this.deps.secrets, redactor: this.deps.redactor, logger: this.deps.logger, storageDir: this.deps.storageDir,
        status: this.workspace, workspaceUrl: () => this._config.workspace?.url ?? '', hasLocalKey: (p) => this.keys.has(p),
        agents: () => this.agents(), onAgentsChanged: () => this.onDidChangeAgentsEmitter.fire(),
        version: this.deps.version ?? this.deps.localApi?.version ?? '0.0.0', tuning: this.deps.cloud,
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
        gateway: this, tasks, storageDir: this.deps.storageDir, redactor: this.deps.redactor,
        logger: this.deps.logger.child('localApi'), port: this._config.localApi.port, options: this.deps.localApi,
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
    await r.cloud?.disconnect();
    r.cloud?.dispose();
    r.chat.stopAll();
    r.chat.dispose();
    await r.store.close(); // writes buffered reply text, then releases the files
    r.net.dispose();
    this.setState('stopped');
    this.log.info('stopped');
  }

  override dispose(): void {
    const r = this.running;
    this.running = undefined;
    if (r) {
      r.cloud?.dispose();
      r.localApi?.dispose();
      r.tasks.dispose();
      r.chat.dispose();
      r.store.dispose();
      r.net.dispose();
    }
    super.dispose();
  }
}

export class GatewayNotRunningError extends Error {
  constructor() {
    super('The MultiClaw gateway is not running. Run "MultiClaw: Start Gateway".');
    this.name = 'GatewayNotRunningError';
  }
}

/** True for a GatewayNotRunningError from either bundle (extension and runtime each have a copy). */
export function isGatewayNotRunning(err: unknown): err is GatewayNotRunningError {
  return err instanceof Error && err.name === 'GatewayNotRunningError';
}

/**
 * The workspace link: this gateway's connection to a team workspace. It owns the credentials (SecretStorage
 * only), the REST client, the WSS session, the persisted outbox and its sender, the workspace task list,
 * the pushed configuration (agents, guardrails, `enc:` keys) and the task runner, and it publishes one
 * `LinkStatus` for the UI. Created by the Gateway on start (a lazily imported module); signing in and
 * out happen here too (`signIn.ts`).
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { Provider } from '../../protocol/workspace/common';
import type { WorkspaceEvent } from '../../protocol/workspace/events';
import type { ClientSignalFrame, ServerSignalFrame } from '../../protocol/workspace/frames';
import { configSnapshotSchema, type InstanceMetrics, type Plan } from '../../protocol/workspace/models';
import { taskDetailResponseSchema, taskListResponseSchema } from '../../protocol/workspace/rest';
import type { ResolvedAgent } from '../agents';
import type { Redactor } from '../log/redact';
import type { NetService } from '../net/net';
import type { Logger, SecretStore } from '../ports';
import type { TaskService } from '../tasks/taskService';
import { Disposable, Emitter, type Event } from '../util/disposable';
import type { BackoffPolicy } from './backoff';
import { ServerApi, ServerApiError, type FetchLike } from './serverApi';
import { LinkSession, type SessionEnd } from './linkSession';
import { CredentialStore, type AccountRecord, type InstanceRecord } from './credentials';
import type { LinkStatus, SignedOutReason, LinkStatusHolder } from './linkState';
import { Outbox } from './outbox';
import { OutboxSender } from './outboxSender';
import { type RunnerDeps, TaskRunner } from './taskRunner';
import { WorkspaceConfig } from './workspaceConfig';
import { WorkspaceTasks, type WorkspaceTaskChange } from './workspaceTasks';
import { errorMessage } from '../errors';

/** Knobs tests turn (production uses the defaults). */
export interface LinkTuning {
  backoff?: BackoffPolicy;
  renewAfterMs?: number;
  rpcTimeoutMs?: number;
  offlineAfterAttempts?: number;
  offlineAfterMs?: number;
  progressIntervalMs?: number;
  /** How often the sign-in session is checked (default 15 min). */
  accountCheckMs?: number;
}

export interface WorkspaceLinkDeps {
  net: NetService;
  secrets: SecretStore;
  redactor: Redactor;
  logger: Logger;
  storageDir: string;
  status: LinkStatusHolder;
  tasks: TaskService;
  /** The `multiclaw.workspace.url` setting ('' = none). */
  workspaceUrl: () => string;
  hasLocalKey: (p: Provider) => boolean;
  agents: () => ResolvedAgent[];
  onAgentsChanged: () => void;
  version: string;
  tuning?: LinkTuning;
  /** A cloud desktop daemon: it holds only its instance credentials (no account session to check). */
  instanceOnly?: boolean;
  /** CPU, memory and disk for the heartbeats (cloud desktops). */
  metrics?: () => InstanceMetrics | undefined;
  /** Agent approvals, for the runner (a workspace task waiting for one pauses and is audited). */
  approvals?: RunnerDeps['approvals'];
}

/** The parts that exist while signed in. */
interface Live {
  account: AccountRecord;
  instance: InstanceRecord;
  api: ServerApi;
  dir: string;
  session: LinkSession;
  outbox: Outbox;
  sender: OutboxSender;
  tasks: WorkspaceTasks;
  runner: TaskRunner;
  accountTimer: NodeJS.Timeout;
  fresh: boolean;
}

export class WorkspaceLink extends Disposable {
  readonly credentials: CredentialStore;
  readonly config: WorkspaceConfig;
  private live: Live | undefined;
  private signedOutReason: SignedOutReason = 'never';
  private signedOutMessage: string | undefined;
  private errorMessage: string | undefined;
  private statusTimer: NodeJS.Timeout | undefined;
  private heartbeat: { at?: number; latencyMs?: number } = {};
  readonly log: Logger;
  private readonly onDidChangeTasksEmitter = this._register(new Emitter<WorkspaceTaskChange>());
  /** A workspace task changed; fires across sign-ins (a sign-out fires one `reset`). */
  readonly onDidChangeTasks: Event<WorkspaceTaskChange> = this.onDidChangeTasksEmitter.event;
  private readonly eventEmitter = this._register(new Emitter<WorkspaceEvent>());
  /** Every workspace event, once, in order (across sign-ins). */
  readonly onDidReceiveEvent: Event<WorkspaceEvent> = this.eventEmitter.event;
  private readonly signalEmitter = this._register(new Emitter<ServerSignalFrame>());
  /** Cloud desktop signalling for this machine (across sign-ins). */
  readonly onDidReceiveSignal: Event<ServerSignalFrame> = this.signalEmitter.event;
  private readonly signalRefusedEmitter = this._register(new Emitter<{ ref: string; code: string; message: string }>());
  /** The server refused a signal sent with an id starting `sig-`. */
  readonly onDidRefuseSignal: Event<{ ref: string; code: string; message: string }> = this.signalRefusedEmitter.event;
  private readonly connectedEmitter = this._register(new Emitter<boolean>());
  /** The WSS session became connected (true) or lost its socket (false). */
  readonly onDidChangeConnected: Event<boolean> = this.connectedEmitter.event;

  private constructor(readonly deps: WorkspaceLinkDeps) {
    super();
    this.log = deps.logger.child('link');
    this.credentials = new CredentialStore(deps.secrets, deps.redactor);
    this.config = new WorkspaceConfig(deps.redactor, this.log.child('config'));
  }

  /** Loads the credentials and connects when signed in. */
  static async open(deps: WorkspaceLinkDeps): Promise<WorkspaceLink> {
    const link = new WorkspaceLink(deps);
    const [account, instance] = await Promise.all([link.credentials.account(), link.credentials.instance()]);
    if (account && instance && account.serverUrl === instance.serverUrl && account.workspace.id === instance.workspaceId) {
      if (Date.parse(account.expiresAt) <= Date.now()) {
        await link.credentials.clearAccount();
        link.signedOutReason = 'expired';
        link.signedOutMessage = 'Your MultiClaw sign-in expired.';
      } else await link.connect(account, instance);
    }
    link.publish();
    return link;
  }

  get fetch(): FetchLike {
    return (url, init) => this.deps.net.fetch(url, init, 'workspace:api');
  }

  get isSignedIn(): boolean {
    return !!this.live;
  }

  get account(): AccountRecord | undefined {
    return this.live?.account;
  }

  get instance(): InstanceRecord | undefined {
    return this.live?.instance;
  }

  get api(): ServerApi | undefined {
    return this.live?.api;
  }

  /** Internals for tests and benchmarks. */
  get session(): LinkSession | undefined {
    return this.live?.session;
  }

  get outbox(): Outbox | undefined {
    return this.live?.outbox;
  }

  get sender(): OutboxSender | undefined {
    return this.live?.sender;
  }

  get workspaceTasks(): WorkspaceTasks | undefined {
    return this.live?.tasks;
  }

  get runner(): TaskRunner | undefined {
    return this.live?.runner;
  }

  get isConnected(): boolean {
    return !!this.live?.session.isConnected;
  }

  /** Sends a signalling frame; false when not connected. */
  sendSignal(frame: Omit<ClientSignalFrame, 'type'>): boolean {
    return this.live?.session.sendSignal(frame) ?? false;
  }

  /** An RPC on the WSS session (rejects when not connected). */
  request(method: string, params: unknown, idempotencyKey?: string): Promise<unknown> {
    const live = this.live;
    if (!live) return Promise.reject(new Error('not signed in to a workspace'));
    return live.session.request(method, params, idempotencyKey);
  }

  /** Workspace agents (`source: 'workspace'`), when signed in. */
  agents(): ResolvedAgent[] {
    return this.live ? this.config.agents(this.deps.hasLocalKey) : [];
  }

  /** Opens the session for stored (or just created) credentials. */
  async connect(account: AccountRecord, instance: InstanceRecord): Promise<void> {
    await this.disconnect(false);
    this.signedOutReason = 'never';
    this.signedOutMessage = this.errorMessage = undefined;
    const api = new ServerApi(instance.serverUrl, this.fetch);
    const dir = path.join(this.deps.storageDir, 'workspace', instance.id);
    const tasks = new WorkspaceTasks(path.join(dir, 'state.json'), this.log.child('tasks'));
    await fs.mkdir(dir, { recursive: true, mode: 0o700 });
    await tasks.load();
    const outbox = await Outbox.open(path.join(dir, 'outbox.jsonl'), this.log.child('outbox'));
    const t = this.deps.tuning ?? {};
    const session = new LinkSession({
      api,
      openWebSocket: (url, headers, signal) => this.deps.net.openWebSocket(url, { headers, signal }, 'workspace:ws'),
      credentials: () => ({ workspaceId: instance.workspaceId, workspaceToken: instance.workspaceToken }),
      lastSeq: () => tasks.lastSeq,
      client: { name: 'multiclaw-vscode', version: this.deps.version, platform: `${process.platform}-${process.arch}` },
      logger: this.log.child('ws'),
      backoff: t.backoff,
      renewAfterMs: t.renewAfterMs,
      rpcTimeoutMs: t.rpcTimeoutMs,
      offlineAfterAttempts: t.offlineAfterAttempts,
      offlineAfterMs: t.offlineAfterMs,
      busy: () => this.deps.tasks.counts().running > 0,
      onHalfOpen: () => this.deps.net.resetConnections('workspace:api'),
      metrics: this.deps.metrics,
    });
    const sender = new OutboxSender(outbox, session, this.log.child('outbox'));
    const runner = new TaskRunner({
      tasks: this.deps.tasks,
      workspace: tasks,
      outbox,
      agents: this.deps.agents,
      logger: this.log.child('runner'),
      instanceName: () => instance.name,
      progressIntervalMs: t.progressIntervalMs,
      approvals: this.deps.approvals,
      claim: async (taskId) => {
        const r = await api.assignTask(
          instance.workspaceToken,
          instance.workspaceId,
          taskId,
          { type: 'instance', instanceId: instance.id },
          `claim-${instance.id}-${taskId}`,
        );
        tasks.merge([r.task]);
      },
    });
    const accountTimer = setInterval(() => void this.checkAccount(), t.accountCheckMs ?? 15 * 60_000);
    const live: Live = { account, instance, api, dir, session, outbox, sender, tasks, runner, accountTimer, fresh: tasks.lastSeq === null };
    this.live = live;
    session.onDidWelcome((w) => {
      tasks.setMe({ memberId: w.principal.memberId, instanceId: instance.id });
      if (w.principal.role !== account.workspace.role) live.account = { ...account, workspace: { ...account.workspace, role: w.principal.role } };
    });
    tasks.onDidChange((c) => this.onDidChangeTasksEmitter.fire(c));
    session.onDidReceiveEvent((e) => this.onEvent(e));
    session.onDidSync((s) => void this.onSync(live, s.resync, s.headSeq));
    session.onDidReceiveSignal((f) => this.signalEmitter.fire(f));
    session.onDidRefuseSignal((e) => this.signalRefusedEmitter.fire(e));
    let wasConnected = false;
    session.onDidChangeState(() => {
      if (session.isConnected !== wasConnected) {
        wasConnected = session.isConnected;
        this.connectedEmitter.fire(wasConnected);
      }
      this.publish();
    });
    session.onDidEnd((end) => void this.onEnd(end));
    session.onDidHeartbeat((h) => {
      this.heartbeat = { at: h.at, latencyMs: h.latencyMs ?? this.heartbeat.latencyMs };
      this.schedulePublish();
    });
    outbox.onDidChange(() => this.schedulePublish());
    this.log.info(`signed in to ${account.workspace.name} (${instance.serverUrl}) as ${account.user.email}; instance ${instance.name}`);
    session.start();
    this.publish();
  }

  private onEvent(e: WorkspaceEvent): void {
    const live = this.live;
    if (!live) return;
    live.tasks.apply(e);
    this.eventEmitter.fire(e);
    switch (e.name) {
      case 'config.changed':
        if (e.data.version > this.config.version) void this.refreshConfig();
        break;
      case 'workspace.updated':
        live.account = { ...live.account, workspace: { ...live.account.workspace, name: e.data.workspace.name } };
        this.publish();
        break;
      default:
        break;
    }
  }

  private async onSync(live: Live, resync: boolean, headSeq: number): Promise<void> {
    if (live !== this.live) return;
    const full = resync || live.fresh;
    if (full) live.tasks.resetSeq(headSeq);
    live.fresh = false;
    try {
      if (full) await this.fullSync(live);
      if (full || this.config.version < 0) await this.refreshConfig();
      if (live.session.lastCloseCode === 4401) await this.checkAccount();
    } catch (err) {
      this.log.warn('could not sync with the workspace (will retry on the next connection):', errorMessage(err));
    }
    live.runner.reconcile();
    this.publish();
  }

  /** The tasks assigned to me, to this instance, and the latest of the workspace (mine are kept). */
  private async fullSync(live: Live): Promise<void> {
    const me = live.tasks.identity;
    const queries = [
      { limit: 200 },
      ...(me
        ? [
            { assigneeMemberId: me.memberId, limit: 200 },
            { assigneeInstanceId: me.instanceId, limit: 200 },
          ]
        : []),
    ];
    const lists = await Promise.all(queries.map(async (q) => taskListResponseSchema.parse(await live.session.request('task.list', q)).tasks));
    const all = lists.flat();
    const plans = new Map<string, Plan>();
    const waiting = all.filter((t) => t.status === 'awaiting_approval' && live.tasks.isMine(t)).slice(0, 20);
    await Promise.all(
      waiting.map(async (t) => {
        const d = taskDetailResponseSchema.parse(await live.session.request('task.get', { taskId: t.id }));
        const latest = d.plans[d.plans.length - 1];
        if (latest) plans.set(t.id, latest);
      }),
    );
    live.tasks.merge(all, plans);
    this.log.info(`synced ${live.tasks.list().length} workspace task(s)`);
  }

  async refreshConfig(): Promise<void> {
    const live = this.live;
    if (!live) return;
    const snapshot = configSnapshotSchema.parse(await live.session.request('config.get', {}));
    if (live !== this.live) return;
    const changed = this.config.apply(snapshot, { workspaceId: live.instance.workspaceId, instanceId: live.instance.id, instanceSecret: live.instance.secret });
    if (changed) this.deps.onAgentsChanged();
  }

  /** Signs out when the sign-in session has expired or was revoked. */
  async checkAccount(): Promise<void> {
    const live = this.live;
    if (!live || this.deps.instanceOnly) return;
    if (Date.parse(live.account.expiresAt) <= Date.now()) return this.endSession('expired', 'Your MultiClaw sign-in expired.');
    try {
      await live.api.me(live.account.token);
    } catch (err) {
      if (err instanceof ServerApiError && err.isAuth && live === this.live) {
        await this.endSession(
          err.code === 'token_expired' ? 'expired' : 'revoked',
          err.code === 'token_expired' ? 'Your MultiClaw sign-in expired.' : `Your MultiClaw sign-in is no longer valid: ${err.message}`,
        );
      }
    }
  }

  private async onEnd(end: SessionEnd): Promise<void> {
    if (end.kind === 'revoked' || end.kind === 'expired') return this.endSession(end.kind, end.message);
    this.errorMessage = end.message;
    this.publish();
  }

  /** The session ended for good: forget what no longer works and show Signed out. */
  async endSession(reason: 'expired' | 'revoked', message: string): Promise<void> {
    const live = this.live;
    if (!live) return;
    this.log.warn(`signed out: ${message}`);
    this.signedOutReason = reason;
    this.signedOutMessage = message;
    this.config.clear();
    await this.credentials.clearAccount();
    if (reason === 'revoked') await this.credentials.clearInstance();
    await this.disconnect(false);
    this.deps.onAgentsChanged();
    this.publish();
  }

  /** Marks the link signed out by the user (after `signIn.ts` revoked the tokens). */
  async signedOut(): Promise<void> {
    this.signedOutReason = 'signedOut';
    this.signedOutMessage = undefined;
    this.errorMessage = undefined;
    this.config.clear();
    await this.disconnect(false);
    this.publish();
    this.deps.onAgentsChanged();
    this.publish();
  }

  /** Drops the socket and connects again now (the Reconnect command). */
  reconnect(): void {
    if (!this.live) return;
    this.errorMessage = undefined;
    this.live.session.reconnectNow();
  }

  /** Stops the session and releases the per-instance files (kept on disk). */
  async disconnect(publish = true): Promise<void> {
    const live = this.live;
    if (!live) return;
    this.live = undefined;
    clearInterval(live.accountTimer);
    live.session.stop();
    live.runner.dispose();
    live.sender.dispose();
    live.session.dispose();
    await live.outbox.close();
    await live.tasks.close();
    this.onDidChangeTasksEmitter.fire({ kind: 'reset', id: '' });
    if (publish) this.publish();
  }

  /** Coalesces frequent changes (queue size, heartbeats) into one status update per 100 ms. */
  private schedulePublish(): void {
    if (this.statusTimer) return;
    this.statusTimer = setTimeout(() => {
      this.statusTimer = undefined;
      this.publish();
    }, 100);
  }

  publish(): void {
    this.deps.status.set(this.statusNow());
  }

  private statusNow(): LinkStatus {
    const live = this.live;
    const url = this.deps.workspaceUrl();
    if (!live) {
      if (this.signedOutReason === 'never' && !url) return { phase: 'local', queued: 0 };
      return { phase: 'signedOut', signedOutReason: this.signedOutReason, message: this.signedOutMessage, serverUrl: url || undefined, queued: 0 };
    }
    const s = live.session.state;
    const base: LinkStatus = {
      phase: 'connecting',
      serverUrl: live.instance.serverUrl,
      workspace: live.account.workspace,
      user: { email: live.account.user.email, name: live.account.user.name },
      memberId: live.tasks.identity?.memberId,
      instance: { id: live.instance.id, name: live.instance.name },
      latencyMs: this.heartbeat.latencyMs,
      lastHeartbeatAt: this.heartbeat.at,
      queued: live.outbox.size,
    };
    if (this.errorMessage) return { ...base, phase: 'error', message: this.errorMessage };
    switch (s.phase) {
      case 'connected':
        return { ...base, phase: 'connected' };
      case 'reconnecting':
      case 'offline':
        return { ...base, phase: s.phase, attempt: s.attempt, retryAt: s.retryAt, message: s.lastError };
      default:
        return base;
    }
  }

  override dispose(): void {
    if (this.statusTimer) clearTimeout(this.statusTimer);
    const live = this.live;
    this.live = undefined;
    if (live) {
      clearInterval(live.accountTimer);
      live.runner.dispose();
      live.sender.dispose();
      live.session.dispose();
      void live.outbox.close();
      void live.tasks.close();
    }
    super.dispose();
  }
}

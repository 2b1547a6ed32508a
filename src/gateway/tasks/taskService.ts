/**
 * Local tasks: a prompt dispatched to an agent, run as a chat conversation linked to the task
 * (`store.create({ agentId, taskId })` + ChatService), with a status the workspace server shares
 * (`queued → running → completed | failed | cancelled`). Persisted in `tasks.json` (taskFile.ts).
 * Plain Node; the gateway creates one per start. The workspace issue extends this with assignment,
 * plans and the outbox.
 */
import { randomUUID } from 'node:crypto';
import type { LocalTask, LocalTaskStatus } from '../../protocol/localApi';
import { TERMINAL_LOCAL_TASK_STATUSES } from '../../protocol/localApi';
import type { ResolvedAgent } from '../agents';
import type { ChatService } from '../chat/chatService';
import { type Clock, type Logger, systemClock } from '../ports';
import type { ConversationStore } from '../store/conversationStore';
import { titleFromText } from '../store/model';
import { Disposable, Emitter, type Event } from '../util/disposable';
import { TaskFile } from './taskFile';
import { errorMessage } from '../errors';

export type { LocalTask, LocalTaskStatus } from '../../protocol/localApi';

export interface TaskChange {
  kind: 'created' | 'updated';
  task: LocalTask;
}

export interface TaskOutput {
  taskId: string;
  text: string;
}

export interface DispatchInput {
  agentId: string;
  prompt: string;
  title?: string;
  context?: Record<string, unknown>;
  /** Workspace mode: the workspace task this local run belongs to, and its phase. */
  workspaceTaskId?: string;
  phase?: 'plan' | 'run';
  /** Continue in this conversation (a workspace task's run after its plan) instead of starting one. */
  conversationId?: string;
}

export interface TaskFilter {
  status?: LocalTaskStatus;
  agentId?: string;
  limit?: number;
}

export interface TaskServiceDeps {
  /** The tasks file (`<storage>/tasks.json`). */
  file: string;
  store: ConversationStore;
  chat: ChatService;
  agents: () => ResolvedAgent[];
  logger: Logger;
  clock?: Clock;
  /** Tasks that run at once; the rest wait `queued`. Default 4. */
  maxConcurrent?: number;
  /** Tasks kept; the oldest finished ones are dropped beyond it. Default 1000. */
  maxTasks?: number;
}

export type TaskErrorCode = 'agent_not_found' | 'agent_unavailable' | 'task_not_found' | 'task_finished' | 'gateway_not_running';

/** A request the task service refuses; `code` is the local API's error code. */
export class TaskError extends Error {
  override readonly name = 'TaskError';
  constructor(
    readonly code: TaskErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export function isTerminal(status: LocalTaskStatus): boolean {
  return TERMINAL_LOCAL_TASK_STATUSES.includes(status);
}

interface Run {
  cancelRequested: boolean;
  conversationId?: string;
  finished: Promise<void>;
}

export class TaskService extends Disposable {
  private readonly tasks = new Map<string, LocalTask>();
  private readonly runs = new Map<string, Run>();
  private readonly byConversation = new Map<string, string>();
  private readonly file: TaskFile;
  private readonly clock: Clock;
  private readonly log: Logger;
  private closing = false;

  private readonly onDidChangeEmitter = this._register(new Emitter<TaskChange>());
  readonly onDidChange: Event<TaskChange> = this.onDidChangeEmitter.event;
  private readonly onDidOutputEmitter = this._register(new Emitter<TaskOutput>());
  /** Reply text of running tasks as it streams. */
  readonly onDidOutput: Event<TaskOutput> = this.onDidOutputEmitter.event;

  /** Loads the task list and starts the queued tasks a previous run left behind. */
  static async open(deps: TaskServiceDeps): Promise<TaskService> {
    const service = new TaskService(deps);
    await service.load();
    service.pump();
    return service;
  }

  private constructor(private readonly deps: TaskServiceDeps) {
    super();
    this.clock = deps.clock ?? systemClock;
    this.log = deps.logger;
    this.file = new TaskFile(deps.file, deps.logger);
    this._register(
      deps.chat.onDidEvent((e) => {
        if (e.type !== 'delta') return;
        const taskId = this.byConversation.get(e.conversationId);
        if (taskId) this.onDidOutputEmitter.fire({ taskId, text: e.text });
      }),
    );
  }

  get filePath(): string {
    return this.file.filePath;
  }

  get(id: string): LocalTask | undefined {
    const t = this.tasks.get(id);
    return t && { ...t };
  }

  /** Most recent first (the map keeps creation order, and so does the file). */
  list(filter: TaskFilter = {}): LocalTask[] {
    const out: LocalTask[] = [];
    const all = [...this.tasks.values()];
    for (let i = all.length - 1; i >= 0 && (!filter.limit || out.length < filter.limit); i--) {
      const t = all[i];
      if (filter.status && t.status !== filter.status) continue;
      if (filter.agentId && t.agentId !== filter.agentId) continue;
      out.push({ ...t });
    }
    return out;
  }

  counts(): Record<LocalTaskStatus, number> {
    const c: Record<LocalTaskStatus, number> = { queued: 0, running: 0, completed: 0, failed: 0, cancelled: 0 };
    for (const t of this.tasks.values()) c[t.status]++;
    return c;
  }

  /** Creates a task (queued) and starts it when a slot is free. */
  async dispatch(input: DispatchInput): Promise<LocalTask> {
    if (this.closing || this.isDisposed) throw new TaskError('gateway_not_running', 'The gateway is stopping.');
    const agent = this.deps.agents().find((a) => a.id === input.agentId);
    if (!agent) throw new TaskError('agent_not_found', `Unknown agent "${input.agentId}".`);
    if (!agent.available)
      throw new TaskError('agent_unavailable', `The agent "${agent.id}" has no configured provider (${agent.provider}): set its API key or base URL.`);
    const now = this.iso();
    const task: LocalTask = {
      id: randomUUID(),
      title: input.title?.trim() || titleFromText(input.prompt) || 'Task',
      prompt: input.prompt,
      agentId: agent.id,
      context: input.context ?? null,
      status: 'queued',
      conversationId: input.conversationId ?? null,
      createdAt: now,
      updatedAt: now,
      startedAt: null,
      finishedAt: null,
      result: null,
      error: null,
    };
    if (input.workspaceTaskId) Object.assign(task, { workspaceTaskId: input.workspaceTaskId, phase: input.phase ?? 'run' });
    this.tasks.set(task.id, task);
    this.prune();
    this.changed(task, 'created');
    this.log.info(`task ${task.id} dispatched to ${agent.id}`);
    this.pump();
    return { ...(this.tasks.get(task.id) ?? task) };
  }

  /**
   * Cancels a queued task at once, or stops a running one's reply; resolves with the task once it
   * has reached its final status. A finished task → TaskError `task_finished`.
   */
  async cancel(id: string): Promise<LocalTask> {
    const task = this.tasks.get(id);
    if (!task) throw new TaskError('task_not_found', `No task ${id}.`);
    if (isTerminal(task.status)) throw new TaskError('task_finished', `Task ${id} is already ${task.status}.`);
    const run = this.runs.get(id);
    if (!run) {
      this.finish(task, 'cancelled', {});
      return { ...task };
    }
    run.cancelRequested = true;
    if (run.conversationId) this.deps.chat.stop(run.conversationId);
    await run.finished;
    return { ...task };
  }

  /** Stops taking work, ends running tasks as `failed` (interrupted) and writes the file. */
  async close(): Promise<void> {
    this.closing = true;
    const runs = [...this.runs.values()];
    for (const r of runs) if (r.conversationId) this.deps.chat.stop(r.conversationId);
    await Promise.all(runs.map((r) => r.finished));
    await this.file.flush();
    this.dispose();
  }

  /** Resolves once the file holds every change made so far. */
  flush(): Promise<void> {
    return this.file.flush();
  }

  private async load(): Promise<void> {
    const loaded = await this.file.load();
    let interrupted = 0;
    for (const t of loaded) {
      if (t.status === 'running') {
        const now = this.iso();
        Object.assign(t, {
          status: 'failed',
          updatedAt: now,
          finishedAt: now,
          error: { kind: 'interrupted', message: 'The gateway stopped while this task was running.' },
        });
        interrupted++;
      }
      this.tasks.set(t.id, t);
    }
    if (loaded.length) this.log.info(`loaded ${loaded.length} task(s)${interrupted ? `; ${interrupted} interrupted by the last stop marked failed` : ''}`);
    if (interrupted) void this.file.save(() => this.snapshot());
  }

  private pump(): void {
    if (this.closing || this.isDisposed) return;
    const max = this.deps.maxConcurrent ?? 4;
    if (this.runs.size >= max) return;
    const queued = [...this.tasks.values()].filter((t) => t.status === 'queued' && !this.runs.has(t.id));
    for (const t of queued.slice(0, max - this.runs.size)) this.start(t);
  }

  private start(task: LocalTask): void {
    let settle!: () => void;
    const run: Run = { cancelRequested: false, finished: new Promise<void>((r) => (settle = r)) };
    this.runs.set(task.id, run);
    void this.execute(task, run).finally(() => {
      this.runs.delete(task.id);
      if (run.conversationId) this.byConversation.delete(run.conversationId);
      settle();
      this.pump();
    });
  }

  private async execute(task: LocalTask, run: Run): Promise<void> {
    try {
      const conversation = task.conversationId
        ? await this.deps.store.open(task.conversationId)
        : await this.deps.store.create({ agentId: task.agentId, taskId: task.id, title: task.title });
      run.conversationId = conversation.id;
      this.byConversation.set(conversation.id, task.id);
      if (run.cancelRequested || this.closing) {
        this.finish(task, this.closing ? 'failed' : 'cancelled', this.closing ? { error: interruptedError() } : {}, conversation.id);
        return;
      }
      const now = this.iso();
      Object.assign(task, { status: 'running', conversationId: conversation.id, startedAt: now, updatedAt: now });
      this.changed(task, 'updated');
      // A workspace task's plan is made with read-only tools; after Approve Plan the run acts.
      const { done } = await this.deps.chat.send(conversation.id, task.agentId, messageText(task), undefined, {
        mode: task.phase === 'plan' ? 'plan' : 'act',
        taskId: task.workspaceTaskId ?? undefined,
        origin: 'task',
      });
      // This turn's replies follow its own message: an earlier reply (the plan's) is never its result.
      const turnStart = conversation.messages.length;
      if (run.cancelRequested || this.closing) this.deps.chat.stop(conversation.id);
      await done;
      const reply = conversation.messages
        .slice(turnStart)
        .reverse()
        .find((m) => m.role === 'assistant');
      if (this.closing && reply?.status !== 'complete') {
        this.finish(task, 'failed', { error: interruptedError() });
      } else if (reply?.status === 'complete' && reply.finishReason === 'budget_exhausted') {
        this.finish(task, 'failed', { error: { kind: 'budget_exhausted', message: reply.text } });
      } else if (reply?.status === 'complete') {
        this.finish(task, 'completed', { result: { text: reply.text } });
      } else if (reply?.status === 'cancelled' || (!reply && run.cancelRequested)) {
        // A cancel before the first request ends the turn with no reply at all.
        this.finish(task, 'cancelled', {});
      } else {
        this.finish(task, 'failed', {
          error: reply?.error ? { kind: reply.error.kind, message: reply.error.message } : { kind: 'internal', message: 'The reply did not complete.' },
        });
      }
    } catch (err) {
      this.log.warn(`task ${task.id} could not run:`, err instanceof Error ? err : String(err));
      if (!isTerminal(task.status)) this.finish(task, 'failed', { error: { kind: 'internal', message: errorMessage(err) } });
    }
  }

  private finish(task: LocalTask, status: LocalTaskStatus, patch: Partial<Pick<LocalTask, 'result' | 'error'>>, conversationId?: string): void {
    const now = this.iso();
    Object.assign(task, { status, updatedAt: now, finishedAt: now, ...patch });
    if (conversationId) task.conversationId = conversationId;
    this.changed(task, 'updated');
    this.log.info(`task ${task.id} ${status}${task.error ? `: ${task.error.message}` : ''}`);
  }

  private changed(task: LocalTask, kind: TaskChange['kind']): void {
    void this.file.save(() => this.snapshot());
    this.onDidChangeEmitter.fire({ kind, task: { ...task } });
  }

  private snapshot(): LocalTask[] {
    return [...this.tasks.values()];
  }

  private prune(): void {
    const max = this.deps.maxTasks ?? 1000;
    if (this.tasks.size <= max) return;
    const finished = [...this.tasks.values()].filter((t) => isTerminal(t.status));
    for (const t of finished.slice(0, this.tasks.size - max)) {
      this.tasks.delete(t.id);
      if (t.conversationId) this.byConversation.delete(t.conversationId);
    }
  }

  private iso(): string {
    return new Date(this.clock.now()).toISOString();
  }
}

function interruptedError(): { kind: string; message: string } {
  return { kind: 'interrupted', message: 'The gateway stopped while this task was running.' };
}

/** The user message a task sends: its prompt, then its context (if any) as a JSON block. */
export function messageText(task: Pick<LocalTask, 'prompt' | 'context'>): string {
  if (!task.context || Object.keys(task.context).length === 0) return task.prompt;
  return `${task.prompt}\n\nContext:\n\`\`\`json\n${JSON.stringify(task.context, null, 2)}\n\`\`\``;
}

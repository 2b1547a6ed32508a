/**
 * The workspace tasks this machine shows: assigned to me or to this instance, or created by either.
 * Fed by server events in seq order (and a full list after a fresh start or a resync); a change
 * older than what is held (lower task version) is ignored. Persisted with the resume seq in
 * `state.json`, so the tree shows the last known tasks while offline and a restart resumes exactly
 * where the previous run stopped.
 */
import { promises as fs } from 'node:fs';
import type { WorkspaceEvent } from '../../protocol/workspace/events';
import type { Plan, Task, TaskState } from '../../protocol/workspace/models';
import type { Logger } from '../ports';
import { Disposable, Emitter, type Event } from '../util/disposable';
import { writeFileAtomic } from '../util/atomicFile';
import { errorMessage } from '../errors';

export interface WorkspaceTask extends TaskState {
  prompt?: string;
  context?: Record<string, unknown>;
  /** The latest plan submitted for it. */
  plan?: Plan;
}

export interface WorkspaceTaskChange {
  /** `reset`: the whole list went away (signed out, disconnected); `id` is ''. */
  kind: 'upsert' | 'remove' | 'plan' | 'reset';
  id: string;
  task?: WorkspaceTask;
  /** The event that caused it (absent for a list sync). */
  event?: WorkspaceEvent;
}

export interface Me {
  memberId: string;
  instanceId: string;
}

const MAX_TASKS = 500;
const STATE_VERSION = 1;

export class WorkspaceTasks extends Disposable {
  private readonly tasks = new Map<string, WorkspaceTask>();
  private _lastSeq: number | null = null;
  private me: Me | undefined;
  private saveTimer: NodeJS.Timeout | undefined;
  private saving: Promise<void> = Promise.resolve();
  private readonly changeEmitter = this._register(new Emitter<WorkspaceTaskChange>());
  readonly onDidChange: Event<WorkspaceTaskChange> = this.changeEmitter.event;

  constructor(
    private readonly stateFile: string,
    private readonly log: Logger,
  ) {
    super();
  }

  get lastSeq(): number | null {
    return this._lastSeq;
  }

  setMe(me: Me): void {
    this.me = me;
  }

  get identity(): Me | undefined {
    return this.me;
  }

  get(id: string): WorkspaceTask | undefined {
    return this.tasks.get(id);
  }

  /** Newest first. */
  list(): WorkspaceTask[] {
    return [...this.tasks.values()].sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0));
  }

  isMine(t: Pick<TaskState, 'assignee' | 'createdBy'>): boolean {
    const me = this.me;
    if (!me) return false;
    const a = t.assignee;
    if (a?.type === 'member' && a.memberId === me.memberId) return true;
    if (a?.type === 'instance' && a.instanceId === me.instanceId) return true;
    return (t.createdBy.type === 'member' && t.createdBy.id === me.memberId) || (t.createdBy.type === 'instance' && t.createdBy.id === me.instanceId);
  }

  /** Assigned to me or to this instance (what the badge and the Run action are about). */
  isAssignedHere(t: Pick<TaskState, 'assignee'>): boolean {
    const a = t.assignee;
    return !!this.me && ((a?.type === 'member' && a.memberId === this.me.memberId) || (a?.type === 'instance' && a.instanceId === this.me.instanceId));
  }

  /** Applies one event (the session delivers each once, in seq order). */
  apply(e: WorkspaceEvent): void {
    this._lastSeq = e.seq;
    switch (e.name) {
      case 'task.created':
        this.upsert(e.data.task, e);
        break;
      case 'task.updated':
        this.upsert(e.data.task, e);
        break;
      case 'task.plan': {
        const t = this.tasks.get(e.data.taskId);
        if (t && (!t.plan || t.plan.id === e.data.plan.id || t.plan.submittedAt <= e.data.plan.submittedAt)) {
          t.plan = e.data.plan;
          this.changeEmitter.fire({ kind: 'plan', id: t.id, task: t, event: e });
        }
        break;
      }
      case 'task.deleted':
        if (this.tasks.delete(e.data.taskId)) this.changeEmitter.fire({ kind: 'remove', id: e.data.taskId, event: e });
        break;
      default:
        break;
    }
    this.scheduleSave();
  }

  /** A fresh start or a resync: continue from `headSeq`. */
  resetSeq(headSeq: number): void {
    this._lastSeq = headSeq;
    this.scheduleSave();
  }

  /** Merges a task list (from `task.list`), keeping whichever copy is newer. */
  merge(list: Array<Task | WorkspaceTask>, plans?: Map<string, Plan>): void {
    for (const t of list) this.upsert(t, undefined, plans?.get(t.id));
    this.scheduleSave();
  }

  private upsert(t: TaskState | Task | WorkspaceTask, event: WorkspaceEvent | undefined, plan?: Plan): void {
    const old = this.tasks.get(t.id);
    if (!this.isMine(t)) {
      if (old) {
        this.tasks.delete(t.id);
        this.changeEmitter.fire({ kind: 'remove', id: t.id, event });
      }
      return;
    }
    if (old && old.version > t.version) return;
    const next: WorkspaceTask = { ...old, ...t };
    if (plan) next.plan = plan;
    this.tasks.set(t.id, next);
    this.prune();
    this.changeEmitter.fire({ kind: 'upsert', id: t.id, task: next, event });
  }

  private prune(): void {
    if (this.tasks.size <= MAX_TASKS) return;
    const finished = this.list()
      .reverse()
      .filter((t) => ['completed', 'failed', 'cancelled'].includes(t.status));
    for (const t of finished.slice(0, this.tasks.size - MAX_TASKS)) this.tasks.delete(t.id);
  }

  async load(): Promise<void> {
    let text: string;
    try {
      text = await fs.readFile(this.stateFile, 'utf8');
    } catch {
      return;
    }
    try {
      const s = JSON.parse(text) as { version: number; lastSeq: number | null; me?: Me; tasks: WorkspaceTask[] };
      if (s.version !== STATE_VERSION || !Array.isArray(s.tasks)) throw new Error('unknown format');
      this._lastSeq = typeof s.lastSeq === 'number' ? s.lastSeq : null;
      if (s.me) this.me = s.me;
      for (const t of s.tasks) if (t && typeof t.id === 'string') this.tasks.set(t.id, t);
    } catch (err) {
      this.log.warn(`workspace state ${this.stateFile} is unreadable (${errorMessage(err)}); starting from a full sync`);
      this._lastSeq = null;
    }
  }

  private scheduleSave(): void {
    if (this.saveTimer || this.isDisposed) return;
    this.saveTimer = setTimeout(() => {
      this.saveTimer = undefined;
      void this.save();
    }, 250);
  }

  /** Writes the state atomically (temp file, fsync, rename). */
  save(): Promise<void> {
    const body = JSON.stringify({ version: STATE_VERSION, lastSeq: this._lastSeq, me: this.me, tasks: [...this.tasks.values()] });
    this.saving = this.saving.then(async () => {
      try {
        await writeFileAtomic(this.stateFile, body);
      } catch (err) {
        this.log.warn(`could not write ${this.stateFile}: ${errorMessage(err)}`);
      }
    });
    return this.saving;
  }

  async close(): Promise<void> {
    if (this.saveTimer) clearTimeout(this.saveTimer);
    this.saveTimer = undefined;
    await this.save();
    this.dispose();
  }
}

/**
 * Runs workspace tasks on this machine, as local tasks (TaskService) in one chat conversation:
 * first the agent proposes a plan (phase `plan`), which goes to the workspace for approval; once it is
 * approved (in the chat, the tree or anywhere in the workspace) the agent carries it out (phase `run`)
 * in the same conversation. Every status change, throttled progress note and the result go out through
 * the persisted outbox. Connection changes never touch a run: only an explicit cancel does.
 */
import type { TaskStatus } from '../../protocol/workspace/common';
import type { ApprovalChange } from '../agent/approvals';
import type { ResolvedAgent } from '../agents';
import type { Logger } from '../ports';
import type { LocalTask, TaskService } from '../tasks/taskService';
import { Disposable } from '../util/disposable';
import type { Outbox } from './outbox';
import type { WorkspaceTask, WorkspaceTasks } from './workspaceTasks';
import { errorMessage } from '../errors';

export interface RunnerDeps {
  tasks: TaskService;
  workspace: WorkspaceTasks;
  outbox: Outbox;
  agents: () => ResolvedAgent[];
  instanceName: () => string;
  /** Assigns an unassigned task to this instance (REST) before it runs here. */
  claim: (taskId: string) => Promise<void>;
  logger: Logger;
  /** Minimum time between two progress notes of one task (default 2 s). */
  progressIntervalMs?: number;
  /** Agent approvals (any conversation): one for a workspace task pauses it (`awaiting_approval`) and is audited. */
  approvals?: (listener: (e: ApprovalChange) => void) => { dispose(): void };
}

export class TaskRunError extends Error {
  override readonly name = 'TaskRunError';
}

const TERMINAL: readonly TaskStatus[] = ['completed', 'failed', 'cancelled'];
const OUTPUT_MAX = 100_000;

export function planPrompt(t: Pick<WorkspaceTask, 'title' | 'prompt'>): string {
  return [
    'Before doing anything, propose a plan for this task for my approval: one line that sums it up, then the steps as a numbered list naming the actions you will take (the files you will edit, the commands you will run). You may read the workspace to plan; do not carry it out yet.',
    '',
    `Task: ${t.title}`,
    t.prompt && t.prompt !== t.title ? `\n${t.prompt}` : '',
  ]
    .join('\n')
    .trim();
}

/** A plan from the agent's reply: the first line is the summary, numbered lines are the steps. */
export function parsePlan(text: string): { summary: string; steps: Array<{ title: string }> } {
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const steps = lines
    .map((l) => /^(?:\d+[.)]|[-*•])\s+(.+)$/.exec(l)?.[1])
    .filter((s): s is string => !!s)
    .map((s) => ({ title: s.replace(/\*\*/g, '').slice(0, 1000) }));
  const summary = (lines.find((l) => !/^(?:\d+[.)]|[-*•])\s+/.test(l)) ?? lines[0] ?? 'Plan').replace(/^#+\s*/, '').slice(0, 2000);
  return { summary, steps: (steps.length ? steps : [{ title: summary.slice(0, 1000) || 'Carry out the task' }]).slice(0, 200) };
}

export class TaskRunner extends Disposable {
  private readonly lastNote = new Map<string, { at: number; chars: number; timer?: NodeJS.Timeout; tail: string }>();
  private readonly startedRuns = new Set<string>();

  constructor(private readonly d: RunnerDeps) {
    super();
    this._register(d.tasks.onDidChange(({ task }) => this.onLocalChange(task)));
    this._register(d.tasks.onDidOutput(({ taskId, text }) => this.onOutput(taskId, text)));
    this._register(d.workspace.onDidChange((c) => c.task && this.onWorkspaceChange(c.task)));
    if (d.approvals) this._register(d.approvals((e) => this.onApproval(e)));
  }

  /** A call of a workspace task's agent waits for (or got) a decision: the task pauses, and the workspace audits it. */
  private onApproval(e: ApprovalChange): void {
    const id = e.request.taskId;
    const t = id ? this.d.workspace.get(id) : undefined;
    if (!id || !t || TERMINAL.includes(t.status)) return;
    const r = e.request;
    const base = { tool: r.toolName, title: r.title.slice(0, 2000), reason: r.reason.slice(0, 2000) };
    if (e.kind === 'requested') {
      void this.update(id, {
        status: 'awaiting_approval',
        note: `Waiting for approval: ${r.title}`.slice(0, 20_000),
        approval: { event: 'requested', ...base },
      });
      return;
    }
    const granted = e.decision.decision === 'allow';
    const approval = {
      event: granted ? ('granted' as const) : ('denied' as const),
      ...base,
      ...(e.decision.via ? { via: e.decision.via } : {}),
      ...(e.decision.always ? { always: true } : {}),
    };
    void this.update(id, { status: 'running', note: `Agent approval ${granted ? 'granted' : 'denied'}: ${r.title}`.slice(0, 20_000), approval });
  }

  /** The local runs of a workspace task, newest first. */
  localRuns(workspaceTaskId: string): LocalTask[] {
    return this.d.tasks.list().filter((t) => t.workspaceTaskId === workspaceTaskId);
  }

  activeRun(workspaceTaskId: string): LocalTask | undefined {
    return this.localRuns(workspaceTaskId).find((t) => t.status === 'queued' || t.status === 'running');
  }

  /** Starts a workspace task here: the agent proposes a plan first. `agentId`: the agent to use (default: the task's, else the first available). */
  async run(id: string, agentId?: string): Promise<LocalTask> {
    const t = this.d.workspace.get(id);
    if (!t) throw new TaskRunError('This workspace task is not known here (yet).');
    if (TERMINAL.includes(t.status)) throw new TaskRunError(`The task is already ${t.status}.`);
    if (t.status === 'awaiting_approval')
      throw new TaskRunError(t.plan?.state === 'pending' ? 'Its plan is waiting for approval.' : 'It is waiting for an approval.');
    if (this.activeRun(id)) throw new TaskRunError('It is already running here.');
    if (!this.d.workspace.isAssignedHere(t)) {
      if (t.assignee) throw new TaskRunError('It is assigned to someone else.');
      await this.d.claim(id);
    }
    const agent = this.pickAgent(agentId ? { ...t, agentId } : t);
    return this.d.tasks.dispatch({ agentId: agent.id, prompt: planPrompt(t), title: t.title, context: t.context, workspaceTaskId: id, phase: 'plan' });
  }

  /** Cancels it: stops the local run if there is one, and tells the workspace. */
  async cancel(id: string): Promise<void> {
    const active = this.activeRun(id);
    if (active) {
      await this.d.tasks.cancel(active.id); // its `cancelled` status goes out through the outbox
      return;
    }
    const t = this.d.workspace.get(id);
    if (t && !TERMINAL.includes(t.status)) await this.update(id, { status: 'cancelled', note: `cancelled on ${this.d.instanceName()}` });
  }

  /** Reports an update for a workspace task through the outbox (also used by tests and tools). */
  update(
    id: string,
    params: {
      status: TaskStatus;
      note?: string;
      progress?: number;
      result?: { summary: string; output?: string; error?: string };
      approval?: { event: 'requested' | 'granted' | 'denied'; tool: string; title: string; reason?: string; via?: string; always?: boolean };
    },
  ): Promise<unknown> {
    return this.d.outbox.enqueue(id, 'task.update', params);
  }

  private pickAgent(t: WorkspaceTask): ResolvedAgent {
    const all = this.d.agents();
    if (t.agentId) {
      const a = all.find((x) => x.id === t.agentId);
      if (a?.available) return a;
      if (a) throw new TaskRunError(`Its agent "${a.name}" cannot run here: ${a.unavailableReason ?? 'its provider is not configured'}.`);
    }
    const a = all.find((x) => x.available && x.source === 'workspace') ?? all.find((x) => x.available);
    if (!a) throw new TaskRunError('No agent is available on this machine: set a provider key or ask for a workspace key.');
    return a;
  }

  private onLocalChange(lt: LocalTask): void {
    const id = lt.workspaceTaskId;
    if (!id) return;
    const ws = this.d.workspace.get(id);
    const open = !ws || !TERMINAL.includes(ws.status);
    const name = this.d.instanceName();
    if (lt.phase === 'plan') {
      if (lt.status === 'completed' && lt.result) void this.d.outbox.enqueue(id, 'task.submitPlan', parsePlan(lt.result.text));
      else if (lt.status === 'failed' && open)
        void this.update(id, { status: 'failed', result: { summary: `Planning failed on ${name}`, error: lt.error?.message ?? 'unknown error' } });
      return;
    }
    switch (lt.status) {
      case 'running':
        this.lastNote.set(lt.id, { at: Date.now(), chars: 0, tail: '' });
        void this.update(id, { status: 'running', note: `started on ${name}` });
        return;
      case 'completed': {
        this.stopNotes(lt.id);
        const text = lt.result?.text ?? '';
        const output = text.length > OUTPUT_MAX ? `${text.slice(0, OUTPUT_MAX)}\n…(truncated)` : text;
        void this.update(id, { status: 'completed', progress: 1, result: { summary: summarize(text), output } });
        return;
      }
      case 'failed':
        this.stopNotes(lt.id);
        if (open) void this.update(id, { status: 'failed', result: { summary: `Failed on ${name}`, error: lt.error?.message ?? 'unknown error' } });
        return;
      case 'cancelled':
        this.stopNotes(lt.id);
        if (open) void this.update(id, { status: 'cancelled', note: `cancelled on ${name}` });
        return;
      default:
        return;
    }
  }

  /** Streaming output becomes a progress note at most every `progressIntervalMs`. */
  private onOutput(localId: string, text: string): void {
    const n = this.lastNote.get(localId);
    if (!n) return;
    n.chars += text.length;
    n.tail = (n.tail + text).slice(-400);
    if (n.timer) return;
    const wait = Math.max(0, n.at + (this.d.progressIntervalMs ?? 2000) - Date.now());
    n.timer = setTimeout(() => {
      n.timer = undefined;
      const lt = this.d.tasks.get(localId);
      if (!lt?.workspaceTaskId || lt.status !== 'running') return;
      n.at = Date.now();
      const last =
        n.tail
          .split('\n')
          .map((l) => l.trim())
          .filter(Boolean)
          .pop() ?? '';
      void this.update(lt.workspaceTaskId, { status: 'running', note: `${n.chars} characters so far${last ? `: ${last.slice(0, 200)}` : ''}` });
    }, wait);
  }

  private stopNotes(localId: string): void {
    const n = this.lastNote.get(localId);
    if (n?.timer) clearTimeout(n.timer);
    this.lastNote.delete(localId);
  }

  private onWorkspaceChange(t: WorkspaceTask): void {
    const me = this.d.workspace.identity;
    if (TERMINAL.includes(t.status)) {
      const active = this.activeRun(t.id);
      if (active && t.status === 'cancelled') {
        this.d.logger.info(`workspace task ${t.id} was cancelled in the workspace; stopping its run here`);
        void this.d.tasks.cancel(active.id).catch(() => undefined);
      }
      return;
    }
    const p = t.plan;
    if (!p || p.state !== 'approved' || !me || p.submittedBy.type !== 'instance' || p.submittedBy.id !== me.instanceId) return;
    this.startApproved(t);
  }

  /** After approval: carry the plan out in the planning conversation (once per plan). */
  private startApproved(t: WorkspaceTask): void {
    const p = t.plan;
    if (!p || this.startedRuns.has(p.id) || this.activeRun(t.id)) return;
    const runs = this.localRuns(t.id);
    const planned = runs.find((r) => r.phase === 'plan' && r.status === 'completed');
    if (!planned) return;
    if (runs.some((r) => r.phase === 'run' && (!p.decidedAt || r.createdAt >= p.decidedAt))) return;
    this.startedRuns.add(p.id);
    const comment = p.comment ? `\n\nReviewer's comment: ${p.comment}` : '';
    void this.d.tasks
      .dispatch({
        agentId: planned.agentId,
        prompt: `The plan was approved. Carry it out now.${comment}`,
        title: t.title,
        workspaceTaskId: t.id,
        phase: 'run',
        conversationId: planned.conversationId ?? undefined,
      })
      .catch((err: unknown) => {
        this.d.logger.warn(`could not start approved task ${t.id}:`, err instanceof Error ? err : String(err));
        void this.update(t.id, { status: 'failed', result: { summary: `Could not start on ${this.d.instanceName()}`, error: errorMessage(err) } });
      });
  }

  /** After a (re)connect: start plans approved while this machine was away; report runs a restart interrupted. */
  reconcile(): void {
    for (const t of this.d.workspace.list()) {
      if (TERMINAL.includes(t.status)) continue;
      if (t.plan?.state === 'approved') this.startApproved(t);
      const last = this.localRuns(t.id)[0];
      if (t.status === 'running' && last?.phase === 'run' && last.status === 'failed' && last.error?.kind === 'interrupted' && !this.reported.has(last.id)) {
        this.reported.add(last.id);
        void this.update(t.id, { status: 'failed', result: { summary: `Interrupted on ${this.d.instanceName()}`, error: last.error.message } });
      }
    }
  }

  private readonly reported = new Set<string>();

  override dispose(): void {
    for (const n of this.lastNote.values()) if (n.timer) clearTimeout(n.timer);
    super.dispose();
  }
}

function summarize(text: string): string {
  const first =
    text
      .split('\n')
      .map((l) => l.trim())
      .find(Boolean) ?? '';
  return (first.length > 500 ? `${first.slice(0, 500)}…` : first) || 'Done';
}

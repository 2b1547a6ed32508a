/**
 * Tasks: create, list and filter, assign/reassign, status with progress notes and result, plans and
 * their approval, audit entries. Every mutation runs in the write queue (committed before the answer)
 * behind an idempotency key and emits `task.*` events in the same transaction.
 *
 * Who may change a task: Owner/Admin always; otherwise its assignee (the member, the instance, or the
 * member who registered the assigned instance). A queued (unassigned) task is claimed by whoever sets
 * it `running`. The creator may also cancel. A plan is never decided by the instance that submitted it.
 * Who may (re)assign: `TASK_ASSIGNMENT_RULES` (common.ts, in docs/protocol.md), enforced by `canAssign`;
 * every assignment and claim is an audit entry `task.assigned` with `from`, `to` and `via`.
 */
import type { z } from 'zod';
import { roleHas, TASK_TRANSITIONS, TERMINAL_TASK_STATUSES, taskStatusSchema, type TaskStatus } from '../../protocol/workspace/common';
import type { Actor, Assignee, Plan, Task, TaskState } from '../../protocol/workspace/models';
import type {
  assignTaskRequestSchema,
  createTaskRequestSchema,
  submitPlanRequestSchema,
  taskDetailResponseSchema,
  taskListResponseSchema,
  taskStatusRequestSchema,
  planDecisionRequestSchema,
} from '../../protocol/workspace/rest';
import { newId } from '../crypto/tokens';
import type { Sql } from '../db/store';
import type { Tx } from '../db/writeQueue';
import { ApiError, forbidden, notFound } from '../errors';
import { actorOf, type Access } from './access';
import { audit } from './audit';
import type { ServerContext } from './context';
import { idempotent, type IdempotencyKey, type Reply } from './idempotency';
import { toPlan, toProgress, toTask, type PlanRow, type ProgressRow, type TaskRow } from './rows';

export interface TaskFilter {
  statuses?: TaskStatus[];
  assigneeMemberId?: string;
  assigneeInstanceId?: string;
  agentId?: string;
  limit?: number;
  cursor?: string;
}

type TaskBody = { task: Task };

const stateOf = ({ prompt: _p, context: _c, ...state }: Task): TaskState => state;
const assigneeRef = (x: Assignee): { type: 'member' | 'instance'; id: string } =>
  x.type === 'member' ? { type: 'member', id: x.memberId } : { type: 'instance', id: x.instanceId };
const assigneeOf = (t: Pick<TaskRow, 'assignee_type' | 'assignee_id'>): Assignee | null =>
  t.assignee_type === 'member' && t.assignee_id
    ? { type: 'member', memberId: t.assignee_id }
    : t.assignee_type === 'instance' && t.assignee_id
      ? { type: 'instance', instanceId: t.assignee_id }
      : null;
type PlanBody = { task: Task; plan: Plan };

export class Tasks {
  constructor(private readonly ctx: ServerContext) {}

  private async row(tx: { db: Sql }, workspaceId: string, taskId: string): Promise<TaskRow> {
    const r = (await tx.db.get('SELECT * FROM tasks WHERE id = ? AND workspace_id = ?', taskId, workspaceId)) as TaskRow | undefined;
    if (!r) throw notFound('task');
    return r;
  }

  private async checkAssignee(tx: Tx, workspaceId: string, assignee: Assignee): Promise<void> {
    const ok =
      assignee.type === 'member'
        ? await tx.db.get('SELECT 1 FROM members WHERE id = ? AND workspace_id = ?', assignee.memberId, workspaceId)
        : await tx.db.get('SELECT 1 FROM instances WHERE id = ? AND workspace_id = ?', assignee.instanceId, workspaceId);
    if (!ok) throw notFound(`assignee ${assignee.type}`);
  }

  private async canWork(tx: Tx, a: Access, t: TaskRow): Promise<boolean> {
    return roleHas(a.role, 'settings.manage') || (await this.isMine(tx, a, { type: t.assignee_type, id: t.assignee_id }));
  }

  /** Whether an assignee is the caller: their member, or an instance they registered (or the calling instance). */
  private async isMine(tx: Tx, a: Access, who: { type: TaskRow['assignee_type']; id: string | null }): Promise<boolean> {
    if (who.type === 'member') return who.id === a.memberId;
    if (who.type === 'instance') {
      if (who.id === a.instanceId) return true;
      const owner = (await tx.db.get('SELECT member_id FROM instances WHERE id = ?', who.id)) as { member_id: string } | undefined;
      return owner?.member_id === a.memberId;
    }
    return false;
  }

  /** TASK_ASSIGNMENT_RULES, in order. */
  private async canAssign(tx: Tx, a: Access, t: TaskRow, to: Assignee | null): Promise<boolean> {
    if (roleHas(a.role, 'settings.manage')) return true;
    if (!roleHas(a.role, 'agents.use')) return false;
    if (await this.isMine(tx, a, { type: t.assignee_type, id: t.assignee_id })) return true;
    if (t.assignee_type === null && to !== null) return await this.isMine(tx, a, assigneeRef(to));
    return this.isCreator(a, t) && (t.status === 'queued' || t.status === 'assigned');
  }

  private isCreator(a: Access, t: TaskRow): boolean {
    return (t.created_by_type === 'member' && t.created_by_id === a.memberId) || (t.created_by_type === 'instance' && t.created_by_id === a.instanceId);
  }

  private checkVersion(t: TaskRow, expected: number | undefined): void {
    if (expected !== undefined && expected !== t.version) throw new ApiError('version_conflict', `task is at version ${t.version}`, { version: t.version });
  }

  private async note(tx: Tx, taskId: string, status: TaskStatus, note: string | null, progress: number | null, actor: Actor): Promise<ProgressRow> {
    const r = (await tx.db.get(
      'INSERT INTO task_progress (task_id, ts, status, note, progress, actor_type, actor_id) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id',
      taskId,
      tx.now,
      status,
      note,
      progress,
      actor.type,
      actor.id,
    )) as { id: number };
    return { id: r.id, task_id: taskId, ts: tx.now, status, note, progress, actor_type: actor.type, actor_id: actor.id };
  }

  create(a: Access, req: z.infer<typeof createTaskRequestSchema>, idem: IdempotencyKey | undefined): Promise<Reply<TaskBody>> {
    return this.ctx.queue.run(async (tx) =>
      idempotent(tx, idem, this.ctx.box, false, async () => ({ status: 201, body: { task: await this.createIn(tx, a.workspaceId, actorOf(a), req) } })),
    );
  }

  /** Transaction body of task creation (also used by the admin CLI and the demo). */
  async createIn(tx: Tx, workspaceId: string, actor: Actor, req: z.infer<typeof createTaskRequestSchema>): Promise<Task> {
    if (req.agentId && !(await tx.db.get('SELECT 1 FROM agents WHERE id = ? AND workspace_id = ?', req.agentId, workspaceId))) throw notFound('agent');
    if (req.assignee) await this.checkAssignee(tx, workspaceId, req.assignee);
    const id = newId('tsk');
    const assigneeId = req.assignee ? (req.assignee.type === 'member' ? req.assignee.memberId : req.assignee.instanceId) : null;
    await tx.db.run(
      `INSERT INTO tasks (id, workspace_id, title, prompt, agent_id, assignee_type, assignee_id, context, status, created_by_type, created_by_id, created_at, updated_at, version)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)`,
      id,
      workspaceId,
      req.title,
      req.prompt,
      req.agentId ?? null,
      req.assignee?.type ?? null,
      assigneeId,
      JSON.stringify(req.context ?? {}),
      req.assignee ? 'assigned' : 'queued',
      actor.type,
      actor.id,
      tx.now,
      tx.now,
    );
    const task = toTask(await this.row(tx, workspaceId, id));
    await audit(tx, workspaceId, actor, 'task.created', { type: 'task', id }, { title: req.title, assignee: req.assignee ?? null });
    tx.emit(workspaceId, 'task.created', { task });
    return task;
  }

  async list(a: Access, f: TaskFilter): Promise<z.infer<typeof taskListResponseSchema>> {
    const where = ['workspace_id = ?'];
    const args: Array<string | number> = [a.workspaceId];
    if (f.statuses?.length) {
      for (const s of f.statuses) if (!taskStatusSchema.safeParse(s).success) throw new ApiError('validation_failed', `unknown status "${s}"`);
      where.push(`status IN (${f.statuses.map(() => '?').join(', ')})`);
      args.push(...f.statuses);
    }
    if (f.assigneeMemberId) {
      where.push("assignee_type = 'member' AND assignee_id = ?");
      args.push(f.assigneeMemberId);
    }
    if (f.assigneeInstanceId) {
      where.push("assignee_type = 'instance' AND assignee_id = ?");
      args.push(f.assigneeInstanceId);
    }
    if (f.agentId) {
      where.push('agent_id = ?');
      args.push(f.agentId);
    }
    if (f.cursor) {
      let cur: unknown;
      try {
        cur = JSON.parse(Buffer.from(f.cursor, 'base64url').toString('utf8'));
      } catch {
        cur = undefined;
      }
      if (!Array.isArray(cur) || typeof cur[0] !== 'number' || typeof cur[1] !== 'string') throw new ApiError('validation_failed', 'bad cursor');
      where.push('(created_at < ? OR (created_at = ? AND id < ?))');
      args.push(cur[0], cur[0], cur[1]);
    }
    const limit = Math.max(1, Math.min(f.limit ?? 100, 500));
    const rows = (await this.ctx.db.all(
      `SELECT * FROM tasks WHERE ${where.join(' AND ')} ORDER BY created_at DESC, id DESC LIMIT ?`,
      ...args,
      limit + 1,
    )) as TaskRow[];
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return { tasks: page.map(toTask), nextCursor: rows.length > limit ? Buffer.from(JSON.stringify([last.created_at, last.id])).toString('base64url') : null };
  }

  async get(a: Access, taskId: string): Promise<z.infer<typeof taskDetailResponseSchema>> {
    const t = await this.row(this.ctx, a.workspaceId, taskId);
    const progress = (await this.ctx.db.all('SELECT * FROM task_progress WHERE task_id = ? ORDER BY id', taskId)) as ProgressRow[];
    const plans = (await this.ctx.db.all('SELECT * FROM task_plans WHERE task_id = ? ORDER BY submitted_at, id', taskId)) as PlanRow[];
    return { task: toTask(t), progress: progress.map(toProgress), plans: plans.map(toPlan) };
  }

  /** Deletes a task (Owner/Admin; the route checks `settings.manage`). */
  delete(a: Access, taskId: string, idem: IdempotencyKey | undefined): Promise<Reply<{ ok: true }>> {
    return this.ctx.queue.run(async (tx) =>
      idempotent(tx, idem, this.ctx.box, false, async () => {
        await this.deleteIn(tx, a.workspaceId, actorOf(a), taskId);
        return { status: 200, body: { ok: true as const } };
      }),
    );
  }

  /**
   * Transaction body of a deletion (also the admin CLI's `delete-task`, which works while the server is
   * down): the row with its notes and plans (cascade), the prompt and context in its `task.created`
   * events, an audit entry, and a `task.deleted` event.
   */
  async deleteIn(tx: Tx, workspaceId: string, actor: Actor, taskId: string): Promise<void> {
    const t = await this.row(tx, workspaceId, taskId);
    await tx.db.run('DELETE FROM tasks WHERE id = ?', taskId);
    const created = (await tx.db.all(
      "SELECT seq, data FROM events WHERE workspace_id = ? AND name = 'task.created' AND data LIKE ?",
      workspaceId,
      `%"id":"${taskId}"%`,
    )) as Array<{ seq: number; data: string }>;
    for (const e of created) {
      const d = JSON.parse(e.data) as { task: Task };
      if (d.task.id !== taskId) continue;
      d.task.prompt = '';
      d.task.context = {};
      await tx.db.run('UPDATE events SET data = ? WHERE workspace_id = ? AND seq = ?', JSON.stringify(d), workspaceId, e.seq);
    }
    await audit(tx, workspaceId, actor, 'task.deleted', { type: 'task', id: taskId }, { title: t.title.slice(0, 200), status: t.status });
    tx.emit(workspaceId, 'task.deleted', { taskId });
  }

  assign(a: Access, taskId: string, req: z.infer<typeof assignTaskRequestSchema>, idem: IdempotencyKey | undefined): Promise<Reply<TaskBody>> {
    return this.ctx.queue.run(async (tx) =>
      idempotent(tx, idem, this.ctx.box, false, async () => {
        const t = await this.row(tx, a.workspaceId, taskId);
        if (TERMINAL_TASK_STATUSES.includes(t.status)) throw new ApiError('invalid_transition', `task is ${t.status}`);
        if (!(await this.canAssign(tx, a, t, req.assignee)))
          throw forbidden('only an Owner/Admin, the assignee, or the creator of a task that has not started may reassign it; anyone may take a queued task');
        this.checkVersion(t, req.expectedVersion);
        if (req.assignee) await this.checkAssignee(tx, a.workspaceId, req.assignee);
        const status: TaskStatus = req.assignee ? 'assigned' : 'queued';
        const assigneeId = req.assignee ? (req.assignee.type === 'member' ? req.assignee.memberId : req.assignee.instanceId) : null;
        await tx.db.run(
          'UPDATE tasks SET assignee_type = ?, assignee_id = ?, status = ?, updated_at = ?, version = version + 1 WHERE id = ?',
          req.assignee?.type ?? null,
          assigneeId,
          status,
          tx.now,
          taskId,
        );
        const actor = actorOf(a);
        const n = await this.note(tx, taskId, status, req.assignee ? `assigned to ${req.assignee.type} ${assigneeId}` : 'unassigned', null, actor);
        const task = toTask(await this.row(tx, a.workspaceId, taskId));
        await audit(tx, a.workspaceId, actor, 'task.assigned', { type: 'task', id: taskId }, { from: assigneeOf(t), to: req.assignee, via: 'assign' });
        tx.emit(a.workspaceId, 'task.updated', { task: stateOf(task), note: toProgress(n) });
        return { status: 200, body: { task } };
      }),
    );
  }

  updateStatus(a: Access, taskId: string, req: z.infer<typeof taskStatusRequestSchema>, idem: IdempotencyKey | undefined): Promise<Reply<TaskBody>> {
    return this.ctx.queue.run(async (tx) =>
      idempotent(tx, idem, this.ctx.box, false, async () => ({ status: 200, body: { task: await this.statusIn(tx, a, taskId, req) } })),
    );
  }

  private async statusIn(tx: Tx, a: Access, taskId: string, req: z.infer<typeof taskStatusRequestSchema>): Promise<Task> {
    const t = await this.row(tx, a.workspaceId, taskId);
    const claim = t.assignee_type === null && t.status === 'queued' && req.status === 'running';
    const allowed = claim || (await this.canWork(tx, a, t)) || (req.status === 'cancelled' && this.isCreator(a, t));
    if (!allowed) throw forbidden('only the assignee, the creator (to cancel) or an Owner/Admin can change this task');
    if (!TASK_TRANSITIONS[t.status].includes(req.status))
      throw new ApiError('invalid_transition', `cannot go from ${t.status} to ${req.status}`, { from: t.status, to: req.status });
    this.checkVersion(t, req.expectedVersion);
    const actor = actorOf(a);
    const progress = req.progress ?? (req.status === 'completed' ? 1 : t.progress);
    const result = req.result ? JSON.stringify(req.result) : t.result;
    if (claim) {
      await tx.db.run('UPDATE tasks SET assignee_type = ?, assignee_id = ? WHERE id = ?', actor.type === 'instance' ? 'instance' : 'member', actor.id, taskId);
    }
    await tx.db.run(
      'UPDATE tasks SET status = ?, progress = ?, result = ?, updated_at = ?, version = version + 1 WHERE id = ?',
      req.status,
      progress,
      result,
      tx.now,
      taskId,
    );
    const n = await this.note(tx, taskId, req.status, req.note ?? null, req.progress ?? null, actor);
    const updated: TaskRow = { ...t, status: req.status, progress, result, updated_at: tx.now, version: t.version + 1 };
    if (claim) {
      updated.assignee_type = actor.type === 'instance' ? 'instance' : 'member';
      updated.assignee_id = actor.id;
    }
    const task = toTask(updated);
    if (claim) audit(tx, a.workspaceId, actor, 'task.assigned', { type: 'task', id: taskId }, { from: null, to: task.assignee, via: 'claim' });
    if (req.status !== t.status && (TERMINAL_TASK_STATUSES.includes(req.status) || req.status === 'running')) {
      const details: Record<string, unknown> = { from: t.status };
      if (req.result) details.outcome = req.result.error ? 'error' : 'ok';
      await audit(tx, a.workspaceId, actor, `task.${req.status}`, { type: 'task', id: taskId }, details);
    }
    if (req.approval) {
      const { event, ...details } = req.approval;
      audit(tx, a.workspaceId, actor, `agent.approval.${event}`, { type: 'task', id: taskId }, details);
    }
    tx.emit(a.workspaceId, 'task.updated', { task: stateOf(task), note: toProgress(n) });
    return task;
  }

  submitPlan(a: Access, taskId: string, req: z.infer<typeof submitPlanRequestSchema>, idem: IdempotencyKey | undefined): Promise<Reply<PlanBody>> {
    return this.ctx.queue.run(async (tx) =>
      idempotent(tx, idem, this.ctx.box, false, async () => {
        const t = await this.row(tx, a.workspaceId, taskId);
        if (!(await this.canWork(tx, a, t))) throw forbidden('only the assignee or an Owner/Admin submits plans');
        if (!['assigned', 'running', 'awaiting_approval'].includes(t.status)) throw new ApiError('invalid_transition', `cannot plan a ${t.status} task`);
        await tx.db.run("UPDATE task_plans SET state = 'superseded' WHERE task_id = ? AND state = 'pending'", taskId);
        const actor = actorOf(a);
        const row: PlanRow = {
          id: newId('pln'),
          task_id: taskId,
          summary: req.summary,
          steps: JSON.stringify(req.steps),
          state: 'pending',
          submitted_by_type: actor.type,
          submitted_by_id: actor.id,
          submitted_at: tx.now,
          decided_by_type: null,
          decided_by_id: null,
          decided_at: null,
          comment: null,
        };
        await tx.db.run(
          'INSERT INTO task_plans (id, task_id, summary, steps, state, submitted_by_type, submitted_by_id, submitted_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
          row.id,
          taskId,
          row.summary,
          row.steps,
          row.state,
          row.submitted_by_type,
          row.submitted_by_id,
          row.submitted_at,
        );
        await tx.db.run("UPDATE tasks SET status = 'awaiting_approval', updated_at = ?, version = version + 1 WHERE id = ?", tx.now, taskId);
        const n = await this.note(tx, taskId, 'awaiting_approval', 'plan submitted', null, actor);
        const task = toTask(await this.row(tx, a.workspaceId, taskId));
        const plan = toPlan(row);
        await audit(tx, a.workspaceId, actor, 'plan.submitted', { type: 'plan', id: row.id }, { taskId, steps: req.steps.length });
        tx.emit(a.workspaceId, 'task.plan', { taskId, plan });
        tx.emit(a.workspaceId, 'task.updated', { task: stateOf(task), note: toProgress(n) });
        return { status: 201, body: { task, plan } };
      }),
    );
  }

  decidePlan(
    a: Access,
    taskId: string,
    planId: string,
    req: z.infer<typeof planDecisionRequestSchema>,
    idem: IdempotencyKey | undefined,
  ): Promise<Reply<PlanBody>> {
    return this.ctx.queue.run(async (tx) =>
      idempotent(tx, idem, this.ctx.box, false, async () => {
        const t = await this.row(tx, a.workspaceId, taskId);
        const p = (await tx.db.get('SELECT * FROM task_plans WHERE id = ? AND task_id = ?', planId, taskId)) as PlanRow | undefined;
        if (!p) throw notFound('plan');
        if (p.state !== 'pending') throw new ApiError('conflict', `plan is ${p.state}`);
        if (a.instanceId && p.submitted_by_type === 'instance' && p.submitted_by_id === a.instanceId)
          throw forbidden('an instance cannot approve its own plan');
        const actor = actorOf(a);
        const approved = req.decision === 'approved';
        await tx.db.run(
          'UPDATE task_plans SET state = ?, decided_by_type = ?, decided_by_id = ?, decided_at = ?, comment = ? WHERE id = ?',
          req.decision,
          actor.type,
          actor.id,
          tx.now,
          req.comment ?? null,
          planId,
        );
        const status: TaskStatus = approved ? 'running' : 'assigned';
        if (t.status === 'awaiting_approval')
          await tx.db.run('UPDATE tasks SET status = ?, updated_at = ?, version = version + 1 WHERE id = ?', status, tx.now, taskId);
        const after = await this.row(tx, a.workspaceId, taskId);
        const n = await this.note(tx, taskId, after.status, `plan ${req.decision}`, null, actor);
        const task = toTask(after);
        const plan = toPlan((await tx.db.get('SELECT * FROM task_plans WHERE id = ?', planId)) as PlanRow);
        await audit(
          tx,
          a.workspaceId,
          actor,
          approved ? 'plan.approved' : 'plan.rejected',
          { type: 'plan', id: planId },
          { taskId, comment: req.comment ?? null },
        );
        tx.emit(a.workspaceId, 'task.plan', { taskId, plan });
        tx.emit(a.workspaceId, 'task.updated', { task: stateOf(task), note: toProgress(n) });
        return { status: 200, body: { task, plan } };
      }),
    );
  }
}

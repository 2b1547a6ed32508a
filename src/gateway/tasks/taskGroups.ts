/**
 * What the Tasks tree shows, as plain data: local tasks and workspace tasks (a workspace task's local
 * runs enrich its row instead of showing twice), grouped by status, with the actions each row offers
 * and the number of tasks waiting for me (the view's badge). Pure, so the tree, tests and the
 * assign-latency benchmark share it.
 */
import type { ApprovalRequest } from '../../protocol/agent';
import type { TaskStatus } from '../../protocol/workspace/common';
import type { LocalTask } from './taskService';
import type { WorkspaceTask } from '../workspace/workspaceTasks';

export type TaskAction = 'run' | 'cancel' | 'open' | 'approve' | 'reject';

export interface TaskRow {
  /** `w:<id>` for a workspace task, `l:<id>` for a local one. */
  key: string;
  kind: 'workspace' | 'local';
  id: string;
  title: string;
  status: TaskStatus;
  agentId: string | null;
  createdAt: string;
  /** 0..1 when known. */
  progress: number | null;
  /** Who it is assigned to, as the user reads it ('you', 'this machine', a teammate or a desktop id); null when local or unassigned. */
  assignee: string | null;
  conversationId: string | null;
  /** Running here right now (a local run of it is streaming). */
  runningHere: boolean;
  waitingForMe: boolean;
  actions: TaskAction[];
  /** The pending plan, when it waits for approval. */
  plan?: { summary: string; steps: string[] };
  /** An agent call of this task waiting for the user's decision ("Waiting for approval"). */
  approval?: { id: string; title: string; reason: string };
  error?: string;
}

export interface TaskGroup {
  status: TaskStatus;
  label: string;
  rows: TaskRow[];
}

export interface TaskGroupsInput {
  local: LocalTask[];
  workspace: WorkspaceTask[];
  /** Me in the workspace (absent in local mode). */
  me?: { memberId: string; instanceId: string };
  /**
   * The cloud desktop the user is connected to: the list switches to it (only the workspace tasks
   * assigned to that instance; this machine's local tasks are not its).
   */
  focus?: { instanceId: string; name: string };
  /** Agent approvals waiting on this machine (Gateway.pendingApprovals()). */
  approvals?: readonly ApprovalRequest[];
}

function approvalOf(a: ApprovalRequest | undefined): TaskRow['approval'] {
  return a && { id: a.id, title: a.title, reason: a.reason };
}

export const GROUP_ORDER: ReadonlyArray<[TaskStatus, string]> = [
  ['awaiting_approval', 'Awaiting approval'],
  ['assigned', 'Assigned'],
  ['running', 'Running'],
  ['queued', 'Queued'],
  ['completed', 'Completed'],
  ['failed', 'Failed'],
  ['cancelled', 'Cancelled'],
];

const TERMINAL: readonly TaskStatus[] = ['completed', 'failed', 'cancelled'];

function assigneeLabel(t: WorkspaceTask, input: TaskGroupsInput): string | null {
  const a = t.assignee;
  const me = input.me;
  if (!a) return null;
  if (a.type === 'member') return a.memberId === me?.memberId ? 'you' : `teammate ${a.memberId}`;
  if (a.instanceId === me?.instanceId) return 'this machine';
  return a.instanceId === input.focus?.instanceId ? input.focus.name : `instance ${a.instanceId}`;
}

export function buildTaskGroups(input: TaskGroupsInput): { groups: TaskGroup[]; waitingForMe: number } {
  const runs = new Map<string, LocalTask[]>();
  const rows: TaskRow[] = [];
  const focus = input.focus;
  for (const t of focus ? [] : input.local) {
    if (t.workspaceTaskId) {
      const list = runs.get(t.workspaceTaskId) ?? [];
      list.push(t);
      runs.set(t.workspaceTaskId, list);
      continue;
    }
    const open = !TERMINAL.includes(t.status);
    const approval = approvalOf(input.approvals?.find((a) => !a.taskId && !!t.conversationId && a.conversationId === t.conversationId));
    rows.push({
      key: `l:${t.id}`,
      kind: 'local',
      id: t.id,
      title: t.title,
      status: t.status,
      agentId: t.agentId,
      createdAt: t.createdAt,
      progress: t.status === 'completed' ? 1 : null,
      assignee: null,
      conversationId: t.conversationId,
      runningHere: t.status === 'running',
      waitingForMe: !!approval,
      actions: [...(open ? ['cancel' as const] : []), ...(t.conversationId ? ['open' as const] : [])],
      error: t.error?.message,
      ...(approval ? { approval } : {}),
    });
  }
  const me = input.me;
  for (const t of input.workspace) {
    if (focus && !(t.assignee?.type === 'instance' && t.assignee.instanceId === focus.instanceId)) continue;
    const mine = runs.get(t.id) ?? [];
    const active = mine.find((r) => r.status === 'queued' || r.status === 'running');
    const conversationId = mine.find((r) => r.conversationId)?.conversationId ?? null;
    const here =
      !!me &&
      ((t.assignee?.type === 'member' && t.assignee.memberId === me.memberId) || (t.assignee?.type === 'instance' && t.assignee.instanceId === me.instanceId));
    const pending = t.status === 'awaiting_approval' && t.plan?.state === 'pending' ? t.plan : undefined;
    const approval = approvalOf(input.approvals?.find((a) => a.taskId === t.id));
    const actions: TaskAction[] = [];
    if (!active && (t.status === 'assigned' || t.status === 'queued') && (here || !t.assignee)) actions.push('run');
    if (pending && here) actions.push('approve', 'reject');
    if (!TERMINAL.includes(t.status)) actions.push('cancel');
    if (conversationId) actions.push('open');
    rows.push({
      key: `w:${t.id}`,
      kind: 'workspace',
      id: t.id,
      title: t.title,
      status: t.status,
      agentId: t.agentId ?? active?.agentId ?? mine[0]?.agentId ?? null,
      createdAt: t.createdAt,
      progress: t.progress,
      assignee: assigneeLabel(t, input),
      conversationId,
      runningHere: !!active,
      waitingForMe: !!approval || (here && ((t.status === 'assigned' && !active) || !!pending)),
      actions,
      plan: pending ? { summary: pending.summary, steps: pending.steps.map((s) => s.title) } : undefined,
      error: t.result?.error,
      ...(approval ? { approval } : {}),
    });
  }
  rows.sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0));
  const groups: TaskGroup[] = [];
  for (const [status, label] of GROUP_ORDER) {
    const inGroup = rows.filter((r) => r.status === status);
    if (inGroup.length) groups.push({ status, label, rows: inGroup });
  }
  return { groups, waitingForMe: rows.filter((r) => r.waitingForMe).length };
}

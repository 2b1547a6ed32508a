/**
 * What a signed-in user does with the workspace from the editor: dispatch a task (to this machine, a
 * teammate or a cloud desktop), approve or reject a plan (recorded in the workspace and its audit
 * trail, as the member — an instance may not approve its own plan), upload a local provider key, list
 * teammates and cloud desktops. Calls use the sign-in (account) token; a refusal of it signs out.
 */
import { randomUUID } from 'node:crypto';
import { roleHas, type Provider } from '../../protocol/workspace/common';
import type { Assignee, Instance, Member } from '../../protocol/workspace/models';
import type { LocalTask } from '../tasks/taskService';
import { ServerApiError } from './serverApi';
import type { WorkspaceLink } from './workspaceLink';
import type { WorkspaceTask } from './workspaceTasks';

export class NotSignedInError extends Error {
  override readonly name = 'NotSignedInError';
  constructor() {
    super('Not signed in to a workspace. Run "MultiClaw: Sign In".');
  }
}

function need(link: WorkspaceLink): NonNullable<WorkspaceLink['account']> {
  const a = link.account;
  if (!a || !link.api || !link.instance) throw new NotSignedInError();
  return a;
}

/** Runs a call with the account token; an expired or revoked token ends the session (Signed out). */
async function withAccount<T>(link: WorkspaceLink, fn: (token: string) => Promise<T>): Promise<T> {
  const a = need(link);
  try {
    return await fn(a.token);
  } catch (err) {
    if (err instanceof ServerApiError && err.isAuth) {
      await link.endSession(
        err.code === 'token_expired' ? 'expired' : 'revoked',
        err.code === 'token_expired' ? 'Your MultiClaw sign-in expired.' : `Your MultiClaw sign-in is no longer valid: ${err.message}`,
      );
    }
    throw err;
  }
}

export interface WorkspaceDispatch {
  title: string;
  prompt: string;
  /** A workspace agent (its id is the workspace's). */
  agentId?: string;
  /** A local agent to run it with, when it runs here. */
  localAgentId?: string;
  context?: Record<string, unknown>;
  /** `here`: assign to this machine and start it (plan first); otherwise a teammate or a cloud desktop. */
  assignee: 'here' | Assignee;
}

export async function dispatchToWorkspace(link: WorkspaceLink, d: WorkspaceDispatch): Promise<{ task: WorkspaceTask; local?: LocalTask }> {
  const instance = link.instance;
  const api = link.api;
  if (!instance || !api) throw new NotSignedInError();
  const assignee: Assignee = d.assignee === 'here' ? { type: 'instance', instanceId: instance.id } : d.assignee;
  const r = await withAccount(link, (token) =>
    api.createTask(
      token,
      instance.workspaceId,
      {
        title: d.title.slice(0, 500),
        prompt: d.prompt,
        agentId: d.agentId,
        assignee,
        context: d.context,
      },
      `mc-${randomUUID()}`,
    ),
  );
  link.workspaceTasks?.merge([r.task]);
  const task = link.workspaceTasks?.get(r.task.id) ?? r.task;
  if (d.assignee !== 'here') return { task };
  const local = await link.runner?.run(r.task.id, d.localAgentId ?? d.agentId);
  return { task, local };
}

/** Approves or rejects the pending plan of a task. */
export async function decidePlan(link: WorkspaceLink, taskId: string, decision: 'approved' | 'rejected', comment?: string): Promise<WorkspaceTask> {
  const instance = link.instance;
  const api = link.api;
  if (!instance || !api) throw new NotSignedInError();
  let t = link.workspaceTasks?.get(taskId);
  let planId = t?.plan?.state === 'pending' ? t.plan.id : undefined;
  if (!planId) {
    const d = await withAccount(link, (token) => api.getTask(token, instance.workspaceId, taskId));
    planId = d.plans.filter((p) => p.state === 'pending').pop()?.id;
  }
  if (!planId) throw new Error('This task has no plan waiting for a decision.');
  const pid = planId;
  const r = await withAccount(link, (token) => api.decidePlan(token, instance.workspaceId, taskId, pid, decision, comment, `decide-${pid}`));
  link.workspaceTasks?.merge([{ ...r.task, plan: r.plan }]);
  t = link.workspaceTasks?.get(taskId);
  return t ?? { ...r.task, plan: r.plan };
}

/** Whether the signed-in role may manage workspace settings (agents, guardrails, provider keys). */
export function canManageSettings(link: WorkspaceLink): boolean {
  const a = link.account;
  return !!a && roleHas(a.workspace.role, 'settings.manage');
}

/** Uploads a local provider key to the workspace (Owner/Admin). */
export async function syncProviderKey(link: WorkspaceLink, provider: Provider, apiKey: string): Promise<void> {
  const a = need(link);
  if (!canManageSettings(link))
    throw new Error(`Your role in ${a.workspace.name} (${a.workspace.role}) cannot manage workspace provider keys; ask an owner or admin.`);
  const api = link.api;
  if (!api) throw new NotSignedInError();
  await withAccount(link, (token) => api.setProviderKey(token, a.workspace.id, provider, apiKey));
  link.log.info(`uploaded the ${provider} key to ${a.workspace.name}`);
}

export async function teammates(link: WorkspaceLink): Promise<Member[]> {
  const a = need(link);
  const api = link.api;
  if (!api) throw new NotSignedInError();
  return (await withAccount(link, (token) => api.members(token, a.workspace.id))).members;
}

export async function cloudDesktops(link: WorkspaceLink): Promise<Instance[]> {
  const a = need(link);
  const api = link.api;
  if (!api) throw new NotSignedInError();
  return (await withAccount(link, (token) => api.instances(token, a.workspace.id))).instances.filter((i) => i.kind === 'desktop');
}

/**
 * Workspace commands and notifications: Sign In / Sign Out, Reconnect, Show Tasks, Dispatch Task…,
 * Sync Provider Key to Workspace, and the Tasks tree's actions (Run, Cancel, Open Conversation,
 * Approve Plan, Reject). Tells the user when the session expired or was revoked (with Sign In), and
 * when a plan waits for their approval (Approve / Reject / Open Conversation).
 */
import * as vscode from 'vscode';
import type { LinkStatus } from '../../gateway/cloud/linkState';
import type * as WorkspaceActions from '../../gateway/cloud/workspaceActions';
import type { WorkspaceTaskChange } from '../../gateway/cloud/workspaceTasks';
import type { Gateway } from '../../gateway/gateway';
import type { Logger } from '../../gateway/ports';
import { PROVIDER_IDS, PROVIDER_LABELS, type ProviderId } from '../../gateway/providers/types';
import type { IDisposable } from '../../gateway/util/disposable';
import type { ChatViewProvider } from '../chat/chatViewProvider';
import { showError } from '../commands';
import { TaskItem, type TasksTree } from '../tasksTree';
import { dispatchTask, type DispatchArgs } from './dispatch';
import { runSignIn, type SignInArgs } from './signInFlow';

export interface WorkspaceCommandDeps {
  gateway: Gateway;
  chatView: ChatViewProvider;
  tasksTree: TasksTree;
  logger: Logger;
}

function keyOf(arg: unknown): string | undefined {
  if (arg instanceof TaskItem) return arg.row.key;
  return typeof arg === 'string' ? arg : undefined;
}

export function registerWorkspaceCommands(d: WorkspaceCommandDeps): vscode.Disposable[] {
  const { gateway, chatView, tasksTree, logger } = d;
  const reg = vscode.commands.registerCommand;
  const actions = (): Promise<typeof WorkspaceActions> => import('../../gateway/cloud/workspaceActions');
  const guard = (what: string, fn: (...args: unknown[]) => Promise<unknown>) => async (...args: unknown[]): Promise<unknown> => {
    try {
      return await fn(...args);
    } catch (err) {
      showError(`${what} failed: ${err instanceof Error ? err.message : String(err)}`, logger, err);
      return undefined;
    }
  };
  const row = (arg: unknown): NonNullable<ReturnType<TasksTree['row']>> => {
    const key = keyOf(arg);
    // No argument (the Chat view's title bar): the task whose conversation the chat shows.
    const r = key ? tasksTree.row(key) : tasksTree.allRows().find((x) => x.kind === 'workspace' && x.conversationId && x.conversationId === chatView.conversationId);
    if (!r) throw new Error('That task is not in the Tasks view (any more).');
    return r;
  };
  const signOut = async (confirmed?: unknown): Promise<void> => {
    if (!gateway.isRunning) await gateway.start();
    const queued = gateway.workspace.status.queued;
    if (confirmed !== true) {
      const ok = await vscode.window.showWarningMessage(`Sign out of ${gateway.workspace.status.workspace?.name ?? 'the workspace'}?`, {
        modal: true,
        detail: `This machine's workspace token and your sign-in are revoked on the server and removed here.${queued ? ` ${queued} task update${queued === 1 ? ' is' : 's are'} not delivered yet and will be dropped.` : ''} Local agents keep working.`,
      }, 'Sign Out');
      if (ok !== 'Sign Out') return;
    }
    const { signOut: run } = await import('../../gateway/cloud/signIn');
    const { revoked } = await run(gateway.cloud);
    void vscode.window.showInformationMessage(revoked ? 'MultiClaw: signed out.' : 'MultiClaw: signed out here; the server could not be reached to revoke the tokens (a workspace owner can remove this instance).');
  };

  return [
    reg('multiclaw.signIn', (args?: SignInArgs) => runSignIn(gateway, logger, args && typeof args === 'object' ? args : {})),
    reg('multiclaw.signOut', guard('Sign out', signOut)),
    reg('multiclaw.reconnect', guard('Reconnect', async () => {
      if (!gateway.isRunning) await gateway.start();
      if (!gateway.cloud.isSignedIn) return vscode.commands.executeCommand('multiclaw.signIn');
      gateway.cloud.reconnect();
      return undefined;
    })),
    reg('multiclaw.showTasks', () => vscode.commands.executeCommand('multiclaw.tasks.focus')),
    reg('multiclaw.refreshTasks', () => tasksTree.refresh()),
    reg('multiclaw.dispatchTask', guard('Dispatch', (args?: unknown) => dispatchTask(gateway, chatView, logger, args && typeof args === 'object' ? args as DispatchArgs : {}))),
    reg('multiclaw.syncProviderKey', guard('Sync Provider Key', async (providerArg?: unknown, confirmed?: unknown) => {
      if (!gateway.isRunning || !gateway.cloud.isSignedIn) return vscode.window.showWarningMessage('MultiClaw: sign in to a workspace first.', 'Sign In').then((b) => b && vscode.commands.executeCommand('multiclaw.signIn'));
      const { canManageSettings, syncProviderKey } = await actions();
      if (!canManageSettings(gateway.cloud)) {
        const a = gateway.cloud.account;
        return vscode.window.showWarningMessage(`MultiClaw: your role in ${a?.workspace.name ?? 'the workspace'} (${a?.workspace.role ?? '?'}) cannot manage workspace provider keys; ask an owner or admin.`);
      }
      const provider = typeof providerArg === 'string' && (PROVIDER_IDS as readonly string[]).includes(providerArg) ? providerArg as ProviderId
        : (await vscode.window.showQuickPick(PROVIDER_IDS.filter((p) => gateway.keys.has(p)).map((p) => ({ label: PROVIDER_LABELS[p], id: p })), { title: 'Sync which local key to the workspace?' }))?.id;
      if (!provider) return undefined;
      const key = gateway.keys.get(provider);
      if (!key) return vscode.window.showWarningMessage(`MultiClaw: there is no local ${PROVIDER_LABELS[provider]} key to sync.`);
      if (confirmed !== true) {
        const ok = await vscode.window.showWarningMessage(`Upload your ${PROVIDER_LABELS[provider]} key to ${gateway.cloud.account?.workspace.name}?`, { modal: true, detail: 'Every member\'s agents can then use it. It is stored encrypted and reaches each instance encrypted for it alone.' }, 'Upload');
        if (ok !== 'Upload') return undefined;
      }
      await syncProviderKey(gateway.cloud, provider, key);
      return vscode.window.showInformationMessage(`MultiClaw: ${PROVIDER_LABELS[provider]} key synced to ${gateway.cloud.account?.workspace.name}.`);
    })),
    reg('multiclaw.runTask', guard('Run', async (arg?: unknown) => {
      const r = row(arg);
      const local = await gateway.cloud.runner?.run(r.id);
      if (local) void showConversation(gateway, chatView, local.id);
    })),
    reg('multiclaw.cancelTask', guard('Cancel', async (arg?: unknown) => {
      const r = row(arg);
      if (r.kind === 'local') await gateway.tasks.cancel(r.id);
      else await gateway.cloud.runner?.cancel(r.id);
    })),
    reg('multiclaw.openTaskConversation', guard('Open Conversation', async (arg?: unknown) => {
      const r = row(arg);
      if (!r.conversationId) throw new Error('This task has no conversation on this machine.');
      await chatView.show(r.conversationId);
    })),
    reg('multiclaw.approvePlan', guard('Approve Plan', async (arg?: unknown) => {
      const r = row(arg);
      await (await actions()).decidePlan(gateway.cloud, r.id, 'approved');
    })),
    reg('multiclaw.rejectPlan', guard('Reject Plan', async (arg?: unknown, commentArg?: unknown) => {
      const r = row(arg);
      const comment = typeof commentArg === 'string' ? commentArg : await vscode.window.showInputBox({ title: `Reject the plan for “${r.title}”`, prompt: 'Why? (optional; the agent sees it when it plans again)', ignoreFocusOut: true });
      if (comment === undefined) return;
      await (await actions()).decidePlan(gateway.cloud, r.id, 'rejected', comment || undefined);
    })),
    ...notifications(d),
  ];
}

/** Opens the conversation of a local task once it has one. */
async function showConversation(gateway: Gateway, chatView: ChatViewProvider, localId: string): Promise<void> {
  const now = gateway.tasks.get(localId)?.conversationId;
  const cid = now ?? await new Promise<string | null>((resolve) => {
    const sub = gateway.tasks.onDidChange(({ task }) => {
      if (task.id !== localId || (!task.conversationId && task.status === 'queued')) return;
      sub.dispose();
      resolve(task.conversationId);
    });
  });
  if (cid) await chatView.show(cid);
}

function notifications(d: WorkspaceCommandDeps): vscode.Disposable[] {
  const { gateway } = d;
  let prev: LinkStatus = gateway.workspace.status;
  const notified = new Set<string>();
  let sub: IDisposable | undefined;
  let subscribedTo: unknown;
  const onTask = (c: WorkspaceTaskChange): void => {
    const t = c.task;
    const me = gateway.isRunning ? gateway.cloud.instance?.id : undefined;
    if (c.kind !== 'plan' || !t?.plan || t.plan.state !== 'pending' || notified.has(t.plan.id) || t.plan.submittedBy.id !== me) return;
    notified.add(t.plan.id);
    const summary = t.plan.summary.length > 120 ? `${t.plan.summary.slice(0, 119)}…` : t.plan.summary;
    const steps = t.plan.steps.length;
    void vscode.window.showInformationMessage(`MultiClaw: plan ready for “${t.title}” (${steps} step${steps === 1 ? '' : 's'}): ${summary}`, 'Approve', 'Reject', 'Open Conversation').then((b) => {
      const cmd = b === 'Approve' ? 'multiclaw.approvePlan' : b === 'Reject' ? 'multiclaw.rejectPlan' : b === 'Open Conversation' ? 'multiclaw.openTaskConversation' : undefined;
      if (cmd) void vscode.commands.executeCommand(cmd, `w:${t.id}`);
    });
  };
  const follow = (): void => {
    const ws = gateway.isRunning ? gateway.cloud.workspaceTasks : undefined;
    if (ws === subscribedTo) return;
    sub?.dispose();
    subscribedTo = ws;
    sub = ws?.onDidChange(onTask);
  };
  const onStatus = (s: LinkStatus): void => {
    follow();
    const signedIn = s.phase !== 'local' && s.phase !== 'signedOut';
    void vscode.commands.executeCommand('setContext', 'multiclaw.signedIn', signedIn);
    void vscode.commands.executeCommand('setContext', 'multiclaw.workspacePhase', s.phase);
    void vscode.commands.executeCommand('setContext', 'multiclaw.canManageWorkspace', signedIn && (s.workspace?.role === 'owner' || s.workspace?.role === 'admin'));
    const ended = s.phase === 'signedOut' && prev.phase !== 'signedOut' && (s.signedOutReason === 'expired' || s.signedOutReason === 'revoked');
    prev = s;
    if (!ended) return;
    const text = s.signedOutReason === 'expired'
      ? 'MultiClaw: your workspace sign-in expired. Local agents keep working; sign in again to get assignments.'
      : `MultiClaw: ${s.message ?? 'access to the workspace was revoked.'} Local agents keep working.`;
    void vscode.window.showWarningMessage(text, 'Sign In').then((b) => b && vscode.commands.executeCommand('multiclaw.signIn'));
  };
  onStatus(gateway.workspace.status);
  // The Chat view's title bar offers Approve / Reject while it shows a task whose plan waits for me.
  const chatPlan = (): void => {
    const cid = d.chatView.conversationId;
    const pending = !!cid && d.tasksTree.allRows().some((r) => r.conversationId === cid && r.actions.includes('approve'));
    void vscode.commands.executeCommand('setContext', 'multiclaw.chatPlanPending', pending);
  };
  return [
    gateway.workspace.onDidChange(onStatus), gateway.onDidChangeState(() => follow()), { dispose: () => sub?.dispose() },
    d.chatView.onDidShowConversation(chatPlan), d.tasksTree.onDidUpdate(chatPlan),
  ];
}

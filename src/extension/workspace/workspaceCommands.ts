/**
 * Workspace commands and notifications: Sign In / Sign Out, Reconnect, Show Tasks, Dispatch Task…,
 * Sync Provider Key to Workspace, and the Tasks tree's actions (Run, Cancel, Open Conversation,
 * Approve Plan, Reject). Tells the user when the session expired or was revoked (with Sign In), and
 * when a plan waits for their approval (Approve / Reject / Open Conversation).
 */
import * as vscode from 'vscode';
import { CMD, VIEW, CTX, setContext } from '../commandIds';
import type { LinkStatus } from '../../gateway/workspace/linkState';
import type * as WorkspaceActions from '../../gateway/workspace/workspaceActions';
import type { WorkspaceTaskChange } from '../../gateway/workspace/workspaceTasks';
import type { Gateway } from '../../gateway/gateway';
import type { Logger } from '../../gateway/ports';
import { isProviderId, PROVIDER_IDS, PROVIDER_LABELS } from '../../gateway/providers/types';
import type { ChatViewProvider } from '../chat/chatViewProvider';
import { showError } from '../commands';
import { TaskItem, type TasksTree } from '../tasksTree';
import { dispatchTask, type DispatchArgs } from './dispatch';
import { runSignIn, type SignInArgs } from './signInFlow';
import { errorMessage } from '../../gateway/errors';
import { plainText } from '../../gateway/util/plainText';

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
  const actions = (): Promise<typeof WorkspaceActions> => import('../../gateway/workspace/workspaceActions');
  const guard =
    (what: string, fn: (...args: unknown[]) => Promise<unknown>) =>
    async (...args: unknown[]): Promise<unknown> => {
      try {
        return await fn(...args);
      } catch (err) {
        showError(`${what} failed: ${errorMessage(err)}`, logger, err);
        return undefined;
      }
    };
  const row = (arg: unknown): NonNullable<ReturnType<TasksTree['row']>> => {
    const key = keyOf(arg);
    // No argument (the Chat view's title bar): the task whose conversation the chat shows.
    const r = key
      ? tasksTree.row(key)
      : tasksTree.allRows().find((x) => x.kind === 'workspace' && x.conversationId && x.conversationId === chatView.conversationId);
    if (!r) throw new Error('That task is not in the Tasks view (any more).');
    return r;
  };
  const signOut = async (confirmed?: unknown): Promise<void> => {
    await gateway.ensureRunning();
    const queued = gateway.linkStatus.current.queued;
    if (confirmed !== true) {
      const ok = await vscode.window.showWarningMessage(
        `Sign out of ${gateway.linkStatus.current.workspace?.name ?? 'the workspace'}?`,
        {
          modal: true,
          detail: `This machine's workspace token and your sign-in are revoked on the server and removed here.${queued ? ` ${queued} task update${queued === 1 ? ' is' : 's are'} not delivered yet and will be dropped.` : ''} Local agents keep working.`,
        },
        'Sign Out',
      );
      if (ok !== 'Sign Out') return;
    }
    const { signOut: run } = await import('../../gateway/workspace/signIn');
    const { revoked } = await run(gateway.link);
    void vscode.window.showInformationMessage(
      revoked
        ? 'MultiClaw: signed out.'
        : 'MultiClaw: signed out here; the server could not be reached to revoke the tokens (a workspace owner can remove this instance).',
    );
  };

  return [
    reg(CMD.signIn, (args?: SignInArgs) => runSignIn(gateway, logger, args && typeof args === 'object' ? args : {})),
    reg(CMD.signOut, guard('Sign out', signOut)),
    reg(
      CMD.reconnect,
      guard('Reconnect', async () => {
        await gateway.ensureRunning();
        if (!gateway.link.isSignedIn) return vscode.commands.executeCommand(CMD.signIn);
        gateway.link.reconnect();
        return undefined;
      }),
    ),
    reg(CMD.showTasks, () => vscode.commands.executeCommand(`${VIEW.tasks}.focus`)),
    reg(CMD.refreshTasks, () => tasksTree.refresh()),
    reg(
      CMD.dispatchTask,
      guard('Dispatch', (args?: unknown) => dispatchTask(gateway, chatView, logger, args && typeof args === 'object' ? (args as DispatchArgs) : {})),
    ),
    reg(
      CMD.syncProviderKey,
      guard('Sync Provider Key', async (providerArg?: unknown, confirmed?: unknown) => {
        if (!gateway.linkIfRunning()?.isSignedIn)
          return vscode.window
            .showWarningMessage('MultiClaw: sign in to a workspace first.', 'Sign In')
            .then((b) => b && vscode.commands.executeCommand(CMD.signIn));
        const { canManageSettings, syncProviderKey } = await actions();
        if (!canManageSettings(gateway.link)) {
          const a = gateway.link.account;
          return vscode.window.showWarningMessage(
            `MultiClaw: your role in ${a?.workspace.name ?? 'the workspace'} (${a?.workspace.role ?? '?'}) cannot manage workspace provider keys; ask an owner or admin.`,
          );
        }
        const provider = isProviderId(providerArg)
          ? providerArg
          : (
              await vscode.window.showQuickPick(
                PROVIDER_IDS.filter((p) => gateway.keys.has(p)).map((p) => ({ label: PROVIDER_LABELS[p], id: p })),
                { title: 'Sync which local key to the workspace?' },
              )
            )?.id;
        if (!provider) return undefined;
        const key = gateway.keys.get(provider);
        if (!key) return vscode.window.showWarningMessage(`MultiClaw: there is no local ${PROVIDER_LABELS[provider]} key to sync.`);
        if (confirmed !== true) {
          const ok = await vscode.window.showWarningMessage(
            `Upload your ${PROVIDER_LABELS[provider]} key to ${gateway.link.account?.workspace.name}?`,
            { modal: true, detail: "Every member's agents can then use it. It is stored encrypted and reaches each instance encrypted for it alone." },
            'Upload',
          );
          if (ok !== 'Upload') return undefined;
        }
        await syncProviderKey(gateway.link, provider, key);
        return vscode.window.showInformationMessage(`MultiClaw: ${PROVIDER_LABELS[provider]} key synced to ${gateway.link.account?.workspace.name}.`);
      }),
    ),
    reg(
      CMD.runTask,
      guard('Run', async (arg?: unknown) => {
        const r = row(arg);
        const local = await gateway.link.runner?.run(r.id);
        if (local) void showConversation(gateway, chatView, local.id);
      }),
    ),
    reg(
      CMD.cancelTask,
      guard('Cancel', async (arg?: unknown) => {
        const r = row(arg);
        if (r.kind === 'local') await gateway.tasks.cancel(r.id);
        else await gateway.link.runner?.cancel(r.id);
      }),
    ),
    reg(
      CMD.openTaskConversation,
      guard('Open Conversation', async (arg?: unknown) => {
        const r = row(arg);
        if (!r.conversationId) throw new Error('This task has no conversation on this machine.');
        await chatView.show(r.conversationId);
      }),
    ),
    reg(
      CMD.approvePlan,
      guard('Approve Plan', async (arg?: unknown) => {
        const r = row(arg);
        await (await actions()).decidePlan(gateway.link, r.id, 'approved');
      }),
    ),
    reg(
      CMD.rejectPlan,
      guard('Reject Plan', async (arg?: unknown, commentArg?: unknown) => {
        const r = row(arg);
        const comment =
          typeof commentArg === 'string'
            ? commentArg
            : await vscode.window.showInputBox({
                title: `Reject the plan for “${r.title}”`,
                prompt: 'Why? (optional; the agent sees it when it plans again)',
                ignoreFocusOut: true,
              });
        if (comment === undefined) return;
        await (await actions()).decidePlan(gateway.link, r.id, 'rejected', comment || undefined);
      }),
    ),
    ...notifications(d),
  ];
}

/** Opens the conversation of a local task once it has one. */
async function showConversation(gateway: Gateway, chatView: ChatViewProvider, localId: string): Promise<void> {
  const now = gateway.tasks.get(localId)?.conversationId;
  const cid =
    now ??
    (await new Promise<string | null>((resolve) => {
      const sub = gateway.tasks.onDidChange(({ task }) => {
        if (task.id !== localId || (!task.conversationId && task.status === 'queued')) return;
        sub.dispose();
        resolve(task.conversationId);
      });
    }));
  if (cid) await chatView.show(cid);
}

function notifications(d: WorkspaceCommandDeps): vscode.Disposable[] {
  const { gateway } = d;
  let prev: LinkStatus = gateway.linkStatus.current;
  const notified = new Set<string>();
  const onTask = (c: WorkspaceTaskChange): void => {
    const t = c.task;
    const me = gateway.linkIfRunning()?.instance?.id;
    if (c.kind !== 'plan' || !t?.plan || t.plan.state !== 'pending' || notified.has(t.plan.id) || t.plan.submittedBy.id !== me) return;
    notified.add(t.plan.id);
    // Notifications show plain text: the plan's Markdown (**bold**, `code`) is reduced to its words.
    const text = plainText(t.plan.summary);
    const summary = text.length > 120 ? `${text.slice(0, 119)}…` : text;
    const steps = t.plan.steps.length;
    void vscode.window
      .showInformationMessage(
        `MultiClaw: plan ready for “${t.title}” (${steps} step${steps === 1 ? '' : 's'}): ${summary}`,
        'Approve',
        'Reject',
        'Open Conversation',
      )
      .then((b) => {
        const cmd = b === 'Approve' ? CMD.approvePlan : b === 'Reject' ? CMD.rejectPlan : b === 'Open Conversation' ? CMD.openTaskConversation : undefined;
        if (cmd) void vscode.commands.executeCommand(cmd, `w:${t.id}`);
      });
  };
  const onStatus = (s: LinkStatus): void => {
    const signedIn = s.phase !== 'local' && s.phase !== 'signedOut';
    setContext(CTX.signedIn, signedIn);
    setContext(CTX.workspacePhase, s.phase);
    setContext(CTX.canManageWorkspace, signedIn && (s.workspace?.role === 'owner' || s.workspace?.role === 'admin'));
    const ended = s.phase === 'signedOut' && prev.phase !== 'signedOut' && (s.signedOutReason === 'expired' || s.signedOutReason === 'revoked');
    prev = s;
    if (!ended) return;
    const text =
      s.signedOutReason === 'expired'
        ? 'MultiClaw: your workspace sign-in expired. Local agents keep working; sign in again to get assignments.'
        : `MultiClaw: ${s.message ?? 'access to the workspace was revoked.'} Local agents keep working.`;
    void vscode.window.showWarningMessage(text, 'Sign In').then((b) => b && vscode.commands.executeCommand(CMD.signIn));
  };
  onStatus(gateway.linkStatus.current);
  // The Chat view's title bar offers Approve / Reject while it shows a task whose plan waits for me.
  const chatPlan = (): void => {
    const cid = d.chatView.conversationId;
    const pending = !!cid && d.tasksTree.allRows().some((r) => r.conversationId === cid && r.actions.includes('approve'));
    setContext(CTX.chatPlanPending, pending);
  };
  return [
    gateway.linkStatus.onDidChange(onStatus),
    gateway.onDidChangeWorkspaceTasks(onTask),
    d.chatView.onDidShowConversation(chatPlan),
    d.tasksTree.onDidUpdate(chatPlan),
  ];
}

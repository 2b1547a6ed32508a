/**
 * `MultiClaw: Dispatch Task…`: agent (local or workspace) → prompt, prefilled with a reference to the
 * editor selection or file (whose text goes along as context) → where: this machine now, a teammate,
 * or a cloud desktop (only the targets the workspace has). A task run here streams in a chat conversation
 * linked to it. In local mode the task is a local task. A typed prompt is never lost: when a later step
 * is cancelled or the dispatch fails, the next Dispatch Task… offers it again. Arguments skip the prompts
 * (tests).
 */
import * as vscode from 'vscode';
import { CMD } from '../commandIds';
import type { Gateway } from '../../gateway/gateway';
import type { Logger } from '../../gateway/ports';
import type { LocalTask } from '../../gateway/tasks/taskService';
import type { ChatViewProvider } from '../chat/chatViewProvider';
import { showError } from '../commands';
import { errorMessage } from '../../gateway/errors';
import { ask } from '../quickInput';

export type DispatchTarget = 'here' | { memberId: string } | { instanceId: string };

export interface DispatchArgs {
  agentId?: string;
  prompt?: string;
  title?: string;
  context?: Record<string, unknown>;
  target?: DispatchTarget;
}

export interface DispatchResult {
  localTaskId?: string;
  workspaceTaskId?: string;
}

const MAX_SELECTION = 20_000;

/** The active editor's selection (or file) as a prompt prefix and a context object. */
function editorContext(): { prefix: string; context?: Record<string, unknown> } {
  const ed = vscode.window.activeTextEditor;
  if (!ed || ed.document.uri.scheme === 'output') return { prefix: '' };
  const file = vscode.workspace.asRelativePath(ed.document.uri, false);
  const sel = ed.selection;
  if (!sel.isEmpty) {
    const [a, b] = [sel.start.line + 1, sel.end.character === 0 && sel.end.line > sel.start.line ? sel.end.line : sel.end.line + 1];
    const text = ed.document.getText(sel).slice(0, MAX_SELECTION);
    return { prefix: `@${file}#L${a}${b > a ? `-${b}` : ''} `, context: { file, lines: [a, b], language: ed.document.languageId, selection: text } };
  }
  return { prefix: `@${file} `, context: { file, language: ed.document.languageId } };
}

function titleOf(prompt: string): string {
  const first =
    prompt
      .replace(/^@\S+\s+/, '')
      .split('\n')
      .map((l) => l.trim())
      .find(Boolean) ?? 'Task';
  return first.length > 80 ? `${first.slice(0, 79)}…` : first;
}

/**
 * Where the task should run: only targets that exist — a teammate when the workspace has members who
 * may run tasks, a cloud desktop when it has one. Undefined when the user backs out.
 */
async function pickTarget(gateway: Gateway, logger: Logger): Promise<DispatchTarget | undefined> {
  const { teammates, cloudDesktops } = await import('../../gateway/workspace/workspaceActions');
  const link = gateway.link;
  const quietly = <T>(what: string, p: Promise<T[]>): Promise<T[]> =>
    p.catch((err: unknown) => {
      logger.warn(`could not list ${what}: ${errorMessage(err)}`);
      return [];
    });
  const [members, desktops] = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Window, title: 'MultiClaw: loading teammates and cloud desktops…' },
    () =>
      Promise.all([quietly('teammates', teammates(link)).then((ms) => ms.filter((m) => m.role !== 'viewer')), quietly('cloud desktops', cloudDesktops(link))]),
  );
  const online = desktops.filter((d) => d.online).length;
  const where = await vscode.window.showQuickPick(
    [
      { label: '$(play) This machine, now', id: 'here' as const, description: 'plan first, then run in a chat conversation' },
      ...(members.length
        ? [{ label: '$(person) Assign to a teammate…', id: 'member' as const, description: `${members.length} member${members.length === 1 ? '' : 's'}` }]
        : []),
      ...(desktops.length
        ? [{ label: '$(vm) Assign to a cloud desktop…', id: 'desktop' as const, description: `${online} of ${desktops.length} online` }]
        : []),
    ],
    { title: 'Dispatch Task (3/3): where should it run?', ignoreFocusOut: true },
  );
  if (!where) return undefined;
  if (where.id === 'here') return 'here';
  if (where.id === 'member') {
    const me = gateway.linkStatus.current.memberId;
    const pick = await vscode.window.showQuickPick(
      members.map((m) => ({ label: m.id === me ? `${m.name} (you)` : m.name, description: `${m.role}${m.email ? ` · ${m.email}` : ''}`, id: m.id })),
      { title: 'Assign to a teammate', ignoreFocusOut: true },
    );
    return pick ? { memberId: pick.id } : undefined;
  }
  const pick = await vscode.window.showQuickPick(
    desktops.map((d) => ({ label: d.name, description: d.online ? '$(circle-filled) online' : 'offline', id: d.id })),
    { title: 'Assign to a cloud desktop', ignoreFocusOut: true },
  );
  return pick ? { instanceId: pick.id } : undefined;
}

/** A prompt typed but not dispatched (a later step was cancelled or failed): offered again next time. */
let keptPrompt: string | undefined;

/** What the next Dispatch Task… offers again (tests read it). */
export function keptDispatchPrompt(): string | undefined {
  return keptPrompt;
}

function keep(prompt: string, ed: { prefix: string }): void {
  // Only something the user typed: the editor reference alone is offered anyway.
  keptPrompt = prompt.trim() && prompt.trim() !== ed.prefix.trim() ? prompt : keptPrompt;
}

export async function dispatchTask(gateway: Gateway, chatView: ChatViewProvider, logger: Logger, args: DispatchArgs = {}): Promise<DispatchResult | undefined> {
  await gateway.ensureRunning();
  const agents = gateway.agents().filter((a) => a.available);
  if (!agents.length) {
    const b = await vscode.window.showWarningMessage(
      'MultiClaw: no agent is available. Set a provider API key (or sign in to a workspace that shares one).',
      'Set Provider API Key',
      'Sign In',
    );
    if (b === 'Set Provider API Key') await vscode.commands.executeCommand(CMD.setProviderKey);
    if (b === 'Sign In') await vscode.commands.executeCommand(CMD.signIn);
    return undefined;
  }
  const agentId =
    args.agentId ??
    (
      await vscode.window.showQuickPick(
        agents.map((a) => ({
          label: `${a.source === 'workspace' ? '$(cloud)' : '$(device-desktop)'} ${a.name}`,
          description: `${a.source === 'workspace' ? 'workspace' : 'local'} · ${a.provider}/${a.model}`,
          id: a.id,
        })),
        { title: 'Dispatch Task (1/3): which agent?', ignoreFocusOut: true },
      )
    )?.id;
  if (!agentId) return undefined;
  const agent = gateway.agents().find((a) => a.id === agentId);
  if (!agent?.available) {
    showError(`The agent "${agentId}" is not available.`, logger);
    return undefined;
  }
  const ed = editorContext();
  const again = args.prompt === undefined ? keptPrompt : undefined;
  const value = again ?? ed.prefix;
  const prompt =
    args.prompt ??
    (await ask({
      title: 'Dispatch Task (2/3): what should the agent do?',
      value,
      valueSelection: again ? [0, value.length] : [value.length, value.length],
      prompt: again
        ? 'Your last prompt was not dispatched: here it is again.'
        : ed.context
          ? `The ${ed.context.selection ? 'selection' : 'file reference'} goes along as context.`
          : 'Describe the task.',
      validate: (v) => (v.replace(/^@\S+\s*/, '').trim() || !v ? undefined : 'Describe the task.'),
      onCancel: (v) => keep(v, ed),
    }));
  if (!prompt?.replace(/^@\S+\s*/, '').trim()) return undefined;
  keep(prompt, ed); // kept until it is dispatched
  const context = args.context ?? ed.context;
  const title = args.title ?? titleOf(prompt);
  const signedIn = gateway.linkStatus.current.phase !== 'local' && gateway.linkStatus.current.phase !== 'signedOut';
  const target = args.target ?? (signedIn ? await pickTarget(gateway, logger) : 'here');
  if (!target) {
    vscode.window.setStatusBarMessage('$(info) MultiClaw: not dispatched; Dispatch Task… offers your prompt again', 5000);
    return undefined;
  }
  try {
    if (!signedIn) {
      const task = await gateway.tasks.dispatch({ agentId, prompt, title, context });
      keptPrompt = undefined;
      void openWhenStarted(gateway, chatView, task);
      return { localTaskId: task.id };
    }
    const { dispatchToWorkspace } = await import('../../gateway/workspace/workspaceActions');
    const workspaceAgent = agent.source === 'workspace' ? agentId : undefined;
    const assignee =
      target === 'here'
        ? ('here' as const)
        : 'memberId' in target
          ? { type: 'member' as const, memberId: target.memberId }
          : { type: 'instance' as const, instanceId: target.instanceId };
    const r = await dispatchToWorkspace(gateway.link, { title, prompt, context, agentId: workspaceAgent, localAgentId: agentId, assignee });
    keptPrompt = undefined;
    if (r.local) void openWhenStarted(gateway, chatView, r.local);
    else void vscode.window.showInformationMessage(`MultiClaw: “${title}” assigned${workspaceAgent ? '' : ' (the assignee picks the agent)'}.`);
    return { workspaceTaskId: r.task.id, localTaskId: r.local?.id };
  } catch (err) {
    logger.error('could not dispatch the task:', err instanceof Error ? err : String(err));
    void vscode.window
      .showErrorMessage(`MultiClaw: could not dispatch the task: ${errorMessage(err)} Your prompt is kept.`, 'Try Again', 'Open Logs')
      .then((b) => {
        if (b === 'Try Again') void vscode.commands.executeCommand(CMD.dispatchTask, { agentId });
        if (b === 'Open Logs') void vscode.commands.executeCommand(CMD.openLogs);
      });
    return undefined;
  }
}

/** Shows the task's conversation in the Chat view as soon as it has one. */
async function openWhenStarted(gateway: Gateway, chatView: ChatViewProvider, task: LocalTask): Promise<void> {
  const current = gateway.tasks.get(task.id);
  let cid = current?.conversationId;
  if (!cid) {
    cid = await new Promise<string | null>((resolve) => {
      const sub = gateway.tasks.onDidChange(({ task: t }) => {
        if (t.id !== task.id || (!t.conversationId && t.status === 'queued')) return;
        sub.dispose();
        resolve(t.conversationId);
      });
    });
  }
  if (cid) await chatView.show(cid);
}

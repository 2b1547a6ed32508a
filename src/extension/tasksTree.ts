import * as vscode from 'vscode';
import { escapeMarkdown } from './markdown';
import { CMD, CTX, setContext } from './commandIds';
import type { buildTaskGroups, TaskGroup, TaskRow } from '../gateway/tasks/taskGroups';
import type { Gateway } from '../gateway/gateway';
import type { Logger } from '../gateway/ports';
import { Disposable, Emitter, type Event } from '../gateway/util/disposable';

const ICONS: Record<TaskRow['status'], [string, string | undefined]> = {
  awaiting_approval: ['question', 'notificationsWarningIcon.foreground'],
  assigned: ['inbox', undefined],
  running: ['sync~spin', undefined],
  queued: ['clock', undefined],
  completed: ['pass', 'testing.iconPassed'],
  failed: ['error', 'errorForeground'],
  cancelled: ['circle-slash', 'disabledForeground'],
};

const COLLAPSED = new Set(['completed', 'failed', 'cancelled']);

export class TaskGroupItem extends vscode.TreeItem {
  constructor(readonly group: TaskGroup) {
    super(group.label, COLLAPSED.has(group.status) ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.Expanded);
    this.id = `group:${group.status}`;
    this.description = String(group.rows.length);
    this.contextValue = 'taskGroup';
    this.accessibilityInformation = { label: `${group.label}: ${group.rows.length} task${group.rows.length === 1 ? '' : 's'}` };
  }
}

export function age(iso: string, now = Date.now()): string {
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86_400)}d`;
}

export class TaskItem extends vscode.TreeItem {
  constructor(
    readonly row: TaskRow,
    agentName: string | undefined,
  ) {
    super(row.title || 'Task', vscode.TreeItemCollapsibleState.None);
    this.id = row.key;
    const parts = [agentName ?? (row.agentId ? row.agentId : 'any agent'), age(row.createdAt)];
    if (row.progress !== null && row.status !== 'completed') parts.push(`${Math.round(row.progress * 100)}%`);
    if (row.assignee && row.assignee !== 'you' && row.assignee !== 'this machine') parts.push(`→ ${row.assignee}`);
    if (row.kind === 'local') parts.push('local');
    if (row.approval) parts.unshift('Waiting for approval');
    this.description = parts.join(' · ');
    const [icon, color] = row.approval ? ['shield', 'notificationsWarningIcon.foreground'] : ICONS[row.status];
    this.iconPath = new vscode.ThemeIcon(icon, color ? new vscode.ThemeColor(color) : undefined);
    this.contextValue = `task ${row.kind} ${row.actions.join(' ')}`.trim();
    const md = new vscode.MarkdownString(undefined, true);
    md.appendMarkdown(`**${escapeMarkdown(row.title)}**\n\n`);
    md.appendMarkdown(`${row.status.replace('_', ' ')} · ${escapeMarkdown(parts.join(' · '))}${row.runningHere ? ' · running on this machine' : ''}\n\n`);
    if (row.plan) {
      md.appendMarkdown(`**Plan:** ${escapeMarkdown(row.plan.summary)}\n\n`);
      row.plan.steps.slice(0, 10).forEach((s, i) => md.appendMarkdown(`${i + 1}. ${escapeMarkdown(s)}\n`));
      md.appendMarkdown('\n');
    }
    if (row.approval)
      md.appendMarkdown(`$(shield) **Waiting for approval:** ${escapeMarkdown(row.approval.title)} (${escapeMarkdown(row.approval.reason)})\n\n`);
    if (row.error) md.appendMarkdown(`$(error) ${escapeMarkdown(row.error)}\n\n`);
    this.tooltip = md;
    this.accessibilityInformation = { label: `${row.title}, ${row.status.replace('_', ' ')}, ${parts.join(', ')}` };
    if (row.conversationId) this.command = { command: CMD.openTaskConversation, title: 'Open Conversation', arguments: [row.key] };
  }
}

type Node = TaskGroupItem | TaskItem;

/**
 * The Tasks view: local tasks and the workspace's tasks for me and this instance, grouped by status,
 * updated live (coalesced), with inline actions and a badge counting the tasks waiting for me. The
 * model comes from `buildTaskGroups` (src/gateway/tasks/taskGroups.ts, loaded with the gateway).
 */
export class TasksTree extends Disposable implements vscode.TreeDataProvider<Node> {
  private readonly changeEmitter = this._register(new vscode.EventEmitter<Node | undefined>());
  readonly onDidChangeTreeData = this.changeEmitter.event;
  private readonly updateEmitter = this._register(new Emitter<{ rows: number; waitingForMe: number }>());
  /** The model was rebuilt (tests and the assign-latency benchmark wait on it). */
  readonly onDidUpdate: Event<{ rows: number; waitingForMe: number }> = this.updateEmitter.event;
  private groups: TaskGroup[] = [];
  private rows = new Map<string, TaskRow>();
  private timer: NodeJS.Timeout | undefined;
  private view: vscode.TreeView<Node> | undefined;
  private build: typeof buildTaskGroups | undefined;
  private focus: { instanceId: string; name: string } | undefined;

  constructor(
    private readonly gateway: Gateway,
    private readonly logger: Logger,
  ) {
    super();
    const schedule = (): void => this.schedule();
    this._register(gateway.onDidChangeState(schedule));
    this._register(gateway.linkStatus.onDidChange(schedule));
    this._register(gateway.onDidChangeAgents(schedule));
    this._register(gateway.onDidChangeLocalTasks(schedule));
    this._register(gateway.onDidChangeWorkspaceTasks(schedule));
    this._register(gateway.onDidChangeApprovals(schedule));
  }

  attach(view: vscode.TreeView<Node>): void {
    this.view = view;
    this.schedule();
  }

  /** Connected to a cloud desktop: the list shows that desktop's tasks (and says so); undefined: this machine's again. */
  setFocus(instance: { id: string; name: string } | undefined): void {
    if (this.focus?.instanceId === instance?.id) return;
    this.focus = instance ? { instanceId: instance.id, name: instance.name } : undefined;
    if (this.view) this.view.description = instance ? `Cloud desktop · ${instance.name}` : undefined;
    setContext(CTX.tasksFocus, !!instance);
    this.schedule();
  }

  /** Leading and trailing: a lone change redraws at once; a burst redraws at most every 30 ms. */
  private schedule(): void {
    if (this.timer) {
      this.pending = true;
      return;
    }
    void this.refresh();
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.pending) {
        this.pending = false;
        this.schedule();
      }
    }, 30);
  }

  private pending = false;

  async refresh(): Promise<void> {
    try {
      this.build ??= (await import('../gateway/tasks/taskGroups')).buildTaskGroups;
      const g = this.gateway;
      const model = this.build({
        local: g.localTasks(),
        workspace: g.workspaceTasks(),
        me: g.workspaceIdentity(),
        focus: this.focus,
        approvals: g.pendingApprovals(),
      });
      this.groups = model.groups;
      this.rows = new Map(model.groups.flatMap((gr) => gr.rows.map((r) => [r.key, r] as const)));
      if (this.view) {
        this.view.badge = model.waitingForMe
          ? { value: model.waitingForMe, tooltip: `${model.waitingForMe} task${model.waitingForMe === 1 ? '' : 's'} waiting for you` }
          : undefined;
      }
      setContext(CTX.tasksWaiting, model.waitingForMe);
      this.changeEmitter.fire(undefined);
      this.updateEmitter.fire({ rows: this.rows.size, waitingForMe: model.waitingForMe });
    } catch (err) {
      this.logger.error('could not list tasks:', err instanceof Error ? err : String(err));
    }
  }

  /** A row by key (`w:<id>` / `l:<id>`), or a workspace task id. */
  row(keyOrId: string): TaskRow | undefined {
    return this.rows.get(keyOrId) ?? this.rows.get(`w:${keyOrId}`) ?? this.rows.get(`l:${keyOrId}`);
  }

  allRows(): TaskRow[] {
    return [...this.rows.values()];
  }

  getTreeItem(e: Node): vscode.TreeItem {
    return e;
  }

  getParent(e: Node): Node | undefined {
    if (e instanceof TaskGroupItem) return undefined;
    const g = this.groups.find((x) => x.rows.some((r) => r.key === e.row.key));
    return g ? new TaskGroupItem(g) : undefined;
  }

  getChildren(e?: Node): Node[] {
    if (!e) return this.groups.map((g) => new TaskGroupItem(g));
    if (e instanceof TaskGroupItem) {
      const names = new Map(this.gateway.agents().map((a) => [a.id, a.name]));
      return (this.groups.find((g) => g.status === e.group.status)?.rows ?? []).map((r) => new TaskItem(r, r.agentId ? names.get(r.agentId) : undefined));
    }
    return [];
  }

  override dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    super.dispose();
  }
}

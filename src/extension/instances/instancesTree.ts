/**
 * The Instances view: every cloud desktop of the workspace with its status, region/host label and
 * live metrics (CPU, memory, disk from its heartbeats), refreshed on instance events and every 5 s
 * while the view is visible. Inline Connect / Disconnect; Start, Stop, Restart, Terminate for Owners
 * and Admins (the row's contextValue carries what applies).
 */
import * as vscode from 'vscode';
import type { Gateway } from '../../gateway/gateway';
import type { Logger } from '../../gateway/ports';
import { Disposable, Emitter } from '../../gateway/util/disposable';
import type { Instance } from '../../protocol/workspace/models';
import { escapeMarkdown } from '../markdown';

const STATUS_LABEL: Record<Instance['status'], string> = {
  starting: 'Starting',
  online: 'Online',
  running: 'Running',
  stopped: 'Stopped',
  error: 'Error',
};

const gb = (n: number): string => `${(n / 1024 ** 3).toFixed(n >= 10 * 1024 ** 3 ? 0 : 1)} GB`;

export function statusText(i: Instance): string {
  if (!i.online) return 'Offline';
  return STATUS_LABEL[i.status] + (i.status === 'error' && i.statusReason ? ` (${i.statusReason})` : '');
}

export function metricsText(i: Instance): string | undefined {
  const m = i.metrics;
  if (!m || !i.online) return undefined;
  return `CPU ${Math.round(m.cpuPct)}% · RAM ${gb(m.memUsedBytes)}/${gb(m.memTotalBytes)} · Disk ${gb(m.diskUsedBytes)}/${gb(m.diskTotalBytes)}`;
}

/** A desktop row, or the metrics line under it. */
export type InstanceNode = Instance | { metricsOf: Instance };

export class InstancesTree extends Disposable implements vscode.TreeDataProvider<InstanceNode> {
  private instances: Instance[] = [];
  private view: vscode.TreeView<InstanceNode> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private loading: Promise<void> | undefined;
  /** What the tree last drew (instances and error), so an unchanged refresh redraws nothing. */
  private shown: string | undefined;
  /** The instance whose viewer is open (the row shows Disconnect). */
  connectedId: string | undefined;
  error: string | undefined;
  private readonly changeEmitter = this._register(new Emitter<void>());
  readonly onDidChangeTreeData = this.changeEmitter.event as vscode.Event<void>;

  constructor(
    private readonly gateway: Gateway,
    private readonly log: Logger,
  ) {
    super();
    this._register(gateway.linkStatus.onDidChange(() => void this.refresh()));
    this._register(gateway.onDidChangeState(() => this.hook()));
  }

  private hooked: object | undefined;
  /** Subscribes to the link's instance events (a new link after each gateway start). */
  private hook(): void {
    const link = this.gateway.linkIfRunning();
    if (!link || this.hooked === link) return;
    this.hooked = link;
    this._register(link.onDidReceiveEvent((e) => e.name.startsWith('instance.') && void this.refresh()));
  }

  attach(view: vscode.TreeView<InstanceNode>): void {
    this.view = view;
    this._register(view.onDidChangeVisibility(() => this.schedule()));
    this.schedule();
    void this.refresh();
  }

  private schedule(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (this.view?.visible) this.timer = setInterval(() => void this.refresh(), 5000);
  }

  list(): Instance[] {
    return this.instances;
  }

  get(id: string): Instance | undefined {
    return this.instances.find((i) => i.id === id);
  }

  refresh(): Promise<void> {
    this.hook();
    this.loading ??= this.load().finally(() => (this.loading = undefined));
    return this.loading;
  }

  private async load(): Promise<void> {
    const link = this.gateway.linkIfRunning();
    if (!link?.isConnected) {
      this.instances = [];
      this.error = undefined;
    } else {
      try {
        const { instanceListResponseSchema } = await import('../../protocol/workspace/rest');
        const r = instanceListResponseSchema.parse(await link.request('presence.list', {}));
        this.instances = r.instances.filter((i) => i.kind === 'desktop');
        this.error = undefined;
      } catch (err) {
        this.error = err instanceof Error ? err.message : String(err);
        this.log.warn(`could not list the cloud desktops: ${this.error}`);
      }
    }
    if (this.view) {
      this.view.message = this.error ? `Could not list cloud desktops: ${this.error}` : undefined;
      this.view.badge = undefined;
    }
    // Redraw only what changed: a redraw re-renders the rows, which closes a context menu open on one.
    const shown = JSON.stringify([this.instances, this.error]);
    if (shown === this.shown) return;
    this.shown = shown;
    this.changeEmitter.fire();
  }

  getChildren(e?: InstanceNode): InstanceNode[] {
    if (!e) return this.instances;
    if ('metricsOf' in e) return [];
    return metricsText(e) ? [{ metricsOf: e }] : [];
  }

  getTreeItem(node: InstanceNode): vscode.TreeItem {
    if ('metricsOf' in node) {
      const m = new vscode.TreeItem(metricsText(node.metricsOf) ?? '', vscode.TreeItemCollapsibleState.None);
      m.id = `${node.metricsOf.id}:metrics`;
      m.iconPath = new vscode.ThemeIcon('pulse');
      m.contextValue = 'metrics';
      m.tooltip = `Last heartbeat ${node.metricsOf.metrics ? new Date(node.metricsOf.metrics.at).toLocaleTimeString() : '—'}`;
      return m;
    }
    const i = node;
    const status = statusText(i);
    const metrics = metricsText(i);
    const item = new vscode.TreeItem(i.name, metrics ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.None);
    item.id = i.id;
    item.description = [status, i.label].filter(Boolean).join(' · ');
    const connected = this.connectedId === i.id;
    item.iconPath = new vscode.ThemeIcon(
      connected
        ? 'vm-active'
        : !i.online
          ? 'vm-outline'
          : i.status === 'error'
            ? 'error'
            : i.status === 'starting'
              ? 'loading~spin'
              : i.status === 'stopped'
                ? 'vm-outline'
                : 'vm',
      !i.online || i.status === 'stopped'
        ? undefined
        : i.status === 'error'
          ? new vscode.ThemeColor('errorForeground')
          : new vscode.ThemeColor('testing.iconPassed'),
    );
    const role = this.gateway.linkIfRunning()?.account?.workspace.role;
    const manage = role === 'owner' || role === 'admin';
    const ctx = ['desktop', connected ? 'disconnect' : i.online && (i.status === 'online' || i.status === 'running') ? 'connect' : ''];
    if (manage && i.online) ctx.push(i.status === 'stopped' ? 'start' : 'stop', 'restart');
    if (manage) ctx.push('terminate');
    item.contextValue = ctx.filter(Boolean).join(' ');
    const md = new vscode.MarkdownString(undefined, true);
    md.appendMarkdown(`**$(vm) ${escapeMarkdown(i.name)}** — ${escapeMarkdown(status)}\n\n`);
    if (i.label) md.appendMarkdown(`${escapeMarkdown(i.label)}\n\n`);
    if (metrics) md.appendMarkdown(`${escapeMarkdown(metrics)}\n\n`);
    md.appendMarkdown(
      `${escapeMarkdown(i.platform)} · MultiClaw ${escapeMarkdown(i.version)}${i.lastHeartbeatAt ? ` · last heartbeat ${new Date(i.lastHeartbeatAt).toLocaleTimeString()}` : ''}`,
    );
    if (role === 'viewer') md.appendMarkdown('\n\nYour role (Viewer) can watch this desktop, not type.');
    item.tooltip = md;
    if (!connected && ctx.includes('connect')) item.command = { command: 'multiclaw.connectDesktop', title: 'Connect', arguments: [i] };
    item.accessibilityInformation = { label: `${i.name}, cloud desktop, ${status}${i.label ? `, ${i.label}` : ''}${metrics ? `, ${metrics}` : ''}` };
    return item;
  }

  /** Marks the connected row (or none) and redraws. */
  setConnected(id: string | undefined): void {
    this.connectedId = id;
    this.changeEmitter.fire();
  }

  override dispose(): void {
    if (this.timer) clearInterval(this.timer);
    super.dispose();
  }
}

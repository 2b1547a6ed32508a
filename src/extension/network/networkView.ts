/**
 * The Network Activity view: every host MultiClaw contacted, grouped by purpose, live from the
 * gateway's connection ledger (host:port, proxy, TLS version, connections, bytes, last error).
 */
import * as vscode from 'vscode';
import { VIEW } from '../commandIds';
import type { Gateway } from '../../gateway/gateway';
import type { ConnectionPurpose, HostActivity } from '../../gateway/net/ledger';
import { Disposable, Emitter } from '../../gateway/util/disposable';

const PURPOSE_LABELS: Record<ConnectionPurpose, string> = {
  'provider:openai': 'OpenAI',
  'provider:anthropic': 'Anthropic',
  'provider:gemini': 'Google Gemini',
  'provider:openai-compatible': 'OpenAI-compatible',
  'workspace:api': 'Workspace API',
  'workspace:ws': 'Workspace events (WSS)',
  'link-preview': 'Link previews',
  favicon: 'Favicons',
  diagnostics: 'Diagnose Connection',
  'agent:web-fetch': 'Agent web fetch',
  'desktop:peer': 'Cloud desktop peer (this desktop)',
  'desktop:viewer': 'Cloud desktop viewer (webview, self-reported)',
  mcp: 'MCP server',
  'local-models': 'Local model servers (one-time probe, 127.0.0.1)',
};

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

type Node = { kind: 'warning' } | { kind: 'purpose'; purpose: ConnectionPurpose; rows: HostActivity[] } | { kind: 'host'; row: HostActivity };

export class NetworkActivityView extends Disposable implements vscode.TreeDataProvider<Node> {
  static readonly viewId = VIEW.network;
  private readonly onDidChangeTreeDataEmitter = this._register(new Emitter<Node | undefined>());
  readonly onDidChangeTreeData = this.onDidChangeTreeDataEmitter.event;
  private timer: NodeJS.Timeout | undefined;
  private ticker: NodeJS.Timeout | undefined;
  private visible = false;

  constructor(private readonly gateway: Gateway) {
    super();
    this._register(gateway.ledger.onDidChange(() => this.schedule()));
    this._register(gateway.onDidChangeAgents(() => this.schedule())); // settings (strictSSL) changed
  }

  /** While shown, open connections' byte counts refresh every 2 s. */
  setVisible(visible: boolean): void {
    this.visible = visible;
    clearInterval(this.ticker);
    this.ticker = undefined;
    if (visible) {
      this.ticker = setInterval(() => {
        if (this.gateway.ledger.list().some((e) => e.end === undefined)) this.onDidChangeTreeDataEmitter.fire(undefined);
      }, 2000);
      this.schedule();
    }
  }

  private schedule(): void {
    if (!this.visible || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.onDidChangeTreeDataEmitter.fire(undefined);
    }, 150);
  }

  getChildren(node?: Node): Node[] {
    if (node?.kind === 'purpose') return node.rows.map((row) => ({ kind: 'host', row }));
    if (node) return [];
    const groups = new Map<ConnectionPurpose, HostActivity[]>();
    for (const row of this.gateway.ledger.activity()) {
      const list = groups.get(row.purpose) ?? [];
      list.push(row);
      groups.set(row.purpose, list);
    }
    const out: Node[] = this.gateway.config.network.strictSSL ? [] : [{ kind: 'warning' }];
    for (const [purpose, rows] of groups) out.push({ kind: 'purpose', purpose, rows });
    return out;
  }

  getTreeItem(node: Node): vscode.TreeItem {
    if (node.kind === 'warning') {
      const item = new vscode.TreeItem('Certificate verification is off');
      item.iconPath = new vscode.ThemeIcon('warning', new vscode.ThemeColor('list.warningForeground'));
      item.description = 'multiclaw.network.strictSSL';
      item.tooltip = 'TLS certificates are not verified, so connections are not protected against interception. Turn multiclaw.network.strictSSL back on.';
      item.command = { command: 'workbench.action.openSettings', title: 'Open Settings', arguments: ['multiclaw.network.strictSSL'] };
      return item;
    }
    if (node.kind === 'purpose') {
      const item = new vscode.TreeItem(PURPOSE_LABELS[node.purpose], vscode.TreeItemCollapsibleState.Expanded);
      item.id = `purpose:${node.purpose}`;
      item.description = `${node.rows.length} host${node.rows.length === 1 ? '' : 's'}`;
      item.iconPath = new vscode.ThemeIcon(
        node.purpose.startsWith('provider:')
          ? 'hubot'
          : node.purpose.startsWith('workspace:')
            ? 'cloud'
            : node.purpose === 'diagnostics'
              ? 'debug-console'
              : node.purpose.startsWith('desktop:')
                ? 'vm'
                : 'link',
      );
      return item;
    }
    const r = node.row;
    const item = new vscode.TreeItem(`${r.host}:${r.port}`);
    item.id = `host:${r.purpose}:${r.host}:${r.port}`;
    const ok = r.failed < r.connections;
    item.iconPath =
      r.open > 0
        ? new vscode.ThemeIcon('circle-filled', new vscode.ThemeColor('testing.iconPassed'))
        : new vscode.ThemeIcon(ok ? 'pass' : 'error', new vscode.ThemeColor(ok ? 'testing.iconPassed' : 'testing.iconFailed'));
    const parts = [
      r.proxied ? `via proxy ${r.proxied}` : 'direct',
      r.tlsVersion ?? (r.failed === r.connections ? 'failed' : 'no TLS'),
      `${r.connections} conn${r.open ? ` (${r.open} open)` : ''}`,
      `↑${formatBytes(r.bytesSent)} ↓${formatBytes(r.bytesReceived)}`,
    ];
    item.description = parts.join(' · ');
    const md = new vscode.MarkdownString(undefined, true);
    md.appendMarkdown(`**${r.host}:${r.port}** — ${PURPOSE_LABELS[r.purpose]}\n\n`);
    md.appendMarkdown(`- Route: ${r.proxied ? `proxy ${r.proxied} (CONNECT)` : 'direct'}\n- TLS: ${r.tlsVersion ?? 'none'}\n`);
    md.appendMarkdown(
      `- Connections: ${r.connections} (${r.open} open, ${r.failed} failed)\n- Sent ${formatBytes(r.bytesSent)}, received ${formatBytes(r.bytesReceived)}\n`,
    );
    md.appendMarkdown(`- First ${new Date(r.first).toLocaleTimeString()}, last ${new Date(r.last).toLocaleTimeString()}\n`);
    if (r.lastError) md.appendMarkdown(`\n$(error) ${r.lastError.replace(/[[\]*_`<>]/g, '')}`);
    item.tooltip = md;
    return item;
  }

  override dispose(): void {
    clearTimeout(this.timer);
    clearInterval(this.ticker);
    super.dispose();
  }
}

/**
 * The MCP Servers view: each configured server with its state (Starting, Running · N tools, Error with
 * the reason, Stopped), inline Start / Stop / Restart and Show Log, and its tools under it, each with
 * a checkbox (switched-off tools are never sent). The view's description says how many tools go to
 * the model against the cap; notes about left-out entries show as warning rows.
 */
import * as vscode from 'vscode';
import type { Gateway } from '../../gateway/gateway';
import type { McpServerStatus, McpToolInfo } from '../../gateway/mcp/mcpManager';
import { describeState } from '../../gateway/mcp/mcpState';
import type { Logger } from '../../gateway/ports';
import { Disposable, Emitter } from '../../gateway/util/disposable';
import { errorMessage } from '../../gateway/errors';
import { escapeMarkdown } from '../markdown';
import { mcpNotes } from './mcpSettings';

export type McpNode = { server: McpServerStatus } | { tool: McpToolInfo } | { note: string };

const STATE_ICON: Record<McpServerStatus['state']['status'], vscode.ThemeIcon> = {
  starting: new vscode.ThemeIcon('loading~spin'),
  running: new vscode.ThemeIcon('pass-filled', new vscode.ThemeColor('testing.iconPassed')),
  error: new vscode.ThemeIcon('error', new vscode.ThemeColor('problemsErrorIcon.foreground')),
  stopped: new vscode.ThemeIcon('circle-large-outline'),
};

/** The row's state text: "Running · 3 tools", "Error: …", "Stopped", "Disabled". */
export function serverStateText(s: McpServerStatus): string {
  if (!s.config.enabled) return 'Disabled';
  const text = describeState(s.state);
  return text.charAt(0).toUpperCase() + text.slice(1);
}

export class McpTree extends Disposable implements vscode.TreeDataProvider<McpNode> {
  private readonly changeEmitter = this._register(new Emitter<void>());
  readonly onDidChangeTreeData = this.changeEmitter.event as vscode.Event<void>;
  private view: vscode.TreeView<McpNode> | undefined;

  constructor(
    private readonly gateway: Gateway,
    private readonly log: Logger,
  ) {
    super();
    this._register(gateway.onDidChangeMcp(() => this.refresh()));
  }

  attach(view: vscode.TreeView<McpNode>): void {
    this.view = view;
    this._register(
      view.onDidChangeCheckboxState((e) => {
        for (const [node, state] of e.items) {
          if (!('tool' in node)) continue;
          this.gateway.setMcpToolEnabled(node.tool.qualifiedName, state === vscode.TreeItemCheckboxState.Checked).catch((err: unknown) => {
            this.log.warn(`could not switch ${node.tool.qualifiedName}:`, errorMessage(err));
            void vscode.window.showErrorMessage(`MultiClaw: ${errorMessage(err)}`);
          });
        }
      }),
    );
    this.refresh();
  }

  refresh(): void {
    if (this.view) {
      const b = this.gateway.mcpToolBudget();
      this.view.description = b.enabled ? `${b.sent} of ${b.enabled} tools sent${b.enabled > b.cap ? ` (cap ${b.cap})` : ''}` : undefined;
    }
    this.changeEmitter.fire();
  }

  getChildren(node?: McpNode): McpNode[] {
    if (!node) return [...mcpNotes().map((note) => ({ note })), ...this.gateway.mcpServers().map((server) => ({ server }))];
    if ('server' in node) return node.server.tools.map((tool) => ({ tool }));
    return [];
  }

  getTreeItem(node: McpNode): vscode.TreeItem {
    if ('note' in node) {
      const item = new vscode.TreeItem(node.note, vscode.TreeItemCollapsibleState.None);
      item.iconPath = new vscode.ThemeIcon('warning', new vscode.ThemeColor('problemsWarningIcon.foreground'));
      item.tooltip = node.note;
      item.contextValue = 'mcpNote';
      return item;
    }
    if ('tool' in node) return this.toolItem(node.tool);
    const s = node.server;
    const item = new vscode.TreeItem(s.name, s.tools.length ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None);
    item.id = `mcp:${s.name}`;
    item.description = serverStateText(s) + (s.config.source === 'workspace' ? ' · .vscode/mcp.json' : '');
    item.iconPath = s.config.enabled ? STATE_ICON[s.state.status] : new vscode.ThemeIcon('circle-slash');
    const target = s.config.transport === 'stdio' ? [s.config.command ?? '', ...(s.config.args ?? [])].join(' ') : (s.config.url ?? '');
    const md = new vscode.MarkdownString(`**${escapeMarkdown(s.name)}** — ${escapeMarkdown(serverStateText(s))}\n\n\`${target.replace(/`/g, "'")}\``);
    item.tooltip = md;
    const can = [s.config.enabled ? 'enabled' : 'disabled', s.state.status, s.config.source === 'workspace' ? 'workspace' : 'settings'];
    item.contextValue = `mcpServer ${can.join(' ')}`;
    return item;
  }

  private toolItem(t: McpToolInfo): vscode.TreeItem {
    const item = new vscode.TreeItem(t.name, vscode.TreeItemCollapsibleState.None);
    item.id = `mcp:${t.qualifiedName}`;
    item.description = t.changed ? 'changed: asks again' : t.qualifiedName;
    item.iconPath = new vscode.ThemeIcon(t.changed ? 'warning' : 'tools');
    // The description is the server's text, shown as untrusted (no links, no HTML).
    const md = new vscode.MarkdownString(`\`${t.qualifiedName}\`\n\n_From the server (untrusted):_ ${escapeMarkdown(t.description.slice(0, 1000))}`);
    md.isTrusted = false;
    md.supportHtml = false;
    item.tooltip = md;
    item.checkboxState = t.enabled ? vscode.TreeItemCheckboxState.Checked : vscode.TreeItemCheckboxState.Unchecked;
    item.accessibilityInformation = { label: `${t.name}, ${t.enabled ? 'on' : 'off'}${t.changed ? ', changed since approved' : ''}` };
    item.contextValue = 'mcpTool';
    return item;
  }
}

import * as vscode from 'vscode';
import type { Gateway } from '../gateway/gateway';
import { Disposable } from '../gateway/util/disposable';

/** The one MultiClaw status bar item: a single switch over the gateway state. */
export class GatewayStatusBar extends Disposable {
  private readonly item: vscode.StatusBarItem;

  constructor(private readonly gateway: Gateway, private readonly busyCount: () => number) {
    super();
    this.item = this._register(vscode.window.createStatusBarItem('multiclaw.status', vscode.StatusBarAlignment.Left, 100));
    this.item.name = 'MultiClaw';
    this.item.command = 'multiclaw.showStatusMenu';
    this._register(gateway.onDidChangeState(() => this.update()));
    this._register(gateway.onDidChangeAgents(() => this.update()));
    this.update();
    this.item.show();
  }

  update(): void {
    const g = this.gateway;
    const agents = g.agents().filter((a) => a.available);
    const busy = this.busyCount();
    const md = new vscode.MarkdownString(undefined, true);
    md.isTrusted = { enabledCommands: ['multiclaw.setProviderKey', 'multiclaw.openLogs', 'multiclaw.startGateway', 'multiclaw.restartGateway', 'multiclaw.focusChat', 'multiclaw.copyLocalApiToken'] };
    md.supportThemeIcons = true;
    this.item.backgroundColor = undefined;
    switch (g.state) {
      case 'running':
        this.item.text = busy > 0 ? `$(hubot) Local · Running · ${busy} replying` : '$(hubot) Local · Running';
        this.item.accessibilityInformation = { label: `MultiClaw gateway running locally, ${agents.length} agents available` };
        md.appendMarkdown('**MultiClaw** — local mode\n\n');
        md.appendMarkdown(`$(pass) Gateway running in the extension host\n\n`);
        md.appendMarkdown(agents.length
          ? `$(hubot) ${agents.length} agent${agents.length === 1 ? '' : 's'}: ${agents.map((a) => a.name).join(', ')}\n\n`
          : '$(warning) No agent available — [Set Provider API Key](command:multiclaw.setProviderKey)\n\n');
        md.appendMarkdown(g.localApi
          ? `$(plug) Local API on 127.0.0.1:${g.localApi.port} — [Copy Token](command:multiclaw.copyLocalApiToken)\n\n`
          : `$(circle-slash) Local API ${g.config.localApi.enabled ? 'not running' : 'off'}\n\n`);
        break;
      case 'starting':
        this.item.text = '$(loading~spin) MultiClaw: Starting…';
        this.item.accessibilityInformation = { label: 'MultiClaw gateway starting' };
        md.appendMarkdown('**MultiClaw** — the gateway is starting…\n\n');
        break;
      case 'stopped':
        this.item.text = '$(circle-slash) MultiClaw: Stopped';
        this.item.backgroundColor = new vscode.ThemeColor('statusBarItem.warningBackground');
        this.item.accessibilityInformation = { label: 'MultiClaw gateway stopped' };
        md.appendMarkdown('**MultiClaw** — the gateway is stopped; agents cannot reply.\n\n[$(play) Start Gateway](command:multiclaw.startGateway)\n\n');
        break;
      case 'error':
        this.item.text = '$(error) MultiClaw: Error';
        this.item.backgroundColor = new vscode.ThemeColor('statusBarItem.errorBackground');
        this.item.accessibilityInformation = { label: `MultiClaw gateway error: ${g.lastError ?? 'unknown'}` };
        md.appendMarkdown(`**MultiClaw** — the gateway failed to start\n\n$(error) ${escapeMd(g.lastError ?? 'unknown error')}\n\n`);
        md.appendMarkdown('[$(debug-restart) Restart Gateway](command:multiclaw.restartGateway) · [$(output) Open Logs](command:multiclaw.openLogs)\n\n');
        break;
    }
    md.appendMarkdown('---\n\nClick for the MultiClaw menu');
    this.item.tooltip = md;
  }
}

function escapeMd(s: string): string {
  return s.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, '\\$&');
}

import * as vscode from 'vscode';
import { escapeMarkdown } from './markdown';
import { CMD } from './commandIds';
import type { LinkStatus } from '../gateway/workspace/linkState';
import type { Gateway } from '../gateway/gateway';
import { Disposable } from '../gateway/util/disposable';

interface View {
  text: string;
  label: string;
  background?: 'warning' | 'error';
  md: string;
}

const COMMANDS = [
  CMD.setProviderKey,
  CMD.openLogs,
  CMD.startGateway,
  CMD.restartGateway,
  CMD.focusChat,
  CMD.copyLocalApiToken,
  CMD.signIn,
  CMD.signOut,
  CMD.reconnect,
  CMD.showTasks,
  CMD.diagnoseConnection,
  CMD.dispatchTask,
];

/**
 * The one MultiClaw status bar item: one state machine over the gateway and its workspace link, every
 * state worded `<codicon> MultiClaw: <state>` — Local · Running; Signed out; Connecting…; Connected ·
 * <workspace> (· N running); Reconnecting in Ns (attempt k); Offline (reconnecting has failed for 15 s —
 * local agents keep working); Error (reason). The warning background for what needs attention soon
 * (stopped, reconnecting, offline, a session that ended), the error background for failures; a markdown
 * tooltip (server, latency, heartbeat…) and a click menu (`multiclaw.showStatusMenu`).
 */
export class GatewayStatusBar extends Disposable {
  private readonly item: vscode.StatusBarItem;
  private ticker: NodeJS.Timeout | undefined;

  constructor(private readonly gateway: Gateway) {
    super();
    this.item = this._register(vscode.window.createStatusBarItem('multiclaw.status', vscode.StatusBarAlignment.Left, 100));
    this.item.name = 'MultiClaw';
    this.item.command = CMD.showStatusMenu;
    this._register(gateway.onDidChangeState(() => this.update()));
    this._register(gateway.onDidChangeLocalTasks(() => this.update())); // "· N running"
    this._register(gateway.onChatEvent((e) => e.type === 'busy' && this.update())); // "· N replying"
    this._register(gateway.onDidChangeAgents(() => this.update()));
    this._register(gateway.linkStatus.onDidChange(() => this.update()));
    this.update();
    this.item.show();
  }

  /** The current text (tests read it). */
  get text(): string {
    return this.item.text;
  }

  /** The current tooltip's markdown (tests read it). */
  get tooltip(): string {
    const t = this.item.tooltip;
    return typeof t === 'string' ? t : (t?.value ?? '');
  }

  update(): void {
    const v = this.view();
    this.item.text = v.text;
    this.item.accessibilityInformation = { label: v.label };
    this.item.backgroundColor = v.background ? new vscode.ThemeColor(`statusBarItem.${v.background}Background`) : undefined;
    const md = new vscode.MarkdownString(`${v.md}---\n\nClick for the MultiClaw menu`, true);
    md.isTrusted = { enabledCommands: COMMANDS };
    md.supportThemeIcons = true;
    this.item.tooltip = md;
    // "Reconnecting in Ns" counts down once a second while it shows.
    const s = this.gateway.linkStatus.current;
    const counting = this.gateway.state === 'running' && (s.phase === 'reconnecting' || s.phase === 'offline') && (s.retryAt ?? 0) > Date.now();
    if (counting && !this.ticker) this.ticker = setInterval(() => this.update(), 1000);
    if (!counting && this.ticker) {
      clearInterval(this.ticker);
      this.ticker = undefined;
    }
  }

  private view(): View {
    const g = this.gateway;
    switch (g.state) {
      case 'starting':
        return { text: '$(loading~spin) MultiClaw: Starting…', label: 'MultiClaw gateway starting', md: '**MultiClaw** — the gateway is starting…\n\n' };
      case 'stopped':
        return {
          text: '$(circle-slash) MultiClaw: Stopped',
          label: 'MultiClaw gateway stopped',
          background: 'warning',
          md: '**MultiClaw** — the gateway is stopped; agents cannot reply.\n\n[$(play) Start Gateway](command:multiclaw.startGateway)\n\n',
        };
      case 'error':
        return {
          text: '$(error) MultiClaw: Error',
          label: `MultiClaw gateway error: ${g.lastError ?? 'unknown'}`,
          background: 'error',
          md: `**MultiClaw** — the gateway failed to start\n\n$(error) ${escapeMarkdown(g.lastError ?? 'unknown error')}\n\n[$(debug-restart) Restart Gateway](command:multiclaw.restartGateway) · [$(output) Open Logs](command:multiclaw.openLogs)\n\n`,
        };
      case 'running':
        return this.linkView(g.linkStatus.current);
    }
  }

  private linkView(s: LinkStatus): View {
    const running = this.gateway.taskCounts().running;
    const ws = s.workspace?.name ?? 'workspace';
    const details = this.details(s, running);
    switch (s.phase) {
      case 'local': {
        const busy = this.gateway.busyConversations().length;
        return {
          text: busy > 0 ? `$(hubot) MultiClaw: Local · Running · ${busy} replying` : '$(hubot) MultiClaw: Local · Running',
          label: `MultiClaw gateway running locally, ${this.agentCount()} agents available`,
          md: `**MultiClaw** — local mode\n\n$(pass) Gateway running in the extension host\n\n${this.agentsMd()}${this.localApiMd()}[$(account) Sign In to a workspace](command:multiclaw.signIn)\n\n`,
        };
      }
      case 'signedOut': {
        const why = s.signedOutReason === 'expired' ? 'your sign-in expired' : s.signedOutReason === 'revoked' ? 'access was revoked' : 'not signed in';
        return {
          text: '$(account) MultiClaw: Signed out',
          label: `MultiClaw signed out: ${why}; local agents keep working`,
          background: s.signedOutReason === 'revoked' || s.signedOutReason === 'expired' ? 'warning' : undefined,
          md: `**MultiClaw** — signed out (${why})\n\n${s.message ? `${escapeMarkdown(s.message)}\n\n` : ''}Local agents keep working.\n\n${this.agentsMd()}[$(account) Sign In](command:multiclaw.signIn)\n\n`,
        };
      }
      case 'connecting':
        return {
          text: '$(sync~spin) MultiClaw: Connecting…',
          label: `MultiClaw connecting to ${ws}`,
          md: `**MultiClaw** — connecting to ${escapeMarkdown(ws)}…\n\n${details}`,
        };
      case 'connected':
        return {
          text: `$(cloud) MultiClaw: Connected · ${ws}${running ? ` · ${running} running` : ''}`,
          label: `MultiClaw connected to ${ws}${running ? `, ${running} tasks running` : ''}`,
          md: `**MultiClaw** — connected to ${escapeMarkdown(ws)}\n\n${details}[$(checklist) Show Tasks](command:multiclaw.showTasks) · [$(sign-out) Sign Out](command:multiclaw.signOut)\n\n`,
        };
      case 'reconnecting': {
        const secs = Math.max(0, Math.ceil(((s.retryAt ?? 0) - Date.now()) / 1000));
        const text = secs > 0 ? `Reconnecting in ${secs}s (attempt ${s.attempt ?? 1})` : `Reconnecting… (attempt ${s.attempt ?? 1})`;
        return {
          text: `$(sync~spin) MultiClaw: ${text}`,
          label: `MultiClaw ${text.toLowerCase()}; running tasks continue`,
          background: 'warning',
          md: `**MultiClaw** — the connection to ${escapeMarkdown(ws)} dropped; running tasks continue and their updates are queued.\n\n${s.message ? `$(warning) ${escapeMarkdown(s.message)}\n\n` : ''}${details}[$(refresh) Reconnect now](command:multiclaw.reconnect)\n\n`,
        };
      }
      case 'offline':
        return {
          text: '$(debug-disconnect) MultiClaw: Offline',
          label: 'MultiClaw offline: the workspace server is unreachable; local agents keep working',
          background: 'warning',
          md: `**MultiClaw** — offline (workspace server unreachable — local agents keep working)\n\n${s.message ? `$(warning) ${escapeMarkdown(s.message)}\n\n` : ''}${details}[$(refresh) Reconnect now](command:multiclaw.reconnect) · [$(debug-console) Diagnose Connection](command:multiclaw.diagnoseConnection)\n\n`,
        };
      case 'error': {
        const reason = s.message ?? 'unknown error';
        return {
          text: `$(error) MultiClaw: Error (${reason.length > 40 ? `${reason.slice(0, 39)}…` : reason})`,
          label: `MultiClaw error: ${reason}`,
          background: 'error',
          md: `**MultiClaw** — the workspace connection stopped\n\n$(error) ${escapeMarkdown(reason)}\n\n${details}[$(refresh) Reconnect](command:multiclaw.reconnect) · [$(output) Open Logs](command:multiclaw.openLogs)\n\n`,
        };
      }
    }
  }

  private details(s: LinkStatus, running: number): string {
    const rows: string[] = [];
    if (s.serverUrl) rows.push(`$(server) Server: ${escapeMarkdown(s.serverUrl)}`);
    if (s.workspace) rows.push(`$(organization) Workspace: ${escapeMarkdown(s.workspace.name)} (${s.workspace.role})`);
    if (s.user) rows.push(`$(account) Signed in as ${escapeMarkdown(s.user.email)}`);
    if (s.instance) rows.push(`$(vm) Instance: ${escapeMarkdown(s.instance.name)}`);
    if (s.latencyMs !== undefined) rows.push(`$(pulse) Latency: ${s.latencyMs} ms`);
    if (s.lastHeartbeatAt) rows.push(`$(heart) Last heartbeat: ${Math.max(0, Math.round((Date.now() - s.lastHeartbeatAt) / 1000))} s ago`);
    rows.push(`$(inbox) Queued updates: ${s.queued}`);
    rows.push(`$(play) Running tasks: ${running}`);
    return rows.join('  \n') + '\n\n';
  }

  private agentCount(): number {
    return this.gateway.agents().filter((a) => a.available).length;
  }

  private agentsMd(): string {
    const agents = this.gateway.agents().filter((a) => a.available);
    return agents.length
      ? `$(hubot) ${agents.length} agent${agents.length === 1 ? '' : 's'}: ${agents.map((a) => escapeMarkdown(a.name)).join(', ')}\n\n`
      : '$(warning) No agent available — [Set Provider API Key](command:multiclaw.setProviderKey)\n\n';
  }

  private localApiMd(): string {
    const g = this.gateway;
    return g.localApi
      ? `$(plug) Local API on 127.0.0.1:${g.localApi.port} — [Copy Token](command:multiclaw.copyLocalApiToken)\n\n`
      : `$(circle-slash) Local API ${g.config.localApi.enabled ? 'not running' : 'off'}\n\n`;
  }

  override dispose(): void {
    if (this.ticker) clearInterval(this.ticker);
    super.dispose();
  }
}

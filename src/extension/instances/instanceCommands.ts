/**
 * Cloud desktop commands: Connect (opens the viewer tab; the status bar says "Cloud desktop · name"),
 * Disconnect, Start / Stop / Restart / Terminate (Owners and Admins; Stop and Terminate ask first),
 * Refresh, Diagnose (TURN over UDP, TCP and TLS), and `multiclaw.desktop.defaultInstance`, which
 * connects at start when that desktop is online. Settings: `multiclaw.desktop.connectionMode`.
 */
import { randomUUID } from 'node:crypto';
import * as vscode from 'vscode';
import type { Gateway } from '../../gateway/gateway';
import type { Logger } from '../../gateway/ports';
import type { ConnectionMode } from '../../protocol/viewer';
import type { LifecycleAction } from '../../protocol/workspace/common';
import type { Instance } from '../../protocol/workspace/models';
import { CMD, CTX, setContext } from '../commandIds';
import { showError } from '../commands';
import type { InstancesTree } from './instancesTree';
import { ViewerPanel } from './viewerPanel';

export function readConnectionMode(log: Logger): ConnectionMode {
  const v = vscode.workspace.getConfiguration('multiclaw').get<unknown>('desktop.connectionMode');
  if (v === undefined || v === 'auto' || v === 'relay') return (v as ConnectionMode | undefined) ?? 'auto';
  log.warn('setting multiclaw.desktop.connectionMode must be "auto" or "relay"; using auto');
  return 'auto';
}

function readDefaultInstance(): string {
  const v = vscode.workspace.getConfiguration('multiclaw').get<unknown>('desktop.defaultInstance');
  return typeof v === 'string' ? v.trim() : '';
}

const errorText = (err: unknown): string => (err instanceof Error ? err.message : String(err));

export interface DesktopUi {
  tree: InstancesTree;
  panel(): ViewerPanel | undefined;
  statusItem: vscode.StatusBarItem;
  /** The desktop whose viewer is open changed (undefined: none): the Tasks list switches to it. */
  onDidChangeConnected: vscode.Event<{ id: string; name: string } | undefined>;
}

export function registerInstanceCommands(o: { extensionUri: vscode.Uri; gateway: Gateway; tree: InstancesTree; logger: Logger }): {
  disposables: vscode.Disposable[];
  ui: DesktopUi;
} {
  const { gateway, tree, logger: log } = o;
  let panel: ViewerPanel | undefined;
  const statusItem = vscode.window.createStatusBarItem('multiclaw.desktop', vscode.StatusBarAlignment.Left, 99);
  statusItem.name = 'MultiClaw Cloud Desktop';
  statusItem.command = CMD.connectDesktop;
  const connectedEmitter = new vscode.EventEmitter<{ id: string; name: string } | undefined>();

  const showStatus = (): void => {
    if (!panel) {
      statusItem.hide();
      setContext(CTX.desktopConnected, false);
      return;
    }
    const s = panel.state;
    const icon = s === 'connected' ? '$(vm-active)' : s === 'failed' ? '$(error)' : '$(sync~spin)';
    statusItem.text = `${icon} Cloud desktop · ${panel.instance.name}`;
    statusItem.tooltip = `MultiClaw is connected to the cloud desktop ${panel.instance.name}: ${s}${panel.relayMode ? ' (relay)' : ''}. Click to show it.`;
    statusItem.backgroundColor = s === 'failed' ? new vscode.ThemeColor('statusBarItem.errorBackground') : undefined;
    statusItem.show();
    setContext(CTX.desktopConnected, true);
  };

  const resolve = async (arg: unknown, purpose: string): Promise<Instance | undefined> => {
    if (arg && typeof arg === 'object' && 'id' in arg && typeof (arg as { id: unknown }).id === 'string') {
      await tree.refresh();
      return tree.get((arg as { id: string }).id) ?? (arg as Instance);
    }
    if (typeof arg === 'string') {
      await tree.refresh();
      return tree.list().find((i) => i.id === arg || i.name === arg);
    }
    await tree.refresh();
    const items = tree
      .list()
      .map((i) => ({ label: `$(vm) ${i.name}`, description: [i.online ? i.status : 'offline', i.label].filter(Boolean).join(' · '), i }));
    if (!items.length) {
      void vscode.window.showInformationMessage(
        gateway.linkIfRunning()?.isConnected
          ? 'MultiClaw: this workspace has no cloud desktops yet (run `multiclaw desktop` on a machine).'
          : 'MultiClaw: sign in to a workspace first.',
      );
      return undefined;
    }
    return (await vscode.window.showQuickPick(items, { placeHolder: `Cloud desktop to ${purpose}` }))?.i;
  };

  const connect = async (arg?: unknown): Promise<ViewerPanel | undefined> => {
    if (panel && !arg) {
      panel.reveal();
      return panel;
    }
    const inst = await resolve(arg, 'connect to');
    if (!inst) return undefined;
    if (panel?.instance.id === inst.id) {
      panel.reveal();
      return panel;
    }
    panel?.dispose();
    const p = new ViewerPanel(
      o.extensionUri,
      gateway,
      { id: inst.id, name: inst.name },
      () => readConnectionMode(log),
      log.child('viewer'),
      () => {
        void vscode.commands.executeCommand(CMD.diagnoseDesktop, inst.id);
      },
    );
    panel = p;
    p.onDidChangeState(() => showStatus());
    p.onDidClose(() => {
      if (panel !== p) return;
      panel = undefined;
      tree.setConnected(undefined);
      connectedEmitter.fire(undefined);
      showStatus();
    });
    tree.setConnected(inst.id);
    connectedEmitter.fire({ id: inst.id, name: inst.name });
    showStatus();
    return p;
  };

  const lifecycle = async (action: LifecycleAction, arg: unknown): Promise<boolean> => {
    const inst = await resolve(arg, action);
    if (!inst) return false;
    const confirm: Partial<Record<LifecycleAction, [string, string]>> = {
      stop: [`Stop ${inst.name}? Its display and agents turn off; nothing is deleted, and Start brings it back.`, 'Stop'],
      terminate: [`Terminate ${inst.name}? Its data on that machine is removed and it leaves the workspace. This cannot be undone.`, 'Terminate'],
    };
    const c = confirm[action];
    if (c && (arg as { confirmed?: boolean } | undefined)?.confirmed !== true) {
      const ok = await vscode.window.showWarningMessage(c[0], { modal: true }, c[1]);
      if (ok !== c[1]) return false;
    }
    try {
      await gateway.ensureRunning();
      await gateway.link.request('instance.lifecycle', { instanceId: inst.id, action }, `lc-${randomUUID()}`);
      void vscode.window.setStatusBarMessage(`MultiClaw: ${action} sent to ${inst.name}`, 4000);
      await tree.refresh();
      return true;
    } catch (err) {
      showError(`Could not ${action} ${inst.name}: ${errorText(err)}`, log, err);
      return false;
    }
  };

  const diagnose = async (arg?: unknown): Promise<string | undefined> => {
    try {
      await gateway.ensureRunning();
      const [{ probeTurn }, { turnCredentialsSchema }] = await Promise.all([import('../../gateway/net/turnProbe'), import('../../protocol/workspace/models')]);
      const creds = turnCredentialsSchema.parse(await gateway.link.request('turn.credentials', {}));
      const urls = creds.iceServers.flatMap((s) => s.urls);
      const results = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: 'MultiClaw: testing TURN over UDP, TCP and TLS…' },
        () => probeTurn(urls, gateway.ledger),
      );
      const works = [...new Set(results.filter((r) => r.ok).map((r) => r.transport.toUpperCase()))];
      const mode = readConnectionMode(log);
      const lines = [
        '# MultiClaw cloud desktop connection report',
        '',
        `Desktop: ${typeof arg === 'string' ? (tree.get(arg)?.name ?? arg) : (panel?.instance.name ?? '—')} · connection mode: ${mode}`,
        '',
        ...(urls.length
          ? results.map((r) => `- ${r.ok ? '✓' : '✗'} ${r.transport.toUpperCase()} ${r.host}:${r.port}${r.ok ? ` (${r.ms} ms)` : ` — ${r.error}`}`)
          : ['- ✗ the workspace has no TURN server configured']),
        '',
        works.length
          ? `**Works:** ${works.join(', ')}.`
          : '**No TURN transport answered.** Only direct connections can work; ask IT to allow TURN (TCP/TLS on 443).',
        works.length && !works.includes('UDP')
          ? 'UDP is blocked here: set `multiclaw.desktop.connectionMode` to `relay` (TURN over TCP/TLS on 443, also through an HTTP proxy).'
          : '',
        '',
        'The viewer webview makes its own WebRTC connections (through the browser’s proxy settings); this report tests from the gateway.',
      ];
      const text = lines.filter((l, i, a) => l !== '' || a[i - 1] !== '').join('\n') + '\n';
      await vscode.window.showTextDocument(await vscode.workspace.openTextDocument({ content: text, language: 'markdown' }), { preview: true });
      return text;
    } catch (err) {
      showError(`Diagnose failed: ${errorText(err)}`, log, err);
      return undefined;
    }
  };

  // Connect the default desktop once, the first time it is listed online.
  let autoConnected = false;
  const auto = tree.onDidChangeTreeData(() => {
    const want = readDefaultInstance();
    if (autoConnected || !want || panel) return;
    const inst = tree.list().find((i) => (i.id === want || i.name === want) && i.online && (i.status === 'online' || i.status === 'running'));
    if (!inst) return;
    autoConnected = true;
    log.info(`connecting to the default cloud desktop ${inst.name}`);
    void connect(inst);
  });

  const disposables: vscode.Disposable[] = [
    statusItem,
    auto,
    { dispose: () => panel?.dispose() },
    connectedEmitter,
    vscode.commands.registerCommand(CMD.connectDesktop, (arg?: unknown) => connect(arg)),
    vscode.commands.registerCommand(CMD.disconnectDesktop, () => {
      panel?.dispose();
    }),
    vscode.commands.registerCommand(CMD.startDesktop, (arg?: unknown) => lifecycle('start', arg)),
    vscode.commands.registerCommand(CMD.stopDesktop, (arg?: unknown) => lifecycle('stop', arg)),
    vscode.commands.registerCommand(CMD.restartDesktop, (arg?: unknown) => lifecycle('restart', arg)),
    vscode.commands.registerCommand(CMD.terminateDesktop, (arg?: unknown) => lifecycle('terminate', arg)),
    vscode.commands.registerCommand(CMD.refreshInstances, () => tree.refresh()),
    vscode.commands.registerCommand(CMD.diagnoseDesktop, (arg?: unknown) => diagnose(arg)),
  ];
  return { disposables, ui: { tree, panel: () => panel, statusItem, onDidChangeConnected: connectedEmitter.event } };
}

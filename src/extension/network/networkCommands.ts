/**
 * Network commands and views: `MultiClaw: Show Network Activity` (a live tree of the ledger),
 * `MultiClaw: Diagnose Connection` (a read-only, copyable report), the visible warning when
 * certificate verification is off, and VS Code's proxy settings feeding the gateway. Heavy modules
 * (undici, the diagnose probe) load when a command runs, never at activation.
 */
import * as vscode from 'vscode';
import { CMD } from '../commandIds';
import { isProviderConfigured } from '../../gateway/agents';
import type { Gateway } from '../../gateway/gateway';
import type { DiagnoseTarget } from '../../gateway/net/diagnose';
import type { HostActivity } from '../../gateway/net/ledger';
import type { NetService } from '../../gateway/net/net';
import type { Logger } from '../../gateway/ports';
import { PROVIDER_IDS, PROVIDER_LABELS, PROVIDER_PURPOSE } from '../../gateway/providers/types';
import { readGatewayConfig } from '../settings';
import { NetworkActivityView } from './networkView';
import { errorMessage } from '../../gateway/errors';

export interface NetworkDeps {
  gateway: Gateway;
  logger: Logger;
  version: string;
}

const REPORT_SCHEME = 'multiclaw-report';

/** The hosts the current configuration uses (configured providers, enabled chat services). */
export function diagnoseTargets(gateway: Gateway): DiagnoseTarget[] {
  const c = gateway.config;
  const targets: DiagnoseTarget[] = [];
  for (const p of PROVIDER_IDS) {
    const url = c.providers[p].baseUrl;
    if (url && isProviderConfigured(p, c, (id) => gateway.keys.has(id))) targets.push({ label: PROVIDER_LABELS[p], url, purpose: PROVIDER_PURPOSE[p] });
  }
  if (c.network.linkPreviews) targets.push({ label: 'Link previews', url: c.network.linkPreviewService, purpose: 'link-preview' });
  if (c.network.favicons) targets.push({ label: 'Favicons', url: c.network.faviconService, purpose: 'favicon' });
  return targets;
}

function isTargetList(v: unknown): v is DiagnoseTarget[] {
  return (
    Array.isArray(v) &&
    v.every((t) => t && typeof t === 'object' && typeof (t as DiagnoseTarget).url === 'string' && typeof (t as DiagnoseTarget).label === 'string')
  );
}

export function registerNetwork(d: NetworkDeps): vscode.Disposable[] {
  const { gateway, logger } = d;
  const log = logger.child('network');
  const view = new NetworkActivityView(gateway);
  const tree = vscode.window.createTreeView(NetworkActivityView.viewId, { treeDataProvider: view, showCollapseAll: false });
  view.setVisible(tree.visible);
  const reports = new Map<string, string>();
  const onDidChangeReport = new vscode.EventEmitter<vscode.Uri>();
  let warnedInsecure = false;

  const warnIfInsecure = (): void => {
    if (gateway.config.network.strictSSL || warnedInsecure) return;
    warnedInsecure = true;
    log.warn('multiclaw.network.strictSSL is false: TLS certificates are not verified');
    void vscode.window
      .showWarningMessage(
        'MultiClaw: TLS certificate verification is off (multiclaw.network.strictSSL). Connections to providers are not protected against interception.',
        'Open Settings',
      )
      .then((b) => b && vscode.commands.executeCommand('workbench.action.openSettings', 'multiclaw.network.strictSSL'));
  };

  /** `withWorkspace`: also the workspace server the link uses (not for an explicit target list). */
  const diagnoseNow = async (targets: DiagnoseTarget[], withWorkspace: boolean, token?: vscode.CancellationToken): Promise<string> => {
    const { diagnose, describeEnvironment, formatReport } = await import('../../gateway/net/diagnose');
    let net: NetService;
    let temporary: NetService | undefined;
    if (gateway.isRunning) net = gateway.net;
    else {
      const { NetService } = await import('../../gateway/net/net');
      net = temporary = new NetService({ config: gateway.config.network, logger, ledger: gateway.ledger });
    }
    try {
      const { workspaceDiagnoseTargets, workspaceEnvironment } = await import('../../gateway/workspace/diagnoseTargets');
      // Signed in (also Offline or Reconnecting): exactly the server the link uses.
      const link = gateway.linkStatus.current;
      const env = [...describeEnvironment(net), workspaceEnvironment(link)];
      const report = await diagnose(net, withWorkspace ? [...targets, ...workspaceDiagnoseTargets(link)] : targets, env);
      if (token?.isCancellationRequested) return '';
      return formatReport(report, [`MultiClaw ${d.version} · VS Code ${vscode.version} · ${process.platform}/${process.arch}`]);
    } finally {
      temporary?.dispose();
    }
  };

  return [
    view,
    tree,
    onDidChangeReport,
    tree.onDidChangeVisibility((e) => view.setVisible(e.visible)),
    vscode.workspace.registerTextDocumentContentProvider(REPORT_SCHEME, {
      onDidChange: onDidChangeReport.event,
      provideTextDocumentContent: (uri) => reports.get(uri.query) ?? '',
    }),
    gateway.onDidChangeAgents(warnIfInsecure),
    vscode.workspace.onDidChangeConfiguration((e) => {
      // VS Code's own proxy settings are fallbacks for ours (the multiclaw.* change is handled by the composition root).
      if (!e.affectsConfiguration('multiclaw') && ['http.proxy', 'http.noProxy', 'http.proxyStrictSSL'].some((k) => e.affectsConfiguration(k))) {
        void readGatewayConfig(logger.child('settings')).then((c) => gateway.setConfig(c));
      }
    }),

    vscode.commands.registerCommand(CMD.showNetworkActivity, async (): Promise<HostActivity[]> => {
      await vscode.commands.executeCommand('setContext', 'multiclaw.networkViewEnabled', true);
      await vscode.commands.executeCommand(`${NetworkActivityView.viewId}.focus`);
      return gateway.ledger.activity();
    }),
    vscode.commands.registerCommand(CMD.clearNetworkActivity, () => {
      gateway.ledger.clear();
      view.setVisible(tree.visible);
    }),
    vscode.commands.registerCommand(CMD.diagnoseConnection, async (arg?: unknown): Promise<string | undefined> => {
      const explicit = isTargetList(arg);
      const targets = explicit ? arg : diagnoseTargets(gateway);
      try {
        const text = await vscode.window.withProgress(
          { location: vscode.ProgressLocation.Notification, title: 'MultiClaw: diagnosing connections…', cancellable: true },
          (_p, token) => diagnoseNow(targets, !explicit, token),
        );
        if (!text) return undefined;
        const id = String(Date.now());
        reports.set(id, text);
        const uri = vscode.Uri.from({ scheme: REPORT_SCHEME, path: '/MultiClaw Connection Report.md', query: id });
        await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(uri), { preview: true });
        void vscode.window.showInformationMessage('MultiClaw: connection report ready (no keys or tokens in it).', 'Copy Report').then((b) => {
          if (b) void vscode.env.clipboard.writeText(text);
        });
        return text;
      } catch (err) {
        log.error('Diagnose Connection failed:', err instanceof Error ? err : String(err));
        void vscode.window.showErrorMessage(`MultiClaw: Diagnose Connection failed: ${errorMessage(err)}`);
        return undefined;
      }
    }),
  ];
}

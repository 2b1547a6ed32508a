/**
 * The viewer editor tab of one cloud desktop. The webview holds the RTCPeerConnection (in remote
 * windows it stays on the user's machine, so frames never cross the remote tunnel); the gateway's
 * ViewerRelay relays its signalling over the workspace WSS and gives it only TURN credentials.
 * `retainContextWhenHidden`: hiding the tab keeps the session.
 */
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import type { ViewerRelay } from '../../gateway/desktop/viewerRelay';
import type { Gateway } from '../../gateway/gateway';
import type { Logger } from '../../gateway/ports';
import { Disposable, Emitter } from '../../gateway/util/disposable';
import type { ConnectionMode, ViewerState } from '../../protocol/viewer';
import { renderViewerHtml } from './viewerHtml';

export class ViewerPanel extends Disposable {
  readonly panel: vscode.WebviewPanel;
  private relay: ViewerRelay | undefined;
  state: ViewerState = 'connecting';
  relayMode: boolean | undefined;
  private readonly stateEmitter = this._register(new Emitter<ViewerState>());
  readonly onDidChangeState = this.stateEmitter.event;
  private readonly closeEmitter = this._register(new Emitter<void>());
  readonly onDidClose = this.closeEmitter.event;

  constructor(
    extensionUri: vscode.Uri,
    gateway: Gateway,
    readonly instance: { id: string; name: string },
    private readonly mode: () => ConnectionMode,
    log: Logger,
    onDiagnose: () => void,
  ) {
    super();
    const dist = vscode.Uri.joinPath(extensionUri, 'dist', 'webviews');
    this.panel = vscode.window.createWebviewPanel(
      'multiclaw.viewer',
      instance.name,
      { viewColumn: vscode.ViewColumn.Active, preserveFocus: false },
      { enableScripts: true, retainContextWhenHidden: true, localResourceRoots: [dist] },
    );
    this.panel.iconPath = vscode.Uri.joinPath(extensionUri, 'media', 'multiclaw.svg');
    const queued: unknown[] = [];
    this._register(
      this.panel.webview.onDidReceiveMessage((m: unknown) => {
        if (this.relay) this.relay.handle(m);
        else queued.push(m);
      }),
    );
    this._register(this.panel.onDidDispose(() => this.dispose()));
    const w = this.panel.webview;
    w.html = renderViewerHtml({
      cspSource: w.cspSource,
      nonce: randomBytes(18).toString('base64url'),
      scriptUri: w.asWebviewUri(vscode.Uri.joinPath(dist, 'viewer.js')).toString(),
      styleUri: w.asWebviewUri(vscode.Uri.joinPath(dist, 'viewer.css')).toString(),
      codiconsUri: w.asWebviewUri(vscode.Uri.joinPath(dist, 'codicons', 'codicon.css')).toString(),
    });
    void (async () => {
      await gateway.ensureRunning();
      const { ViewerRelay } = await import('../../gateway/desktop/viewerRelay');
      if (this.isDisposed) return;
      this.relay = this._register(
        new ViewerRelay({
          link: gateway.link,
          instance,
          mode: this.mode,
          ledger: gateway.ledger,
          logger: log,
          post: (m) => void this.panel.webview.postMessage(m),
          onState: (s, _detail, relay) => {
            this.state = s;
            this.relayMode = relay;
            this.panel.title = s === 'connected' ? instance.name : `${instance.name} (${s})`;
            this.stateEmitter.fire(s);
          },
          onDiagnose,
        }),
      );
      for (const m of queued.splice(0)) this.relay.handle(m);
    })().catch((err: unknown) => log.error('the viewer could not start:', err instanceof Error ? err : String(err)));
  }

  reveal(): void {
    this.panel.reveal();
  }

  override dispose(): void {
    if (this.isDisposed) return;
    this.closeEmitter.fire();
    super.dispose();
    this.panel.dispose();
  }
}

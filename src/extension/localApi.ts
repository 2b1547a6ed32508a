/**
 * The local API in VS Code: `MultiClaw: Copy Local API Token`, a notification when the configured
 * port was taken (or the listener could not start), and a Restart offer when its settings change.
 */
import * as vscode from 'vscode';
import { CMD } from './commandIds';
import type { Gateway } from '../gateway/gateway';
import type { Logger } from '../gateway/ports';

export function registerLocalApi(gateway: Gateway, logger: Logger): vscode.Disposable[] {
  let announcedPort: number | undefined;
  return [
    vscode.commands.registerCommand(CMD.copyLocalApiToken, async (): Promise<void> => {
      const api = gateway.localApi;
      if (!api) {
        const off = !gateway.config.localApi.enabled;
        const message = off
          ? 'MultiClaw: the local API is off (setting multiclaw.gateway.localApi).'
          : gateway.isRunning
            ? 'MultiClaw: the local API did not start; see the log.'
            : 'MultiClaw: the gateway is not running, so there is no local API token.';
        const action = off ? 'Open Settings' : gateway.isRunning ? 'Open Logs' : 'Start Gateway';
        const pick = await vscode.window.showWarningMessage(message, action);
        if (pick === 'Open Settings') await vscode.commands.executeCommand('workbench.action.openSettings', 'multiclaw.gateway.localApi');
        else if (pick === 'Open Logs') await vscode.commands.executeCommand(CMD.openLogs);
        else if (pick === 'Start Gateway') await vscode.commands.executeCommand(CMD.startGateway);
        return;
      }
      await vscode.env.clipboard.writeText(api.token);
      logger.info(`local API token copied to the clipboard (port ${api.port})`);
      void vscode.window.showInformationMessage(
        `MultiClaw: local API token copied. Send it as "Authorization: Bearer <token>" to http://127.0.0.1:${api.port}. It changes at every gateway start.`,
      );
    }),
    gateway.onDidChangeState(({ state }) => {
      if (state !== 'running') return;
      const api = gateway.localApi;
      if (!api && gateway.config.localApi.enabled) {
        void vscode.window.showWarningMessage('MultiClaw: the local API did not start; agents still work in VS Code.', 'Open Logs').then((b) => {
          if (b) void vscode.commands.executeCommand(CMD.openLogs);
        });
      } else if (api && api.requestedPort !== 0 && api.port !== api.requestedPort && announcedPort !== api.port) {
        announcedPort = api.port;
        void vscode.window.showInformationMessage(
          `MultiClaw: port ${api.requestedPort} is in use (another window?), so the local API listens on 127.0.0.1:${api.port}. The multiclaw CLI finds it through the discovery file.`,
        );
      }
    }),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (!gateway.isRunning) return;
      if (!e.affectsConfiguration('multiclaw.gateway.port') && !e.affectsConfiguration('multiclaw.gateway.localApi')) return;
      void vscode.window.showInformationMessage('MultiClaw: restart the gateway to apply the local API setting.', 'Restart Gateway').then((b) => {
        if (b) void vscode.commands.executeCommand(CMD.restartGateway);
      });
    }),
  ];
}

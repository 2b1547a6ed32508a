import * as vscode from 'vscode';
import type { Gateway } from '../gateway/gateway';
import type { Logger } from '../gateway/ports';
import { PROVIDER_IDS, PROVIDER_LABELS, type ProviderId } from '../gateway/providers/types';
import type { ChatViewProvider } from './chat/chatViewProvider';
import { ConversationItem, type ConversationsTree } from './conversationsTree';

export interface CommandDeps {
  gateway: Gateway;
  chatView: ChatViewProvider;
  conversations: ConversationsTree;
  channel: vscode.LogOutputChannel;
  logger: Logger;
}

const KEY_HINTS: Record<ProviderId, string> = {
  openai: 'starts with sk-',
  anthropic: 'starts with sk-ant-',
  gemini: 'from Google AI Studio',
  'openai-compatible': 'only if your server requires one',
};

function isProviderId(v: unknown): v is ProviderId {
  return typeof v === 'string' && (PROVIDER_IDS as readonly string[]).includes(v);
}

function conversationIdOf(arg: unknown): string | undefined {
  if (typeof arg === 'string') return arg;
  if (arg instanceof ConversationItem) return arg.summary.id;
  return undefined;
}

/** Shows an error that says what to do, with an Open Logs button. */
export function showError(message: string, logger: Logger, err?: unknown): void {
  if (err !== undefined) logger.error(message, err instanceof Error ? err : String(err));
  void vscode.window.showErrorMessage(`MultiClaw: ${message}`, 'Open Logs').then((b) => {
    if (b) void vscode.commands.executeCommand('multiclaw.openLogs');
  });
}

async function pickProvider(gateway: Gateway, placeHolder: string, onlyWithKey: boolean): Promise<ProviderId | undefined> {
  const items = PROVIDER_IDS
    .filter((p) => !onlyWithKey || gateway.keys.has(p))
    .map((p) => ({ label: PROVIDER_LABELS[p], description: gateway.keys.has(p) ? '$(check) key set' : '', id: p }));
  if (items.length === 0) {
    void vscode.window.showInformationMessage('No provider API keys are stored.');
    return undefined;
  }
  return (await vscode.window.showQuickPick(items, { placeHolder, ignoreFocusOut: true }))?.id;
}

export function registerCommands(d: CommandDeps): vscode.Disposable[] {
  const { gateway, chatView, logger } = d;
  const run = (what: string, fn: () => Promise<void>) => async (): Promise<void> => {
    try {
      await fn();
    } catch (err) {
      showError(`${what} failed: ${err instanceof Error ? err.message : String(err)}`, logger, err);
    }
  };
  const reg = vscode.commands.registerCommand;
  return [
    reg('multiclaw.startGateway', run('Starting the gateway', () => gateway.start())),
    reg('multiclaw.stopGateway', run('Stopping the gateway', () => gateway.stop())),
    reg('multiclaw.restartGateway', run('Restarting the gateway', () => gateway.restart())),
    reg('multiclaw.openLogs', () => d.channel.show(true)),

    reg('multiclaw.setProviderKey', async (providerArg?: unknown, keyArg?: unknown) => {
      const provider = isProviderId(providerArg) ? providerArg : await pickProvider(gateway, 'Which provider is this API key for?', false);
      if (!provider) return;
      const key = typeof keyArg === 'string' ? keyArg : await vscode.window.showInputBox({
        title: `${PROVIDER_LABELS[provider]} API key`,
        prompt: `Paste your ${PROVIDER_LABELS[provider]} API key (${KEY_HINTS[provider]}). It is kept in VS Code's secret storage only.`,
        password: true,
        ignoreFocusOut: true,
        validateInput: (v) => (v.trim() ? (/\s/.test(v.trim()) ? 'An API key has no spaces.' : undefined) : 'Enter a key, or press Escape to cancel.'),
      });
      if (!key) return;
      try {
        await gateway.keys.set(provider, key);
        void vscode.window.showInformationMessage(`MultiClaw: ${PROVIDER_LABELS[provider]} key saved. Its agent is ready in the Chat view.`);
      } catch (err) {
        showError(`Could not save the key: ${err instanceof Error ? err.message : String(err)}`, logger, err);
      }
    }),

    reg('multiclaw.removeProviderKey', async (providerArg?: unknown, confirmed?: unknown) => {
      const provider = isProviderId(providerArg) ? providerArg : await pickProvider(gateway, 'Remove the API key of which provider?', true);
      if (!provider) return;
      if (confirmed !== true) {
        const ok = await vscode.window.showWarningMessage(`Remove the ${PROVIDER_LABELS[provider]} API key from this machine?`, { modal: true, detail: 'Agents that use it stop working until you set a key again.' }, 'Remove');
        if (ok !== 'Remove') return;
      }
      await gateway.keys.remove(provider);
    }),

    reg('multiclaw.focusChat', async () => {
      await vscode.commands.executeCommand('multiclaw.chat.focus');
      chatView.focusInput();
    }),
    reg('multiclaw.newConversation', async () => {
      await chatView.show(null);
      chatView.focusInput();
    }),
    reg('multiclaw.stopGenerating', () => chatView.stop()),
    reg('multiclaw.openConversation', async (arg?: unknown) => {
      const id = conversationIdOf(arg);
      if (id) await chatView.show(id);
    }),
    reg('multiclaw.refreshConversations', () => d.conversations.refresh()),

    reg('multiclaw.deleteConversation', async (arg?: unknown, confirmed?: unknown) => {
      const id = conversationIdOf(arg);
      if (!id || !gateway.isRunning) return;
      const title = arg instanceof ConversationItem ? arg.summary.title : id;
      if (confirmed !== true) {
        const ok = await vscode.window.showWarningMessage(`Delete the conversation “${title}”?`, { modal: true, detail: 'Its file is removed from this machine. This cannot be undone.' }, 'Delete');
        if (ok !== 'Delete') return;
      }
      if (gateway.chat.isBusy(id)) gateway.chat.stop(id);
      try {
        await gateway.store.delete(id);
      } catch (err) {
        showError(`Could not delete the conversation: ${err instanceof Error ? err.message : String(err)}`, logger, err);
        return;
      }
      if (chatView.conversationId === id) await chatView.show(null, false);
    }),

    reg('multiclaw.exportConversation', async (arg?: unknown, target?: unknown) => {
      const id = conversationIdOf(arg);
      if (!id || !gateway.isRunning) return;
      const title = arg instanceof ConversationItem ? arg.summary.title : 'conversation';
      const safe = title.replace(/[^\w .-]+/g, '').trim().slice(0, 60) || 'conversation';
      const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
      const uri = target instanceof vscode.Uri ? target : await vscode.window.showSaveDialog({
        title: 'Export conversation (JSONL)',
        defaultUri: folder ? vscode.Uri.joinPath(folder, `${safe}.jsonl`) : undefined,
        filters: { 'JSON Lines': ['jsonl'] },
      });
      if (!uri) return;
      await gateway.store.flush();
      await vscode.workspace.fs.copy(vscode.Uri.file(gateway.store.filePath(id)), uri, { overwrite: true });
      void vscode.window.showInformationMessage(`MultiClaw: conversation exported to ${uri.fsPath}`);
    }),

    reg('multiclaw.showStatusMenu', async () => {
      type Item = vscode.QuickPickItem & { command?: string };
      const running = gateway.state === 'running';
      const ws = gateway.workspace.status;
      const signedIn = ws.phase !== 'local' && ws.phase !== 'signedOut';
      const items: Item[] = [
        { label: '$(checklist) Show Tasks', command: 'multiclaw.showTasks' },
        { label: '$(rocket) Dispatch Task…', command: 'multiclaw.dispatchTask' },
        ...(signedIn
          ? [
            { label: '$(refresh) Reconnect', description: ws.phase, command: 'multiclaw.reconnect' },
            { label: '$(sign-out) Sign Out', description: ws.workspace?.name, command: 'multiclaw.signOut' },
          ]
          : [{ label: '$(account) Sign In…', description: 'to a team workspace', command: 'multiclaw.signIn' }]),
        { label: '', kind: vscode.QuickPickItemKind.Separator },
        { label: '$(comment-discussion) Open Chat', command: 'multiclaw.focusChat' },
        { label: '$(add) New Conversation', command: 'multiclaw.newConversation' },
        { label: '$(key) Set Provider API Key…', command: 'multiclaw.setProviderKey' },
        { label: '', kind: vscode.QuickPickItemKind.Separator },
        running
          ? { label: '$(debug-stop) Stop Gateway', command: 'multiclaw.stopGateway' }
          : { label: '$(play) Start Gateway', command: 'multiclaw.startGateway' },
        { label: '$(debug-restart) Restart Gateway', command: 'multiclaw.restartGateway' },
        { label: '$(output) Open Logs', command: 'multiclaw.openLogs' },
        { label: '$(pulse) Show Network Activity', command: 'multiclaw.showNetworkActivity' },
        { label: '$(debug-console) Diagnose Connection', command: 'multiclaw.diagnoseConnection' },
        { label: '$(settings-gear) Settings', command: 'workbench.action.openSettings' },
      ];
      const pick = await vscode.window.showQuickPick(items, { placeHolder: `MultiClaw gateway: ${gateway.state}${signedIn ? ` · ${ws.workspace?.name ?? 'workspace'}: ${ws.phase}` : ''}` });
      if (pick?.command) await vscode.commands.executeCommand(pick.command, ...(pick.command === 'workbench.action.openSettings' ? ['multiclaw'] : []));
    }),
  ];
}

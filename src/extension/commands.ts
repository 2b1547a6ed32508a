import * as path from 'node:path';
import * as vscode from 'vscode';
import { CMD, VIEW, WALKTHROUGH_ID } from './commandIds';
import type { Gateway } from '../gateway/gateway';
import type { Logger } from '../gateway/ports';
import { isProviderId, PROVIDER_IDS, PROVIDER_LABELS, type ProviderId } from '../gateway/providers/types';
import type { ChatViewProvider } from './chat/chatViewProvider';
import { ConversationItem, type ConversationsTree } from './conversationsTree';
import { errorMessage } from '../gateway/errors';
import { keyFormatWarning } from './keyFormat';
import { ask } from './quickInput';
import { defaultExportFolder, exportFileName, formatOfPath, toJsonl, toMarkdown, type ExportFormat } from './transcript';

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
  gemini: 'from Google AI Studio, starts with AIza',
  'openai-compatible': 'only if your server requires one',
};

function conversationIdOf(arg: unknown): string | undefined {
  if (typeof arg === 'string') return arg;
  if (arg instanceof ConversationItem) return arg.summary.id;
  return undefined;
}

/** Shows an error that says what to do, with an Open Logs button. */
export function showError(message: string, logger: Logger, err?: unknown): void {
  if (err !== undefined) logger.error(message, err instanceof Error ? err : String(err));
  void vscode.window.showErrorMessage(`MultiClaw: ${message}`, 'Open Logs').then((b) => {
    if (b) void vscode.commands.executeCommand(CMD.openLogs);
  });
}

async function pickProvider(gateway: Gateway, placeHolder: string, onlyWithKey: boolean): Promise<ProviderId | undefined> {
  const items = PROVIDER_IDS.filter((p) => !onlyWithKey || gateway.keys.has(p)).map((p) => ({
    label: PROVIDER_LABELS[p],
    description: gateway.keys.has(p) ? '$(check) key set' : '',
    id: p,
  }));
  if (items.length === 0) {
    void vscode.window.showInformationMessage('No provider API keys are stored.');
    return undefined;
  }
  return (await vscode.window.showQuickPick(items, { placeHolder, ignoreFocusOut: true }))?.id;
}

/**
 * Asks for a key; a key that does not have the provider's format gets a warning as it is typed and,
 * on Enter, a "Use Anyway" confirmation (Edit Key goes back with the key kept).
 */
async function askKey(provider: ProviderId): Promise<string | undefined> {
  let value = '';
  for (;;) {
    const key = await ask({
      title: `${PROVIDER_LABELS[provider]} API key`,
      prompt: `Paste your ${PROVIDER_LABELS[provider]} API key (${KEY_HINTS[provider]}). It is kept in VS Code's secret storage only.`,
      password: true,
      value,
      validate: (v) => {
        if (!v.trim()) return undefined;
        if (/\s/.test(v.trim())) return 'An API key has no spaces.';
        const w = keyFormatWarning(provider, v);
        return w ? { message: `${w}. Press Enter to use it anyway.`, severity: vscode.InputBoxValidationSeverity.Warning } : undefined;
      },
    });
    if (!key?.trim()) return undefined;
    const warning = keyFormatWarning(provider, key);
    if (!warning) return key.trim();
    const b = await vscode.window.showWarningMessage(
      `${warning}. Use it anyway?`,
      { modal: true, detail: `MultiClaw only checks the format; ${PROVIDER_LABELS[provider]} decides whether the key works.` },
      'Use Anyway',
      'Edit Key',
    );
    if (b === 'Use Anyway') return key.trim();
    if (b !== 'Edit Key') return undefined;
    value = key;
  }
}

export function registerCommands(d: CommandDeps): vscode.Disposable[] {
  const { gateway, chatView, logger } = d;
  const run = (what: string, fn: () => Promise<void>) => async (): Promise<void> => {
    try {
      await fn();
    } catch (err) {
      showError(`${what} failed: ${errorMessage(err)}`, logger, err);
    }
  };
  const reg = vscode.commands.registerCommand;
  return [
    reg(
      CMD.startGateway,
      run('Starting the gateway', () => gateway.start()),
    ),
    reg(
      CMD.stopGateway,
      run('Stopping the gateway', () => gateway.stop()),
    ),
    reg(
      CMD.restartGateway,
      run('Restarting the gateway', () => gateway.restart()),
    ),
    reg(CMD.openLogs, () => d.channel.show(true)),

    reg(CMD.setProviderKey, async (providerArg?: unknown, keyArg?: unknown) => {
      const provider = isProviderId(providerArg) ? providerArg : await pickProvider(gateway, 'Which provider is this API key for?', false);
      if (!provider) return;
      const key = typeof keyArg === 'string' ? keyArg : await askKey(provider);
      if (!key) return;
      try {
        await gateway.keys.set(provider, key);
        void vscode.window.showInformationMessage(`MultiClaw: ${PROVIDER_LABELS[provider]} key saved. Its agent is ready in the Chat view.`);
      } catch (err) {
        showError(`Could not save the key: ${errorMessage(err)}`, logger, err);
      }
    }),

    reg(CMD.removeProviderKey, async (providerArg?: unknown, confirmed?: unknown) => {
      const provider = isProviderId(providerArg) ? providerArg : await pickProvider(gateway, 'Remove the API key of which provider?', true);
      if (!provider) return;
      if (confirmed !== true) {
        const ok = await vscode.window.showWarningMessage(
          `Remove the ${PROVIDER_LABELS[provider]} API key from this machine?`,
          { modal: true, detail: 'Agents that use it stop working until you set a key again.' },
          'Remove',
        );
        if (ok !== 'Remove') return;
      }
      await gateway.keys.remove(provider);
    }),

    reg(CMD.focusChat, async () => {
      await vscode.commands.executeCommand(`${VIEW.chat}.focus`);
      chatView.focusInput();
    }),
    reg(CMD.newConversation, async () => {
      await chatView.show(null);
      chatView.focusInput();
    }),
    reg(CMD.stopGenerating, () => chatView.stop()),
    reg(CMD.openConversation, async (arg?: unknown) => {
      const id = conversationIdOf(arg);
      if (id) await chatView.show(id);
    }),
    reg(CMD.refreshConversations, () => d.conversations.refresh()),

    reg(CMD.deleteConversation, async (arg?: unknown, confirmed?: unknown) => {
      const id = conversationIdOf(arg);
      if (!id || !gateway.isRunning) return;
      const title = arg instanceof ConversationItem ? arg.summary.title : id;
      if (confirmed !== true) {
        const ok = await vscode.window.showWarningMessage(
          `Delete the conversation “${title}”?`,
          { modal: true, detail: 'Its file is removed from this machine. This cannot be undone.' },
          'Delete',
        );
        if (ok !== 'Delete') return;
      }
      if (gateway.chat.isBusy(id)) gateway.chat.stop(id);
      try {
        await gateway.store.delete(id);
      } catch (err) {
        showError(`Could not delete the conversation: ${errorMessage(err)}`, logger, err);
        return;
      }
      if (chatView.conversationId === id) await chatView.show(null, false);
    }),

    reg(CMD.exportConversation, (arg?: unknown, target?: unknown, formatArg?: unknown) =>
      exportConversation(gateway, logger, conversationIdOf(arg), target instanceof vscode.Uri ? target : undefined, formatArg),
    ),

    reg(CMD.openWalkthrough, () => vscode.commands.executeCommand('workbench.action.openWalkthrough', WALKTHROUGH_ID, false)),

    reg(CMD.showStatusMenu, async () => {
      type Item = vscode.QuickPickItem & { command?: string };
      const running = gateway.state === 'running';
      const ws = gateway.linkStatus.current;
      const signedIn = ws.phase !== 'local' && ws.phase !== 'signedOut';
      const items: Item[] = [
        { label: '$(checklist) Show Tasks', command: CMD.showTasks },
        { label: '$(rocket) Dispatch Task…', command: CMD.dispatchTask },
        ...(signedIn
          ? [
              { label: '$(refresh) Reconnect', description: ws.phase, command: CMD.reconnect },
              { label: '$(sign-out) Sign Out', description: ws.workspace?.name, command: CMD.signOut },
            ]
          : [{ label: '$(account) Sign In…', description: 'to a team workspace', command: CMD.signIn }]),
        { label: '', kind: vscode.QuickPickItemKind.Separator },
        { label: '$(comment-discussion) Open Chat', command: CMD.focusChat },
        { label: '$(add) New Conversation', command: CMD.newConversation },
        { label: '$(key) Set Provider API Key…', command: CMD.setProviderKey },
        { label: '', kind: vscode.QuickPickItemKind.Separator },
        running ? { label: '$(debug-stop) Stop Gateway', command: CMD.stopGateway } : { label: '$(play) Start Gateway', command: CMD.startGateway },
        { label: '$(debug-restart) Restart Gateway', command: CMD.restartGateway },
        { label: '$(output) Open Logs', command: CMD.openLogs },
        { label: '$(pulse) Show Network Activity', command: CMD.showNetworkActivity },
        { label: '$(debug-console) Diagnose Connection', command: CMD.diagnoseConnection },
        { label: '$(settings-gear) Settings', command: 'workbench.action.openSettings' },
        { label: '$(book) Get Started', description: 'the walkthrough', command: CMD.openWalkthrough },
      ];
      const pick = await vscode.window.showQuickPick(items, {
        placeHolder: `MultiClaw gateway: ${gateway.state}${signedIn ? ` · ${ws.workspace?.name ?? 'workspace'}: ${ws.phase}` : ''}`,
      });
      if (pick?.command) await vscode.commands.executeCommand(pick.command, ...(pick.command === 'workbench.action.openSettings' ? ['multiclaw'] : []));
    }),
  ];
}

/**
 * Export Conversation…: Markdown (a readable transcript) or JSON Lines (one merged record per message),
 * saved by default in the user's Documents folder, then Open / Reveal. A target URI (tests) skips the
 * prompts; its extension picks the format unless one is given.
 */
async function exportConversation(
  gateway: Gateway,
  logger: Logger,
  id: string | undefined,
  target?: vscode.Uri,
  formatArg?: unknown,
): Promise<vscode.Uri | undefined> {
  if (!id || !gateway.isRunning) return undefined;
  const c = await gateway.conversation(id);
  if (!c) return undefined;
  let format: ExportFormat | undefined = formatArg === 'markdown' || formatArg === 'jsonl' ? formatArg : target ? formatOfPath(target.path) : undefined;
  format ??= (
    await vscode.window.showQuickPick(
      [
        { label: '$(markdown) Markdown', description: 'a readable transcript: who said what, and when', id: 'markdown' as const },
        { label: '$(json) JSON Lines', description: 'one record per message, for scripts', id: 'jsonl' as const },
      ],
      { title: `Export “${c.meta.title}”`, placeHolder: 'Export as', ignoreFocusOut: true },
    )
  )?.id;
  if (!format) return undefined;
  const uri =
    target ??
    (await vscode.window.showSaveDialog({
      title: `Export conversation (${format === 'markdown' ? 'Markdown' : 'JSON Lines'})`,
      defaultUri: vscode.Uri.file(path.join(defaultExportFolder(), exportFileName(c.meta.title, format))),
      filters: format === 'markdown' ? { Markdown: ['md'] } : { 'JSON Lines': ['jsonl'] },
    }));
  if (!uri) return undefined;
  const names = new Map(gateway.agents().map((a) => [a.id, a.name]));
  const agentName = (agentId: string | undefined): string => (agentId ? (names.get(agentId) ?? agentId) : 'Assistant');
  const text = format === 'markdown' ? toMarkdown(c, agentName) : toJsonl(c, agentName);
  try {
    await vscode.workspace.fs.writeFile(uri, Buffer.from(text, 'utf8'));
  } catch (err) {
    showError(`Could not export the conversation: ${errorMessage(err)}`, logger, err);
    return undefined;
  }
  void vscode.window.showInformationMessage(`MultiClaw: conversation exported to ${uri.fsPath}`, 'Open', 'Reveal').then((b) => {
    if (b === 'Open') void vscode.commands.executeCommand('vscode.open', uri);
    if (b === 'Reveal') void vscode.commands.executeCommand('revealFileInOS', uri);
  });
  return uri;
}

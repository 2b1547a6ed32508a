/**
 * Reviewing what an agent changed: each edit opens (or updates) VS Code's diff editor between the
 * file's content before the agent's first unreviewed edit (a read-only `multiclaw-original:`
 * document served from the gateway) and the file itself, without taking focus; Keep / Undo per file
 * (the diff's title bar), Keep All / Undo All (the chat view's title bar), Revert to here (a chat
 * message). The context key `multiclaw.pendingFiles` lists the files pending review for menus.
 */
import path from 'node:path';
import * as vscode from 'vscode';
import type { FileChange, ToolCallView } from '../../protocol/agent';
import { errorMessage } from '../../gateway/errors';
import type { Logger } from '../../gateway/ports';
import { Disposable } from '../../gateway/util/disposable';
import { CMD, CTX, setContext } from '../commandIds';
import type { AgentGatewayApi } from './agentApi';

export const ORIGINAL_SCHEME = 'multiclaw-original';

/** The read-only "before" side of a file's diff (same path, so the language is detected the same way). */
export function originalUri(file: string): vscode.Uri {
  return vscode.Uri.file(file).with({ scheme: ORIGINAL_SCHEME });
}

export function diffTitle(file: string): string {
  return `${path.basename(file)} (MultiClaw edit)`;
}

function showDiffs(): boolean {
  return vscode.workspace.getConfiguration('multiclaw').get<boolean>('agent.showDiffs') !== false;
}

/** A path from a command argument: a Uri (menus pass the editor's resource), a string, or the active editor's file. */
function fileArg(arg: unknown): string | undefined {
  if (arg instanceof vscode.Uri) return arg.scheme === 'file' ? arg.fsPath : arg.scheme === ORIGINAL_SCHEME ? arg.with({ scheme: 'file' }).fsPath : undefined;
  if (typeof arg === 'string' && arg) return arg;
  const uri = vscode.window.activeTextEditor?.document.uri;
  return uri?.scheme === 'file' ? uri.fsPath : undefined;
}

export class EditReview extends Disposable implements vscode.TextDocumentContentProvider {
  private readonly onDidChangeEmitter = this._register(new vscode.EventEmitter<vscode.Uri>());
  readonly onDidChange = this.onDidChangeEmitter.event;
  private pending: readonly FileChange[] = [];

  constructor(
    private readonly api: AgentGatewayApi,
    private readonly log: Logger,
  ) {
    super();
    this._register(vscode.workspace.registerTextDocumentContentProvider(ORIGINAL_SCHEME, this));
    this._register(api.onDidChangeFiles(() => void this.refresh()));
    void this.refresh();
  }

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    return (await this.api.originalContent(uri.with({ scheme: 'file' }).fsPath)) ?? '';
  }

  /** Files pending review, across conversations (as of the last change). */
  get pendingFiles(): readonly FileChange[] {
    return this.pending;
  }

  /** Re-reads the pending files: context keys for menus, and open "before" documents. */
  async refresh(): Promise<void> {
    try {
      this.pending = await this.api.pendingChanges();
    } catch (err) {
      this.log.warn(`could not read the pending changes: ${errorMessage(err)}`);
      this.pending = [];
    }
    const paths = this.pending.flatMap((f) => [f.path, vscode.Uri.file(f.path).path]);
    setContext(CTX.pendingFiles, [...new Set(paths)]);
    setContext(CTX.hasPendingChanges, this.pending.length > 0);
    for (const doc of vscode.workspace.textDocuments) if (doc.uri.scheme === ORIGINAL_SCHEME) this.onDidChangeEmitter.fire(doc.uri);
  }

  /** A tool call changed: a finished edit opens (or updates) its diff, unless `multiclaw.agent.showDiffs` is off. */
  async onToolCall(conversationId: string, call: ToolCallView): Promise<void> {
    if (call.kind !== 'edit' || call.status !== 'done' || !showDiffs()) return;
    const files = await this.api.pendingChanges(conversationId);
    const file = files.find((f) => f.path === call.subject || f.label === call.subject) ?? files.find((f) => f.path.endsWith(`/${call.subject}`));
    if (file) await this.openDiff(file.path);
  }

  /** Opens the file's diff as a preview without taking focus (the user keeps typing where they were). */
  async openDiff(file: string, focus = false): Promise<void> {
    const left = originalUri(file);
    this.onDidChangeEmitter.fire(left);
    await vscode.commands.executeCommand('vscode.diff', left, vscode.Uri.file(file), diffTitle(file), { preview: true, preserveFocus: !focus });
  }

  /** The diff tabs this review opened for `file` (all files when absent). */
  private diffTabs(file?: string): vscode.Tab[] {
    const tabs: vscode.Tab[] = [];
    for (const group of vscode.window.tabGroups.all) {
      for (const tab of group.tabs) {
        const input = tab.input;
        if (!(input instanceof vscode.TabInputTextDiff) || input.original.scheme !== ORIGINAL_SCHEME) continue;
        if (file === undefined || input.modified.fsPath === file) tabs.push(tab);
      }
    }
    return tabs;
  }

  private async closeDiffs(file?: string): Promise<void> {
    const tabs = this.diffTabs(file);
    if (tabs.length) await vscode.window.tabGroups.close(tabs, true);
  }

  async keep(file: string): Promise<void> {
    await this.api.keepChange(file);
    await this.closeDiffs(file);
    await this.refresh();
  }

  async undo(file: string): Promise<void> {
    await this.api.undoChange(file);
    await this.closeDiffs(file);
    await this.refresh();
  }

  async keepAll(conversationId: string): Promise<void> {
    const files = await this.api.pendingChanges(conversationId);
    await this.api.keepAllChanges(conversationId);
    for (const f of files) await this.closeDiffs(f.path);
    await this.refresh();
  }

  async undoAll(conversationId: string): Promise<void> {
    const files = await this.api.pendingChanges(conversationId);
    await this.api.undoAllChanges(conversationId);
    for (const f of files) await this.closeDiffs(f.path);
    await this.refresh();
  }

  /** Restores the files the agent touched since `messageId` (asks first unless `confirmed`). */
  async revertTo(conversationId: string, messageId: string, confirmed = false): Promise<void> {
    if (!confirmed) {
      const ok = await vscode.window.showWarningMessage(
        'Revert every file the agent changed since this message to how it was before it?',
        { modal: true, detail: 'Later edits by the agent in these files are undone too. Your own edits to other files are not touched.' },
        'Revert',
      );
      if (ok !== 'Revert') return;
    }
    const restored = await this.api.revertTo(conversationId, messageId);
    await this.closeDiffs();
    await this.refresh();
    const n = Array.isArray(restored) ? restored.length : undefined;
    vscode.window.setStatusBarMessage(`$(discard) Reverted ${n === undefined ? 'the' : n} ${n === 1 ? 'file' : 'files'}`, 3000);
  }
}

/**
 * Keep / Undo / Keep All / Undo All / Revert to Here as commands (menus, the palette, tests). They are
 * registered at activation; the review exists once the gateway offers editor tools.
 */
export function registerReviewCommands(review: () => EditReview | undefined, currentConversation: () => string | null, log: Logger): vscode.Disposable[] {
  const run =
    (what: string, fn: (...args: unknown[]) => Promise<void>) =>
    async (...args: unknown[]): Promise<void> => {
      try {
        await fn(...args);
      } catch (err) {
        log.error(`${what} failed:`, err instanceof Error ? err : String(err));
        void vscode.window.showErrorMessage(`MultiClaw: ${what} failed: ${errorMessage(err)}`);
      }
    };
  const need = (): EditReview => {
    const r = review();
    if (!r) throw new Error('the agent tools are not available in this window');
    return r;
  };
  const file = (arg: unknown, what: string): string | undefined => {
    const f = fileArg(arg);
    if (!f) void vscode.window.showInformationMessage(`Open a file the agent changed to ${what} its changes.`);
    return f;
  };
  const conversation = (arg: unknown): string | undefined => {
    const id = typeof arg === 'string' && arg ? arg : currentConversation();
    if (!id) void vscode.window.showInformationMessage('Open the conversation whose changes you want to review in the Chat view.');
    return id ?? undefined;
  };
  return [
    vscode.commands.registerCommand(
      CMD.keepChanges,
      run('Keep Changes', async (arg) => {
        const f = file(arg, 'keep');
        if (f) await need().keep(f);
      }),
    ),
    vscode.commands.registerCommand(
      CMD.undoChanges,
      run('Undo Changes', async (arg) => {
        const f = file(arg, 'undo');
        if (f) await need().undo(f);
      }),
    ),
    vscode.commands.registerCommand(
      CMD.keepAllChanges,
      run('Keep All Changes', async (arg) => {
        const id = conversation(arg);
        if (id) await need().keepAll(id);
      }),
    ),
    vscode.commands.registerCommand(
      CMD.undoAllChanges,
      run('Undo All Changes', async (arg) => {
        const id = conversation(arg);
        if (id) await need().undoAll(id);
      }),
    ),
    vscode.commands.registerCommand(
      CMD.revertToHere,
      run('Revert to Here', async (cid, messageId, confirmed) => {
        const id = conversation(cid);
        if (id && typeof messageId === 'string') await need().revertTo(id, messageId, confirmed === true);
      }),
    ),
  ];
}

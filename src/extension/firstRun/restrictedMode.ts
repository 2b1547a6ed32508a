/**
 * Restricted Mode, said in MultiClaw's own UI. `capabilities.untrustedWorkspaces` is `limited`: in an
 * untrusted folder chat and the read-only tools work, and the policy refuses edits, commands and
 * fetches (`RESTRICTED_MODE_REASON`). This says so once per folder when MultiClaw starts there, again
 * on the first refusal of each conversation, each time with a Trust Workspace button (VS Code's own
 * `workbench.trust.manage`); the Chat view's title bar shows the same button while the folder is
 * untrusted (`!isWorkspaceTrusted` in package.json).
 */
import * as vscode from 'vscode';
import type { ChatEvent } from '../../gateway/chat/chatService';
import type { Logger } from '../../gateway/ports';
import { Disposable, type Event } from '../../gateway/util/disposable';
import { CMD } from '../commandIds';

export const TRUST_WORKSPACE = 'Trust Workspace';
const NOTICE_SHOWN_KEY = 'multiclaw.restrictedModeNoticeShown';
export const RESTRICTED_NOTICE =
  'MultiClaw is in Restricted Mode: chat and read-only tools work, but agents cannot edit files, run commands or fetch pages until you trust this folder.';
export const REFUSED_NOTICE = 'MultiClaw refused an edit or command: this folder is in Restricted Mode. Trust the folder, then ask again.';

export interface RestrictedModeDeps {
  workspaceState: vscode.Memento;
  onChatEvent: Event<ChatEvent>;
  logger: Logger;
}

export class RestrictedMode extends Disposable {
  private readonly refusedIn = new Set<string>();

  constructor(deps: RestrictedModeDeps) {
    super();
    this._register(deps.onChatEvent((e) => this.onChatEvent(e)));
    this._register(vscode.commands.registerCommand(CMD.trustWorkspace, () => vscode.commands.executeCommand('workbench.trust.manage')));
    this._register(vscode.workspace.onDidGrantWorkspaceTrust(() => deps.logger.info('the folder is now trusted: edits and commands are available')));
    if (!vscode.workspace.isTrusted && !deps.workspaceState.get<boolean>(NOTICE_SHOWN_KEY)) {
      void deps.workspaceState.update(NOTICE_SHOWN_KEY, true);
      void this.notify(RESTRICTED_NOTICE);
    }
  }

  private onChatEvent(e: ChatEvent): void {
    if (e.type !== 'toolCall' || e.call.status !== 'denied' || vscode.workspace.isTrusted) return;
    if (this.refusedIn.has(e.conversationId)) return;
    this.refusedIn.add(e.conversationId);
    void this.notify(REFUSED_NOTICE);
  }

  private async notify(text: string): Promise<void> {
    const pick = await vscode.window.showWarningMessage(text, TRUST_WORKSPACE);
    if (pick === TRUST_WORKSPACE) await vscode.commands.executeCommand('workbench.trust.manage');
  }
}

import * as vscode from 'vscode';
import { escapeMarkdown } from './markdown';
import { CMD } from './commandIds';
import type { Gateway } from '../gateway/gateway';
import type { Logger } from '../gateway/ports';
import type { ConversationSummary } from '../gateway/store/conversationStore';
import { Disposable } from '../gateway/util/disposable';
import { plainText } from '../gateway/util/plainText';

export class ConversationItem extends vscode.TreeItem {
  constructor(readonly summary: ConversationSummary) {
    super(summary.title || 'Untitled conversation', vscode.TreeItemCollapsibleState.None);
    this.id = summary.id;
    this.description = plainText(summary.snippet);
    this.contextValue = 'conversation';
    this.iconPath = new vscode.ThemeIcon('comment-discussion');
    const when = new Date(summary.updatedAt);
    const md = new vscode.MarkdownString();
    md.appendMarkdown(`**${escapeMarkdown(summary.title || 'Untitled conversation')}**\n\n`);
    md.appendMarkdown(`${summary.messageCount} message${summary.messageCount === 1 ? '' : 's'} · updated ${when.toLocaleString()}\n\n`);
    if (summary.snippet) md.appendText(summary.snippet);
    this.tooltip = md;
    this.accessibilityInformation = { label: `${summary.title}, ${summary.messageCount} messages, updated ${when.toLocaleString()}` };
    this.command = { command: CMD.openConversation, title: 'Open Conversation', arguments: [summary.id] };
  }
}

/** Conversations on this machine, most recent first (title, last-message snippet). */
export class ConversationsTree extends Disposable implements vscode.TreeDataProvider<ConversationItem> {
  private readonly changeEmitter = this._register(new vscode.EventEmitter<ConversationItem | undefined>());
  readonly onDidChangeTreeData = this.changeEmitter.event;
  private refreshTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly gateway: Gateway,
    private readonly logger: Logger,
  ) {
    super();
    this._register(gateway.onDidChangeState(() => this.refresh()));
    this._register(gateway.onDidChangeConversations(() => this.scheduleRefresh()));
  }

  /** Store events arrive per write; coalesce them so a streaming reply doesn't redraw the tree per chunk. */
  private scheduleRefresh(): void {
    if (this.refreshTimer) return;
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = undefined;
      this.refresh();
    }, 150);
  }

  refresh(): void {
    this.changeEmitter.fire(undefined);
  }

  getTreeItem(e: ConversationItem): vscode.TreeItem {
    return e;
  }

  async getChildren(e?: ConversationItem): Promise<ConversationItem[]> {
    if (e) return [];
    try {
      return (await this.gateway.conversations()).map((s) => new ConversationItem(s));
    } catch (err) {
      this.logger.error('could not list conversations:', err instanceof Error ? err : String(err));
      return [];
    }
  }

  override dispose(): void {
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    super.dispose();
  }
}

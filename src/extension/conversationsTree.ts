import * as vscode from 'vscode';
import { escapeMarkdown } from './markdown';
import { CMD, CTX, setContext } from './commandIds';
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
  private view: vscode.TreeView<ConversationItem> | undefined;
  /** A search filter: only these conversations are listed (set by Filter Conversations…). */
  private filter: { query: string; ids: Set<string> } | undefined;

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

  attach(view: vscode.TreeView<ConversationItem>): void {
    this.view = view;
  }

  get filterQuery(): string | undefined {
    return this.filter?.query;
  }

  /** Lists only the conversations a full-text search finds ('' clears the filter). */
  async setFilter(query: string): Promise<number> {
    const q = query.trim();
    if (!q) {
      this.filter = undefined;
    } else {
      const hits = await this.gateway.searchConversations(q);
      this.filter = { query: q, ids: new Set(hits.map((h) => h.id)) };
    }
    setContext(CTX.conversationsFiltered, !!this.filter);
    if (this.view) this.view.description = this.filter ? `“${q}” · ${this.filter.ids.size} found` : undefined;
    this.refresh();
    return this.filter?.ids.size ?? 0;
  }

  getTreeItem(e: ConversationItem): vscode.TreeItem {
    return e;
  }

  async getChildren(e?: ConversationItem): Promise<ConversationItem[]> {
    if (e) return [];
    try {
      const all = await this.gateway.conversations();
      const f = this.filter;
      return (f ? all.filter((s) => f.ids.has(s.id)) : all).map((s) => new ConversationItem(s));
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

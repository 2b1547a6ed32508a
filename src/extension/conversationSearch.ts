/**
 * Search Conversations…: a quick pick that searches every conversation's text as you type (titles,
 * your messages, the replies) and opens the one you pick; Filter Conversations… narrows the
 * Conversations view to a search's results until Clear Filter.
 */
import * as vscode from 'vscode';
import { errorMessage } from '../gateway/errors';
import type { Gateway } from '../gateway/gateway';
import type { Logger } from '../gateway/ports';
import type { SearchHit } from '../gateway/store/search';
import { CMD } from './commandIds';
import type { ConversationsTree } from './conversationsTree';

type HitItem = vscode.QuickPickItem & { id: string };

function itemOf(h: SearchHit): HitItem {
  return {
    label: `$(comment-discussion) ${h.title}`,
    description: `${new Date(h.updatedAt).toLocaleDateString()} · ${h.hits} hit${h.hits === 1 ? '' : 's'}`,
    detail: h.snippet || undefined,
    id: h.id,
    alwaysShow: true,
  };
}

async function searchQuickPick(gateway: Gateway, logger: Logger, initial = ''): Promise<void> {
  await gateway.ensureRunning();
  const qp = vscode.window.createQuickPick<HitItem>();
  qp.title = 'Search Conversations';
  qp.placeholder = 'Words to find in titles, your messages and the replies';
  qp.matchOnDescription = false;
  qp.matchOnDetail = false;
  qp.value = initial;
  let current: AbortController | undefined;
  let timer: NodeJS.Timeout | undefined;
  const run = (q: string): void => {
    current?.abort();
    const ctrl = (current = new AbortController());
    if (!q.trim()) {
      qp.items = [];
      qp.busy = false;
      return;
    }
    qp.busy = true;
    void gateway
      .searchConversations(q, { signal: ctrl.signal, limit: 100 })
      .then((hits) => {
        if (ctrl.signal.aborted) return;
        qp.items = hits.map(itemOf);
        if (!hits.length) qp.items = [{ label: `No conversation contains “${q.trim()}”`, id: '', alwaysShow: true }];
      })
      .catch((err: unknown) => logger.warn('conversation search failed:', errorMessage(err)))
      .finally(() => {
        if (!ctrl.signal.aborted) qp.busy = false;
      });
  };
  qp.onDidChangeValue((v) => {
    clearTimeout(timer);
    timer = setTimeout(() => run(v), 150);
  });
  qp.onDidAccept(() => {
    const id = qp.selectedItems[0]?.id;
    if (!id) return;
    qp.hide();
    void vscode.commands.executeCommand(CMD.openConversation, id);
  });
  qp.onDidHide(() => {
    clearTimeout(timer);
    current?.abort();
    qp.dispose();
  });
  qp.show();
  if (initial) run(initial);
}

export function registerConversationSearch(o: { gateway: Gateway; conversations: ConversationsTree; logger: Logger }): vscode.Disposable[] {
  const { gateway, conversations, logger } = o;
  return [
    vscode.commands.registerCommand(CMD.searchConversations, (query?: unknown) => searchQuickPick(gateway, logger, typeof query === 'string' ? query : '')),
    vscode.commands.registerCommand(CMD.filterConversations, async (query?: unknown) => {
      const q =
        typeof query === 'string'
          ? query
          : await vscode.window.showInputBox({
              title: 'Filter Conversations',
              prompt: 'List only the conversations that contain these words',
              value: conversations.filterQuery ?? '',
            });
      if (q === undefined) return undefined;
      await gateway.ensureRunning();
      return conversations.setFilter(q);
    }),
    vscode.commands.registerCommand(CMD.clearConversationFilter, () => conversations.setFilter('')),
  ];
}

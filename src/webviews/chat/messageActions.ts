/**
 * What the user can do with a sent message or a reply: copy it whole (through the host's
 * clipboard), edit a message of theirs (in the composer: ✎ or ↑ in an empty composer for the last
 * one; Escape cancels), regenerate the last reply, and step between the versions an edit or a
 * regenerate made (‹ 1/2 ›). messageView.ts renders the buttons; the app delegates their clicks here.
 */
import type { ChatCommandMethod, ChatCommandParams, ChatViewMessage } from '../../protocol/chatView';
import { h, iconButton } from './dom';
import type { VirtualList } from './virtualList';

/** ‹ 1/2 › on a message that has other versions. */
export function branchSwitcher(m: ChatViewMessage): HTMLElement | null {
  const b = m.branch;
  if (!b) return null;
  const prev = iconButton('chevron-left', 'Previous version', 'branch-prev');
  const next = iconButton('chevron-right', 'Next version', 'branch-next');
  prev.disabled = b.index <= 1;
  next.disabled = b.index >= b.count;
  return h(
    'span',
    { class: 'branch-switcher', role: 'group', 'aria-label': `Version ${b.index} of ${b.count}`, 'data-testid': 'branch-switcher' },
    prev,
    h('span', { class: 'branch-label', 'aria-hidden': 'true' }, `${b.index}/${b.count}`),
    next,
  );
}

/** In a user message's header: Edit and Copy (shown on hover or focus). */
export function userActions(): HTMLElement[] {
  const edit = iconButton('edit', 'Edit message', 'edit-message');
  edit.title = 'Edit this message (↑ in an empty input edits the last one); the conversation forks, the old branch stays';
  const buttons = [edit, iconButton('copy', 'Copy message', 'copy-message')];
  for (const b of buttons) b.classList.add('message-action');
  return buttons;
}

/** Under a finished reply: Copy, and Regenerate on the last one. */
export function replyActions(last: boolean): HTMLElement {
  const copy = iconButton('copy', 'Copy reply', 'copy-message');
  const regenerate = last ? iconButton('refresh', 'Regenerate reply', 'regenerate') : null;
  if (regenerate) regenerate.title = 'Regenerate: a new reply replaces this one, which stays reachable with ‹ ›';
  return h('span', { class: 'reply-actions', role: 'toolbar', 'aria-label': 'Reply actions' }, copy, regenerate);
}

export interface MessageActionsDeps {
  command<M extends ChatCommandMethod>(method: M, params: ChatCommandParams<M>): boolean;
  list: VirtualList<ChatViewMessage>;
  /** Puts the composer into editing `messageId`, starting from `text`. */
  beginEdit(messageId: string, text: string): void;
  isBusy(): boolean;
}

export class MessageActions {
  constructor(private readonly deps: MessageActionsDeps) {}

  /** A click on a message's button (delegated from the transcript). True when handled. */
  onClick(button: HTMLButtonElement): boolean {
    const action = button.dataset.testid;
    const id = button.closest<HTMLElement>('[data-message-id]')?.dataset.messageId;
    if (!id) return false;
    switch (action) {
      case 'copy-message':
        this.deps.command('chat/copy', { text: this.copyText(id) });
        return true;
      case 'edit-message':
        return this.edit(id);
      case 'regenerate':
        if (!this.deps.isBusy()) this.deps.command('chat/regenerate', { messageId: id });
        return true;
      case 'branch-prev':
      case 'branch-next':
        if (!this.deps.isBusy()) this.deps.command('chat/switchBranch', { messageId: id, offset: action === 'branch-prev' ? -1 : 1 });
        return true;
      default:
        return false;
    }
  }

  /** ↑ in an empty composer: edit the last message the user sent. False when there is none. */
  editLast(): boolean {
    const { list } = this.deps;
    for (let i = list.length - 1; i >= 0; i--) {
      const m = list.at(i);
      if (m?.role === 'user') return this.edit(m.id);
    }
    return false;
  }

  private edit(id: string): boolean {
    const m = this.deps.list.at(this.deps.list.indexOf(id));
    if (m?.role !== 'user') return false;
    this.deps.beginEdit(m.id, m.text);
    return true;
  }

  /** A user message's text; for a reply, the text of every message of its turn. */
  private copyText(id: string): string {
    const { list } = this.deps;
    const i = list.indexOf(id);
    const m = list.at(i);
    if (!m || m.role === 'user') return m?.text ?? '';
    const parts = [m.text];
    for (let k = i - 1, cur = m; ; k--) {
      const prev = list.at(k);
      if (!prev || prev.role !== 'assistant' || prev.agentId !== cur.agentId) break;
      parts.unshift(prev.text);
      cur = prev;
    }
    return parts.filter((t) => t.trim() !== '').join('\n\n');
  }
}

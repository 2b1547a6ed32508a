/**
 * The agent's part of the chat view: tool-call cards (state kept across re-renders: which are
 * expanded), approvals (buttons on the card, Alt+Y / Alt+N on the focused or first pending card,
 * focus moving to a card when it asks), the pending-changes bar and Revert to here.
 */
import type { FileChange, ToolCallView } from '../../protocol/agent';
import type { ChatCommandMethod, ChatCommandParams, ChatViewMessage } from '../../protocol/chatView';
import { ChangesBar } from './changesBar';
import type { LinkDecorations } from './linkDecorations';
import type { ToolCardContext } from './toolCards';
import type { VirtualList } from './virtualList';

export interface AgentUiDeps {
  command<M extends ChatCommandMethod>(method: M, params: ChatCommandParams<M>): boolean;
  links: LinkDecorations;
  list: VirtualList<ChatViewMessage>;
  transcript: HTMLElement;
  /** The composer's textarea: focus does not move to a card while the user is typing there. */
  input: HTMLTextAreaElement;
}

export class AgentUi {
  readonly changes: ChangesBar;
  private readonly expanded = new Set<string>();
  readonly cards: ToolCardContext;

  constructor(private readonly deps: AgentUiDeps) {
    this.changes = new ChangesBar({
      openDiff: (path) => deps.command('chat/openDiff', { path }),
      keepFile: (path) => deps.command('chat/keepFile', { path }),
      undoFile: (path) => deps.command('chat/undoFile', { path }),
      keepAll: () => deps.command('chat/keepAll', {}),
      undoAll: () => deps.command('chat/undoAll', {}),
    });
    this.cards = {
      isExpanded: (id) => this.expanded.has(id),
      setExpanded: (id, open) => void (open ? this.expanded.add(id) : this.expanded.delete(id)),
      favicon: (url) => deps.links.get(url)?.favicon,
      wantFavicon: (url, messageId) => deps.links.watch(url, messageId),
    };
  }

  /** A new transcript (reset): recompute what depends on every message. */
  reset(messages: readonly ChatViewMessage[], changes: readonly FileChange[] | undefined): void {
    this.changes.set(changes ?? []);
    this.refreshHasEdits(messages.some((m) => m.toolCalls?.some(isEdit)));
  }

  /** `chat/toolCall`: upserts the call into its message and re-renders that one card. */
  upsert(call: ToolCallView): void {
    const { list } = this.deps;
    const m = list.at(list.indexOf(call.messageId));
    if (!m) return; // a message not loaded (an older page) or not ours
    const calls = m.toolCalls ? [...m.toolCalls] : [];
    const i = calls.findIndex((c) => c.id === call.id);
    const before = i >= 0 ? calls[i] : undefined;
    if (i >= 0) calls[i] = call;
    else calls.push(call);
    m.toolCalls = calls;
    list.invalidate(m.id);
    if (isEdit(call)) this.refreshHasEdits(true);
    if (call.status === 'awaiting_approval' && before?.status !== 'awaiting_approval') this.focusCard(call.id);
  }

  private refreshHasEdits(has: boolean): void {
    if (has) this.deps.transcript.classList.add('has-edits');
    else this.deps.transcript.classList.remove('has-edits');
  }

  /** Moves focus to a card that asks, unless the user is typing in the composer. */
  private focusCard(callId: string): void {
    const { input, list } = this.deps;
    if (document.activeElement === input && input.value.trim() !== '') return;
    list.flush();
    const row = this.cardElement(callId)?.querySelector<HTMLElement>('.tool-row');
    if (!row) return;
    row.focus({ preventScroll: true });
    row.scrollIntoView({ block: 'nearest' });
  }

  private cardElement(callId: string): HTMLElement | undefined {
    for (const el of this.deps.transcript.querySelectorAll<HTMLElement>('.tool-card')) if (el.dataset.callId === callId) return el;
    return undefined;
  }

  /** Alt+Y / Alt+N answer the focused card's approval, or the first pending one. True when handled. */
  onKeydown(e: KeyboardEvent): boolean {
    if (!e.altKey || e.ctrlKey || e.metaKey || (e.code !== 'KeyY' && e.code !== 'KeyN')) return false;
    const approvalId = this.focusedApproval() ?? this.firstPendingApproval();
    if (!approvalId) return false;
    e.preventDefault();
    this.answer(approvalId, e.code === 'KeyY' ? 'allow' : 'deny', false);
    return true;
  }

  private focusedApproval(): string | undefined {
    const active = document.activeElement;
    const card = active instanceof Element ? active.closest<HTMLElement>('.tool-card') : null;
    return card?.querySelector<HTMLElement>('.tool-approval')?.dataset.approvalId;
  }

  private firstPendingApproval(): string | undefined {
    const { list } = this.deps;
    for (let i = 0; i < list.length; i++) {
      for (const c of list.at(i)?.toolCalls ?? []) if (c.status === 'awaiting_approval' && c.approval) return c.approval.id;
    }
    return undefined;
  }

  /** Clicks on cards and message actions (delegated from the transcript). True when handled. */
  onClick(button: HTMLButtonElement): boolean {
    const action = button.dataset.testid;
    if (action === 'approve-allow' || action === 'approve-deny' || action === 'approve-always') {
      const id = button.dataset.approvalId;
      if (id) this.answer(id, action === 'approve-deny' ? 'deny' : 'allow', action === 'approve-always');
      return true;
    }
    if (action === 'revert-to') {
      const messageId = button.closest<HTMLElement>('[data-message-id]')?.dataset.messageId;
      if (messageId) this.deps.command('chat/revertTo', { messageId });
      return true;
    }
    return false;
  }

  private answer(approvalId: string, decision: 'allow' | 'deny', always: boolean): void {
    // The buttons go inert at once: the card changes when the host reports the call running or denied.
    for (const el of this.deps.transcript.querySelectorAll<HTMLElement>('.tool-approval')) {
      if (el.dataset.approvalId !== approvalId) continue;
      el.classList.add('answered');
      for (const b of el.querySelectorAll('button')) b.disabled = true;
    }
    this.deps.command('chat/approve', always ? { approvalId, decision, always: true } : { approvalId, decision });
  }
}

function isEdit(c: ToolCallView): boolean {
  return c.kind === 'edit' && c.status === 'done';
}

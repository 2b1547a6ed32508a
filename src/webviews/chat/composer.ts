/**
 * The input area: an auto-growing textarea (Enter sends, Shift+Enter adds a newline), the agent picker
 * (locked once the conversation has started; agents without a key are listed but disabled), and the
 * Send button, which becomes Stop while a reply is being generated. A message over the protocol's limit
 * is never cleared: the notice above the input says how long it is and what the limit is, and a send
 * the host refuses puts the text back with the host's reason. `/` at the start opens the slash
 * commands (slashMenu.ts).
 */
import { MAX_CHAT_MESSAGE_CHARS, type AgentInfo } from '../../protocol/chatView';
import { codicon, h, iconButton } from './dom';
import { SlashMenu } from './slashMenu';

export interface ComposerCallbacks {
  /** Returns false (or why) when nothing was sent: the text stays in the input. */
  send(text: string, agentId: string): boolean | string;
  stop(): void;
  selectAgent(agentId: string): void;
  draftChanged(text: string): void;
  /** Sends `text` in place of the sent message being edited; false when nothing was sent. */
  edit(messageId: string, text: string): boolean;
  /** ↑ in the empty input: start editing the last message sent; false when there is none. */
  editLast(): boolean;
}

const MAX_INPUT_PX = 240;

const tooLong = (text: string): boolean => text.length > MAX_CHAT_MESSAGE_CHARS;

export class Composer {
  readonly el: HTMLElement;
  readonly input: HTMLTextAreaElement;
  private readonly picker: HTMLSelectElement;
  private readonly pickerWrap: HTMLElement;
  private readonly sendButton: HTMLButtonElement;
  private readonly stopButton: HTMLButtonElement;
  private readonly notice: HTMLElement;
  private agents: readonly AgentInfo[] = [];
  private busy = false;
  /** The text of the last send, put back if the host refuses it. */
  private lastSent = '';
  /** A refusal from the host, shown until the text changes. */
  private refusal: string | undefined;
  /** The sent message being edited, and the draft it took the input from. */
  private editing: { messageId: string; draft: string } | undefined;
  private readonly editBanner: HTMLElement;
  readonly slash: SlashMenu;

  /** `top`: shown inside the input box above the text (the context row). */
  constructor(
    private readonly cb: ComposerCallbacks,
    top?: HTMLElement,
  ) {
    this.input = h('textarea', {
      class: 'composer-input',
      'data-testid': 'composer-input',
      rows: 1,
      placeholder: 'Ask a question or describe a change',
      'aria-label': 'Chat input. Press Enter to send, Shift+Enter for a new line.',
    });
    this.picker = h('select', { class: 'agent-picker', 'data-testid': 'agent-picker', 'aria-label': 'Agent' });
    this.pickerWrap = h('span', { class: 'picker-wrap' }, this.picker, codicon('chevron-down', 'picker-chevron'));
    this.sendButton = h(
      'button',
      { type: 'button', class: 'icon-button send', 'data-testid': 'send', title: 'Send (Enter)', 'aria-label': 'Send' },
      codicon('send'),
    );
    this.stopButton = h(
      'button',
      { type: 'button', class: 'icon-button stop', 'data-testid': 'stop', title: 'Stop generating (Escape)', 'aria-label': 'Stop generating', hidden: true },
      codicon('stop-circle'),
    );
    this.notice = h('div', { class: 'composer-notice', 'data-testid': 'composer-notice', role: 'alert', hidden: true });
    const cancelEdit = iconButton('close', 'Cancel editing (Escape)', 'cancel-edit');
    cancelEdit.addEventListener('click', () => this.cancelEdit());
    this.editBanner = h(
      'div',
      { class: 'composer-editing', 'data-testid': 'composer-editing', role: 'status', hidden: true },
      codicon('edit'),
      h(
        'span',
        { class: 'editing-text', title: 'Sending replaces the message: the conversation forks there, and the old branch stays reachable with ‹ ›.' },
        'Editing your message · Escape to cancel',
      ),
      cancelEdit,
    );
    this.slash = new SlashMenu(this.input, () => this.trySend());
    this.el = h(
      'div',
      { class: 'composer' },
      this.slash.el,
      this.notice,
      this.editBanner,
      h(
        'div',
        { class: 'input-box' },
        top ?? null,
        this.input,
        h('div', { class: 'composer-toolbar' }, this.pickerWrap, h('span', { class: 'spacer' }), this.sendButton, this.stopButton),
      ),
    );

    this.input.addEventListener('input', () => {
      this.refusal = undefined;
      if (!this.editing) this.slash.update(); // an edit is sent as typed
      this.autoGrow();
      this.refreshSendEnabled();
      this.cb.draftChanged(this.input.value);
    });
    this.input.addEventListener('blur', () => this.slash.close());
    this.input.addEventListener('keydown', (e) => {
      if (e.isComposing || this.slash.onKeyDown(e)) return;
      const plain = !e.shiftKey && !e.altKey && !e.ctrlKey && !e.metaKey;
      if (e.key === 'Escape' && this.editing) {
        e.preventDefault();
        this.cancelEdit();
      } else if (e.key === 'ArrowUp' && plain && this.input.value === '' && !this.editing) {
        if (this.cb.editLast()) e.preventDefault();
      } else if (e.key === 'Enter' && !e.shiftKey && !e.altKey) {
        e.preventDefault();
        this.trySend();
      }
    });
    this.sendButton.addEventListener('click', () => this.trySend());
    this.stopButton.addEventListener('click', () => this.cb.stop());
    this.picker.addEventListener('change', () => {
      if (this.picker.value) this.cb.selectAgent(this.picker.value);
      this.refreshSendEnabled();
    });
  }

  setAgents(agents: readonly AgentInfo[], selectedId: string | null, locked: boolean): void {
    this.agents = agents;
    const options = agents.map((a) =>
      h('option', { value: a.id, disabled: !a.available, title: `${a.provider} · ${a.model}` }, a.available ? a.name : `${a.name} (no key)`),
    );
    if (agents.length === 0) options.push(h('option', { value: '', disabled: true }, 'No agents'));
    this.picker.replaceChildren(...options);
    const selected = agents.find((a) => a.id === selectedId) ?? agents.find((a) => a.available);
    this.picker.value = selected?.id ?? '';
    this.picker.disabled = locked || !agents.some((a) => a.available);
    this.pickerWrap.classList.toggle('locked', locked);
    this.pickerWrap.title = locked ? 'The agent is fixed for this conversation. Start a new conversation to switch.' : 'Choose the agent to chat with';
    const name = selected?.available ? selected.name : undefined;
    this.input.placeholder = name ? `Ask ${name} a question or describe a change` : 'Ask a question or describe a change';
    this.refreshSendEnabled();
  }

  setBusy(busy: boolean): void {
    this.busy = busy;
    const hadFocus = document.activeElement === this.sendButton || document.activeElement === this.stopButton;
    this.sendButton.hidden = busy;
    this.stopButton.hidden = !busy;
    if (hadFocus) (busy ? this.stopButton : this.input).focus();
    this.refreshSendEnabled();
  }

  setDraft(text: string): void {
    this.input.value = text;
    this.slash.close();
    this.autoGrow();
    this.refreshSendEnabled();
  }

  focus(): void {
    this.input.focus();
  }

  /** The host refused the last send: put its text back (unless the user typed since) and say why. */
  refused(reason: string): void {
    if (this.input.value === '' && this.lastSent) {
      this.setDraft(this.lastSent);
      this.cb.draftChanged(this.lastSent);
    }
    this.refusal = reason;
    this.refreshSendEnabled();
  }

  /** Puts a sent message's text in the input; the next send replaces that message (a fork). */
  beginEdit(messageId: string, text: string): void {
    const draft = this.editing ? this.editing.draft : this.input.value;
    this.editing = { messageId, draft };
    this.editBanner.hidden = false;
    this.el.classList.add('editing');
    this.setDraft(text);
    this.input.focus();
    this.input.setSelectionRange(text.length, text.length);
  }

  /** Leaves editing and gives the input its draft back. */
  cancelEdit(): void {
    const e = this.editing;
    if (!e) return;
    this.endEdit();
    this.setDraft(e.draft);
    this.cb.draftChanged(e.draft);
  }

  /** The message being edited (tests, the app's conversation switch). */
  get editingId(): string | undefined {
    return this.editing?.messageId;
  }

  private endEdit(): void {
    this.editing = undefined;
    this.editBanner.hidden = true;
    this.el.classList.remove('editing');
  }

  private selectedAgent(): AgentInfo | undefined {
    return this.agents.find((a) => a.id === this.picker.value && a.available);
  }

  private trySend(): void {
    const text = this.input.value;
    const agent = this.selectedAgent();
    if (this.busy || !agent || text.trim() === '' || tooLong(text)) return;
    const editing = this.editing;
    if (editing) {
      if (!this.cb.edit(editing.messageId, text)) return this.refused('The edit could not be sent; it is still here.');
      this.endEdit();
      this.setDraft(editing.draft);
      this.cb.draftChanged(editing.draft);
      return;
    }
    const sent = this.cb.send(text, agent.id);
    if (sent !== true) {
      this.refused(sent || 'The message could not be sent; it is still here.');
      return;
    }
    this.lastSent = text;
    this.refusal = undefined;
    this.setDraft('');
    this.cb.draftChanged('');
  }

  private refreshSendEnabled(): void {
    const text = this.input.value;
    this.sendButton.disabled = this.busy || !this.selectedAgent() || text.trim() === '' || tooLong(text);
    const notice = tooLong(text)
      ? `This message has ${text.length.toLocaleString('en-US')} characters; the limit is ${MAX_CHAT_MESSAGE_CHARS.toLocaleString('en-US')}. Shorten it by ${(text.length - MAX_CHAT_MESSAGE_CHARS).toLocaleString('en-US')} to send it.`
      : this.refusal;
    this.notice.hidden = !notice;
    this.notice.textContent = notice ?? '';
    this.input.toggleAttribute('aria-invalid', tooLong(text));
  }

  private autoGrow(): void {
    this.input.style.height = 'auto';
    this.input.style.height = `${Math.min(this.input.scrollHeight, MAX_INPUT_PX)}px`;
    this.input.classList.toggle('scrolling', this.input.scrollHeight > MAX_INPUT_PX);
  }
}

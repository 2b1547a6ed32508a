/**
 * The composer's slash-command completion: typing `/` at the start of the input opens a listbox of
 * the built-in commands and the enabled skills, filtered as the word grows. Keyboard first: ↑/↓ move,
 * Tab or Enter accept, Escape closes (until the text changes); the input keeps focus and points at the
 * active option with `aria-activedescendant`. What a chosen command sends is `parseSlash`'s business.
 */
import { slashCompletions, type SlashCommandInfo } from '../../protocol/slashCommands';
import { codicon, h } from './dom';

const LIST_ID = 'slash-list';
/** Only a word right after the slash, with the caret at its end, opens the list. */
const TYPING = /^\/([\w.-]*)$/;

export class SlashMenu {
  readonly el: HTMLElement;
  private items: SlashCommandInfo[] = [];
  private active = 0;
  private skills: readonly string[] = [];
  /** The text Escape closed the list on: it stays closed until the text changes. */
  private dismissedFor: string | undefined;

  /** `run`: a command that takes no text was accepted with Enter (`/new`): send it now. */
  constructor(
    private readonly input: HTMLTextAreaElement,
    private readonly run: () => void,
  ) {
    this.el = h('div', { class: 'slash-list', id: LIST_ID, role: 'listbox', 'aria-label': 'Slash commands', 'data-testid': 'slash-list', hidden: true });
    input.setAttribute('aria-haspopup', 'listbox');
    input.setAttribute('aria-autocomplete', 'list');
    input.setAttribute('aria-controls', LIST_ID);
    input.setAttribute('aria-expanded', 'false');
    // mousedown, not click: the input keeps focus.
    this.el.addEventListener('mousedown', (e) => {
      const option = e.target instanceof Element ? e.target.closest<HTMLElement>('[role="option"]') : null;
      if (!option) return;
      e.preventDefault();
      this.active = Number(option.dataset.index);
      this.accept(false);
    });
  }

  get isOpen(): boolean {
    return !this.el.hidden;
  }

  /** The enabled skills' names (the host's `chat/context`). */
  setSkills(skills: readonly string[]): void {
    this.skills = skills;
    if (this.isOpen) this.update();
  }

  get skillNames(): readonly string[] {
    return this.skills;
  }

  /** Re-reads the input (after every change): opens, filters or closes the list. */
  update(): void {
    const value = this.input.value;
    if (value !== this.dismissedFor) this.dismissedFor = undefined;
    const m = TYPING.exec(value);
    const atEnd = this.input.selectionStart === value.length;
    const items = m && atEnd && this.dismissedFor === undefined ? slashCompletions(m[1]!, this.skills) : [];
    const keep = this.items[this.active]?.name;
    this.items = items;
    this.active = Math.max(
      0,
      items.findIndex((c) => c.name === keep),
    );
    this.render();
  }

  close(): void {
    this.items = [];
    this.render();
  }

  /** Handles a key while the list is open; true when it was the list's. */
  onKeyDown(e: KeyboardEvent): boolean {
    if (!this.isOpen || e.altKey || e.ctrlKey || e.metaKey) return false;
    switch (e.key) {
      case 'ArrowDown':
      case 'ArrowUp': {
        const n = this.items.length;
        this.active = (this.active + (e.key === 'ArrowDown' ? 1 : n - 1)) % n;
        this.render();
        break;
      }
      case 'Tab':
        if (e.shiftKey) return false;
        this.accept(false);
        break;
      case 'Enter':
        if (e.shiftKey) return false;
        this.accept(true);
        break;
      case 'Escape':
        this.dismissedFor = this.input.value;
        this.close();
        break;
      default:
        return false;
    }
    e.preventDefault();
    e.stopPropagation();
    return true;
  }

  /** Puts the active command in the input; Enter on one that takes no text runs it. */
  private accept(enter: boolean): void {
    const c = this.items[this.active];
    if (!c) return;
    const text = c.takesText ? `/${c.name} ` : `/${c.name}`;
    this.input.value = text;
    this.dismissedFor = text;
    this.input.setSelectionRange(text.length, text.length);
    this.input.dispatchEvent(new Event('input'));
    this.close();
    if (enter && !c.takesText) this.run();
  }

  private render(): void {
    const open = this.items.length > 0;
    this.el.hidden = !open;
    this.input.setAttribute('aria-expanded', String(open));
    if (!open) {
      this.input.removeAttribute('aria-activedescendant');
      this.el.replaceChildren();
      return;
    }
    this.el.replaceChildren(
      ...this.items.map((c, i) =>
        h(
          'div',
          {
            class: `slash-option${i === this.active ? ' active' : ''}`,
            id: `slash-option-${i}`,
            role: 'option',
            'aria-selected': String(i === this.active),
            'data-index': i,
            'data-testid': 'slash-option',
            'data-name': c.name,
            title: c.description,
          },
          codicon(c.icon),
          h('span', { class: 'slash-name' }, `/${c.name}`),
          h('span', { class: 'slash-description' }, c.description),
          c.kind === 'skill' ? h('span', { class: 'slash-kind' }, 'skill') : null,
        ),
      ),
    );
    this.input.setAttribute('aria-activedescendant', `slash-option-${this.active}`);
    this.el.children[this.active]?.scrollIntoView({ block: 'nearest' });
  }
}

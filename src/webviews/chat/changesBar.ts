/**
 * The pending-changes bar above the composer: "3 files changed +12 −4  Keep All  Undo All", and the
 * files (each opens its diff; Keep / Undo per file). Hidden when nothing is pending.
 */
import type { FileChange } from '../../protocol/agent';
import { codicon, h, iconButton, textButton } from './dom';

export interface ChangesBarCallbacks {
  openDiff(path: string): void;
  keepFile(path: string): void;
  undoFile(path: string): void;
  keepAll(): void;
  undoAll(): void;
}

export function changesSummary(files: readonly FileChange[]): { text: string; added: number; removed: number } {
  let added = 0;
  let removed = 0;
  for (const f of files) {
    added += f.added;
    removed += f.removed;
  }
  return { text: `${files.length} ${files.length === 1 ? 'file' : 'files'} changed`, added, removed };
}

function baseName(label: string): { name: string; dir: string } {
  const i = label.replace(/\/+$/, '').lastIndexOf('/');
  return i < 0 ? { name: label, dir: '' } : { name: label.slice(i + 1), dir: label.slice(0, i) };
}

export class ChangesBar {
  readonly el: HTMLElement;
  private readonly summary = h('span', { class: 'changes-summary', 'data-testid': 'changes-summary' });
  private readonly list = h('ul', { class: 'changes-files', 'data-testid': 'changes-files', 'aria-label': 'Changed files' });
  private readonly toggle: HTMLButtonElement;
  private expanded = true;
  private files: readonly FileChange[] = [];

  constructor(private readonly cb: ChangesBarCallbacks) {
    this.toggle = h(
      'button',
      { type: 'button', class: 'changes-toggle', 'data-testid': 'changes-toggle', 'aria-expanded': 'true', title: 'Show or hide the changed files' },
      codicon('chevron-down'),
      this.summary,
    );
    const keepAll = textButton('Keep All', { icon: 'check-all', testId: 'keep-all' });
    keepAll.title = 'Keep every change the agent made in this conversation';
    const undoAll = textButton('Undo All', { icon: 'discard', secondary: true, testId: 'undo-all' });
    undoAll.title = 'Undo every change the agent made in this conversation';
    keepAll.addEventListener('click', () => this.cb.keepAll());
    undoAll.addEventListener('click', () => this.cb.undoAll());
    this.toggle.addEventListener('click', () => this.setExpanded(!this.expanded));
    this.el = h(
      'section',
      { class: 'changes-bar', 'data-testid': 'changes-bar', 'aria-label': 'Changes to review', hidden: true },
      h('div', { class: 'changes-header' }, this.toggle, h('span', { class: 'changes-actions' }, keepAll, undoAll)),
      this.list,
    );
    this.list.addEventListener('click', (e) => this.onListClick(e));
  }

  get paths(): string[] {
    return this.files.map((f) => f.path);
  }

  set(files: readonly FileChange[]): void {
    this.files = files;
    this.el.hidden = files.length === 0;
    const s = changesSummary(files);
    this.summary.replaceChildren(
      h('span', {}, s.text),
      ' ',
      h('span', { class: 'added' }, `+${s.added}`),
      ' ',
      h('span', { class: 'removed' }, `−${s.removed}`),
    );
    this.list.replaceChildren(...files.map((f) => this.fileRow(f)));
  }

  private fileRow(f: FileChange): HTMLElement {
    const { name, dir } = baseName(f.label || f.path);
    const open = h(
      'button',
      { type: 'button', class: 'change-open', 'data-testid': 'change-file', title: `Open the diff of ${f.label || f.path}` },
      codicon(f.kind === 'created' ? 'new-file' : 'file'),
      h('span', { class: 'change-name' }, name),
      dir ? h('span', { class: 'change-dir' }, dir) : null,
      h('span', { class: 'added' }, `+${f.added}`),
      h('span', { class: 'removed' }, `−${f.removed}`),
    );
    return h(
      'li',
      { class: 'change-file', 'data-path': f.path },
      open,
      iconButton('check', `Keep ${name}`, 'keep-file'),
      iconButton('discard', `Undo ${name}`, 'undo-file'),
    );
  }

  private onListClick(e: MouseEvent): void {
    if (!(e.target instanceof Element)) return;
    const button = e.target.closest('button');
    const path = button?.closest<HTMLElement>('li[data-path]')?.dataset.path;
    if (!button || !path) return;
    const action = button.dataset.testid;
    if (action === 'change-file') this.cb.openDiff(path);
    else if (action === 'keep-file') this.cb.keepFile(path);
    else if (action === 'undo-file') this.cb.undoFile(path);
  }

  private setExpanded(open: boolean): void {
    this.expanded = open;
    this.list.hidden = !open;
    this.toggle.setAttribute('aria-expanded', open ? 'true' : 'false');
    this.toggle.firstElementChild?.classList.replace(
      open ? 'codicon-chevron-right' : 'codicon-chevron-down',
      open ? 'codicon-chevron-down' : 'codicon-chevron-right',
    );
  }
}

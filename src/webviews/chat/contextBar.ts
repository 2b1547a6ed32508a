/**
 * The composer's context row: the active editor's file or selection as a chip (attached by default;
 * × removes it for that file until the user adds it again; a chip the host marks `needsPick` — an
 * ignored or secret-looking file, or the setting off — stays dimmed until clicked) with its size in
 * tokens, and "Using rules:" with one toggle per rules file (team rules are locked on). Everything
 * is a button: Tab reaches each, Space/Enter acts.
 */
import type { ActiveContext, ChatCommandMethod, ChatCommandParams, ChatNotificationParams, ContextChip, RuleInfo } from '../../protocol/chatView';
import { codicon, h } from './dom';

export type CommandSink = <M extends ChatCommandMethod>(method: M, params: ChatCommandParams<M>) => boolean;

export function formatTokens(n: number): string {
  if (n < 1000) return `${n}`;
  if (n < 100_000) return `${(n / 1000).toFixed(1).replace(/\.0$/, '')}k`;
  return `${Math.round(n / 1000)}k`;
}

const chipIcon = (kind: ContextChip['kind']): string =>
  ({ file: 'file', selection: 'selection', problems: 'warning', terminal: 'terminal', url: 'globe', folder: 'folder', symbol: 'symbol-class' })[kind];

const baseName = (label: string): string => label.slice(label.lastIndexOf('/') + 1);
/** The file's name without the `:start-end` a selection's label ends with. */
const fileName = (label: string): string => baseName(label.replace(/:\d+-\d+$/, ''));

/** A chip as a user message shows what it took along (not interactive). */
export function sentChip(c: ContextChip): HTMLElement {
  const title = `${c.label} · ~${formatTokens(c.tokens)} tokens${c.truncated ? ' · truncated: only the first part was sent' : ''}`;
  return h(
    'span',
    { class: 'context-chip sent', title, 'data-testid': 'sent-chip' },
    codicon(chipIcon(c.kind)),
    h('span', { class: 'chip-label' }, baseName(c.label)),
    c.truncated ? codicon('warning', 'chip-truncated') : null,
  );
}

export class ContextBar {
  readonly el = h('div', { class: 'context-bar', 'data-testid': 'context-bar', hidden: true });
  private readonly chips = h('div', { class: 'context-chips', role: 'group', 'aria-label': 'Attached context' });
  private readonly rulesRow = h('div', { class: 'context-rules', role: 'group', 'aria-label': 'Rules in use', 'data-testid': 'rules-row' });
  private active: ActiveContext | null = null;
  private rules: RuleInfo[] = [];
  /** Files whose chip the user removed (per document: moving the selection does not bring it back). */
  private readonly removed = new Set<string>();
  /** Files whose `needsPick` chip the user clicked. */
  private readonly picked = new Set<string>();

  constructor(private readonly command: CommandSink) {
    this.el.append(this.chips, this.rulesRow);
    this.el.addEventListener('click', (e) => this.onClick(e));
  }

  set(p: ChatNotificationParams<'chat/context'>): void {
    this.active = p.active;
    this.rules = p.rules;
    this.render();
  }

  /** The chip to send with the next message, if it is attached. */
  attachment(): { uri: string; range?: { start: number; end: number } } | undefined {
    const a = this.active;
    if (!a || !this.isAttached(a)) return undefined;
    return { uri: a.uri, ...(a.range ? { range: a.range } : {}) };
  }

  private isAttached(a: ActiveContext): boolean {
    return a.needsPick ? this.picked.has(a.uri) : !this.removed.has(a.uri);
  }

  private render(): void {
    const focused =
      document.activeElement instanceof HTMLElement && this.el.contains(document.activeElement) ? document.activeElement.dataset.testid : undefined;
    this.chips.replaceChildren(...(this.active ? [this.activeChip(this.active)] : []));
    this.chips.hidden = !this.active;
    const rules = this.rules;
    this.rulesRow.hidden = rules.length === 0;
    this.rulesRow.replaceChildren(h('span', { class: 'rules-label' }, codicon('law'), h('span', {}, 'Using rules:')), ...rules.map((r) => this.ruleChip(r)));
    this.el.hidden = !this.active && rules.length === 0;
    // The button under focus may have been replaced by its counterpart (remove ⇄ add).
    const next = focused === 'context-remove' ? 'context-add' : focused === 'context-add' ? 'context-remove' : focused;
    if (next) (this.el.querySelector<HTMLElement>(`[data-testid="${next}"]`) ?? this.el.querySelector<HTMLElement>(`[data-testid="${focused}"]`))?.focus();
  }

  private activeChip(a: ActiveContext): HTMLElement {
    const attached = this.isAttached(a);
    const size = `~${formatTokens(a.tokens)} tokens${a.truncated ? ', truncated' : ''}`;
    const what = a.kind === 'selection' ? 'Selection' : 'Current file';
    if (!attached) {
      const why = a.needsPick ?? 'Removed from this message.';
      return h(
        'button',
        {
          type: 'button',
          class: 'context-chip detached',
          'data-testid': 'context-add',
          title: `${why}\n${a.label} (${size})`,
          'aria-label': `Attach ${what.toLowerCase()} ${a.label}`,
        },
        codicon('add'),
        h('span', { class: 'chip-label' }, fileName(a.label)),
        h('span', { class: 'chip-kind' }, a.kind === 'selection' ? `:${a.range?.start}-${a.range?.end}` : ''),
      );
    }
    return h(
      'span',
      { class: 'context-chip attached', 'data-testid': 'context-chip', 'data-kind': a.kind, title: `${what}: ${a.label} (${size})` },
      codicon(a.kind === 'selection' ? 'selection' : 'file'),
      h('span', { class: 'chip-label' }, fileName(a.label)),
      a.range ? h('span', { class: 'chip-kind' }, `:${a.range.start}-${a.range.end}`) : null,
      h('span', { class: 'chip-tokens', 'data-testid': 'chip-tokens' }, `${formatTokens(a.tokens)} tok`),
      a.truncated ? codicon('warning', 'chip-truncated') : null,
      h(
        'button',
        {
          type: 'button',
          class: 'chip-remove',
          'data-testid': 'context-remove',
          title: `Don't attach ${a.label}`,
          'aria-label': `Remove ${what.toLowerCase()} ${a.label}`,
        },
        codicon('close'),
      ),
    );
  }

  private ruleChip(r: RuleInfo): HTMLElement {
    const state =
      r.reason ?? (r.locked ? 'Set by the team workspace: always on.' : r.enabled ? 'On: click to switch off for this workspace.' : 'Off: click to switch on.');
    return h(
      'span',
      { class: `rule-chip${r.enabled ? '' : ' off'}`, 'data-testid': 'rule-chip', 'data-rule-id': r.id },
      h(
        'button',
        {
          type: 'button',
          role: 'checkbox',
          class: 'rule-toggle',
          'data-testid': 'rule-toggle',
          'aria-checked': r.enabled ? 'true' : 'false',
          'aria-disabled': r.locked ? 'true' : undefined,
          'aria-label': `Use rules ${r.name}`,
          title: `${r.name} · ~${formatTokens(r.tokens)} tokens${r.truncated ? ' · truncated' : ''}\n${state}`,
        },
        codicon(r.locked ? 'lock' : r.enabled ? 'pass-filled' : 'circle-large-outline'),
      ),
      h(
        'button',
        { type: 'button', class: 'rule-name', 'data-testid': 'rule-open', title: `Open ${r.name}`, 'aria-label': `Open rules ${r.name}` },
        r.source === 'team' ? `Team: ${r.name}` : baseName(r.name),
      ),
    );
  }

  private onClick(e: MouseEvent): void {
    const button = e.target instanceof Element ? e.target.closest('button') : null;
    if (!button) return;
    const a = this.active;
    const rule = this.rules.find((r) => r.id === button.closest<HTMLElement>('[data-rule-id]')?.dataset.ruleId);
    switch (button.dataset.testid) {
      case 'context-remove':
        if (a) {
          this.removed.add(a.uri);
          this.picked.delete(a.uri);
        }
        break;
      case 'context-add':
        if (a) {
          this.removed.delete(a.uri);
          if (a.needsPick) this.picked.add(a.uri);
        }
        break;
      case 'rule-toggle':
        if (rule && !rule.locked) {
          rule.enabled = !rule.enabled;
          this.command('chat/setRuleEnabled', { id: rule.id, enabled: rule.enabled });
        }
        break;
      case 'rule-open':
        if (rule) this.command('chat/openRule', { id: rule.id });
        return;
      default:
        return;
    }
    this.render();
  }
}

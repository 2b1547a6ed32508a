/**
 * Tool-call cards under an assistant message: one compact row per call (codicon, name, the argument
 * that matters, status, duration, a one-line result preview) that expands to the arguments and the
 * result; an approval asks inline on its card (Allow / Deny / Always allow "<rule>"). Cards are
 * reconciled by call id, so a status change replaces one card and keeps the others (and focus).
 * The view model (`toolCardModel`) is pure, for tests and for the aria labels.
 */
import type { ToolCallStatus, ToolCallView } from '../../protocol/agent';
import { codicon, h, textButton } from './dom';

const TOOL_ICON: Record<string, string> = {
  read_skill: 'book',
  read_file: 'file',
  list_files: 'list-tree',
  search_files: 'search',
  get_diagnostics: 'warning',
  edit_file: 'edit',
  write_file: 'new-file',
  apply_patch: 'diff',
  run_command: 'terminal',
  web_fetch: 'globe',
  ask_user: 'question',
  finish: 'check',
};

const TOOL_LABEL: Record<string, string> = {
  read_skill: 'Read skill',
  read_file: 'Read',
  list_files: 'List',
  search_files: 'Search',
  get_diagnostics: 'Diagnostics',
  edit_file: 'Edit',
  write_file: 'Create',
  apply_patch: 'Patch',
  run_command: 'Run',
  web_fetch: 'Fetch',
  ask_user: 'Question',
  finish: 'Finish',
};

const KIND_ICON: Record<ToolCallView['kind'], string> = {
  read: 'file',
  edit: 'edit',
  command: 'terminal',
  network: 'globe',
  interaction: 'question',
  mcp: 'mcp',
};

const STATUS: Record<ToolCallStatus, { icon: string; label: string; spin?: boolean }> = {
  streaming: { icon: 'loading', label: 'Preparing', spin: true },
  awaiting_approval: { icon: 'shield', label: 'Needs approval' },
  running: { icon: 'loading', label: 'Running', spin: true },
  done: { icon: 'check', label: 'Done' },
  error: { icon: 'error', label: 'Failed' },
  denied: { icon: 'circle-slash', label: 'Denied' },
  interrupted: { icon: 'debug-disconnect', label: 'Interrupted' },
};

/** What the expanded card shows at most of the arguments and of the result. */
export const EXPANDED_CAP = 20_000;

export interface ToolCardModel {
  icon: string;
  label: string;
  subject: string;
  statusIcon: string;
  statusLabel: string;
  spinning: boolean;
  /** `1.2 s`; empty while unknown. */
  duration: string;
  /** One line: the first non-empty line of the preview, or the exit code / diff stat. */
  preview: string;
  /** `+12 −4` for edits. */
  diffStat: string;
  /** Buttons on the card: only while it asks. */
  approval?: { id: string; title: string; reason: string; detail?: string; rule?: string };
  ariaLabel: string;
}

export function formatDuration(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return '';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)}m ${s % 60}s`;
}

function firstLine(text: string | undefined): string {
  if (!text) return '';
  const line = text.split(/\r?\n/).find((l) => l.trim() !== '') ?? '';
  return line.length > 200 ? `${line.slice(0, 200)}…` : line.trim();
}

export function toolCardModel(call: ToolCallView): ToolCardModel {
  const status = STATUS[call.status];
  const label = TOOL_LABEL[call.name] ?? call.name;
  const diffStat = call.diffStat ? `+${call.diffStat.added} −${call.diffStat.removed}` : '';
  // An MCP result starts with the gateway's untrusted-data marker; the preview shows what the server said.
  let preview = firstLine(call.kind === 'mcp' ? call.preview?.replace(/^\[Result of [^\n]*\]\n/, '') : call.preview);
  if (call.exitCode !== undefined && call.name === 'run_command') preview = preview ? `exit ${call.exitCode} · ${preview}` : `exit ${call.exitCode}`;
  const a = call.status === 'awaiting_approval' ? call.approval : undefined;
  const approval = a ? { id: a.id, title: a.title, reason: a.reason, detail: a.detail, rule: a.suggestedRule } : undefined;
  const duration = call.status === 'running' || call.status === 'streaming' ? '' : formatDuration(call.durationMs);
  const parts = [label, call.subject, status.label, duration, diffStat, preview].filter(Boolean);
  return {
    icon: TOOL_ICON[call.name] ?? KIND_ICON[call.kind] ?? 'tools',
    label,
    subject: call.subject,
    statusIcon: status.icon,
    statusLabel: status.label,
    spinning: !!status.spin,
    duration,
    preview,
    diffStat,
    approval,
    ariaLabel: parts.join(', '),
  };
}

/** The arguments as the expanded card shows them: pretty JSON when it parses, capped. */
export function formatArguments(json: string | undefined): string {
  if (!json) return '';
  let text = json;
  try {
    text = JSON.stringify(JSON.parse(json), null, 2);
  } catch {
    // shown as it came (a truncated or malformed call)
  }
  return cap(text);
}

function cap(text: string): string {
  return text.length > EXPANDED_CAP ? `${text.slice(0, EXPANDED_CAP)}\n… (${text.length - EXPANDED_CAP} more characters)` : text;
}

/** Host-provided favicons for URLs (data: URIs; the webview loads nothing itself). */
export interface ToolCardContext {
  isExpanded(callId: string): boolean;
  setExpanded(callId: string, expanded: boolean): void;
  /** A data: URI for the URL's site, if the host sent one. */
  favicon(url: string): string | undefined;
  /** Asks the host for a URL's favicon (only for calls the policy let run), to re-render message `messageId`. */
  wantFavicon(url: string, messageId: string): void;
}

export function renderToolCard(call: ToolCallView, ctx: ToolCardContext): HTMLElement {
  const m = toolCardModel(call);
  const expanded = ctx.isExpanded(call.id);
  const card = h('div', {
    class: `tool-card status-${call.status}${expanded ? ' expanded' : ''}`,
    'data-testid': 'tool-card',
    'data-call-id': call.id,
    'data-tool': call.name,
    'data-status': call.status,
    role: 'group',
    'aria-label': m.ariaLabel,
  });
  let favicon: HTMLElement | null = null;
  if (call.url) {
    const src = ctx.favicon(call.url);
    if (src) favicon = h('img', { class: 'tool-favicon', src, alt: '', width: 14, height: 14, 'data-testid': 'tool-favicon' });
    else if (call.status === 'running' || call.status === 'done' || call.status === 'error') ctx.wantFavicon(call.url, call.messageId);
  }
  const row = h(
    'div',
    {
      class: 'tool-row',
      role: 'button',
      tabindex: 0,
      'aria-expanded': expanded ? 'true' : 'false',
      'data-testid': 'tool-row',
      title: `${call.name}: ${call.subject}`,
    },
    codicon(expanded ? 'chevron-down' : 'chevron-right', 'tool-chevron'),
    codicon(m.icon, 'tool-icon'),
    h('span', { class: 'tool-name' }, m.label),
    favicon,
    h('span', { class: 'tool-subject', 'data-testid': 'tool-subject' }, m.subject),
    m.diffStat ? diffStatEl(call) : null,
    h('span', { class: 'tool-duration', 'data-testid': 'tool-duration' }, m.duration),
    h(
      'span',
      { class: 'tool-status', 'data-testid': 'tool-status', title: m.statusLabel },
      codicon(m.statusIcon, m.spinning ? 'codicon-modifier-spin' : ''),
      h('span', { class: 'visually-hidden' }, m.statusLabel),
    ),
  );
  card.append(row);
  if (m.preview && !m.approval) card.append(h('div', { class: 'tool-preview', 'data-testid': 'tool-preview' }, m.preview));
  if (m.approval) card.append(approvalEl(m.approval));
  const details = h('div', { class: 'tool-details', 'data-testid': 'tool-details', hidden: !expanded });
  fillDetails(details, call);
  card.append(details);
  const toggle = (): void => {
    const open = !card.classList.contains('expanded');
    ctx.setExpanded(call.id, open);
    card.classList.toggle('expanded', open);
    details.hidden = !open;
    row.setAttribute('aria-expanded', open ? 'true' : 'false');
    row
      .querySelector('.tool-chevron')
      ?.classList.replace(open ? 'codicon-chevron-right' : 'codicon-chevron-down', open ? 'codicon-chevron-down' : 'codicon-chevron-right');
  };
  row.addEventListener('click', toggle);
  row.addEventListener('keydown', (e) => {
    if ((e.key === 'Enter' || e.key === ' ') && !e.altKey && !e.ctrlKey && !e.metaKey) {
      e.preventDefault();
      toggle();
    }
  });
  return card;
}

function diffStatEl(call: ToolCallView): HTMLElement {
  const d = call.diffStat ?? { added: 0, removed: 0 };
  return h(
    'span',
    { class: 'tool-diffstat', 'data-testid': 'tool-diffstat' },
    h('span', { class: 'added' }, `+${d.added}`),
    ' ',
    h('span', { class: 'removed' }, `−${d.removed}`),
  );
}

function approvalEl(a: NonNullable<ToolCardModel['approval']>): HTMLElement {
  const allow = textButton('Allow', { icon: 'check', testId: 'approve-allow' });
  allow.title = 'Allow (Alt+Y)';
  const deny = textButton('Deny', { icon: 'close', secondary: true, testId: 'approve-deny' });
  deny.title = 'Deny (Alt+N)';
  const always = a.rule ? textButton(`Always allow "${a.rule}"`, { secondary: true, testId: 'approve-always' }) : null;
  if (always) always.title = `Allow now, and store the rule "${a.rule}" for this workspace`;
  for (const b of [allow, deny, always]) if (b) b.dataset.approvalId = a.id;
  return h(
    'div',
    { class: 'tool-approval', 'data-testid': 'tool-approval', 'data-approval-id': a.id, role: 'alert' },
    h('div', { class: 'approval-title' }, a.title),
    h('div', { class: 'approval-reason' }, a.reason),
    a.detail && a.detail !== a.title ? h('pre', { class: 'approval-detail' }, cap(a.detail)) : null,
    h('div', { class: 'approval-actions' }, allow, deny, always, h('span', { class: 'approval-keys' }, 'Alt+Y · Alt+N')),
  );
}

function fillDetails(details: HTMLElement, call: ToolCallView): void {
  const args = formatArguments(call.argumentsJson);
  if (args) details.append(h('div', { class: 'tool-details-label' }, 'Arguments'), h('pre', { class: 'tool-pre', 'data-testid': 'tool-args' }, args));
  const result = call.result ?? call.preview;
  if (result) {
    const label = call.status === 'error' ? 'Error' : 'Result';
    details.append(h('div', { class: 'tool-details-label' }, label), h('pre', { class: 'tool-pre', 'data-testid': 'tool-result' }, cap(result)));
  }
  if (!args && !result) details.append(h('div', { class: 'tool-details-label' }, 'No details yet.'));
}

/** What the last render of a card was made from: an upsert replaces the call object, so identity says "changed". */
const renderedFrom = new WeakMap<Element, { call: ToolCallView; favicon: string | undefined }>();

/**
 * Makes `container` show `calls` in order: unchanged cards stay (with their focus and selection),
 * changed ones are re-rendered in place, focus moving to the same control of the new card.
 */
export function reconcileToolCards(container: HTMLElement, calls: readonly ToolCallView[], ctx: ToolCardContext): void {
  const existing = new Map<string, HTMLElement>();
  for (const el of container.querySelectorAll<HTMLElement>(':scope > .tool-card')) existing.set(el.dataset.callId ?? '', el);
  let cursor: ChildNode | null = container.firstChild;
  for (const call of calls) {
    let el = existing.get(call.id);
    existing.delete(call.id);
    const favicon = call.url ? ctx.favicon(call.url) : undefined;
    const from = el ? renderedFrom.get(el) : undefined;
    if (!el || from?.call !== call || from.favicon !== favicon) {
      const fresh = renderToolCard(call, ctx);
      renderedFrom.set(fresh, { call, favicon });
      if (el) {
        const focusKey = focusedControl(el);
        if (cursor === el) cursor = fresh;
        el.replaceWith(fresh);
        if (focusKey) restoreFocus(fresh, focusKey);
      }
      el = fresh;
    }
    if (el !== cursor) container.insertBefore(el, cursor);
    cursor = el.nextSibling;
  }
  for (const stale of existing.values()) stale.remove();
}

function focusedControl(card: HTMLElement): string | undefined {
  const active = document.activeElement;
  if (!active || !card.contains(active)) return undefined;
  return active instanceof HTMLElement ? (active.dataset.testid ?? 'tool-row') : 'tool-row';
}

function restoreFocus(card: HTMLElement, testId: string): void {
  const target = card.querySelector<HTMLElement>(`[data-testid="${testId}"]`) ?? card.querySelector<HTMLElement>('.tool-row');
  target?.focus({ preventScroll: true });
}

/** Rough height of a message's cards, for the transcript's estimate before measuring. */
export function estimateToolCardsHeight(calls: readonly ToolCallView[] | undefined): number {
  if (!calls?.length) return 0;
  let px = 8;
  for (const c of calls) px += 26 + (c.preview ? 18 : 0) + (c.status === 'awaiting_approval' ? 90 : 0);
  return px;
}

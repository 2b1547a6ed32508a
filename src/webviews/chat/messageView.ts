/**
 * One transcript row: header (avatar, author), the sanitised markdown, and the status decorations
 * (progress while streaming, error card with Retry — and Set Key… when the provider rejected the key —,
 * "Reply interrupted", "Stopped"). Buttons carry
 * data-testid values; their clicks are handled by one delegated listener in the app.
 */
import type { ChatViewMessage } from '../../protocol/chatView';
import { sentChip } from './contextBar';
import { codicon, h, iconButton, textButton } from './dom';
import { estimateToolCardsHeight, reconcileToolCards, type ToolCardContext } from './toolCards';
import { branchSwitcher, replyActions, userActions } from './messageActions';
import { sumReplyUsage, usageLine } from './usageView';

export interface MessageContext {
  agentName(agentId: string | undefined): string;
  /** The provider of an agent, for the error card's Set Key button. */
  agentProvider?(agentId: string | undefined): string | undefined;
  /** Renders (or incrementally updates) the message's sanitised markdown into `container`. */
  renderMarkdown(container: HTMLElement, text: string): void;
  /** Position in the whole conversation (1-based) and its size, for assistive technology. */
  position(index: number): { pos: number; size: number };
  /** Adds link titles / favicons the host has sent (never waits for them). */
  decorateLinks?(body: HTMLElement, m: ChatViewMessage): void;
  /** Tool-call cards (expansion state, favicons). */
  toolCards?: ToolCardContext;
  /** The message `offset` rows before / after `index` in the list: consecutive assistant messages of a turn render as one reply. */
  neighbour?(index: number, offset: number): ChatViewMessage | undefined;
}

/** An assistant message right after another one of the same agent (a tool-call continuation). */
function continues(prev: ChatViewMessage | undefined, m: ChatViewMessage | undefined): boolean {
  return !!prev && !!m && prev.role === 'assistant' && m.role === 'assistant' && prev.agentId === m.agentId;
}

function groupClasses(el: HTMLElement, m: ChatViewMessage, index: number, ctx: MessageContext): void {
  el.classList.toggle('continuation', continues(ctx.neighbour?.(index, -1), m));
  el.classList.toggle('continued', continues(m, ctx.neighbour?.(index, 1)));
  el.classList.toggle('last', !!ctx.neighbour && ctx.neighbour(index, 1) === undefined);
}

function renderCards(el: HTMLElement, m: ChatViewMessage, ctx: MessageContext): void {
  let container = el.querySelector<HTMLElement>(':scope > .tool-calls');
  if (!m.toolCalls?.length || !ctx.toolCards) {
    container?.remove();
    return;
  }
  if (!container) {
    container = h('div', { class: 'tool-calls', 'data-testid': 'tool-calls' });
    el.querySelector(':scope > .markdown')?.after(container);
  }
  reconcileToolCards(container, m.toolCalls, ctx.toolCards);
}

export function renderMessage(m: ChatViewMessage, index: number, ctx: MessageContext): HTMLElement {
  // A task's prompt (its plan request, "the plan was approved") is a task event, not the user speaking.
  const isTask = m.role === 'user' && m.origin === 'task';
  const isUser = m.role === 'user' && !isTask;
  const author = isTask ? 'Task' : isUser ? 'You' : ctx.agentName(m.agentId);
  const { pos, size } = ctx.position(index);
  const el = h('article', {
    class: `message ${m.role}${isTask ? ' task-event' : ''} status-${m.status}`,
    'data-testid': 'message',
    'data-role': m.role,
    'data-origin': m.origin,
    'data-status': m.status,
    'data-message-id': m.id,
    'aria-label': isTask ? 'Task prompt' : isUser ? 'You said' : `${author} replied`,
    'aria-posinset': pos,
    'aria-setsize': size,
    'aria-busy': m.status === 'streaming' ? 'true' : undefined,
  });
  const time = Number.isFinite(m.ts) ? new Date(m.ts) : undefined;
  el.append(
    h(
      'div',
      { class: 'message-header', title: time ? time.toLocaleString() : undefined },
      h('span', { class: 'avatar' }, codicon(isTask ? 'tasklist' : isUser ? 'account' : 'hubot')),
      h('span', { class: 'author' }, author),
      branchSwitcher(m),
      h('span', { class: 'spacer' }),
      ...(isUser ? [...userActions(), revertButton()] : []),
    ),
  );
  if (m.context?.length) el.append(h('div', { class: 'message-context', 'aria-label': 'Attached' }, ...m.context.map(sentChip)));
  const body = h('div', { class: 'markdown' });
  ctx.renderMarkdown(body, m.text);
  ctx.decorateLinks?.(body, m);
  el.append(body, ...decorations(m, ctx, index));
  renderCards(el, m, ctx);
  groupClasses(el, m, index, ctx);
  return el;
}

/**
 * Updates a rendered row in place (text grew, status changed): the markdown is patched block by
 * block and only changed decorations are replaced, so focus and selection in the text survive.
 * Returns false when the element is not this message's row.
 */
export function updateMessage(el: HTMLElement, m: ChatViewMessage, ctx: MessageContext, index = -1): boolean {
  const body = el.querySelector<HTMLElement>(':scope > .markdown');
  if (el.dataset.messageId !== m.id || !body) return false;
  ctx.renderMarkdown(body, m.text);
  ctx.decorateLinks?.(body, m);
  const wanted = decorations(m, ctx, index);
  const current = [...el.querySelectorAll(':scope > .decoration')];
  const same = wanted.length === current.length && wanted.every((w, i) => w.isEqualNode(current[i]));
  if (!same) {
    for (const c of current) c.remove();
    el.append(...wanted);
  }
  renderCards(el, m, ctx);
  if (index >= 0) groupClasses(el, m, index, ctx);
  el.dataset.status = m.status;
  el.classList.remove(...[...el.classList].filter((c) => c.startsWith('status-')));
  el.classList.add(`status-${m.status}`);
  if (m.status === 'streaming') el.setAttribute('aria-busy', 'true');
  else el.removeAttribute('aria-busy');
  return true;
}

/**
 * What follows the text: progress while nothing arrived yet, the error card, or a status note; and
 * under the last message of a finished reply, the reply's tokens and cost.
 */
function decorations(m: ChatViewMessage, ctx: MessageContext, index: number): HTMLElement[] {
  const out: HTMLElement[] = [];
  if (m.status === 'streaming' && !m.text && !m.toolCalls?.length) {
    out.push(h('div', { class: 'progress decoration', role: 'status' }, codicon('loading', 'codicon-modifier-spin'), h('span', {}, 'Working…')));
  }
  if (m.status === 'error') out.push(errorCard(m, ctx));
  if (m.status === 'interrupted') out.push(statusNote('debug-disconnect', 'Reply interrupted'));
  if (m.status === 'cancelled') out.push(statusNote('circle-slash', 'Stopped'));
  const footer = replyFooter(m, ctx, index);
  if (footer) out.push(footer);
  return out;
}

/** Under the last message of a finished reply: its tokens and cost, Copy, and Regenerate on the last reply. */
function replyFooter(m: ChatViewMessage, ctx: MessageContext, index: number): HTMLElement | undefined {
  if (m.role !== 'assistant' || m.status === 'streaming') return undefined;
  if (index >= 0 && continues(m, ctx.neighbour?.(index, 1))) return undefined;
  const usage = replyUsage(m, ctx, index);
  const last = index >= 0 && ctx.neighbour?.(index, 1) === undefined;
  return h(
    'div',
    { class: 'reply-footer decoration' },
    usage ? usageLine(usage) : null,
    h('span', { class: 'spacer' }),
    replyActions(last && m.status !== 'error'),
  );
}

/** The usage of the reply `m` ends (its turn's consecutive messages); none while it streams or goes on. */
function replyUsage(m: ChatViewMessage, ctx: MessageContext, index: number): ReturnType<typeof sumReplyUsage> {
  if (index < 0 || !ctx.neighbour) return sumReplyUsage([m.usage]);
  const usages = [m.usage];
  for (let k = 1, cur = m; ; k++) {
    const prev = ctx.neighbour(index, -k);
    if (!prev || !continues(prev, cur)) break;
    usages.unshift(prev.usage);
    cur = prev;
  }
  return sumReplyUsage(usages);
}

/** On the user's messages: restore every file the agent touched since this message (shown once the agent edited files). */
function revertButton(): HTMLElement {
  const b = iconButton('discard', 'Revert files to here', 'revert-to');
  b.classList.add('revert-to');
  b.title = 'Revert to here: restore the files the agent changed since this message';
  return b;
}

function errorCard(m: ChatViewMessage, ctx: MessageContext): HTMLElement {
  // A rejected key: the fix is on the card (set the key, then retry the reply).
  const keyProblem = m.error?.kind === 'auth';
  const provider = keyProblem ? ctx.agentProvider?.(m.agentId) : undefined;
  const setKey = keyProblem ? textButton('Set Key…', { icon: 'key', testId: 'set-key' }) : null;
  if (setKey && provider) setKey.dataset.provider = provider;
  const retry = m.error?.retryable || keyProblem ? textButton('Retry', { icon: 'refresh', secondary: true, testId: 'retry' }) : null;
  return h(
    'div',
    { class: 'error-card decoration', 'data-testid': 'error-card', role: 'group', 'aria-label': 'Error' },
    codicon('error', 'error-icon'),
    h(
      'div',
      { class: 'error-body' },
      h('div', { class: 'error-message' }, m.error?.message || 'The reply failed.'),
      (setKey || retry) && h('div', { class: 'error-actions' }, setKey, retry),
    ),
  );
}

function statusNote(icon: string, text: string): HTMLElement {
  return h('div', { class: 'status-note decoration', 'data-testid': 'status-note' }, codicon(icon), h('span', {}, text));
}

const HEADER_PX = 28;
const PADDING_PX = 22;
const LINE_PX = 19;
const CODE_LINE_PX = 19;
const CODE_CHROME_PX = 46;
const PARAGRAPH_GAP_PX = 10;
const USAGE_LINE_PX = 26;

/**
 * A cheap height guess used until the row is measured: wrapped prose lines, code lines (which scroll
 * rather than wrap), paragraph gaps and decorations. Close is enough: measuring corrects it.
 */
export function estimateMessageHeight(m: ChatViewMessage, width: number): number {
  const charsPerLine = Math.max(16, Math.floor((Math.max(160, width) - 40) / 7));
  let height = HEADER_PX + PADDING_PX;
  let inCode = false;
  const text = m.text;
  let start = 0;
  while (start <= text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const len = end - start;
    if (text.startsWith('```', start)) {
      inCode = !inCode;
      if (inCode) height += CODE_CHROME_PX;
    } else if (inCode) height += CODE_LINE_PX;
    else if (len === 0) height += PARAGRAPH_GAP_PX;
    else height += Math.ceil(len / charsPerLine) * LINE_PX;
    start = end + 1;
  }
  height += estimateToolCardsHeight(m.toolCalls);
  if (m.status === 'error') height += 64;
  else if (m.status === 'interrupted' || m.status === 'cancelled') height += 24;
  else if (m.status === 'streaming' && !text) height += 24;
  if (m.role === 'assistant' && m.status !== 'streaming') height += USAGE_LINE_PX;
  return height;
}

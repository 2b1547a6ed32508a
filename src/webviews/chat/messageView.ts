/**
 * One transcript row: header (avatar, author), the sanitised markdown, and the status decorations
 * (progress while streaming, error card with Retry, "Reply interrupted", "Stopped"). Buttons carry
 * data-testid values; their clicks are handled by one delegated listener in the app.
 */
import type { ChatViewMessage } from '../../protocol/chatView';
import { codicon, h, textButton } from './dom';

export interface MessageContext {
  agentName(agentId: string | undefined): string;
  /** Sanitised HTML for the message's markdown. */
  markdown(id: string, text: string): string;
  /** Position in the whole conversation (1-based) and its size, for assistive technology. */
  position(index: number): { pos: number; size: number };
}

export function renderMessage(m: ChatViewMessage, index: number, ctx: MessageContext): HTMLElement {
  const isUser = m.role === 'user';
  const author = isUser ? 'You' : ctx.agentName(m.agentId);
  const { pos, size } = ctx.position(index);
  const el = h('article', {
    class: `message ${m.role} status-${m.status}`,
    'data-testid': 'message',
    'data-role': m.role,
    'data-status': m.status,
    'data-message-id': m.id,
    'aria-label': isUser ? 'You said' : `${author} replied`,
    'aria-posinset': pos,
    'aria-setsize': size,
    'aria-busy': m.status === 'streaming' ? 'true' : undefined,
  });
  const time = Number.isFinite(m.ts) ? new Date(m.ts) : undefined;
  el.append(
    h(
      'div',
      { class: 'message-header', title: time ? time.toLocaleString() : undefined },
      h('span', { class: 'avatar' }, codicon(isUser ? 'account' : 'hubot')),
      h('span', { class: 'author' }, author),
    ),
  );
  const body = h('div', { class: 'markdown' });
  if (m.text) body.innerHTML = ctx.markdown(m.id, m.text);
  el.append(body);
  if (m.status === 'streaming' && !m.text) {
    el.append(h('div', { class: 'progress', role: 'status' }, codicon('loading', 'codicon-modifier-spin'), h('span', {}, 'Working…')));
  }
  if (m.status === 'error') el.append(errorCard(m));
  if (m.status === 'interrupted') el.append(statusNote('debug-disconnect', 'Reply interrupted'));
  if (m.status === 'cancelled') el.append(statusNote('circle-slash', 'Stopped'));
  return el;
}

function errorCard(m: ChatViewMessage): HTMLElement {
  const retry = m.error?.retryable ? textButton('Retry', { icon: 'refresh', secondary: true, testId: 'retry' }) : null;
  return h(
    'div',
    { class: 'error-card', 'data-testid': 'error-card', role: 'group', 'aria-label': 'Error' },
    codicon('error', 'error-icon'),
    h('div', { class: 'error-body' }, h('div', { class: 'error-message' }, m.error?.message || 'The reply failed.'), retry && h('div', { class: 'error-actions' }, retry)),
  );
}

function statusNote(icon: string, text: string): HTMLElement {
  return h('div', { class: 'status-note', 'data-testid': 'status-note' }, codicon(icon), h('span', {}, text));
}

const HEADER_PX = 28;
const PADDING_PX = 22;
const LINE_PX = 19;
const CODE_LINE_PX = 19;
const CODE_CHROME_PX = 46;
const PARAGRAPH_GAP_PX = 10;

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
  if (m.status === 'error') height += 64;
  else if (m.status === 'interrupted' || m.status === 'cancelled') height += 24;
  else if (m.status === 'streaming' && !text) height += 24;
  return height;
}

/**
 * Tokens and cost as the chat view shows them: a muted line under each finished reply
 * ("1,234 in · 567 out · $0.0123", the cached part of the prompt when there is one, "cost unknown"
 * for a model without a price), and under the title the conversation's totals and, when a
 * guardrail sets one, the token budget as a bar (warning colour past 80 %, error colour when spent).
 * The numbers come from the host (`usage` on each message, `chat/usage` for the totals).
 */
import type { ConversationUsage, MessageUsage } from '../../protocol/chatView';
import { codicon, h } from './dom';

const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

/** 1234 → "1,234". */
export function formatTokens(n: number): string {
  return integer.format(Math.max(0, Math.round(n)));
}

/** 1234 → "1,234", 12_345 → "12.3k", 1_234_567 → "1.23M" (the header is narrow). */
export function compactTokens(n: number): string {
  if (n < 10_000) return formatTokens(n);
  if (n < 1_000_000) return `${(n / 1000).toFixed(n < 100_000 ? 1 : 0)}k`;
  return `${(n / 1_000_000).toFixed(2)}M`;
}

/** USD: "$0.0123" below a dollar (what a reply costs), "$1.23" above; "<$0.0001" for a trace. */
export function formatCost(usd: number): string {
  if (usd <= 0) return '$0.00';
  if (usd < 0.0001) return '<$0.0001';
  return usd < 1 ? `$${usd.toFixed(4)}` : `$${usd.toFixed(2)}`;
}

const rate = (usd: number): string => `$${usd.toFixed(usd < 0.1 ? 3 : 2)}`;

/** One reply's usage: the sum over the requests of its turn (a tool-call turn makes several). */
export interface ReplyUsage {
  inputTokens?: number;
  outputTokens?: number;
  cachedInputTokens?: number;
  /** Sum of the priced requests. */
  costUsd: number;
  /** Some request had tokens but no price. */
  costUnknown: boolean;
  requests: number;
  /** The last request's model and rates (the tooltip). */
  last: MessageUsage;
}

const add = (a: number | undefined, b: number | undefined): number | undefined => (a === undefined && b === undefined ? undefined : (a ?? 0) + (b ?? 0));

/** Sums the usage of a reply's messages; undefined when none reported any. */
export function sumReplyUsage(usages: ReadonlyArray<MessageUsage | undefined>): ReplyUsage | undefined {
  let out: ReplyUsage | undefined;
  for (const u of usages) {
    if (!u || (u.inputTokens === undefined && u.outputTokens === undefined)) continue;
    out ??= { costUsd: 0, costUnknown: false, requests: 0, last: u };
    out.inputTokens = add(out.inputTokens, u.inputTokens);
    out.outputTokens = add(out.outputTokens, u.outputTokens);
    if (u.cachedInputTokens) out.cachedInputTokens = (out.cachedInputTokens ?? 0) + u.cachedInputTokens;
    if (u.costUsd === undefined) out.costUnknown = true;
    else out.costUsd += u.costUsd;
    out.requests++;
    out.last = u;
  }
  return out;
}

/** The muted line under a reply. */
export function usageLine(u: ReplyUsage): HTMLElement {
  const parts: string[] = [];
  if (u.inputTokens !== undefined) {
    parts.push(`${formatTokens(u.inputTokens)} in${u.cachedInputTokens ? ` (${formatTokens(u.cachedInputTokens)} cached)` : ''}`);
  }
  if (u.outputTokens !== undefined) parts.push(`${formatTokens(u.outputTokens)} out`);
  parts.push(u.costUnknown ? 'cost unknown' : formatCost(u.costUsd));
  return h('span', { class: 'usage-line', 'data-testid': 'usage-line', title: replyTooltip(u), 'aria-label': `Usage: ${parts.join(', ')}` }, parts.join(' · '));
}

function replyTooltip(u: ReplyUsage): string {
  const lines: string[] = [];
  const { model, price } = u.last;
  if (model) lines.push(`Model: ${model}`);
  if (price) {
    const cached = price.cachedInput !== undefined ? `, cached input ${rate(price.cachedInput)}` : '';
    const from = price.source === 'settings' ? 'your multiclaw.chat.modelPrices' : price.source === 'local' ? 'a local model, free' : 'built-in list price';
    lines.push(`Per 1M tokens: input ${rate(price.input)}${cached}, output ${rate(price.output)} (${from})`);
  }
  if (u.costUnknown) lines.push(`No price is known for ${model ?? 'this model'}: add one in the setting multiclaw.chat.modelPrices.`);
  if (u.cachedInputTokens) lines.push(`${formatTokens(u.cachedInputTokens)} of the input tokens were served from the provider's cache.`);
  if (u.requests > 1) lines.push(`${u.requests} requests to the model in this reply`);
  return lines.join('\n');
}

const WARN_AT = 0.8;

/** The conversation's totals and the token budget bar, under the title; hidden while there is nothing to show. */
export class UsageSummary {
  readonly el: HTMLElement;
  private readonly totals = h('span', { class: 'usage-totals', 'data-testid': 'usage-totals' });
  private readonly budget = h('div', { class: 'budget', 'data-testid': 'token-budget' });
  private readonly bar = h('div', { class: 'budget-bar', role: 'progressbar', 'aria-label': 'Token budget', 'aria-valuemin': 0 });
  private readonly fill = h('div', { class: 'budget-fill' });
  private readonly percent = h('span', { class: 'budget-percent', 'data-testid': 'budget-percent' });

  constructor() {
    this.bar.append(this.fill);
    this.budget.append(this.bar, this.percent);
    this.el = h('div', { class: 'usage-summary', 'data-testid': 'usage-summary', hidden: true }, codicon('pulse', 'usage-icon'), this.totals);
  }

  set(usage: ConversationUsage | undefined): void {
    const tokens = usage ? usage.inputTokens + usage.outputTokens : 0;
    this.el.hidden = !usage || (tokens === 0 && !usage.budget);
    // Out of the DOM without a budget: a hidden progressbar is still a progressbar to selectors.
    if (!usage?.budget || this.el.hidden) this.budget.remove();
    if (!usage || this.el.hidden) return;
    this.setTotals(usage);
    this.setBudget(usage.budget);
  }

  private setTotals(u: ConversationUsage): void {
    const cost = u.costUnknown ? (u.costUsd > 0 ? `≥ ${formatCost(u.costUsd)}` : 'cost unknown') : formatCost(u.costUsd);
    this.totals.textContent = `${compactTokens(u.inputTokens)} in · ${compactTokens(u.outputTokens)} out · ${cost}`;
    const lines = [
      `This conversation: ${formatTokens(u.inputTokens)} input tokens${u.cachedInputTokens ? ` (${formatTokens(u.cachedInputTokens)} cached)` : ''}, ${formatTokens(u.outputTokens)} output tokens`,
      u.costUnknown
        ? `Cost: ${u.costUsd > 0 ? `at least ${formatCost(u.costUsd)}; ` : ''}some replies have no known price (setting multiclaw.chat.modelPrices)`
        : `Cost: ${formatCost(u.costUsd)}`,
    ];
    this.totals.title = lines.join('\n');
  }

  private setBudget(b: ConversationUsage['budget']): void {
    if (!b) return;
    if (this.budget.parentElement !== this.el) this.el.append(this.budget);
    const share = b.used / b.limit;
    const pct = Math.floor(share * 100);
    this.bar.setAttribute('aria-valuemax', String(b.limit));
    this.bar.setAttribute('aria-valuenow', String(Math.min(b.used, b.limit)));
    const text = `${formatTokens(b.used)} of ${formatTokens(b.limit)} tokens used (${pct} %)`;
    this.bar.setAttribute('aria-valuetext', text);
    this.fill.style.width = `${Math.min(100, share * 100)}%`;
    this.budget.classList.toggle('warning', share > WARN_AT && share < 1);
    this.budget.classList.toggle('exceeded', share >= 1);
    this.percent.textContent = `${pct} %`;
    this.budget.title = `Token budget of this agent: ${text}.${share >= 1 ? ' The agent stops when the budget is spent.' : ''}`;
  }
}

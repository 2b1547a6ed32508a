/**
 * Token usage and cost of replies and conversations, from the usage each reply stored (the
 * providers' usage fields) and the price table of pricing.ts. Pure: the agent loop counts the
 * budget with it and the chat view shows what it counts.
 */
import { isProviderId, type ProviderId } from '../../protocol/providerIds';
import type { StoredMessage, StoredUsage } from '../store/model';
import { costOf, type PriceTable, type ReplyCost } from './pricing';

/** What the token budget counts of one reply: every prompt sent and every token received. */
export function budgetTokens(u: StoredUsage | undefined): number {
  return (u?.inputTokens ?? 0) + (u?.outputTokens ?? 0);
}

/** The budget used so far by a conversation (the agent loop stops at the guardrail's limit). */
export function budgetUsed(messages: readonly StoredMessage[]): number {
  let n = 0;
  for (const m of messages) n += budgetTokens(m.usage);
  return n;
}

/** The model a reply is priced by: the one it stored, else its agent's current one (replies from before models were stored). */
export type ModelOf = (m: StoredMessage) => { provider: ProviderId; model: string } | undefined;

export function replyModel(m: StoredMessage, agentModel: (agentId: string) => { provider: ProviderId; model: string } | undefined): ReturnType<ModelOf> {
  const u = m.usage;
  if (u?.model && u.provider && isProviderId(u.provider)) return { provider: u.provider, model: u.model };
  return m.agentId ? agentModel(m.agentId) : undefined;
}

/** A reply's cost; undefined when it reported no usage or its model has no price. */
export function replyCost(m: StoredMessage, modelOf: ModelOf, prices?: PriceTable): ReplyCost | undefined {
  if (m.role !== 'assistant' || !m.usage) return undefined;
  const model = modelOf(m);
  return model ? costOf(m.usage, model.provider, model.model, prices) : undefined;
}

export interface UsageTotals {
  inputTokens: number;
  outputTokens: number;
  cachedInputTokens: number;
  /** The sum of the replies whose cost is known. */
  costUsd: number;
  /** Some reply that used tokens has no known cost (unpriced model, or no usage reported): `costUsd` is a lower bound. */
  costUnknown: boolean;
}

/** Totals over a conversation's replies (those that finished, with or without an error). */
export function usageTotals(messages: readonly StoredMessage[], modelOf: ModelOf, prices?: PriceTable): UsageTotals {
  const t: UsageTotals = { inputTokens: 0, outputTokens: 0, cachedInputTokens: 0, costUsd: 0, costUnknown: false };
  for (const m of messages) {
    if (m.role !== 'assistant' || m.status === 'streaming') continue;
    const u = m.usage;
    if (!u) {
      // A model reply without usage (some local servers send none); the loop's own notes made no request.
      if (m.status === 'complete' && !isLoopNote(m)) t.costUnknown = true;
      continue;
    }
    t.inputTokens += u.inputTokens ?? 0;
    t.outputTokens += u.outputTokens ?? 0;
    t.cachedInputTokens += u.cachedInputTokens ?? 0;
    const cost = replyCost(m, modelOf, prices);
    if (cost) t.costUsd += cost.usd;
    else t.costUnknown = true;
  }
  return t;
}

/** Messages the agent loop writes itself (finish summary, stop reasons): no model request behind them. */
const LOOP_FINISH = new Set(['finish', 'ask_user', 'step_limit', 'loop_detected', 'budget_exhausted']);
function isLoopNote(m: StoredMessage): boolean {
  return m.finishReason !== undefined && LOOP_FINISH.has(m.finishReason);
}

/**
 * Tokens and cost as the chat view shows them: each reply's usage with its cost (the model it
 * stored, priced by src/gateway/chat/pricing.ts with the user's `multiclaw.chat.modelPrices`), and
 * the conversation's totals with the token budget of its agent when a guardrail sets one.
 */
import type { PriceTable } from '../../gateway/chat/pricing';
import { budgetUsed, replyCost, replyModel, usageTotals, type ModelOf } from '../../gateway/chat/usage';
import type { StoredMessage } from '../../gateway/store/conversationStore';
import type { ProviderId } from '../../protocol/providerIds';
import type { ConversationUsage, MessageUsage } from '../../protocol/chatView';

export interface UsageSource {
  agents(): ReadonlyArray<{ id: string; provider: ProviderId; model: string }>;
  readonly config: { readonly modelPrices?: PriceTable };
  tokenBudget(agentId: string): number | undefined;
}

/** One snapshot of the agents and prices, for a batch of messages (a page, one update). */
export class Pricing {
  private byId: Map<string, { provider: ProviderId; model: string }> | undefined;
  readonly prices: PriceTable | undefined;
  readonly modelOf: ModelOf;

  constructor(private readonly source: UsageSource) {
    this.prices = source.config.modelPrices;
    this.modelOf = (m) =>
      replyModel(m, (agentId) => {
        this.byId ??= new Map(this.source.agents().map((a) => [a.id, { provider: a.provider, model: a.model }]));
        return this.byId.get(agentId);
      });
  }

  /** A reply's usage for the view: tokens, and its cost and rates when its model has a price. */
  message(m: StoredMessage): MessageUsage | undefined {
    const u = m.usage;
    if (!u) return undefined;
    const out: MessageUsage = {};
    if (u.inputTokens !== undefined) out.inputTokens = u.inputTokens;
    if (u.outputTokens !== undefined) out.outputTokens = u.outputTokens;
    if (u.cachedInputTokens !== undefined) out.cachedInputTokens = u.cachedInputTokens;
    const model = this.modelOf(m);
    if (model) out.model = model.model.slice(0, 200);
    const cost = replyCost(m, this.modelOf, this.prices);
    if (cost) {
      out.costUsd = cost.usd;
      out.price = { ...cost.price, source: cost.source };
    }
    return out;
  }

  /** The conversation's totals, and the budget of its agent (`agentId`: the conversation's). */
  conversation(messages: readonly StoredMessage[], agentId: string | null): ConversationUsage {
    const t = usageTotals(messages, this.modelOf, this.prices);
    const limit = agentId ? this.source.tokenBudget(agentId) : undefined;
    return limit !== undefined && limit > 0 ? { ...t, budget: { used: budgetUsed(messages), limit } } : t;
  }
}

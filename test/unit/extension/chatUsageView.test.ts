/**
 * What the chat view is sent about tokens and cost (src/extension/chat/usageView.ts): each reply's
 * usage with its cost, model and rates (checked against the protocol schema the webview applies),
 * and the conversation's totals with the budget of its agent.
 */
import assert from 'node:assert/strict';
import { Pricing, type UsageSource } from '../../../src/extension/chat/usageView';
import type { StoredMessage } from '../../../src/gateway/store/conversationStore';
import { chatMessageSchema, conversationUsageSchema } from '../../../src/protocol/chatView';

function source(over: Partial<UsageSource> = {}): UsageSource {
  return {
    agents: () => [
      { id: 'gpt', provider: 'openai', model: 'gpt-4o' },
      { id: 'own', provider: 'openai', model: 'acme-coder' },
    ],
    config: {},
    tokenBudget: () => undefined,
    ...over,
  };
}

const reply = (id: string, agentId: string, usage?: StoredMessage['usage']): StoredMessage => ({
  id,
  role: 'assistant',
  text: 'ok',
  ts: 1,
  status: 'complete',
  agentId,
  ...(usage ? { usage } : {}),
});

describe('chat view usage', () => {
  it('sends a priced reply with tokens, cached tokens, cost, model and rates', () => {
    const m = reply('r1', 'gpt', { inputTokens: 1_234, outputTokens: 567, cachedInputTokens: 890, provider: 'openai', model: 'gpt-4o-2024-08-06' });
    const u = new Pricing(source()).message(m);
    assert.ok(u?.costUsd !== undefined && Math.abs(u.costUsd - (344 * 2.5 + 890 * 1.25 + 567 * 10) / 1e6) < 1e-12);
    assert.deepEqual(
      { ...u, costUsd: 0 },
      {
        inputTokens: 1_234,
        outputTokens: 567,
        cachedInputTokens: 890,
        model: 'gpt-4o-2024-08-06',
        costUsd: 0,
        price: { input: 2.5, output: 10, cachedInput: 1.25, source: 'builtin' },
      },
    );
    assert.ok(chatMessageSchema.safeParse({ ...m, usage: u }).success);
  });

  it('sends tokens only for a model without a price, and nothing for a reply without usage', () => {
    const u = new Pricing(source()).message(reply('r2', 'own', { inputTokens: 10, outputTokens: 2 }));
    assert.deepEqual(u, { inputTokens: 10, outputTokens: 2, model: 'acme-coder' });
    assert.equal(new Pricing(source()).message(reply('r3', 'gpt')), undefined);
  });

  it('prices with the user’s table', () => {
    const u = new Pricing(source({ config: { modelPrices: { 'acme-coder': { input: 1, output: 3 } } } })).message(
      reply('r4', 'own', { inputTokens: 1_000_000, outputTokens: 1_000_000 }),
    );
    assert.equal(u?.costUsd, 4);
    assert.deepEqual(u?.price, { input: 1, output: 3, source: 'settings' });
  });

  it('totals the conversation and adds the budget of its agent', () => {
    const messages = [reply('a', 'gpt', { inputTokens: 1_000, outputTokens: 100 }), reply('b', 'own', { inputTokens: 50, outputTokens: 5 })];
    const budgets: string[] = [];
    const pricing = new Pricing(source({ tokenBudget: (id) => (budgets.push(id), id === 'gpt' ? 2_000 : undefined) }));
    const t = pricing.conversation(messages, 'gpt');
    assert.deepEqual(
      { ...t, costUsd: 0 },
      { inputTokens: 1_050, outputTokens: 105, cachedInputTokens: 0, costUsd: 0, costUnknown: true, budget: { used: 1_155, limit: 2_000 } },
    );
    assert.ok(Math.abs(t.costUsd - (1_000 * 2.5 + 100 * 10) / 1e6) < 1e-12);
    assert.ok(conversationUsageSchema.safeParse(t).success);
    assert.equal(pricing.conversation(messages, 'own').budget, undefined);
    assert.equal(pricing.conversation(messages, null).budget, undefined);
    assert.deepEqual(budgets, ['gpt', 'own']);
  });
});

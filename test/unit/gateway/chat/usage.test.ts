/**
 * Conversation usage (src/gateway/chat/usage.ts): the budget count the agent loop stops at, the
 * totals the chat shows (cost known or not), and the model a reply is priced by.
 */
import assert from 'node:assert/strict';
import { budgetUsed, replyCost, replyModel, usageTotals, type ModelOf } from '../../../../src/gateway/chat/usage';
import type { StoredMessage } from '../../../../src/gateway/store/conversationStore';

let seq = 0;
function reply(over: Partial<StoredMessage> = {}): StoredMessage {
  return { id: `m${++seq}`, role: 'assistant', text: 'ok', ts: seq, status: 'complete', agentId: 'a', ...over };
}
const user = (text = 'hi'): StoredMessage => ({ id: `u${++seq}`, role: 'user', text, ts: seq, status: 'complete' });

const agents: Record<string, { provider: 'openai' | 'anthropic' | 'openai-compatible'; model: string }> = {
  a: { provider: 'openai', model: 'gpt-4o-mini' },
  local: { provider: 'openai-compatible', model: 'llama3.1' },
};
const modelOf: ModelOf = (m) => replyModel(m, (id) => agents[id]);

describe('chat usage', () => {
  it('counts every prompt and reply token against the budget', () => {
    const messages = [
      user(),
      reply({ usage: { inputTokens: 100, outputTokens: 20, cachedInputTokens: 50 } }),
      user(),
      reply({ usage: { outputTokens: 5 } }),
      reply(),
    ];
    assert.equal(budgetUsed(messages), 125);
    assert.equal(budgetUsed([]), 0);
  });

  it('prices a reply by the model it stored, else by its agent’s current model', () => {
    const stored = reply({ usage: { inputTokens: 1_000_000, outputTokens: 0, provider: 'anthropic', model: 'claude-3-5-haiku-20241022' } });
    assert.deepEqual(modelOf(stored), { provider: 'anthropic', model: 'claude-3-5-haiku-20241022' });
    assert.equal(replyCost(stored, modelOf)?.usd, 0.8);
    const old = reply({ usage: { inputTokens: 1_000_000, outputTokens: 0 } });
    assert.equal(replyCost(old, modelOf)?.usd, 0.15);
    // A stored provider that is not one of ours falls back to the agent.
    assert.deepEqual(modelOf(reply({ usage: { model: 'x', provider: 'mystery' } })), agents.a);
    assert.equal(modelOf(reply({ agentId: 'gone' })), undefined);
    assert.equal(replyCost(user(), modelOf), undefined);
  });

  it('totals tokens and cost, and says when some cost is unknown', () => {
    const priced = [
      user(),
      reply({ usage: { inputTokens: 2_000, outputTokens: 1_000, cachedInputTokens: 1_000 } }),
      reply({ agentId: 'local', usage: { inputTokens: 500, outputTokens: 500 } }),
      reply({ status: 'streaming', usage: { inputTokens: 9_999, outputTokens: 9_999 } }),
      // The loop's own notes made no request: they have no usage and cost nothing.
      reply({ finishReason: 'finish' }),
      reply({ finishReason: 'budget_exhausted' }),
      // A failed or stopped reply without usage is not a known cost gap either.
      reply({ status: 'error' }),
      reply({ status: 'cancelled' }),
    ];
    const t = usageTotals(priced, modelOf);
    assert.deepEqual(
      { ...t, costUsd: undefined },
      { inputTokens: 2_500, outputTokens: 1_500, cachedInputTokens: 1_000, costUsd: undefined, costUnknown: false },
    );
    assert.ok(Math.abs(t.costUsd - (1_000 * 0.15 + 1_000 * 0.075 + 1_000 * 0.6) / 1e6) < 1e-12);

    const unpriced = usageTotals([...priced, reply({ usage: { inputTokens: 10, outputTokens: 10, provider: 'openai', model: 'my-fine-tune' } })], modelOf);
    assert.equal(unpriced.costUnknown, true);
    assert.equal(unpriced.inputTokens, 2_510);
    assert.equal(unpriced.costUsd, t.costUsd);
    // A model reply that reported no usage at all (a local server without usage chunks).
    assert.equal(usageTotals([reply({ finishReason: 'stop' })], modelOf).costUnknown, true);
  });

  it('applies the user’s prices', () => {
    const t = usageTotals([reply({ agentId: 'local', usage: { inputTokens: 1_000_000, outputTokens: 1_000_000 } })], modelOf, {
      'llama3.1': { input: 0.2, output: 0.4 },
    });
    assert.ok(Math.abs(t.costUsd - 0.6) < 1e-12);
  });
});

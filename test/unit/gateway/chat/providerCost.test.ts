/**
 * Cost from each provider's own usage fields: a reply streamed by the provider fixture in the
 * provider's wire format (OpenAI `prompt_tokens_details.cached_tokens`, Anthropic
 * `cache_read_input_tokens`, Gemini `cachedContentTokenCount`, OpenAI-compatible) goes through the
 * real provider client and the gateway's store, and the chat view's pricing turns the stored usage
 * into the cost the webview shows. The expected costs are worked out by hand from list prices.
 */
import assert from 'node:assert/strict';
import { Pricing } from '../../../../src/extension/chat/usageView';
import { PROVIDER_IDS, type ProviderId } from '../../../../src/gateway/providers/types';
import type { Conversation } from '../../../../src/gateway/store/conversationStore';
import { startProviderServer, type ProviderServer } from '../../../fixtures/providerServer';
import { createTestGateway, type TestGateway } from '../../../support/gateway';

const USAGE = { input: 12_000, output: 800, cached: 10_000 };

/** Model, and the cost of USAGE at its list price: (uncached in × input + cached × cachedInput + out × output) / 1M. */
const CASES: Record<ProviderId, { model: string; usd: number; rates: { input: number; output: number; cachedInput?: number } }> = {
  openai: { model: 'gpt-4o-mini', usd: (2_000 * 0.15 + 10_000 * 0.075 + 800 * 0.6) / 1e6, rates: { input: 0.15, output: 0.6, cachedInput: 0.075 } },
  anthropic: { model: 'claude-sonnet-4-5-20250929', usd: (2_000 * 3 + 10_000 * 0.3 + 800 * 15) / 1e6, rates: { input: 3, output: 15, cachedInput: 0.3 } },
  gemini: { model: 'gemini-2.5-flash', usd: (2_000 * 0.3 + 10_000 * 0.03 + 800 * 2.5) / 1e6, rates: { input: 0.3, output: 2.5, cachedInput: 0.03 } },
  // A local model is free unless the user prices it; this one is priced in settings (no cached rate: cached = input).
  'openai-compatible': { model: 'llama3.2', usd: (12_000 * 0.2 + 800 * 0.4) / 1e6, rates: { input: 0.2, output: 0.4 } },
};

const near = (a: number | undefined, b: number): void => assert.ok(a !== undefined && Math.abs(a - b) < 1e-12, `${a} ≠ ${b}`);

describe('chat cost from each provider’s usage fields', function () {
  this.timeout(20_000);
  let server: ProviderServer;
  let t: TestGateway;

  before(async () => {
    server = await startProviderServer();
  });
  after(async () => server.close());
  afterEach(async () => t?.close());

  async function turn(provider: ProviderId, o: { model?: string; prices?: Record<string, { input: number; output: number }> } = {}): Promise<Conversation> {
    const prices = o.prices;
    t = await createTestGateway(server, {
      config: (c) => {
        c.providers[provider].defaultModel = o.model ?? CASES[provider].model;
        if (prices) c.modelPrices = prices;
      },
    });
    if (provider !== 'openai-compatible') await t.gateway.keys.set(provider, server.keys[provider]);
    const script = server.script([{ text: 'Priced reply.', usage: USAGE }]);
    const { conversation, done } = await t.gateway.chat.send(null, `default-${provider}`, 'What does this cost?');
    await done;
    assert.equal(script.requests.length, 1);
    assert.equal(script.requests[0]?.provider, provider);
    // What the view prices is what the store kept: read it back from disk.
    await t.gateway.restart();
    const again = await t.gateway.conversation(conversation.id);
    assert.ok(again, 'the conversation is on disk');
    return again;
  }

  for (const provider of PROVIDER_IDS) {
    it(`${provider}: tokens, cached tokens and cost of a reply and of the conversation`, async () => {
      const { model, usd, rates } = CASES[provider];
      const c = await turn(provider, provider === 'openai-compatible' ? { prices: { 'llama3.2': { input: 0.2, output: 0.4 } } } : {});
      const reply = c.messages[1];
      assert.equal(reply?.role, 'assistant');
      assert.equal(reply.status, 'complete');
      assert.deepEqual(
        { in: reply.usage?.inputTokens, out: reply.usage?.outputTokens, cached: reply.usage?.cachedInputTokens, model: reply.usage?.model },
        { in: 12_000, out: 800, cached: 10_000, model },
      );
      const pricing = new Pricing(t.gateway);
      const u = pricing.message(reply);
      near(u?.costUsd, usd);
      assert.deepEqual(u?.price, { ...rates, source: provider === 'openai-compatible' ? 'settings' : 'builtin' });
      const total = pricing.conversation(c.messages, c.meta.agentId);
      assert.deepEqual({ ...total, costUsd: 0 }, { inputTokens: 12_000, outputTokens: 800, cachedInputTokens: 10_000, costUsd: 0, costUnknown: false });
      near(total.costUsd, usd);
    });
  }

  it('a local model without a price in settings costs nothing; an unknown hosted model has no cost', async () => {
    const local = await turn('openai-compatible');
    const u = new Pricing(t.gateway).message(local.messages[1]);
    assert.equal(u?.costUsd, 0);
    assert.equal(u?.price?.source, 'local');
    await t.close();

    const c = await turn('openai', { model: 'acme-finetune-7' });
    const pricing = new Pricing(t.gateway);
    assert.deepEqual(pricing.message(c.messages[1]), { inputTokens: 12_000, outputTokens: 800, cachedInputTokens: 10_000, model: 'acme-finetune-7' });
    assert.equal(pricing.conversation(c.messages, c.meta.agentId).costUnknown, true);
  });
});

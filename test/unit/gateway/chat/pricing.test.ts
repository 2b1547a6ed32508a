/**
 * The price table (src/gateway/chat/pricing.ts): prefix matching (longest key, dated suffixes, no
 * neighbour's price), the user's overrides, cached-input pricing, the long-prompt tier, local models,
 * unknown models, and the validating reader of `multiclaw.chat.modelPrices`.
 */
import assert from 'node:assert/strict';
import { BUILTIN_PRICES, costOf, findPrice, keyMatches, parseModelPrices } from '../../../../src/gateway/chat/pricing';
import { PROVIDER_IDS } from '../../../../src/protocol/providerIds';

/** Compares dollars to 1e-12 (float sums of per-token prices). */
function near(actual: number | undefined, expected: number): void {
  assert.ok(actual !== undefined, 'expected a cost');
  assert.ok(Math.abs(actual - expected) < 1e-12, `${actual} ≠ ${expected}`);
}

describe('chat pricing', () => {
  describe('matching', () => {
    it('prices dated and tagged versions with their base model', () => {
      assert.equal(findPrice('openai', 'gpt-4o-2024-08-06')?.key, 'gpt-4o');
      assert.equal(findPrice('openai', 'gpt-4.1-2025-04-14')?.key, 'gpt-4.1');
      assert.equal(findPrice('anthropic', 'claude-sonnet-4-20250514')?.key, 'claude-sonnet-4');
      assert.equal(findPrice('anthropic', 'claude-3-7-sonnet-latest')?.key, 'claude-3-7-sonnet');
      assert.equal(findPrice('gemini', 'gemini-2.5-flash-preview-05-20')?.key, 'gemini-2.5-flash');
      assert.equal(findPrice('gemini', 'gemini-2.0-flash-001')?.key, 'gemini-2.0-flash');
      assert.equal(findPrice('gemini', 'models/gemini-2.5-pro')?.key, 'gemini-2.5-pro');
      assert.equal(findPrice('openai', 'GPT-4o')?.key, 'gpt-4o');
    });

    it('lets the longest key win', () => {
      assert.equal(findPrice('openai', 'gpt-4o-mini-2024-07-18')?.key, 'gpt-4o-mini');
      assert.equal(findPrice('openai', 'gpt-4o-2024-05-13')?.price.input, 5);
      assert.equal(findPrice('openai', 'gpt-4.1-nano')?.price.output, 0.4);
      assert.equal(findPrice('openai', 'o4-mini-2025-04-16')?.key, 'o4-mini');
      assert.equal(findPrice('openai', 'gpt-5-mini-2025-08-07')?.key, 'gpt-5-mini');
      assert.equal(findPrice('anthropic', 'claude-opus-4-5-20251101')?.price.input, 5);
      assert.equal(findPrice('anthropic', 'claude-opus-4-1-20250805')?.price.input, 15);
      assert.equal(findPrice('gemini', 'gemini-2.5-flash-lite')?.key, 'gemini-2.5-flash-lite');
    });

    it('never gives a model its neighbour’s price', () => {
      // A short version number after the key is another model; so is any other character.
      assert.equal(findPrice('anthropic', 'claude-opus-4-6'), undefined);
      assert.equal(findPrice('anthropic', 'claude-sonnet-4-7-20260101'), undefined);
      assert.equal(findPrice('openai', 'gpt-5.2'), undefined);
      assert.equal(findPrice('openai', 'gpt-4'), undefined);
      assert.equal(findPrice('openai', 'o30'), undefined);
      assert.equal(keyMatches('gpt-4o', 'gpt-4omni'), false);
      assert.equal(keyMatches('gpt-4o', 'gpt-4o'), true);
      assert.equal(keyMatches('llama3.1', 'llama3.1:8b'), true);
      assert.equal(keyMatches('', 'gpt-4o'), false);
    });

    it('keeps each provider’s table to its own models', () => {
      assert.equal(findPrice('anthropic', 'gpt-4o'), undefined);
      assert.equal(findPrice('gemini', 'claude-sonnet-4'), undefined);
    });

    it('has a price for every family the chat offers by default', () => {
      for (const [provider, model] of [
        ['openai', 'gpt-4o'],
        ['openai', 'gpt-4o-mini'],
        ['openai', 'gpt-4.1-mini'],
        ['openai', 'o3'],
        ['openai', 'o4-mini'],
        ['openai', 'gpt-5'],
        ['openai', 'gpt-5-nano'],
        ['anthropic', 'claude-opus-4-1'],
        ['anthropic', 'claude-sonnet-4-5'],
        ['anthropic', 'claude-haiku-4-5'],
        ['anthropic', 'claude-3-5-sonnet-20241022'],
        ['anthropic', 'claude-3-5-haiku-20241022'],
        ['gemini', 'gemini-2.5-pro'],
        ['gemini', 'gemini-2.5-flash'],
        ['gemini', 'gemini-2.0-flash'],
      ] as const) {
        const m = findPrice(provider, model);
        assert.equal(m?.source, 'builtin', `${provider}/${model}`);
        assert.ok(m.price.input > 0 && m.price.output > m.price.input, `${provider}/${model}: output dearer than input`);
        if (m.price.cachedInput !== undefined) assert.ok(m.price.cachedInput < m.price.input, `${provider}/${model}: cache cheaper`);
      }
      for (const table of Object.values(BUILTIN_PRICES)) for (const key of Object.keys(table)) assert.equal(key, key.toLowerCase());
    });
  });

  describe('cost', () => {
    it('prices input, cached input and output separately', () => {
      // gpt-4o: 2.5 in, 1.25 cached, 10 out per 1M.
      const c = costOf({ inputTokens: 1_000, cachedInputTokens: 400, outputTokens: 500 }, 'openai', 'gpt-4o-2024-08-06');
      near(c?.usd, (600 * 2.5 + 400 * 1.25 + 500 * 10) / 1e6);
      assert.deepEqual(c?.price, { input: 2.5, output: 10, cachedInput: 1.25 });
      assert.equal(c?.key, 'gpt-4o');
      // Anthropic cache reads at a tenth of the input price.
      near(
        costOf({ inputTokens: 10_000, cachedInputTokens: 8_000, outputTokens: 100 }, 'anthropic', 'claude-sonnet-4-5')?.usd,
        (2_000 * 3 + 8_000 * 0.3 + 100 * 15) / 1e6,
      );
    });

    it('prices cached tokens as input when the model has no cached price', () => {
      near(costOf({ inputTokens: 1_000, cachedInputTokens: 1_000, outputTokens: 0 }, 'openai', 'o3-pro')?.usd, (1_000 * 20) / 1e6);
    });

    it('never counts more cached tokens than input tokens, nor negative counts', () => {
      near(costOf({ inputTokens: 100, cachedInputTokens: 5_000, outputTokens: -3 }, 'gemini', 'gemini-2.5-flash')?.usd, (100 * 0.03) / 1e6);
    });

    it('uses the long-prompt rates above their threshold', () => {
      near(costOf({ inputTokens: 200_000, outputTokens: 1_000 }, 'gemini', 'gemini-2.5-pro')?.usd, (200_000 * 1.25 + 1_000 * 10) / 1e6);
      const long = costOf({ inputTokens: 300_000, cachedInputTokens: 100_000, outputTokens: 1_000 }, 'gemini', 'gemini-2.5-pro');
      near(long?.usd, (200_000 * 2.5 + 100_000 * 0.25 + 1_000 * 15) / 1e6);
      assert.deepEqual(long?.price, { input: 2.5, output: 15, cachedInput: 0.25 });
    });

    it('costs 0 for OpenAI-compatible (local) models', () => {
      const c = costOf({ inputTokens: 5_000, outputTokens: 5_000 }, 'openai-compatible', 'llama3.1:8b');
      assert.equal(c?.usd, 0);
      assert.equal(c?.source, 'local');
      // Even when the id looks like a hosted model: the table prices the hosted APIs only.
      assert.equal(costOf({ inputTokens: 5_000, outputTokens: 1 }, 'openai-compatible', 'gpt-4o')?.usd, 0);
    });

    it('is unknown for an unknown model or a reply without usage', () => {
      assert.equal(costOf({ inputTokens: 10, outputTokens: 10 }, 'openai', 'my-fine-tune'), undefined);
      assert.equal(costOf(undefined, 'openai', 'gpt-4o'), undefined);
      assert.equal(costOf({}, 'openai', 'gpt-4o'), undefined);
      assert.equal(costOf({ cachedInputTokens: 10 }, 'openai', 'gpt-4o'), undefined);
      // One count reported: the other counts as 0.
      near(costOf({ outputTokens: 1_000 }, 'openai', 'gpt-4o')?.usd, 0.01);
    });
  });

  describe('overrides', () => {
    it('overrides a built-in price and extends the table, for every provider', () => {
      const prices = {
        'gpt-4o': { input: 1, output: 2 },
        'ft:gpt-4o-mini:acme': { input: 0.3, output: 1.2, cachedInput: 0.15 },
        llama3: { input: 0.1, output: 0.1 },
      };
      const o = findPrice('openai', 'gpt-4o-2024-11-20', prices);
      assert.deepEqual(o && { key: o.key, source: o.source, price: o.price }, { key: 'gpt-4o', source: 'settings', price: { input: 1, output: 2 } });
      // A longer built-in key still wins: gpt-4o-mini is another model than the overridden gpt-4o.
      assert.equal(findPrice('openai', 'gpt-4o-mini', prices)?.source, 'builtin');
      assert.equal(findPrice('openai', 'ft:gpt-4o-mini:acme:run1', prices)?.key, 'ft:gpt-4o-mini:acme');
      near(costOf({ inputTokens: 1_000_000, outputTokens: 0 }, 'openai-compatible', 'llama3:70b', prices)?.usd, 0.1);
      // The user's own price for a model the built-in table does not know.
      near(
        costOf({ inputTokens: 2_000, cachedInputTokens: 1_000, outputTokens: 1_000 }, 'openai', 'ft:gpt-4o-mini:acme:x', prices)?.usd,
        (1_000 * 0.3 + 1_000 * 0.15 + 1_000 * 1.2) / 1e6,
      );
    });

    it('drops the long-prompt tier of a built-in price it overrides', () => {
      const c = costOf({ inputTokens: 300_000, outputTokens: 0 }, 'gemini', 'gemini-2.5-pro', { 'gemini-2.5-pro': { input: 1, output: 1 } });
      near(c?.usd, 0.3);
    });
  });

  describe('the setting', () => {
    it('reads valid entries and skips each invalid one with a line naming it', () => {
      const warnings: string[] = [];
      const out = parseModelPrices(
        {
          ' gpt-4o ': { input: 2, output: 8 },
          'my-model': { input: 0, output: 0, cachedInput: 0 },
          'bad-neg': { input: -1, output: 2 },
          'bad-str': { input: '2', output: 2 },
          'bad-field': { input: 1, output: 2, cached: 1 },
          'bad-cached': { input: 1, output: 2, cachedInput: Number.NaN },
          'bad-missing': { input: 1 },
          'bad-array': [1, 2],
          '': { input: 1, output: 1 },
        },
        (m) => warnings.push(m),
      );
      assert.deepEqual(out, { 'gpt-4o': { input: 2, output: 8 }, 'my-model': { input: 0, output: 0, cachedInput: 0 } });
      assert.equal(warnings.length, 7);
      for (const key of ['bad-neg', 'bad-str', 'bad-field', 'bad-cached', 'bad-missing', 'bad-array']) {
        assert.ok(
          warnings.some((w) => w.includes(`"${key}"`)),
          `a warning names ${key}`,
        );
      }
      assert.match(warnings.find((w) => w.includes('bad-field')) ?? '', /unknown field "cached"/);
      assert.match(warnings.find((w) => w.includes('bad-missing')) ?? '', /"output" must be a number/);
    });

    it('ignores a value that is not an object, with a warning', () => {
      for (const raw of ['gpt-4o', 3, [{ input: 1, output: 1 }]]) {
        const warnings: string[] = [];
        assert.deepEqual(
          parseModelPrices(raw, (m) => warnings.push(m)),
          {},
        );
        assert.equal(warnings.length, 1);
      }
      const none: string[] = [];
      assert.deepEqual(
        parseModelPrices(undefined, (m) => none.push(m)),
        {},
      );
      assert.deepEqual(
        parseModelPrices({}, (m) => none.push(m)),
        {},
      );
      assert.deepEqual(none, []);
    });

    it('is covered for each provider id', () => {
      // A new provider id must decide its pricing here (built-in table or local).
      for (const id of PROVIDER_IDS) assert.ok(id === 'openai-compatible' || id in BUILTIN_PRICES, id);
    });
  });
});

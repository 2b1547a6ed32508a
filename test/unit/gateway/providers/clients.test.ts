/**
 * Each provider client against the real local provider server: streamed deltas in order, usage,
 * finish reasons, the request on the wire, and HTTP error bodies turned into typed errors.
 */
import assert from 'node:assert/strict';
import { DEFAULT_PROVIDER_SETTINGS } from '../../../../src/gateway/config';
import { PROVIDER_IDS, type ProviderId } from '../../../../src/gateway/providers/types';
import { startProviderServer, type ProviderServer } from '../../../fixtures/providerServer';
import { expectedDeltas, replyFor } from '../../../fixtures/providerServerStream';
import { clientFor, collect, MODELS, request, type Harness, useProviders } from './harness';

const WIRE_STATUS: Record<ProviderId, { wrongKey: number }> = {
  openai: { wrongKey: 401 },
  'openai-compatible': { wrongKey: 401 },
  anthropic: { wrongKey: 401 },
  gemini: { wrongKey: 400 }, // Google answers a wrong key with 400 INVALID_ARGUMENT / API_KEY_INVALID
};

describe('provider clients: streaming and errors', function () {
  this.timeout(10_000);
  let server: ProviderServer;
  let h: Harness;

  useProviders((e) => void ({ server, h } = e));

  it('uses the documented default base URLs', () => {
    assert.equal(DEFAULT_PROVIDER_SETTINGS.openai.baseUrl, 'https://api.openai.com/v1');
    assert.equal(DEFAULT_PROVIDER_SETTINGS.anthropic.baseUrl, 'https://api.anthropic.com/v1');
    assert.equal(DEFAULT_PROVIDER_SETTINGS.gemini.baseUrl, 'https://generativelanguage.googleapis.com/v1beta');
  });

  it('fixture: accepts any key in the provider format by default, and only the configured key when one is set', async () => {
    const typed = 'sk-e2e-' + 'x'.repeat(30);
    assert.equal((await collect(clientFor(h, server, 'openai', typed), request('typed'))).done?.finishReason, 'stop');
    assert.equal((await collect(clientFor(h, server, 'anthropic', typed), request('typed'))).error?.kind, 'auth', 'not an sk-ant- key');
    const strict = await startProviderServer({ keys: { openai: 'sk-only-this-one-0000000000' } });
    try {
      const out = await collect(clientFor(h, strict, 'openai', typed), request('typed'));
      assert.equal(out.error?.kind, 'auth');
      assert.equal((await collect(clientFor(h, strict, 'openai'), request('ok'))).done?.finishReason, 'stop');
    } finally {
      await strict.close();
    }
  });

  for (const id of PROVIDER_IDS) {
    describe(id, () => {
      it('streams the reply as deltas in order, then done with usage and finish reason', async () => {
        const text = 'Hi 👋 from ünïcödé — 日本語';
        const out = await collect(clientFor(h, server, id), request(text, { model: MODELS[id] }));
        assert.equal(out.error, undefined, out.error?.message);
        assert.deepEqual(out.deltas, expectedDeltas(text));
        assert.equal(out.deltas.join(''), replyFor(text));
        assert.match(out.deltas.join(''), /You said: \*\*Hi 👋 from ünïcödé — 日本語\*\*\n\n[^]*```ts\n/);
        assert.equal(out.order.at(-1), 'done', 'done comes last');
        assert.equal(out.order.filter((t) => t === 'done').length, 1);
        assert.equal(out.done?.finishReason, 'stop');
        assert.ok((out.done?.usage?.inputTokens ?? 0) > 0, `input tokens: ${JSON.stringify(out.done?.usage)}`);
        assert.equal(out.done?.usage?.outputTokens, Math.ceil(replyFor(text).length / 4));
        assert.equal(server.stats().requests[id], 1);
      });

      it('sends the provider request on its real path with its own auth header, and never logs the key or the text', async () => {
        await collect(clientFor(h, server, id), request('secret user text', { model: MODELS[id], system: 'Be brief.', maxTokens: 256 }));
        const [req] = server.requests;
        assert.ok(req);
        const key = server.keys[id];
        const body = req.body as Record<string, unknown>;
        if (id === 'openai' || id === 'openai-compatible') {
          assert.equal(req.path, '/v1/chat/completions');
          assert.equal(req.headers.authorization, `Bearer ${key}`);
          assert.equal(body.stream, true);
          assert.deepEqual(body.stream_options, { include_usage: true });
          assert.deepEqual(body.messages, [
            { role: 'system', content: 'Be brief.' },
            { role: 'user', content: 'secret user text' },
          ]);
          assert.equal(body[id === 'openai' ? 'max_completion_tokens' : 'max_tokens'], 256);
        } else if (id === 'anthropic') {
          assert.equal(req.path, '/v1/messages');
          assert.equal(req.headers['x-api-key'], key);
          assert.equal(req.headers['anthropic-version'], '2023-06-01');
          assert.equal(req.headers.authorization, undefined);
          assert.equal(body.system, 'Be brief.');
          assert.equal(body.max_tokens, 256);
          assert.equal(body.stream, true);
        } else {
          assert.equal(req.path, `/v1beta/models/${MODELS.gemini}:streamGenerateContent`);
          assert.equal(req.url, `/v1beta/models/${MODELS.gemini}:streamGenerateContent?alt=sse`, 'the key is never in the URL');
          assert.equal(req.headers['x-goog-api-key'], key);
          assert.deepEqual(body.systemInstruction, { parts: [{ text: 'Be brief.' }] });
          assert.deepEqual(body.contents, [{ role: 'user', parts: [{ text: 'secret user text' }] }]);
          assert.deepEqual(body.generationConfig, { maxOutputTokens: 256 });
        }
        const logs = h.sink.lines.join('\n');
        assert.ok(
          h.sink.lines.some((l) => l.includes(`[provider:${id}]`)),
          'logs under the provider topic',
        );
        assert.ok(!logs.includes(key), 'the key is not logged');
        assert.ok(!logs.includes('secret user text'), 'the request body is not logged');
      });

      it('maps a length stop to finishReason "length"', async () => {
        server.setScenario('length');
        const out = await collect(clientFor(h, server, id), request('cut me short'));
        assert.equal(out.deltas.length, 3);
        assert.equal(out.done?.finishReason, 'length');
        assert.equal(out.done?.rawFinishReason, { openai: 'length', 'openai-compatible': 'length', anthropic: 'max_tokens', gemini: 'MAX_TOKENS' }[id]);
      });

      it('reuses the connection for the next request (the body is read to its end)', async () => {
        const client = clientFor(h, server, id);
        await collect(client, request('one'));
        // undici's fetch hands the socket back to its pool one macrotask after the body ends.
        await new Promise((resolve) => setImmediate(resolve));
        const second = await collect(client, request('two'));
        assert.equal(second.done?.finishReason, 'stop');
        assert.equal(server.stats().requests[id], 2);
        assert.equal(server.stats().connections, 1);
      });

      if (id !== 'openai-compatible') {
        it('turns a wrong key into a typed auth error (not retried)', async () => {
          const out = await collect(clientFor(h, server, id, 'wrong-key-123456'), request('hi'));
          assert.equal(out.error?.kind, 'auth');
          assert.equal(out.error?.status, WIRE_STATUS[id].wrongKey);
          assert.equal(out.error?.retryable, false);
          assert.match(out.error?.message ?? '', /key/i);
          assert.equal(out.deltas.length, 0);
          assert.equal(server.stats().requests[id], 1);
        });

        it('never contacts the provider when no key is set', async () => {
          const out = await collect(clientFor(h, server, id, null), request('hi'));
          assert.equal(out.error?.kind, 'auth');
          assert.match(out.error?.message ?? '', /No .* API key is set/);
          assert.equal(server.stats().connections, 0);
          assert.equal(server.stats().total, 0);
        });
      } else {
        it('works without a key (local servers need none) and sends no Authorization header', async () => {
          const out = await collect(clientFor(h, server, id, null), request('keyless'));
          assert.equal(out.done?.finishReason, 'stop');
          assert.equal(server.requests[0]?.headers.authorization, undefined);
        });
      }

      it('maps the auth scenario body to kind "auth"', async () => {
        const out = await collect(clientFor(h, server, id), request('#scenario:auth hi'));
        assert.equal(out.error?.kind, 'auth');
        assert.equal(out.error?.provider, id);
      });

      it('maps a context-length error body to kind "context_length" (not retried)', async () => {
        server.setScenario('context-length');
        const out = await collect(clientFor(h, server, id), request('a very long prompt'));
        assert.equal(out.error?.kind, 'context_length');
        assert.equal(out.error?.status, 400);
        assert.equal(out.error?.retryable, false);
        assert.match(out.error?.message ?? '', /too long/);
        assert.equal(server.stats().requests[id], 1);
      });

      it('maps a 500 to kind "server", retried up to maxAttempts', async () => {
        server.setScenario('error-500');
        const retries: number[] = [];
        const out = await collect(clientFor(h, server, id), request('hi'), { maxAttempts: 3, onRetry: (n) => retries.push(n) });
        assert.equal(out.error?.kind, 'server');
        assert.equal(out.error?.status, 500);
        assert.equal(out.error?.retryable, true);
        assert.deepEqual(retries, [1, 2]);
        assert.equal(server.stats().requests[id], 3);
      });

      it('retries a 500 before the first token and then streams the reply', async () => {
        server.setScenario('error-500-once');
        const retries: number[] = [];
        const out = await collect(clientFor(h, server, id), request('again'), { onRetry: (n) => retries.push(n) });
        assert.equal(out.error, undefined);
        assert.deepEqual(retries, [1]);
        assert.equal(out.deltas.join(''), replyFor('again'));
        assert.equal(server.stats().requests[id], 2);
      });

      it('honours Retry-After on a 429, then succeeds on the retry', async () => {
        const delays: number[] = [];
        const out = await collect(clientFor(h, server, id), request('#scenario:rate-limit-once go'), { onRetry: (_n, ms) => delays.push(ms) });
        assert.equal(out.error, undefined, out.error?.message);
        assert.deepEqual(delays, [100], 'waited what the server asked');
        const [first, second] = server.requests;
        assert.equal(first?.status, 429);
        assert.ok(second && first && second.at - first.at >= 95, `second request ${second!.at - first!.at} ms after the first`);
        assert.equal(out.deltas.join(''), replyFor('go'));
      });

      it('surfaces a persistent 429 as kind "rate_limit" with retryAfterMs', async () => {
        server.setScenario('rate-limit');
        const out = await collect(clientFor(h, server, id), request('hi'), { maxAttempts: 1 });
        assert.equal(out.error?.kind, 'rate_limit');
        assert.equal(out.error?.status, 429);
        assert.equal(out.error?.retryAfterMs, 100);
        assert.equal(server.stats().requests[id], 1);
      });
    });
  }
});

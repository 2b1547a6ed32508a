/** Each provider's event decoder on events the local server does not send (forward compatibility, rare shapes). */
import assert from 'node:assert/strict';
import { NetService } from '../../../../src/gateway/net/net';
import type { Logger } from '../../../../src/gateway/ports';
import { anthropicAdapter } from '../../../../src/gateway/providers/anthropic';
import { ProviderError } from '../../../../src/gateway/providers/errors';
import { geminiAdapter } from '../../../../src/gateway/providers/gemini';
import { createProviderClient } from '../../../../src/gateway/providers/index';
import { openAiAdapter } from '../../../../src/gateway/providers/openai';
import type { SseEvent } from '../../../../src/gateway/providers/sse';
import type { ProviderAdapter, StreamDecoder } from '../../../../src/gateway/providers/adapter';
import type { StreamEvent } from '../../../../src/gateway/providers/types';

const ev = (data: unknown, type = 'message'): SseEvent => ({ type, data: typeof data === 'string' ? data : JSON.stringify(data), id: '' });

/** A decoder for a request without tools. */
const dec = (adapter: ProviderAdapter): StreamDecoder => adapter.createDecoder({ url: 'http://127.0.0.1/', headers: {}, body: '{}' });

function feed(decoder: StreamDecoder, events: SseEvent[]): string[] {
  const out: string[] = [];
  for (const e of events) {
    const extra: StreamEvent[] = [];
    const t = decoder.onEvent(e, extra);
    if (t !== undefined) out.push(t);
    for (const x of extra) if (x.type === 'delta') out.push(x.text);
  }
  return out;
}

function throwsKind(fn: () => unknown, kind: ProviderError['kind'], re?: RegExp): void {
  assert.throws(fn, (e: unknown) => e instanceof ProviderError && e.kind === kind && (!re || re.test(e.detail ?? e.message)));
}

describe('provider decoders', () => {
  describe('OpenAI', () => {
    it('treats [DONE] without finish_reason as complete (finish "other") and reads a usage-only chunk', () => {
      const d = dec(openAiAdapter());
      assert.deepEqual(
        feed(d, [ev({ choices: [{ delta: { content: 'a' } }] }), ev({ choices: [], usage: { prompt_tokens: 3, completion_tokens: 1 } }), ev('[DONE]')]),
        ['a'],
      );
      assert.equal(d.complete, true);
      assert.deepEqual(d.done([]), { type: 'done', finishReason: 'other', usage: { inputTokens: 3, outputTokens: 1 } });
    });

    it('maps finish reasons and ignores null content and role-only deltas', () => {
      const d = dec(openAiAdapter('openai-compatible'));
      assert.deepEqual(
        feed(d, [ev({ choices: [{ delta: { role: 'assistant', content: null } }] }), ev({ choices: [{ delta: {}, finish_reason: 'tool_calls' }] })]),
        [],
      );
      assert.equal(d.done([])?.finishReason, 'tool_calls');
      assert.equal(d.done([])?.rawFinishReason, 'tool_calls');
    });

    it('turns a mid-stream error object into a typed error, and a string error into "server"', () => {
      throwsKind(
        () =>
          dec(openAiAdapter()).onEvent(
            ev({ error: { message: "This model's maximum context length is 8192 tokens", type: 'invalid_request_error', code: 'context_length_exceeded' } }),
            [],
          ),
        'context_length',
      );
      throwsKind(() => dec(openAiAdapter('openai-compatible')).onEvent(ev({ error: 'model crashed' }), []), 'server', /model crashed/);
    });

    it('reads plain text chunks on the fast path exactly as the schema would, and sends odd ones to the schema', () => {
      const d = dec(openAiAdapter());
      const plain = [
        { id: 'c1', object: 'chat.completion.chunk', choices: [{ index: 0, delta: { role: 'assistant', content: 'a' }, finish_reason: null, logprobs: null }] },
        { choices: [{ delta: { content: 'b', tool_calls: null } }], usage: null },
        { choices: [{ delta: { content: '' } }] },
        { choices: [{ delta: { content: null } }] },
      ];
      assert.deepEqual(
        feed(
          d,
          plain.map((c) => ev(c)),
        ),
        ['a', 'b', ''],
      );
      // Not plain text: a wrong type still fails the schema, a finish still ends, usage is still read.
      throwsKind(() => feed(dec(openAiAdapter()), [ev({ choices: [{ delta: { content: 5 } }] })]), 'malformed', /content/);
      throwsKind(() => feed(dec(openAiAdapter()), [ev({ choices: [{ delta: 'x' }] })]), 'malformed');
      const e = dec(openAiAdapter());
      assert.deepEqual(feed(e, [ev({ choices: [{ delta: { content: 'z' }, finish_reason: 'stop' }], usage: { prompt_tokens: 2, completion_tokens: 1 } })]), [
        'z',
      ]);
      const done = e.done([]);
      assert.equal(done?.finishReason, 'stop');
      assert.equal(done?.usage?.inputTokens, 2);
    });

    it('rejects a chunk whose choices is not a list', () => {
      throwsKind(() => dec(openAiAdapter()).onEvent(ev({ choices: { delta: 'x' } }), []), 'malformed', /choices/);
    });
  });

  describe('Anthropic', () => {
    it('ignores thinking deltas, pings and unknown event types; sums cached input tokens', () => {
      const d = dec(anthropicAdapter());
      const texts = feed(d, [
        ev(
          { type: 'message_start', message: { usage: { input_tokens: 10, cache_read_input_tokens: 5, cache_creation_input_tokens: 2, output_tokens: 1 } } },
          'message_start',
        ),
        ev({ type: 'content_block_start', index: 0, content_block: { type: 'thinking', thinking: '' } }, 'content_block_start'),
        ev({ type: 'content_block_delta', index: 0, delta: { type: 'thinking_delta', thinking: 'hmm' } }, 'content_block_delta'),
        ev({ type: 'some_future_event', foo: 1 }, 'some_future_event'),
        ev({ type: 'ping' }, 'ping'),
        ev({ type: 'content_block_delta', index: 1, delta: { type: 'text_delta', text: 'Hi' } }, 'content_block_delta'),
        ev({ type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 9 } }, 'message_delta'),
      ]);
      assert.deepEqual(texts, ['Hi']);
      assert.equal(d.done([]), undefined, 'no message_stop yet: truncated');
      feed(d, [ev({ type: 'message_stop' }, 'message_stop')]);
      assert.deepEqual(d.done([]), {
        type: 'done',
        finishReason: 'stop',
        rawFinishReason: 'end_turn',
        usage: { inputTokens: 17, outputTokens: 9, cachedInputTokens: 5 },
      });
    });

    it('maps an overloaded error event to a retryable "server" error', () => {
      const d = dec(anthropicAdapter());
      assert.throws(
        () => d.onEvent(ev({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }, 'error'), []),
        (e: unknown) => e instanceof ProviderError && e.kind === 'server' && e.retryable,
      );
    });

    it('rejects an event without a type, and a text_delta without text', () => {
      throwsKind(() => dec(anthropicAdapter()).onEvent(ev({ index: 0 }), []), 'malformed', /type/);
      throwsKind(() => dec(anthropicAdapter()).onEvent(ev({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta' } }), []), 'malformed', /text/);
    });
  });

  describe('Gemini', () => {
    it('joins parts, skips thought parts, adds thinking tokens to output', () => {
      const d = dec(geminiAdapter());
      const texts = feed(d, [
        ev({ candidates: [{ content: { parts: [{ text: 'plan', thought: true }, { text: 'A' }, { text: 'B' }], role: 'model' } }] }),
        ev({
          candidates: [{ content: { parts: [{ text: 'C' }] }, finishReason: 'STOP' }],
          usageMetadata: { promptTokenCount: 4, candidatesTokenCount: 3, thoughtsTokenCount: 5 },
        }),
      ]);
      assert.deepEqual(texts, ['AB', 'C']);
      assert.deepEqual(d.done([]), { type: 'done', finishReason: 'stop', rawFinishReason: 'STOP', usage: { inputTokens: 4, outputTokens: 8 } });
    });

    it('ends a blocked prompt with finish "content_filter", and SAFETY likewise', () => {
      const blocked = dec(geminiAdapter());
      feed(blocked, [ev({ promptFeedback: { blockReason: 'SAFETY' }, usageMetadata: { promptTokenCount: 3 } })]);
      assert.equal(blocked.done([])?.finishReason, 'content_filter');
      const safety = dec(geminiAdapter());
      feed(safety, [ev({ candidates: [{ finishReason: 'SAFETY' }] })]);
      assert.equal(safety.done([])?.finishReason, 'content_filter');
    });

    it('is truncated until a finishReason arrives', () => {
      const d = dec(geminiAdapter());
      feed(d, [ev({ candidates: [{ content: { parts: [{ text: 'x' }] } }] })]);
      assert.equal(d.done([]), undefined);
    });
  });
});

describe('provider client setup', () => {
  it('rejects an unusable base URL before contacting anything', async () => {
    const noop = (): void => undefined;
    const logger: Logger = { trace: noop, debug: noop, info: noop, warn: noop, error: noop, child: () => logger };
    const net = new NetService();
    try {
      const client = createProviderClient('anthropic', { baseUrl: 'file:///etc', apiKey: 'k-123456' }, { net, logger });
      await assert.rejects(
        (async () => {
          for await (const _ of client.stream({ model: 'm', messages: [{ role: 'user', content: 'x' }] })) void _;
        })(),
        (e: unknown) => e instanceof ProviderError && e.kind === 'bad_request' && /base URL/.test(e.message),
      );
      assert.equal(net.ledger.list().length, 0);
    } finally {
      net.dispose();
    }
  });
});

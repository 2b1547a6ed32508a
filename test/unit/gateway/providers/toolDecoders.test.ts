/** Tool-call decoding on shapes the fixture does not send: servers' quirks and edge cases, event by event. */
import assert from 'node:assert/strict';
import { ProviderError } from '../../../../src/gateway/providers/errors';
import { anthropicAdapter } from '../../../../src/gateway/providers/anthropic';
import { geminiAdapter } from '../../../../src/gateway/providers/gemini';
import { openAiAdapter } from '../../../../src/gateway/providers/openai';
import type { SseEvent } from '../../../../src/gateway/providers/sse';
import type { ProviderAdapter, StreamDecoder } from '../../../../src/gateway/providers/adapter';
import type { ChatRequest, StreamEvent } from '../../../../src/gateway/providers/types';
import { TOOLS } from './tools';

const ev = (data: unknown, type = 'message'): SseEvent => ({ type, data: typeof data === 'string' ? data : JSON.stringify(data), id: '' });

function decoderFor(adapter: ProviderAdapter, req: Partial<ChatRequest> = {}): StreamDecoder {
  const wire = adapter.buildRequest(
    { model: 'm', messages: [{ role: 'user', content: 'x' }], tools: TOOLS, ...req },
    { baseUrl: 'http://127.0.0.1/v1', apiKey: 'k' },
  );
  return adapter.createDecoder(wire);
}

/** Feeds events and ends the stream; returns every event in order (text as deltas). */
function run(d: StreamDecoder, events: SseEvent[], end = true): StreamEvent[] {
  const out: StreamEvent[] = [];
  for (const e of events) {
    const extra: StreamEvent[] = [];
    const text = d.onEvent(e, extra);
    if (text) out.push({ type: 'delta', text });
    out.push(...extra);
  }
  if (end) {
    const done = d.done(out);
    if (done) out.push(done);
  }
  return out;
}

const oai = (delta: unknown, finish: string | null = null): SseEvent => ev({ choices: [{ index: 0, delta, finish_reason: finish }] });
const calls = (events: StreamEvent[]): unknown[] => events.flatMap((e) => (e.type === 'toolCall' ? [e.call] : []));

describe('tool-call decoding', () => {
  describe('OpenAI', () => {
    it('splits calls that share index 0 in one tool_calls array by id (Ollama)', () => {
      const out = run(decoderFor(openAiAdapter('openai-compatible')), [
        oai({
          tool_calls: [
            { index: 0, id: 'a', type: 'function', function: { name: 'read_file', arguments: '{"path":"a"}' } },
            { index: 0, id: 'b', type: 'function', function: { name: 'read_file', arguments: '{"path":"b"}' } },
          ],
        }),
        oai({}, 'stop'),
      ]);
      assert.deepEqual(calls(out), [
        { id: 'a', name: 'read_file', arguments: { path: 'a' } },
        { id: 'b', name: 'read_file', arguments: { path: 'b' } },
      ]);
      assert.deepEqual(out.at(-1), { type: 'done', finishReason: 'tool_calls', rawFinishReason: 'stop' });
    });

    it('mints an id when a server sends none, reads arguments sent as an object, and starts a new call when the name changes at an index', () => {
      const out = run(decoderFor(openAiAdapter('openai-compatible')), [
        oai({ tool_calls: [{ index: 0, function: { name: 'read_file', arguments: { path: 'x' } } }] }),
        oai({ tool_calls: [{ index: 0, function: { name: 'run_command', arguments: '{"command":"ls"}' } }] }),
        ev('[DONE]'),
      ]);
      const [a, b] = calls(out) as Array<{ id: string; name: string; arguments: unknown }>;
      assert.match(a?.id ?? '', /^call_/);
      assert.notEqual(a?.id, b?.id);
      assert.deepEqual([a?.name, a?.arguments, b?.name, b?.arguments], ['read_file', { path: 'x' }, 'run_command', { command: 'ls' }]);
      assert.equal(out.filter((e) => e.type === 'toolCallStart').length, 2);
    });

    it('accumulates fragments without an index onto the last call, and by id when only the id is repeated', () => {
      const out = run(decoderFor(openAiAdapter()), [
        oai({ tool_calls: [{ id: 'c1', function: { name: 'read_file', arguments: '{"pa' } }] }),
        oai({ tool_calls: [{ function: { arguments: 'th":' } }] }),
        oai({ tool_calls: [{ id: 'c1', function: { arguments: '"z"}' } }] }),
        oai({}, 'tool_calls'),
      ]);
      assert.deepEqual(calls(out), [{ id: 'c1', name: 'read_file', arguments: { path: 'z' } }]);
    });

    it('marks arguments cut by the token limit as invalid and says why', () => {
      const out = run(decoderFor(openAiAdapter()), [
        oai({ tool_calls: [{ index: 0, id: 'c', type: 'function', function: { name: 'read_file', arguments: '{"path": "a' } }] }),
        oai({}, 'length'),
      ]);
      const [call] = calls(out) as Array<{ invalidArguments?: { error: string } }>;
      assert.match(call?.invalidArguments?.error ?? '', /output token limit/);
      assert.equal((out.at(-1) as { finishReason?: string }).finishReason, 'length');
    });

    it('gives a call with arguments but no name an invalidArguments error (the loop answers it)', () => {
      const out = run(decoderFor(openAiAdapter()), [oai({ tool_calls: [{ index: 0, id: 'c', function: { arguments: '{}' } }] }), oai({}, 'tool_calls')]);
      const [call] = calls(out) as Array<{ name: string; invalidArguments?: { error: string } }>;
      assert.equal(call?.name, '');
      assert.match(call?.invalidArguments?.error ?? '', /names no tool/);
    });

    it('throws a truncated error naming the call when the body ends inside it, and nothing when it ends between events with no call', () => {
      const d = decoderFor(openAiAdapter());
      run(d, [oai({ tool_calls: [{ index: 0, id: 'c', type: 'function', function: { name: 'run_command', arguments: '{"com' } }] })], false);
      assert.throws(
        () => d.done([]),
        (e: unknown) => e instanceof ProviderError && e.kind === 'truncated' && /run_command/.test(e.message) && /5 characters/.test(e.detail ?? ''),
      );
      assert.equal(decoderFor(openAiAdapter()).done([]), undefined);
    });

    it('reads cached prompt tokens from prompt_tokens_details', () => {
      const out = run(decoderFor(openAiAdapter()), [
        oai({ content: 'x' }, 'stop'),
        ev({ choices: [], usage: { prompt_tokens: 50, completion_tokens: 2, prompt_tokens_details: { cached_tokens: 32 } } }),
        ev('[DONE]'),
      ]);
      assert.deepEqual((out.at(-1) as { usage?: unknown }).usage, { inputTokens: 50, outputTokens: 2, cachedInputTokens: 32 });
    });
  });

  describe('Anthropic', () => {
    const a = (type: string, o: Record<string, unknown>): SseEvent => ev({ type, ...o }, type);
    const start = a('message_start', {
      message: { usage: { input_tokens: 5, cache_read_input_tokens: 100, cache_creation_input_tokens: 20, output_tokens: 1 } },
    });

    it('takes a tool_use input given whole in content_block_start when no input_json_delta follows', () => {
      const out = run(decoderFor(anthropicAdapter()), [
        start,
        a('content_block_start', { index: 0, content_block: { type: 'tool_use', id: 'toolu_1', name: 'read_file', input: { path: 'p' } } }),
        a('content_block_stop', { index: 0 }),
        a('message_delta', { delta: { stop_reason: 'tool_use' }, usage: { output_tokens: 12 } }),
        a('message_stop', {}),
      ]);
      assert.deepEqual(calls(out), [{ id: 'toolu_1', name: 'read_file', arguments: { path: 'p' } }]);
      assert.deepEqual(out.at(-1), {
        type: 'done',
        finishReason: 'tool_calls',
        rawFinishReason: 'tool_use',
        usage: { inputTokens: 125, outputTokens: 12, cachedInputTokens: 100 },
      });
    });

    it('refuses an input_json_delta for a block that is not a tool_use, and a tool_use without a name', () => {
      const d = decoderFor(anthropicAdapter());
      d.onEvent(a('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }), []);
      assert.throws(
        () => d.onEvent(a('content_block_delta', { index: 0, delta: { type: 'input_json_delta', partial_json: '{' } }), []),
        (e: unknown) => e instanceof ProviderError && e.kind === 'malformed' && /not a tool_use block/.test(e.detail ?? ''),
      );
      assert.throws(
        () => decoderFor(anthropicAdapter()).onEvent(a('content_block_start', { index: 0, content_block: { type: 'tool_use', id: 'x' } }), []),
        (e: unknown) => e instanceof ProviderError && e.kind === 'malformed',
      );
    });

    it('ends a stream cut inside a tool_use block with a truncated error naming it; a max_tokens stop marks the arguments invalid', () => {
      const cut = decoderFor(anthropicAdapter());
      run(
        cut,
        [
          start,
          a('content_block_start', { index: 0, content_block: { type: 'tool_use', id: 't', name: 'run_command', input: {} } }),
          a('content_block_delta', { index: 0, delta: { type: 'input_json_delta', partial_json: '{"comm' } }),
        ],
        false,
      );
      assert.throws(
        () => cut.done([]),
        (e: unknown) => e instanceof ProviderError && e.kind === 'truncated' && /run_command/.test(e.message),
      );
      const long = run(decoderFor(anthropicAdapter()), [
        start,
        a('content_block_start', { index: 0, content_block: { type: 'tool_use', id: 't', name: 'run_command', input: {} } }),
        a('content_block_delta', { index: 0, delta: { type: 'input_json_delta', partial_json: '{"comm' } }),
        a('message_delta', { delta: { stop_reason: 'max_tokens' }, usage: { output_tokens: 4096 } }),
        a('content_block_stop', { index: 0 }),
        a('message_stop', {}),
      ]);
      const [call] = calls(long) as Array<{ invalidArguments?: { error: string } }>;
      assert.match(call?.invalidArguments?.error ?? '', /output token limit/);
    });

    it('maps a sanitised name back to ours', () => {
      const d = decoderFor(anthropicAdapter(), { tools: [{ name: 'git.status', description: 'd', inputSchema: { type: 'object' } }] });
      const out = run(d, [
        start,
        a('content_block_start', { index: 0, content_block: { type: 'tool_use', id: 't', name: 'git_status', input: {} } }),
        a('content_block_stop', { index: 0 }),
        a('message_stop', {}),
      ]);
      assert.deepEqual(
        out.filter((e) => e.type === 'toolCallStart' || e.type === 'toolCall').map((e) => (e.type === 'toolCall' ? e.call.name : e.name)),
        ['git.status', 'git.status'],
      );
    });
  });

  describe('Gemini', () => {
    it('keeps the order of text and calls within one chunk, and reads cached tokens', () => {
      const out = run(decoderFor(geminiAdapter()), [
        ev({
          candidates: [
            {
              content: {
                parts: [{ text: 'First ' }, { functionCall: { name: 'read_file', args: { path: 'a' } }, thoughtSignature: 'c2ln' }, { text: 'then.' }],
              },
              finishReason: 'STOP',
            },
          ],
          usageMetadata: { promptTokenCount: 300, candidatesTokenCount: 9, cachedContentTokenCount: 256 },
        }),
      ]);
      assert.deepEqual(
        out.map((e) => e.type),
        ['delta', 'toolCallStart', 'toolCall', 'delta', 'done'],
      );
      assert.deepEqual(
        out.filter((e) => e.type === 'delta').map((e) => (e as { text: string }).text),
        ['First ', 'then.'],
      );
      assert.deepEqual((out.at(-1) as { usage?: unknown }).usage, { inputTokens: 300, outputTokens: 9, cachedInputTokens: 256 });
    });

    it('marks args that are not an object invalid instead of failing the stream', () => {
      const out = run(decoderFor(geminiAdapter()), [
        ev({ candidates: [{ content: { parts: [{ functionCall: { name: 'read_file', args: 'a.ts' } }] }, finishReason: 'STOP' }] }),
      ]);
      const [call] = calls(out) as Array<{ invalidArguments?: { error: string } }>;
      assert.match(call?.invalidArguments?.error ?? '', /not string/);
    });
  });
});

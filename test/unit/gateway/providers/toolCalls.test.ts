/**
 * Tool calls streamed by each provider client against the scripted fixture server: arguments split
 * across many deltas, parallel calls, Ollama's index reuse, malformed arguments, a truncated call,
 * names sanitised and mapped back, usage with cached tokens, retry only before the first output.
 */
import assert from 'node:assert/strict';
import type { ChatRequest, ProviderId, ToolCall, ToolDefinition } from '../../../../src/gateway/providers/types';
import type { ProviderServer } from '../../../fixtures/providerServer';
import { clientFor, collect, MODELS, request, type Harness, useProviders, within } from './harness';
import { TOOL_PROVIDERS, TOOLS, wireToolNames } from './tools';

/** Each provider's documented rule for tool names (Gemini: the strictest of its API versions). */
const NAME_RULES: Record<ProviderId, RegExp> = {
  openai: /^[A-Za-z0-9_-]{1,64}$/,
  'openai-compatible': /^[A-Za-z0-9_-]{1,64}$/,
  anthropic: /^[A-Za-z0-9_-]{1,64}$/,
  gemini: /^[A-Za-z_][A-Za-z0-9_-]{0,62}$/,
};

/** A call without its provider data (Gemini's signature), for comparisons. */
const plain = (c: ToolCall): ToolCall => ({
  id: c.id,
  name: c.name,
  arguments: c.arguments,
  ...(c.invalidArguments ? { invalidArguments: c.invalidArguments } : {}),
});

const ARGS = { path: 'src/ünï côdé/👋.ts', startLine: 12, nested: { list: [1, 2, { deep: 'x"y' }] } };

describe('provider clients: tool calls', function () {
  this.timeout(10_000);
  let server: ProviderServer;
  let h: Harness;

  useProviders((e) => void ({ server, h } = e));

  for (const id of TOOL_PROVIDERS) {
    const ask = (text = 'go'): ReturnType<typeof request> => request(text, { model: MODELS[id], tools: TOOLS });

    describe(id, () => {
      it('streams text, then a call whose arguments arrive in many small fragments, then done "tool_calls"', async () => {
        server.script([{ text: 'Let me look at it.', toolCalls: [{ name: 'read_file', arguments: ARGS, id: 'call_read_1' }], argsChunk: 3 }]);
        const out = await collect(clientFor(h, server, id), ask());
        assert.equal(out.error, undefined, out.error?.message);
        assert.equal(out.deltas.join(''), 'Let me look at it.');
        assert.deepEqual(out.starts, [{ id: 'call_read_1', name: 'read_file' }]);
        assert.deepEqual(out.calls.map(plain), [{ id: 'call_read_1', name: 'read_file', arguments: ARGS }]);
        const types = out.order.filter((t, i) => t !== out.order[i - 1]);
        assert.deepEqual(types, ['delta', 'toolCallStart', 'toolCall', 'done'], 'text, then the call announced, then complete, then done');
        assert.equal(out.done?.finishReason, 'tool_calls');
      });

      it('streams parallel calls, each announced and completed in order (sequential and interleaved fragments)', async () => {
        for (const interleave of [false, true]) {
          server.reset();
          const calls = [
            { name: 'read_file', arguments: { path: 'a.ts' } },
            { name: 'run_command', arguments: { command: 'npm test -- --grep "tool calls"' } },
            { name: 'read_file', arguments: { path: 'b.ts', startLine: 3 } },
          ];
          server.script([{ toolCalls: calls, argsChunk: 4, interleave }]);
          const out = await collect(clientFor(h, server, id), ask());
          assert.equal(out.error, undefined, out.error?.message);
          assert.deepEqual(
            out.calls.map((c) => [c.name, c.arguments]),
            calls.map((c) => [c.name, c.arguments]),
            `interleave=${interleave}`,
          );
          assert.equal(new Set(out.calls.map((c) => c.id)).size, 3, 'three distinct ids');
          assert.deepEqual(
            out.starts.map((s) => s.id),
            out.calls.map((c) => c.id),
          );
          assert.equal(out.deltas.length, 0);
        }
      });

      it('turns arguments that are not JSON into a call with invalidArguments (never a crash), and the turn completes', async function () {
        if (id === 'gemini') this.skip(); // Gemini sends args as an object; its malformed call is a finish reason (below)
        server.script([
          {
            toolCalls: [
              { name: 'read_file', arguments: '{"path": "a.ts", "startLine": ' },
              { name: 'run_command', arguments: '["ls"]' },
            ],
          },
        ]);
        const out = await collect(clientFor(h, server, id), ask());
        assert.equal(out.error, undefined, out.error?.message);
        const [bad, notObject] = out.calls;
        assert.equal(bad?.name, 'read_file');
        assert.deepEqual(bad?.arguments, {});
        assert.equal(bad?.invalidArguments?.raw, '{"path": "a.ts", "startLine": ');
        assert.match(bad?.invalidArguments?.error ?? '', /not valid JSON/);
        assert.match(notObject?.invalidArguments?.error ?? '', /must be a JSON object, not an array/);
        assert.equal(out.done?.finishReason, 'tool_calls');
      });

      it('reports a stream that ends inside a call as "truncated" naming the tool, without retrying after the call was announced', async () => {
        server.script([{ text: 'Reading.', toolCalls: [{ name: 'read_file', arguments: ARGS }], fail: 'truncated' }, { text: 'never sent' }]);
        const out = await collect(clientFor(h, server, id), ask(), { maxAttempts: 3 });
        assert.equal(out.error?.kind, 'truncated');
        assert.equal(out.deltas.join(''), 'Reading.');
        if (id === 'gemini') {
          // A Gemini call arrives in one event: the body ends inside that event.
          assert.match(out.error?.detail ?? '', /ended inside an event/);
        } else {
          assert.match(out.error?.message ?? '', /ended in the middle of a tool call \(read_file\)/);
          assert.match(out.error?.detail ?? '', /characters of arguments received/);
          assert.equal(out.starts.length, 1);
        }
        assert.equal(out.calls.length, 0, 'a cut call is never handed out as complete');
        assert.equal(server.stats().requests[id], 1, 'not retried once text was shown');
      });

      it('retries a failure before the first output; the retry takes the next turn', async () => {
        const script = server.script([{ fail: 'error-500' }, { toolCalls: [{ name: 'run_command', arguments: { command: 'ls' } }] }]);
        const out = await collect(clientFor(h, server, id), ask(), { maxAttempts: 2 });
        assert.equal(out.error, undefined, out.error?.message);
        assert.equal(out.calls[0]?.name, 'run_command');
        assert.equal(script.requests.length, 2);
        assert.equal(script.remaining, 0);
      });

      it('reads usage, with cached prompt tokens', async () => {
        server.script([{ text: 'ok', usage: { input: 1200, output: 7, cached: 1024 } }]);
        const out = await collect(clientFor(h, server, id), ask());
        assert.deepEqual(out.done?.usage, { inputTokens: 1200, outputTokens: 7, cachedInputTokens: 1024 });
      });

      it('sanitises tool names to the provider rules and maps the called name back to ours', async () => {
        const long = `mcp__${'very_long_server_name_'.repeat(4)}__create_issue`;
        const tools: ToolDefinition[] = [
          { name: 'github.create issue', description: 'Create an issue.', inputSchema: { type: 'object', properties: {} } },
          { name: long, description: 'A long one.', inputSchema: { type: 'object', properties: {} } },
          { name: 'github_create_issue', description: 'Collides once sanitised.', inputSchema: { type: 'object', properties: {} } },
        ];
        server.script([{ text: 'names?' }]);
        await collect(clientFor(h, server, id), request('go', { tools }));
        const wire = wireToolNames(server.requests[0]!.body);
        assert.equal(wire.length, 3);
        assert.equal(new Set(wire).size, 3, `distinct wire names: ${wire.join(', ')}`);
        for (const name of wire) assert.match(name, NAME_RULES[id]);
        assert.equal(wire[0], 'github_create_issue', 'a readable rewrite');
        assert.notEqual(wire[2], wire[0]);
        server.reset();
        server.script([{ toolCalls: wire.map((name) => ({ name })).concat([{ name: 'made_up_tool' }]) }]);
        const out = await collect(clientFor(h, server, id), request('go', { tools }));
        assert.deepEqual(
          out.calls.map((c) => c.name),
          [...tools.map((t) => t.name), 'made_up_tool'],
        );
        assert.deepEqual(
          out.starts.map((s) => s.name),
          [...tools.map((t) => t.name), 'made_up_tool'],
        );
      });

      it('cancelling while a call streams aborts the request and closes the socket', async () => {
        server.script([{ toolCalls: [{ name: 'read_file', arguments: ARGS }], fail: 'stall' }]);
        const ctrl = new AbortController();
        const stream = clientFor(h, server, id).stream(ask(), { signal: ctrl.signal });
        const it = stream[Symbol.asyncIterator]();
        const first = await within(it.next(), 5_000, 'the call is announced');
        assert.equal(first.value?.type, 'toolCallStart');
        const conn = server.requests[0]!.connection;
        ctrl.abort();
        await assert.rejects(it.next(), (e: Error & { kind?: string }) => e.kind === 'cancelled');
        await within(server.socketClosed(conn), 5_000, 'socket closed');
      });

      it('answers a request after the last scripted turn with a clear 400, not retried', async () => {
        server.script([]);
        const out = await collect(clientFor(h, server, id), ask(), { maxAttempts: 3 });
        assert.equal(out.error?.kind, 'bad_request');
        assert.match(out.error?.message ?? '', /the script has 0 turns; request 1 has none/);
        assert.equal(server.stats().total, 1);
      });
    });
  }

  describe('gemini', () => {
    const ask = (model = MODELS.gemini): ReturnType<typeof request> => request('go', { model, tools: TOOLS });

    it('mints a call id unique within the conversation when Gemini sends none, and keeps the id Gemini sends', async () => {
      server.script([
        {
          toolCalls: [
            { name: 'read_file', arguments: { path: 'a' } },
            { name: 'read_file', arguments: { path: 'b' } },
          ],
        },
        { toolCalls: [{ name: 'run_command', id: 'gem-id-7' }] },
      ]);
      const first = await collect(clientFor(h, server, 'gemini'), ask());
      const second = await collect(clientFor(h, server, 'gemini'), ask());
      const ids = [...first.calls, ...second.calls].map((c) => c.id);
      assert.equal(new Set(ids).size, 3, ids.join());
      assert.match(ids[0]!, /^call_/);
      assert.equal(ids[2], 'gem-id-7');
      assert.deepEqual(second.calls[0]?.providerData, { thoughtSignature: Buffer.from('fixture-thought-2').toString('base64'), geminiId: 'gem-id-7' });
      assert.deepEqual(first.calls[1]?.providerData, undefined, 'only the first call of a turn carries the signature');
      assert.equal(first.done?.finishReason, 'tool_calls');
      assert.equal(first.done?.rawFinishReason, 'STOP');
    });

    it('round-trips the thought signature, and Gemini 3 accepts the next turn (the placeholder where history has none)', async () => {
      const model = 'gemini-3-pro-preview';
      server.script([
        { text: 'Reading.', toolCalls: [{ name: 'read_file', arguments: { path: 'a' } }], thoughtSignature: 'c2lnLW9uZQ==' },
        { text: 'Done.' },
        { text: 'Again.' },
      ]);
      const turn1 = await collect(clientFor(h, server, 'gemini'), ask(model));
      const call = turn1.calls[0]!;
      assert.deepEqual(call.providerData, { thoughtSignature: 'c2lnLW9uZQ==' });
      const followUp = (c: typeof call): ChatRequest => ({
        model,
        tools: TOOLS,
        messages: [
          { role: 'user', content: 'go' },
          { role: 'assistant', content: 'Reading.', toolCalls: [c] },
          { role: 'tool', toolCallId: c.id, toolName: c.name, content: 'export {}' },
        ],
      });
      const turn2 = await collect(clientFor(h, server, 'gemini'), followUp(call));
      assert.equal(turn2.error, undefined, turn2.error?.message);
      const parts = (server.requests[1]!.body as { contents: Array<{ parts: Array<Record<string, unknown>> }> }).contents[1]!.parts;
      assert.deepEqual(parts[1], { functionCall: { name: 'read_file', args: { path: 'a' } }, thoughtSignature: 'c2lnLW9uZQ==' });
      const unsigned = await collect(clientFor(h, server, 'gemini'), followUp({ ...call, providerData: undefined }));
      assert.equal(unsigned.error, undefined, unsigned.error?.message);
      const sent = (server.requests[2]!.body as { contents: Array<{ parts: Array<Record<string, unknown>> }> }).contents[1]!.parts[1];
      assert.equal(sent?.thoughtSignature, 'skip_thought_signature_validator');
    });

    it('fixture: Gemini 3 refuses a call turn without a thought signature', async () => {
      const res = await fetch(`http://127.0.0.1:${server.port}/v1beta/models/gemini-3-pro-preview:streamGenerateContent?alt=sse`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-goog-api-key': server.keys.gemini },
        body: JSON.stringify({
          contents: [
            { role: 'user', parts: [{ text: 'go' }] },
            { role: 'model', parts: [{ functionCall: { name: 'read_file', args: {} } }] },
            { role: 'user', parts: [{ functionResponse: { name: 'read_file', response: { output: 'x' } } }] },
          ],
        }),
      });
      assert.equal(res.status, 400);
      assert.match(await res.text(), /Function call is missing a thought_signature/);
    });

    it('ends a malformed function call with finish "error" and Gemini\'s explanation', async () => {
      server.script([{ text: 'Trying.', toolCalls: [{ name: 'read_file', arguments: '{"path": ' }] }]);
      const out = await collect(clientFor(h, server, 'gemini'), ask());
      assert.equal(out.error, undefined);
      assert.equal(out.calls.length, 0);
      assert.equal(out.done?.finishReason, 'error');
      assert.equal(out.done?.rawFinishReason, 'MALFORMED_FUNCTION_CALL');
      assert.match(out.done?.detail ?? '', /Malformed function call: read_file/);
    });
  });

  describe('openai-compatible (Ollama)', () => {
    it('tells apart parallel calls that all use index 0 by their ids, and reads finish "stop" as tool calls', async () => {
      const calls = [
        { name: 'read_file', arguments: { path: 'a.ts' }, id: 'call_aaa' },
        { name: 'read_file', arguments: { path: 'b.ts' }, id: 'call_bbb' },
        { name: 'run_command', arguments: { command: 'ls' }, id: 'call_ccc' },
      ];
      server.script([{ toolCalls: calls, ollama: true }]);
      const out = await collect(clientFor(h, server, 'openai-compatible', null), request('go', { model: 'llama3.2', tools: TOOLS }));
      assert.equal(out.error, undefined, out.error?.message);
      assert.deepEqual(
        out.calls.map((c) => [c.id, c.name, c.arguments]),
        calls.map((c) => [c.id, c.name, c.arguments]),
      );
      assert.equal(out.done?.finishReason, 'tool_calls');
      assert.equal(out.done?.rawFinishReason, 'stop');
    });
  });
});

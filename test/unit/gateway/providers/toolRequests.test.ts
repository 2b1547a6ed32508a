/**
 * What each provider client sends when tools are in play, checked field by field on the request
 * the fixture server received (and accepted, by the real APIs' rules): tool declarations, assistant
 * turns with their calls, tool results, images, `toolChoice: 'none'`, and no tools field without tools.
 */
import assert from 'node:assert/strict';
import type { ChatMessage, ChatRequest, ProviderId } from '../../../../src/gateway/providers/types';
import type { ProviderServer } from '../../../fixtures/providerServer';
import { clientFor, collect, MODELS, request, type Harness, useProviders } from './harness';
import { TOOL_PROVIDERS, TOOLS } from './tools';

/** A 1×1 transparent PNG. */
const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=';
const JPEG = '/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAEBAQ==';

/** A conversation with a text turn, an image, two parallel calls (one failed) and their results. */
function history(): ChatMessage[] {
  return [
    { role: 'user', content: 'What is in this screenshot and in a.ts?', images: [{ mediaType: 'image/png', data: PNG }] },
    {
      role: 'assistant',
      content: 'Let me read the file.',
      toolCalls: [
        { id: 'call_A1', name: 'read_file', arguments: { path: 'a.ts' } },
        { id: 'call_B2', name: 'run_command', arguments: { command: 'cat b.ts' } },
      ],
    },
    { role: 'tool', toolCallId: 'call_A1', toolName: 'read_file', content: 'export const a = 1;' },
    { role: 'tool', toolCallId: 'call_B2', toolName: 'run_command', content: 'cat: b.ts: No such file', isError: true },
    { role: 'assistant', content: '', toolCalls: [{ id: 'call_C3', name: 'read_file', arguments: {} }] },
    { role: 'tool', toolCallId: 'call_C3', toolName: 'read_file', content: 'missing path' },
    { role: 'user', content: 'And this one?', images: [{ mediaType: 'image/jpeg', data: JPEG }] },
  ];
}

const EXPECTED: Record<ProviderId, (req: ChatRequest) => Record<string, unknown>> = {
  openai: (req) => openAiBody(req, 'openai'),
  'openai-compatible': (req) => openAiBody(req, 'openai-compatible'),
  anthropic: anthropicBody,
  gemini: geminiBody,
};

/** Anthropic: images before text; results of one turn in one user message, with is_error; the user's next text after them. */
function anthropicBody(req: ChatRequest): Record<string, unknown> {
  const image = (media_type: string, data: string): unknown => ({ type: 'image', source: { type: 'base64', media_type, data } });
  return {
    model: req.model,
    max_tokens: 500,
    system: 'You are terse.',
    stream: true,
    messages: [
      { role: 'user', content: [image('image/png', PNG), { type: 'text', text: 'What is in this screenshot and in a.ts?' }] },
      {
        role: 'assistant',
        content: [
          { type: 'text', text: 'Let me read the file.' },
          { type: 'tool_use', id: 'call_A1', name: 'read_file', input: { path: 'a.ts' } },
          { type: 'tool_use', id: 'call_B2', name: 'run_command', input: { command: 'cat b.ts' } },
        ],
      },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 'call_A1', content: 'export const a = 1;' },
          { type: 'tool_result', tool_use_id: 'call_B2', content: 'cat: b.ts: No such file', is_error: true },
        ],
      },
      { role: 'assistant', content: [{ type: 'tool_use', id: 'call_C3', name: 'read_file', input: {} }] },
      {
        role: 'user',
        content: [{ type: 'tool_result', tool_use_id: 'call_C3', content: 'missing path' }, image('image/jpeg', JPEG), { type: 'text', text: 'And this one?' }],
      },
    ],
    tools: TOOLS.map((t) => ({ name: t.name, description: t.description, input_schema: t.inputSchema })),
  };
}

/** Gemini: inlineData before text; calls as functionCall parts (the placeholder signature on the first of a turn); results as functionResponse parts. */
function geminiBody(): Record<string, unknown> {
  const sig = 'skip_thought_signature_validator';
  return {
    contents: [
      { role: 'user', parts: [{ inlineData: { mimeType: 'image/png', data: PNG } }, { text: 'What is in this screenshot and in a.ts?' }] },
      {
        role: 'model',
        parts: [
          { text: 'Let me read the file.' },
          { functionCall: { name: 'read_file', args: { path: 'a.ts' } }, thoughtSignature: sig },
          { functionCall: { name: 'run_command', args: { command: 'cat b.ts' } } },
        ],
      },
      {
        role: 'user',
        parts: [
          { functionResponse: { name: 'read_file', response: { output: 'export const a = 1;' } } },
          { functionResponse: { name: 'run_command', response: { error: 'cat: b.ts: No such file' } } },
        ],
      },
      { role: 'model', parts: [{ functionCall: { name: 'read_file', args: {} }, thoughtSignature: sig }] },
      { role: 'user', parts: [{ functionResponse: { name: 'read_file', response: { output: 'missing path' } } }] },
      { role: 'user', parts: [{ inlineData: { mimeType: 'image/jpeg', data: JPEG } }, { text: 'And this one?' }] },
    ],
    systemInstruction: { parts: [{ text: 'You are terse.' }] },
    tools: [{ functionDeclarations: TOOLS.map((t) => ({ name: t.name, description: t.description, parametersJsonSchema: t.inputSchema })) }],
    generationConfig: { maxOutputTokens: 500 },
  };
}

function openAiBody(req: ChatRequest, id: ProviderId): Record<string, unknown> {
  const call = (cid: string, name: string, args: unknown): unknown => ({ id: cid, type: 'function', function: { name, arguments: JSON.stringify(args) } });
  return {
    model: req.model,
    messages: [
      { role: 'system', content: 'You are terse.' },
      {
        role: 'user',
        content: [
          { type: 'text', text: 'What is in this screenshot and in a.ts?' },
          { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG}` } },
        ],
      },
      {
        role: 'assistant',
        content: 'Let me read the file.',
        tool_calls: [call('call_A1', 'read_file', { path: 'a.ts' }), call('call_B2', 'run_command', { command: 'cat b.ts' })],
      },
      { role: 'tool', tool_call_id: 'call_A1', content: 'export const a = 1;' },
      { role: 'tool', tool_call_id: 'call_B2', content: 'cat: b.ts: No such file' },
      { role: 'assistant', content: '', tool_calls: [call('call_C3', 'read_file', {})] },
      { role: 'tool', tool_call_id: 'call_C3', content: 'missing path' },
      {
        role: 'user',
        content: [
          { type: 'text', text: 'And this one?' },
          { type: 'image_url', image_url: { url: `data:image/jpeg;base64,${JPEG}` } },
        ],
      },
    ],
    stream: true,
    stream_options: { include_usage: true },
    [id === 'openai' ? 'max_completion_tokens' : 'max_tokens']: 500,
    tools: TOOLS.map((t) => ({ type: 'function', function: { name: t.name, description: t.description, parameters: t.inputSchema } })),
  };
}

describe('provider clients: requests with tools', function () {
  this.timeout(10_000);
  let server: ProviderServer;
  let h: Harness;

  useProviders((e) => void ({ server, h } = e));

  for (const id of TOOL_PROVIDERS) {
    describe(id, () => {
      const full = (): ChatRequest => ({ model: MODELS[id], system: 'You are terse.', messages: history(), tools: TOOLS, maxTokens: 500 });

      it('sends tools, assistant calls, tool results and images in the provider format, and the provider accepts them', async () => {
        const script = server.script([{ text: 'A cat; a.ts exports a.' }]);
        const req = full();
        const out = await collect(clientFor(h, server, id), req);
        assert.equal(out.error, undefined, out.error?.message);
        assert.equal(out.deltas.join(''), 'A cat; a.ts exports a.');
        assert.deepEqual(script.requests[0]?.body, EXPECTED[id]!(req));
      });

      it('sends no tools field without tools, and the "none" tool choice with them', async () => {
        server.script([{ text: 'plain' }, { text: 'no calls' }]);
        await collect(clientFor(h, server, id), request('hi', { model: MODELS[id] }));
        await collect(clientFor(h, server, id), { ...full(), toolChoice: 'none' });
        const [plain, none] = server.requests.map((r) => r.body as Record<string, unknown>);
        for (const key of ['tools', 'tool_choice', 'toolConfig']) assert.equal(plain?.[key], undefined, key);
        const choice = {
          openai: { tool_choice: 'none' },
          'openai-compatible': { tool_choice: 'none' },
          anthropic: { tool_choice: { type: 'none' } },
          gemini: { toolConfig: { functionCallingConfig: { mode: 'NONE' } } },
        }[id];
        for (const [k, v] of Object.entries(choice)) assert.deepEqual(none?.[k], v, k);
        assert.ok(none?.tools, 'the tools are still described');
      });

      it('surfaces the provider refusing a tool result that answers no call as a clear bad_request', async () => {
        server.script([{ text: 'unused' }]);
        const messages: ChatMessage[] = [
          { role: 'user', content: 'hi' },
          { role: 'tool', toolCallId: 'call_nobody', toolName: 'read_file', content: 'orphan' },
        ];
        const out = await collect(clientFor(h, server, id), { model: MODELS[id], messages, tools: TOOLS }, { maxAttempts: 3 });
        assert.equal(out.error?.kind, 'bad_request');
        assert.equal(out.error?.status, 400);
        assert.match(out.error?.message ?? '', /tool_result|tool_call|function response/);
        assert.equal(server.stats().total, 1, 'not retried');
      });
    });
  }

  it('fixture: refuses what the real APIs refuse (an illegal tool name), so the sanitising tests mean something', async () => {
    const post = async (path: string, body: unknown, headers: Record<string, string>): Promise<{ status: number; text: string }> => {
      const res = await fetch(`http://127.0.0.1:${server.port}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify(body),
      });
      return { status: res.status, text: await res.text() };
    };
    const schema = { type: 'object', properties: {} };
    const openai = await post(
      '/v1/chat/completions',
      {
        model: 'gpt-4o',
        messages: [{ role: 'user', content: 'x' }],
        tools: [{ type: 'function', function: { name: 'github.create issue', parameters: schema } }],
        stream: true,
      },
      { authorization: `Bearer ${server.keys.openai}` },
    );
    assert.equal(openai.status, 400);
    assert.match(openai.text, /tools\[0\]\.function\.name': string does not match pattern/);
    const anthropic = await post(
      '/v1/messages',
      { model: 'claude', max_tokens: 10, messages: [{ role: 'user', content: 'x' }], tools: [{ name: 'a'.repeat(65), input_schema: schema }], stream: true },
      { 'x-api-key': server.keys.anthropic, 'anthropic-version': '2023-06-01' },
    );
    assert.equal(anthropic.status, 400);
    assert.match(anthropic.text, /tools\.0\.custom\.name: String should match pattern/);
    const gemini = await post(
      '/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse',
      { contents: [{ role: 'user', parts: [{ text: 'x' }] }], tools: [{ functionDeclarations: [{ name: '3d', parametersJsonSchema: schema }] }] },
      { 'x-goog-api-key': server.keys.gemini },
    );
    assert.equal(gemini.status, 400);
    assert.match(gemini.text, /Invalid function name. Must start with a letter or an underscore/);
  });

  it('fixture: takes a script and gives back the recorded requests over HTTP (for a server in another process)', async () => {
    const base = `http://127.0.0.1:${server.port}`;
    const turns = [{ toolCalls: [{ name: 'read_file', arguments: { path: 'x' } }] }];
    assert.equal((await fetch(`${base}/__script`, { method: 'POST', body: JSON.stringify({ turns }) })).status, 204);
    const out = await collect(clientFor(h, server, 'openai'), request('go', { tools: TOOLS }));
    assert.deepEqual(out.calls[0]?.arguments, { path: 'x' });
    const recorded = (await (await fetch(`${base}/__requests`)).json()) as Array<{ body: { tools?: unknown[] }; scenario: string }>;
    assert.equal(recorded.length, 1);
    assert.equal(recorded[0]?.scenario, 'script:1');
    assert.equal(recorded[0]?.body.tools?.length, TOOLS.length);
  });
});

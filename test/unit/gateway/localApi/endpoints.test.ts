/**
 * The local API's endpoints against the local provider fixture server: status, agents, task dispatch,
 * list and cancel, the conversation message stream (SSE), the events WebSocket, the OpenAI-compatible
 * surface (with the official `openai` client), the discovery file and the port fallback.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import OpenAI from 'openai';
import { agentsResponseSchema, type LocalTask, statusResponseSchema, taskResponseSchema, tasksResponseSchema } from '../../../../src/protocol/localApi';
import { startProviderServer, type ProviderServer } from '../../../fixtures/providerServer';
import { type ApiHarness, errorCode, openEvents, parseSse, request, startApiGateway } from './helpers';

const AGENT = 'default-openai-compatible';

describe('Local API: endpoints', function () {
  let server: ProviderServer;
  let h: ApiHarness;

  before(async () => {
    server = await startProviderServer();
  });
  after(async () => {
    await server.close();
  });
  beforeEach(async () => {
    h = await startApiGateway(server, { openaiKey: true });
  });
  afterEach(async () => {
    await h.close();
  });

  const post = (path: string, body: unknown): ReturnType<typeof request> => request(h.api, { method: 'POST', path, body: JSON.stringify(body) });

  it('GET /v1/status answers the status schema', async () => {
    const r = await request(h.api, { path: '/v1/status' });
    assert.equal(r.status, 200);
    const s = statusResponseSchema.parse(r.json);
    assert.equal(s.port, h.api.port);
    assert.equal(s.pid, process.pid);
    assert.equal(s.host, 'headless');
    assert.equal(s.version, '9.9.9-test');
    assert.equal(s.state, 'running');
    assert.deepEqual(s.agents, { total: 2, available: 2 });
    assert.equal(s.openAiCompatibleApi, false);
  });

  it('GET /v1/agents lists the agents; unknown routes are 404, wrong methods 405', async () => {
    const r = await request(h.api, { path: '/v1/agents' });
    const { agents } = agentsResponseSchema.parse(r.json);
    assert.deepEqual(agents.map((a) => a.id).sort(), ['default-openai', AGENT]);
    assert.equal(errorCode(await request(h.api, { path: '/v1/nothing' })), 'not_found');
    const wrong = await request(h.api, { method: 'DELETE', path: '/v1/agents' });
    assert.equal(wrong.status, 405);
    assert.equal(errorCode(wrong), 'method_not_allowed');
  });

  it('POST /v1/tasks dispatches a task that runs as a linked conversation; /v1/events streams it', async () => {
    const events = await openEvents(h.api);
    const r = await post('/v1/tasks', { agentId: AGENT, prompt: 'Summarise the build', context: { file: 'src/a.ts' } });
    assert.equal(r.status, 201);
    const { task } = taskResponseSchema.parse(r.json);
    assert.equal(r.headers.location, `/v1/tasks/${task.id}`);
    assert.equal(task.title, 'Summarise the build');
    const done = await events.next((e) => e.type === 'task.updated' && e.task.id === task.id && e.task.status === 'completed');
    const types = events.frames
      .filter((e) => ('task' in e && e.task.id === task.id) || ('taskId' in e && e.taskId === task.id))
      .map((e) => e.type + ('task' in e ? `:${e.task.status}` : ''));
    assert.equal(types[0], 'task.created:queued');
    assert.equal(types[1], 'task.updated:running');
    assert.ok(types.includes('task.output'), types.join(' '));
    assert.equal(types[types.length - 1], 'task.updated:completed');
    const output = events.frames
      .filter((e) => e.type === 'task.output' && e.taskId === task.id)
      .map((e) => (e as { text: string }).text)
      .join('');
    assert.ok(done.type === 'task.updated');
    assert.equal(done.task.result?.text, output, 'the streamed output is the result');
    assert.match(output, /You said: \*\*Summarise the build/);
    const seqs = events.frames.map((e) => e.seq);
    assert.deepEqual(
      seqs,
      seqs.map((_, i) => i + 1),
      'seq counts frames on this socket',
    );

    const got = taskResponseSchema.parse((await request(h.api, { path: `/v1/tasks/${task.id}` })).json).task;
    assert.equal(got.status, 'completed');
    const conv = await h.gateway.store.open(got.conversationId!);
    assert.equal(conv.meta.taskId, task.id);
    assert.match(conv.messages[0]!.text, /Context:\n```json\n[\s\S]*"file": "src\/a.ts"/);
    events.close();
  });

  it('GET /v1/tasks filters by status and agent, most recent first; bad queries are 400', async () => {
    const a = taskResponseSchema.parse((await post('/v1/tasks', { agentId: AGENT, prompt: 'first' })).json).task;
    const b = taskResponseSchema.parse((await post('/v1/tasks', { agentId: 'default-openai', prompt: 'second' })).json).task;
    await h.gateway.tasks.cancel(a.id).catch(() => undefined);
    await waitTask(b.id, (t) => t.status === 'completed');
    const all = tasksResponseSchema.parse((await request(h.api, { path: '/v1/tasks' })).json).tasks;
    assert.deepEqual(
      all.map((t) => t.id),
      [b.id, a.id],
    );
    const byAgent = tasksResponseSchema.parse((await request(h.api, { path: '/v1/tasks?agentId=default-openai' })).json).tasks;
    assert.deepEqual(
      byAgent.map((t) => t.id),
      [b.id],
    );
    const completed = tasksResponseSchema.parse((await request(h.api, { path: '/v1/tasks?status=completed&limit=5' })).json).tasks;
    assert.ok(completed.every((t) => t.status === 'completed') && completed.some((t) => t.id === b.id));
    assert.equal(tasksResponseSchema.parse((await request(h.api, { path: '/v1/tasks?limit=1' })).json).tasks.length, 1);
    for (const q of ['status=done', 'limit=0', 'limit=x', 'colour=red'])
      assert.equal(errorCode(await request(h.api, { path: `/v1/tasks?${q}` })), 'invalid_request', q);
  });

  it('refuses tasks for unknown and unconfigured agents, and empty prompts', async () => {
    assert.equal(errorCode(await post('/v1/tasks', { agentId: 'nope', prompt: 'x' })), 'agent_not_found');
    h.gateway.setConfig({ ...h.gateway.config, agents: [{ id: 'keyless', name: 'Keyless', provider: 'anthropic', model: 'm' }] });
    const r = await post('/v1/tasks', { agentId: 'keyless', prompt: 'x' });
    assert.equal(r.status, 409);
    assert.equal(errorCode(r), 'agent_unavailable');
    assert.equal(errorCode(await post('/v1/tasks', { agentId: AGENT, prompt: '   ' })), 'invalid_request');
    assert.equal(h.gateway.tasks.list().length, 0);
  });

  it('POST /v1/tasks/:id/cancel stops a running task; a finished or unknown one is refused', async () => {
    const events = await openEvents(h.api);
    const task = taskResponseSchema.parse((await post('/v1/tasks', { agentId: AGENT, prompt: 'long #scenario:slow:100' })).json).task;
    await events.next((e) => e.type === 'task.output' && e.taskId === task.id);
    const r = await request(h.api, { method: 'POST', path: `/v1/tasks/${task.id}/cancel` });
    assert.equal(r.status, 200);
    const cancelled = taskResponseSchema.parse(r.json).task;
    assert.equal(cancelled.status, 'cancelled');
    const conv = await h.gateway.store.open(cancelled.conversationId!);
    assert.equal(conv.messages[1]!.status, 'cancelled', 'the reply was stopped');
    const again = await request(h.api, { method: 'POST', path: `/v1/tasks/${task.id}/cancel` });
    assert.equal(again.status, 409);
    assert.equal(errorCode(again), 'task_finished');
    assert.equal(errorCode(await request(h.api, { method: 'POST', path: '/v1/tasks/nope/cancel' })), 'task_not_found');
    events.close();
  });

  it('POST /v1/conversations/new/messages streams the reply as SSE; the next message continues the conversation', async () => {
    const r = await post('/v1/conversations/new/messages', { agentId: AGENT, text: 'Hello SSE' });
    assert.equal(r.status, 200);
    assert.match(String(r.headers['content-type']), /^text\/event-stream/);
    const events = parseSse(r.text).map((e) => ({ event: e.event, data: JSON.parse(e.data) as Record<string, unknown> }));
    assert.equal(events[0]!.event, 'start');
    const cid = events[0]!.data.conversationId as string;
    const last = events[events.length - 1]!;
    assert.equal(last.event, 'done');
    assert.equal(last.data.status, 'complete');
    const deltas = events.filter((e) => e.event === 'delta').map((e) => e.data.text as string);
    assert.ok(deltas.length > 1);
    assert.equal(deltas.join(''), last.data.text);
    assert.match(last.data.text as string, /You said: \*\*Hello SSE\*\*/);

    const r2 = await post(`/v1/conversations/${cid}/messages`, { text: 'And again' });
    const ev2 = parseSse(r2.text);
    assert.equal(JSON.parse(ev2[ev2.length - 1]!.data).status, 'complete');
    const conv = await h.gateway.store.open(cid);
    assert.deepEqual(
      conv.messages.map((m) => m.role),
      ['user', 'assistant', 'user', 'assistant'],
    );
  });

  it('refuses messages to unknown conversations, without an agent, with a wrong agent, or while one streams', async () => {
    assert.equal(errorCode(await post('/v1/conversations/00000000-0000-4000-8000-000000000000/messages', { text: 'x' })), 'conversation_not_found');
    assert.equal(errorCode(await post('/v1/conversations/..%2F..%2Fetc/messages', { text: 'x' })), 'conversation_not_found');
    assert.equal(errorCode(await post('/v1/conversations/new/messages', { text: 'x' })), 'invalid_request');
    assert.equal(errorCode(await post('/v1/conversations/new/messages', { text: 'x', agentId: 'nope' })), 'agent_not_found');
    const first = parseSse((await post('/v1/conversations/new/messages', { agentId: AGENT, text: 'hi' })).text);
    const cid = (JSON.parse(first[0]!.data) as { conversationId: string }).conversationId;
    assert.equal(errorCode(await post(`/v1/conversations/${cid}/messages`, { text: 'x', agentId: 'default-openai' })), 'invalid_request');
    const started = new Promise<void>((resolve) => {
      const sub = h.gateway.chat.onDidEvent((e) => {
        if (e.type === 'delta' && e.conversationId === cid) {
          sub.dispose();
          resolve();
        }
      });
    });
    const slow = post(`/v1/conversations/${cid}/messages`, { text: 'slow #scenario:slow:50' });
    await started;
    const busy = await post(`/v1/conversations/${cid}/messages`, { text: 'x' });
    assert.equal(busy.status, 409);
    assert.equal(errorCode(busy), 'conversation_busy');
    h.gateway.chat.stop(cid);
    const ended = parseSse((await slow).text);
    assert.equal(JSON.parse(ended[ended.length - 1]!.data).status, 'cancelled');
  });

  it('/v1/events says hello, reports agent changes, and closes 1001 when the gateway stops', async () => {
    const events = await openEvents(h.api);
    const hello = await events.next((e) => e.type === 'hello');
    assert.equal(hello.type === 'hello' && hello.state, 'running');
    h.gateway.setConfig({ ...h.gateway.config });
    await events.next((e) => e.type === 'agents.changed');
    const closed = events.closed;
    await h.gateway.stop();
    const { code } = await closed;
    assert.equal(code, 1001);
    assert.ok(events.frames.some((e) => e.type === 'gateway.state' && e.state === 'stopping'));
    await h.gateway.start();
    h.api = h.gateway.localApi!;
  });

  it('POST /v1/chat/completions is off by default (404 disabled), and with the setting serves the openai client, streaming and not', async () => {
    const off = await post('/v1/chat/completions', { model: AGENT, messages: [{ role: 'user', content: 'x' }] });
    assert.equal(off.status, 404);
    assert.equal(errorCode(off), 'disabled');
    assert.equal((off.json as { error: { type: string } }).error.type, 'invalid_request_error');

    h.gateway.setConfig({ ...h.gateway.config, localApi: { ...h.gateway.config.localApi, openAiCompatibleApi: true } });
    const client = new OpenAI({ apiKey: h.api.token, baseURL: `${h.api.url}/v1`, maxRetries: 0 });
    const models = await client.models.list();
    assert.deepEqual(models.data.map((m) => m.id).sort(), ['default-openai', AGENT]);

    server.resetStats();
    const res = await client.chat.completions.create({
      model: 'default-openai',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Hi completions' },
      ],
    });
    assert.equal(res.object, 'chat.completion');
    assert.equal(res.model, 'default-openai');
    assert.match(res.choices[0]!.message.content ?? '', /You said: \*\*Hi completions\*\*/);
    assert.equal(res.choices[0]!.finish_reason, 'stop');
    assert.ok((res.usage?.completion_tokens ?? 0) > 0);
    const sent = server.requests[0]!.body as { messages: Array<{ role: string; content: string }> };
    assert.equal(sent.messages[0]!.role, 'system');
    assert.match(sent.messages[0]!.content, /Be brief\./, "the request's system message reaches the provider");

    const stream = await client.chat.completions.create({ model: `multiclaw/${AGENT}`, messages: [{ role: 'user', content: 'Stream it' }], stream: true });
    let text = '';
    let finish: string | null = null;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    assert.match(text, /You said: \*\*Stream it\*\*/);
    assert.equal(finish, 'stop');

    await assert.rejects(
      client.chat.completions.create({ model: 'gpt-nope', messages: [{ role: 'user', content: 'x' }] }),
      (e: { status?: number }) => e.status === 404,
    );
    const failed = await post('/v1/chat/completions', { model: 'default-openai', messages: [{ role: 'user', content: 'x #scenario:auth' }] });
    assert.equal(failed.status, 502);
    assert.equal(errorCode(failed), 'provider_error');
    assert.deepEqual((failed.json as { error: { details: unknown } }).error.details, { kind: 'auth', retryable: false });
    assert.equal((await h.gateway.store.list()).length, 0, 'stateless: nothing stored');
  });

  it('writes the discovery file (0600: port, token, pid) and removes it on stop', async () => {
    const file = h.api.discoveryFile;
    const d = JSON.parse(fs.readFileSync(file, 'utf8')) as { port: number; token: string; pid: number };
    assert.deepEqual([d.port, d.token, d.pid], [h.api.port, h.api.token, process.pid]);
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    await h.gateway.stop();
    assert.ok(!fs.existsSync(file), 'removed on stop');
    assert.equal(h.gateway.localApi, undefined);
    const refused = await new Promise<string | undefined>((resolve) => {
      const s = net.connect({ host: '127.0.0.1', port: d.port });
      s.once('connect', () => {
        s.destroy();
        resolve(undefined);
      });
      s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code));
    });
    assert.equal(refused, 'ECONNREFUSED', 'nothing listens after stop');
    await h.gateway.start();
    h.api = h.gateway.localApi!;
  });

  it('falls back to a free port, with a clear log line, when the configured one is taken', async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const taken = (blocker.address() as net.AddressInfo).port;
    const h2 = await startApiGateway(server, { config: { port: taken } });
    try {
      assert.equal(h2.api.requestedPort, taken);
      assert.notEqual(h2.api.port, taken);
      assert.ok(
        h2.sink.lines.some((l) => l.includes(`port ${taken} is in use`) && l.includes(`127.0.0.1:${h2.api.port}`)),
        h2.sink.lines.join('\n'),
      );
      assert.equal((await request(h2.api, { path: '/v1/status' })).status, 200);
    } finally {
      await h2.close();
      blocker.close();
    }
  });

  it('does not start the listener when the setting is off', async () => {
    const h2 = await startApiGateway(server, { config: { enabled: false } }).catch((e: Error) => e);
    assert.ok(h2 instanceof Error && /did not start/.test(h2.message));
  });

  async function waitTask(id: string, pred: (t: LocalTask) => boolean): Promise<LocalTask> {
    const now = h.gateway.tasks.get(id);
    if (now && pred(now)) return now;
    return new Promise((resolve) => {
      const sub = h.gateway.tasks.onDidChange(({ task }) => {
        if (task.id === id && pred(task)) {
          sub.dispose();
          resolve(task);
        }
      });
    });
  }
});

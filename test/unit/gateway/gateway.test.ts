/**
 * The in-process gateway on plain Node: lifecycle, agents, chat turns against the local provider
 * server (all four wire formats), stop, retry, errors, and secrets never reaching the log.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { parseAgents } from '../../../src/gateway/agentsSchema';
import { type GatewayConfig } from '../../../src/gateway/config';
import type { ChatEvent } from '../../../src/gateway/chat/chatService';
import { Gateway, type GatewayState } from '../../../src/gateway/gateway';
import { type MemorySink, RedactingLogger } from '../../../src/gateway/log/logger';
import { Redactor } from '../../../src/gateway/log/redact';
import { startProviderServer, type ProviderServer } from '../../fixtures/providerServer';
import { configFor as baseConfig, createTestGateway, type TestGateway } from '../../support/gateway';
import { MapSecrets } from '../../support/secrets';

const configFor = (server: ProviderServer): GatewayConfig => withIdle(baseConfig(server, {}), 2_000);
const withIdle = (c: GatewayConfig, ms: number): GatewayConfig => ({ ...c, idleTimeoutMs: ms });

describe('Gateway', function () {
  let server: ProviderServer;
  let dir: string;
  let sink: MemorySink;
  let secrets: MapSecrets;
  let gateway: Gateway;

  before(async () => {
    server = await startProviderServer();
  });
  after(async () => {
    await server.close();
  });

  let t: TestGateway;

  beforeEach(async () => {
    secrets = new MapSecrets();
    t = await createTestGateway(server, { secrets, start: false, config: (c) => Object.assign(c, configFor(server)) });
    ({ gateway, dir, sink } = t);
    server.resetStats(); // also clears the scenario and the -once memory
  });

  afterEach(() => t.close());

  function events(): ChatEvent[] {
    const out: ChatEvent[] = [];
    gateway.chat.onDidEvent((e) => out.push(e));
    return out;
  }

  it('publishes stopped → starting → running → stopped as typed events', async () => {
    const states: GatewayState[] = [];
    gateway.onDidChangeState((e) => states.push(e.state));
    await gateway.start();
    assert.equal(gateway.state, 'running');
    await gateway.restart();
    await gateway.stop();
    assert.deepEqual(states, ['starting', 'running', 'stopped', 'starting', 'running', 'stopped']);
    assert.throws(() => gateway.chat, /not running/);
  });

  it('enters the error state with the reason when its storage cannot be created', async () => {
    const file = path.join(dir, 'not-a-dir');
    fs.writeFileSync(file, '');
    const redactor = new Redactor();
    const g = new Gateway({ logger: new RedactingLogger(sink, redactor), redactor, secrets, storageDir: file, config: configFor(server) });
    await assert.rejects(g.start());
    assert.equal(g.state, 'error');
    assert.match(g.lastError ?? '', /EEXIST|ENOTDIR/);
    g.dispose();
  });

  it('offers a default agent only for providers that are configured', async () => {
    await gateway.start();
    assert.deepEqual(
      gateway.agents().map((a) => a.id),
      ['default-openai-compatible'],
    );
    await gateway.keys.set('anthropic', server.keys.anthropic);
    assert.deepEqual(
      gateway
        .agents()
        .map((a) => a.id)
        .sort(),
      ['default-anthropic', 'default-openai-compatible'],
    );
    assert.equal(secrets.map.get('multiclaw.providerKey.anthropic'), server.keys.anthropic);
  });

  for (const provider of ['openai', 'anthropic', 'gemini', 'openai-compatible'] as const) {
    it(`streams a reply from ${provider}, persists it, and contacts no other provider`, async () => {
      await gateway.start();
      if (provider !== 'openai-compatible') await gateway.keys.set(provider, server.keys[provider]);
      const ev = events();
      const { conversation, done } = await gateway.chat.send(null, `default-${provider}`, 'Hi there');
      await done;
      const reply = conversation.messages[1]!;
      assert.equal(reply.status, 'complete');
      assert.match(reply.text, /You said: \*\*Hi there\*\*/);
      assert.equal(
        reply.text,
        ev
          .filter((e) => e.type === 'delta')
          .map((e) => (e as { text: string }).text)
          .join(''),
      );
      assert.ok((reply.usage?.outputTokens ?? 0) > 0, 'usage reported');
      const stats = server.stats();
      for (const other of ['openai', 'anthropic', 'gemini'] as const) if (other !== provider) assert.equal(stats.requests[other], 0, `${other} contacted`);
      // Reopen from disk: the conversation was persisted.
      await gateway.restart();
      const again = await gateway.store.open(conversation.id);
      assert.equal(again.messages[1]!.text, reply.text);
    });
  }

  it('stops a streaming reply at once and marks it cancelled', async () => {
    await gateway.start();
    await gateway.keys.set('openai', server.keys.openai);
    const ev = events();
    const firstDelta = new Promise<void>((r) =>
      gateway.chat.onDidEvent((e) => {
        if (e.type === 'delta') r();
      }),
    );
    const { conversation, done } = await gateway.chat.send(null, 'default-openai', 'long one #scenario:slow:50');
    await firstDelta;
    assert.equal(gateway.chat.stop(conversation.id), true);
    await done;
    assert.equal(conversation.messages[1]!.status, 'cancelled');
    assert.deepEqual(
      ev.filter((e) => e.type === 'busy').map((e) => (e as { busy: boolean }).busy),
      [true, false],
    );
  });

  it('turns a provider failure into an error reply, then Retry replaces it with an answer', async () => {
    await gateway.start();
    await gateway.keys.set('openai', server.keys.openai);
    const { conversation, done } = await gateway.chat.send(null, 'default-openai', 'please #scenario:context-length-once');
    await done;
    const failed = conversation.messages[1]!;
    assert.equal(failed.status, 'error');
    assert.equal(failed.error?.kind, 'context_length');
    assert.equal(failed.error?.retryable, false);
    // Retry re-runs the turn; the fixture fails only once, so the same prompt now gets an answer.
    const retried = await gateway.chat.retry(conversation.id, failed.id);
    await retried.done;
    assert.equal(conversation.messages.length, 2);
    assert.notEqual(conversation.messages[1]!.id, failed.id);
    assert.equal(conversation.messages[1]!.status, 'complete');
  });

  it('locks a conversation to its agent after the first message', async () => {
    await gateway.start();
    await gateway.keys.set('openai', server.keys.openai);
    await gateway.keys.set('anthropic', server.keys.anthropic);
    const { conversation, done } = await gateway.chat.send(null, 'default-openai', 'one');
    await done;
    await assert.rejects(gateway.chat.send(conversation.id, 'default-anthropic', 'two'), /locked to its agent/);
  });

  it('never writes a provider key, or the Authorization header carrying it, to the log', async () => {
    await gateway.start();
    const key = server.keys.openai;
    await gateway.keys.set('openai', key);
    for (const prompt of ['hello', `my key is ${key}`, 'fail #scenario:auth', 'boom #scenario:error-500']) {
      const { done } = await gateway.chat.send(null, 'default-openai', prompt);
      await done;
    }
    const log = sink.lines.join('\n');
    assert.ok(sink.lines.length > 5, 'the chats were logged');
    assert.ok(!log.includes(key), 'the key appears in the log');
    assert.ok(!/Bearer sk-/.test(log));
  });
});

describe('parseAgents (multiclaw.agents)', () => {
  it('keeps valid entries and skips each invalid or duplicate one with a reason', () => {
    const { agents, problems } = parseAgents([
      { id: 'reviewer', name: 'Reviewer', provider: 'anthropic', model: 'claude-x', systemPrompt: 'Review.' },
      { id: 'bad id!', name: 'x', provider: 'openai', model: 'm' },
      { id: 'reviewer', name: 'Dup', provider: 'openai', model: 'm' },
      { id: 'p', name: 'P', provider: 'nope', model: 'm' },
      'not an object',
    ]);
    assert.deepEqual(
      agents.map((a) => a.id),
      ['reviewer'],
    );
    assert.equal(problems.length, 4);
    // Each names the entry (index and id) and the field, once: no doubled "id: id:".
    assert.equal(problems[0], 'multiclaw.agents[1] ("bad id!") skipped: "id": 1–64 letters, digits, dot, dash or underscore');
    assert.equal(problems[1], 'multiclaw.agents[2] ("reviewer") skipped: "id": another agent already uses "reviewer"');
    assert.match(problems[2]!, /^multiclaw\.agents\[3\] \("p"\) skipped: "provider": /);
    assert.equal(problems[3], 'multiclaw.agents[4] skipped: it must be an object with id, name, provider and model');
    assert.equal(parseAgents([{ id: 'x', provider: 'openai', model: 'm' }]).problems[0], 'multiclaw.agents[0] ("x") skipped: "name" is missing');
  });

  it('ignores a non-array value', () => {
    assert.deepEqual(parseAgents({ id: 'x' }).agents, []);
    assert.match(parseAgents('x').problems[0]!, /must be an array/);
  });
});

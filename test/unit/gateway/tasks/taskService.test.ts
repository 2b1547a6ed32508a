/**
 * Local tasks on plain Node against the provider fixture server: dispatch → a linked conversation →
 * completed/failed/cancelled, the queue, events, persistence across restarts (atomic, 0600), tasks
 * interrupted by a stop, a corrupt file and bad records, and the workspace protocol's status words.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type Gateway } from '../../../../src/gateway/gateway';
import { type MemorySink, RedactingLogger } from '../../../../src/gateway/log/logger';
import { Redactor } from '../../../../src/gateway/log/redact';
import { type LocalTask, TaskError, type TaskChange, TaskService } from '../../../../src/gateway/tasks/taskService';
import { TERMINAL_TASK_STATUSES, taskStatusSchema } from '../../../../src/protocol/workspace/common';
import { localTaskStatusSchema, TERMINAL_LOCAL_TASK_STATUSES } from '../../../../src/protocol/localApi';
import { startProviderServer, type ProviderServer } from '../../../fixtures/providerServer';
import { createTestGateway } from '../../../support/gateway';
import { until as untilState } from '../../../support/wait';

const AGENT = 'default-openai-compatible';

function until(service: TaskService, id: string, pred: (t: LocalTask) => boolean): Promise<LocalTask> {
  return untilState(
    service.onDidChange,
    () => {
      const t = service.get(id);
      return t && pred(t) ? t : undefined;
    },
    15_000,
    `task ${id}`,
  );
}

const finished = (t: LocalTask): boolean => ['completed', 'failed', 'cancelled'].includes(t.status);

describe('TaskService (local tasks)', function () {
  let server: ProviderServer;
  let dir: string;
  let sink: MemorySink;
  let gateway: Gateway;

  before(async () => {
    server = await startProviderServer();
  });
  after(async () => {
    await server.close();
  });
  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mc-tasks-'));
    await newGateway();
  });
  afterEach(async () => {
    await gateway.stop();
    gateway.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function newGateway(): Promise<void> {
    ({ gateway, sink } = await createTestGateway(server, {
      dir,
      config: (c) => {
        c.maxAttempts = 1;
      },
    }));
  }

  const tasksFile = (): string => path.join(dir, 'tasks.json');
  const onDisk = (): LocalTask[] => (JSON.parse(fs.readFileSync(tasksFile(), 'utf8')) as { tasks: LocalTask[] }).tasks;

  it("uses the workspace protocol's status words (a subset), with the same terminal ones", () => {
    for (const s of localTaskStatusSchema.options) assert.ok(taskStatusSchema.options.includes(s), s);
    assert.deepEqual([...TERMINAL_LOCAL_TASK_STATUSES].sort(), [...TERMINAL_TASK_STATUSES].sort());
  });

  it('dispatch → queued → running → completed, in a conversation linked to the task, persisted', async () => {
    const changes: TaskChange[] = [];
    gateway.tasks.onDidChange((c) => changes.push(c));
    const output: string[] = [];
    gateway.tasks.onDidOutput((o) => output.push(o.text));
    const task = await gateway.tasks.dispatch({ agentId: AGENT, prompt: 'Write the release notes\nfor 1.2', context: { version: '1.2' } });
    assert.equal(task.title, 'Write the release notes');
    const done = await until(gateway.tasks, task.id, finished);
    assert.equal(done.status, 'completed');
    assert.deepEqual(
      changes.map((c) => `${c.kind}:${c.task.status}`),
      ['created:queued', 'updated:running', 'updated:completed'],
    );
    assert.ok(done.startedAt && done.finishedAt && done.startedAt <= done.finishedAt);
    assert.equal(done.result?.text, output.join(''));
    assert.match(done.result?.text ?? '', /You said: \*\*Write the release notes/);

    const conv = await gateway.store.open(done.conversationId!);
    assert.equal(conv.meta.taskId, task.id);
    assert.equal(conv.meta.agentId, AGENT);
    assert.match(conv.messages[0]!.text, /Context:\n```json\n\{\n {2}"version": "1.2"\n\}\n```$/);
    assert.equal(conv.messages[0]!.origin, 'task', "a task's prompt is marked as the task's, not the user speaking");
    assert.ok(
      (await gateway.store.list()).some((s) => s.taskId === task.id),
      'listed with its task id',
    );

    await gateway.tasks.flush();
    assert.equal(onDisk().find((t) => t.id === task.id)?.status, 'completed');
    assert.equal(fs.statSync(tasksFile()).mode & 0o777, 0o600);
    assert.deepEqual(
      fs.readdirSync(dir).filter((f) => f.includes('.tmp')),
      [],
      'no temp file left',
    );
  });

  it('a provider failure → failed with the error; unknown and unconfigured agents are refused', async () => {
    const task = await gateway.tasks.dispatch({ agentId: AGENT, prompt: 'boom #scenario:error-500' });
    const done = await until(gateway.tasks, task.id, finished);
    assert.equal(done.status, 'failed');
    assert.ok(done.error && done.error.kind !== 'internal' && done.error.message.length > 0, JSON.stringify(done.error));
    await assert.rejects(gateway.tasks.dispatch({ agentId: 'nope', prompt: 'x' }), (e: unknown) => e instanceof TaskError && e.code === 'agent_not_found');
    gateway.setConfig({ ...gateway.config, agents: [{ id: 'keyless', name: 'K', provider: 'gemini', model: 'm' }] });
    await assert.rejects(gateway.tasks.dispatch({ agentId: 'keyless', prompt: 'x' }), (e: unknown) => e instanceof TaskError && e.code === 'agent_unavailable');
  });

  it('cancel stops the running turn; a queued task is cancelled before it starts', async () => {
    const service = await TaskService.open({
      file: path.join(dir, 'other-tasks.json'),
      store: gateway.store,
      chat: gateway.chat,
      agents: () => gateway.agents(),
      logger: new RedactingLogger(sink, new Redactor()),
      maxConcurrent: 1,
    });
    try {
      const firstOutput = new Promise<void>((r) => {
        const s = service.onDidOutput(() => {
          s.dispose();
          r();
        });
      });
      const a = await service.dispatch({ agentId: AGENT, prompt: 'slow #scenario:slow:100' });
      const b = await service.dispatch({ agentId: AGENT, prompt: 'waits' });
      await firstOutput;
      assert.equal(service.get(a.id)?.status, 'running');
      assert.equal(service.get(b.id)?.status, 'queued', 'one at a time');
      const cb = await service.cancel(b.id);
      assert.equal(cb.status, 'cancelled');
      assert.equal(cb.conversationId, null, 'it never started');
      const ca = await service.cancel(a.id);
      assert.equal(ca.status, 'cancelled');
      const conv = await gateway.store.open(ca.conversationId!);
      assert.equal(conv.messages[1]!.status, 'cancelled');
      await assert.rejects(service.cancel(a.id), (e: unknown) => e instanceof TaskError && e.code === 'task_finished');
      await assert.rejects(service.cancel('nope'), (e: unknown) => e instanceof TaskError && e.code === 'task_not_found');
      const c = await service.dispatch({ agentId: AGENT, prompt: 'next' });
      assert.equal((await until(service, c.id, finished)).status, 'completed', 'the queue moves on');
      assert.deepEqual(
        service.list({ status: 'cancelled' }).map((t) => t.id),
        [b.id, a.id],
      );
      assert.deepEqual(
        service.list({ limit: 1 }).map((t) => t.id),
        [c.id],
      );
    } finally {
      await service.close();
    }
  });

  it('keeps tasks across restarts; a stop interrupts a running task (failed) and keeps queued ones for the next start', async () => {
    const done = await gateway.tasks.dispatch({ agentId: AGENT, prompt: 'kept' });
    await until(gateway.tasks, done.id, finished);
    const firstOutput = new Promise<void>((r) => {
      const s = gateway.tasks.onDidOutput(() => {
        s.dispose();
        r();
      });
    });
    const running = await gateway.tasks.dispatch({ agentId: AGENT, prompt: 'slow #scenario:slow:100' });
    await firstOutput;
    await gateway.restart();
    const kept = gateway.tasks.get(done.id)!;
    assert.equal(kept.status, 'completed');
    assert.match(kept.result?.text ?? '', /kept/);
    const interrupted = gateway.tasks.get(running.id)!;
    assert.equal(interrupted.status, 'failed');
    assert.equal(interrupted.error?.kind, 'interrupted');

    // A file left by a crash: a task still "running" and one still "queued".
    await gateway.stop();
    const now = new Date().toISOString();
    const base = {
      title: 't',
      agentId: AGENT,
      context: null,
      conversationId: null,
      createdAt: now,
      updatedAt: now,
      startedAt: null,
      finishedAt: null,
      result: null,
      error: null,
    };
    fs.writeFileSync(
      tasksFile(),
      JSON.stringify({
        version: 1,
        tasks: [
          { ...base, id: 'crashed-running', prompt: 'p', status: 'running', startedAt: now },
          { ...base, id: 'crashed-queued', prompt: 'queued after a crash', status: 'queued' },
        ],
      }),
    );
    await newGateway();
    assert.equal(gateway.tasks.get('crashed-running')?.status, 'failed');
    assert.equal(gateway.tasks.get('crashed-running')?.error?.kind, 'interrupted');
    const resumed = await until(gateway.tasks, 'crashed-queued', finished);
    assert.equal(resumed.status, 'completed', 'a queued task runs at the next start');
    assert.ok(sink.lines.some((l) => /1 interrupted by the last stop marked failed/.test(l)));
  });

  it('a corrupt tasks file → one clear log line, moved aside, an empty list; conversations and the gateway are fine', async () => {
    const { conversation, done } = await gateway.chat.send(null, AGENT, 'a conversation that must survive');
    await done;
    await gateway.stop();
    fs.writeFileSync(tasksFile(), '{"version":1,"tasks":[{"id":"x", tor');
    await newGateway();
    assert.equal(gateway.state, 'running');
    assert.deepEqual(gateway.tasks.list(), []);
    const line = sink.lines.find((l) => /tasks file .* is corrupt/.test(l));
    assert.ok(line, sink.lines.join('\n'));
    assert.match(line, /^error /);
    assert.match(line, /not valid JSON.*moved to .*tasks\.json\.corrupt-.*Conversations are not affected/);
    const aside = fs.readdirSync(dir).filter((f) => f.startsWith('tasks.json.corrupt-'));
    assert.equal(aside.length, 1);
    assert.equal(fs.readFileSync(path.join(dir, aside[0]!), 'utf8'), '{"version":1,"tasks":[{"id":"x", tor', 'the corrupt bytes are kept');
    assert.ok(
      (await gateway.store.list()).some((s) => s.id === conversation.id),
      'the conversation is still there',
    );
    const t = await gateway.tasks.dispatch({ agentId: AGENT, prompt: 'works again' });
    assert.equal((await until(gateway.tasks, t.id, finished)).status, 'completed');
    await gateway.tasks.flush();
    assert.equal(onDisk().length, 1, 'a fresh file is written');
  });

  it('a bad record is skipped with a log line; the others load', async () => {
    const t = await gateway.tasks.dispatch({ agentId: AGENT, prompt: 'good one' });
    await until(gateway.tasks, t.id, finished);
    await gateway.stop();
    const file = JSON.parse(fs.readFileSync(tasksFile(), 'utf8')) as { version: number; tasks: unknown[] };
    file.tasks.push({ id: 'bad', status: 'exploded' }, file.tasks[0]);
    fs.writeFileSync(tasksFile(), JSON.stringify(file));
    await newGateway();
    assert.deepEqual(
      gateway.tasks.list().map((x) => x.id),
      [t.id],
    );
    assert.ok(
      sink.lines.some((l) => /record 1 skipped \(.*status/.test(l)),
      sink.lines.join('\n'),
    );
    assert.ok(sink.lines.some((l) => /record 2 skipped \(duplicate id/.test(l)));
  });

  it('writes coalesce: a burst of dispatches ends in one consistent file', async () => {
    const ids = (await Promise.all(Array.from({ length: 20 }, (_, i) => gateway.tasks.dispatch({ agentId: AGENT, prompt: `burst ${i}` })))).map((t) => t.id);
    await Promise.all(ids.map((id) => until(gateway.tasks, id, finished)));
    await gateway.tasks.flush();
    const disk = onDisk();
    assert.deepEqual(disk.map((t) => t.id).sort(), [...ids].sort());
    assert.ok(disk.every((t) => t.status === 'completed'));
  });
});

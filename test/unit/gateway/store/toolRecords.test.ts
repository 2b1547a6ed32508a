/** Tool calls and results in the conversation file: written with the reply, replayed as cards, and a call left unanswered closed as interrupted. */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { historyOf } from '../../../../src/gateway/agent/history';
import { ConversationStore } from '../../../../src/gateway/store/conversationStore';
import { MAX_RESULT_CONTENT } from '../../../../src/gateway/store/records';
import { ManualClock, MemoryLogger, TempDirs, writeRealisticConversation } from './helpers';

describe('ConversationStore: tool calls and results', () => {
  const temp = new TempDirs();
  let clock: ManualClock;
  let logger: MemoryLogger;

  beforeEach(() => {
    clock = new ManualClock();
    logger = new MemoryLogger();
  });
  afterEach(() => temp.cleanup());

  it('writes calls with the reply end and results after it, and replays both as cards and as provider history', async () => {
    const dir = temp.make();
    const store = new ConversationStore(dir, logger, clock);
    const conv = await writeRealisticConversation(store, clock);
    const live = conv.messages.at(-1)!.toolCalls!;
    const file = store.filePath(conv.id);
    await store.close();
    const lines = readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { t: string });
    assert.deepEqual(
      lines.slice(-6).map((r) => r.t),
      ['chunk', 'call', 'call', 'end', 'result', 'result'],
    );
    const again = await new ConversationStore(dir, logger, clock).open(conv.id);
    assert.deepEqual(again.repairs, []);
    const cards = again.messages.at(-1)!.toolCalls!;
    assert.deepEqual(
      cards.map((c) => [c.id, c.name, c.kind, c.subject, c.status, c.exitCode]),
      [
        ['call_1', 'read_file', 'read', 'a.ts', 'done', undefined],
        ['call_2', 'run_command', 'command', 'npm test', 'error', 1],
      ],
    );
    assert.deepEqual(cards, live);
    const history = historyOf(again).slice(-3);
    assert.deepEqual(history[0], {
      role: 'assistant',
      content: 'Reading.',
      toolCalls: [
        { id: 'call_1', name: 'read_file', arguments: { path: 'a.ts' } },
        { id: 'call_2', name: 'run_command', arguments: { command: 'npm test' }, providerData: { thoughtSignature: 'sig' } },
      ],
    });
    assert.deepEqual(history[2], {
      role: 'tool',
      toolCallId: 'call_2',
      toolName: 'run_command',
      content: '$ npm test\n1 failing\n[exit code 1]',
      isError: true,
    });
  });

  it('closes a call without a result as interrupted on load; the history answers it', async () => {
    const dir = temp.make();
    const store = new ConversationStore(dir, logger, clock);
    const conv = await store.create({ agentId: 'a' });
    await conv.appendUser('go');
    const r = await conv.beginAssistant('a');
    conv.addToolCalls(r.id, [{ call: { id: 'c1', name: 'run_command', arguments: { command: 'make' } }, kind: 'command', subject: 'make' }]);
    await conv.finishAssistant(r.id, { status: 'complete', finishReason: 'tool_calls' });
    await store.close();
    const again = await new ConversationStore(dir, logger, clock).open(conv.id);
    assert.equal(again.messages[1]!.toolCalls![0]!.status, 'interrupted');
    assert.match(again.repairs.join('\n'), /c1 \(run_command\) has no result; closed as interrupted/);
    const last = historyOf(again).at(-1)!;
    assert.equal(last.role, 'tool');
    assert.match(last.role === 'tool' ? last.content : '', /interrupted/);
  });

  it('caps a huge result at 50 KiB with a note, skips a result for an unknown call, and a torn result line is dropped', async () => {
    const dir = temp.make();
    const store = new ConversationStore(dir, logger, clock);
    const conv = await store.create({ agentId: 'a' });
    await conv.appendUser('go');
    const r = await conv.beginAssistant('a');
    conv.addToolCalls(r.id, [{ call: { id: 'c1', name: 'read_file', arguments: { path: 'x' } }, kind: 'read', subject: 'x' }]);
    await conv.finishAssistant(r.id, { status: 'complete' });
    const view = await conv.appendToolResult(r.id, { callId: 'c1', status: 'done', content: 'x'.repeat(200_000), durationMs: 1 }, true);
    assert.ok(view.result!.length <= 50_000);
    await assert.rejects(conv.appendToolResult(r.id, { callId: 'nope', status: 'done', content: '', durationMs: 0 }), /no call nope/);
    const file = store.filePath(conv.id);
    await store.close();
    const text = readFileSync(file, 'utf8');
    const stored = JSON.parse(text.trim().split('\n').at(-1)!) as { content: string };
    assert.ok(stored.content.length <= MAX_RESULT_CONTENT + 200);
    assert.match(stored.content, /cut: 200000 characters in all/);
    writeFileSync(
      file,
      text + `{"t":"result","id":"${r.id}","callId":"ghost","status":"done","content":"","durationMs":0,"ts":1}\n{"t":"result","id":"${r.id}","cal`,
    );
    const again = await new ConversationStore(dir, logger, clock).open(conv.id);
    assert.equal(again.messages[1]!.toolCalls!.length, 1);
    assert.match(again.repairs.join('\n'), /result for an unknown call \(ghost\)/);
    assert.match(again.repairs.join('\n'), /torn last line/);
  });
});

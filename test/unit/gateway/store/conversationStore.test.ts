import assert from 'node:assert/strict';
import { existsSync, promises as fs, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { type ChatViewMessage, chatMessageSchema } from '../../../../src/protocol/chatView';
import { type ConversationChange, ConversationNotFoundError, ConversationStore, DELTA_FLUSH_MS } from '../../../../src/gateway/store/conversationStore';
import { ManualClock, TempDirs, MemoryLogger, streamReply, writeRealisticConversation } from './helpers';

function fileLines(file: string): unknown[] {
  const text = readFileSync(file, 'utf8');
  assert.ok(text.endsWith('\n'), 'file ends with a newline');
  return text
    .slice(0, -1)
    .split('\n')
    .map((l) => JSON.parse(l) as unknown);
}

describe('ConversationStore', () => {
  const temp = new TempDirs();
  const stores: ConversationStore[] = [];
  let clock: ManualClock;
  let logger: MemoryLogger;

  function newStore(dir: string): ConversationStore {
    const s = new ConversationStore(dir, logger, clock);
    stores.push(s);
    return s;
  }

  beforeEach(() => {
    clock = new ManualClock();
    logger = new MemoryLogger();
  });

  afterEach(async () => {
    await Promise.all(stores.splice(0).map((s) => s.close()));
    temp.cleanup();
  });

  it('round-trips a conversation through a fresh store', async () => {
    const dir = temp.make();
    const conv = await writeRealisticConversation(newStore(dir), clock);
    const again = await newStore(dir).open(conv.id);
    assert.notEqual(again, conv);
    assert.deepEqual(again.repairs, []);
    assert.deepEqual(again.meta, conv.meta);
    assert.deepEqual(again.messages, conv.messages);
    assert.deepEqual(again.meta, {
      id: conv.id,
      title: 'Parser questions',
      agentId: 'agent-b',
      createdAt: 1_700_000_000_000,
      taskId: 'task-7',
    });
    assert.deepEqual(
      again.messages.map((m) => [m.role, m.status, m.text]),
      [
        ['user', 'complete', 'Explain the parser\nwith an example'],
        ['assistant', 'complete', 'The parser reads tokens one by one.'],
        ['user', 'complete', 'Ünïcödé: 日本語 🎉 "quotes" \\ backslash'],
        ['assistant', 'complete', 'Second try 🎉'],
        ['user', 'complete', 'Stop halfway'],
        ['assistant', 'cancelled', 'Half'],
        ['user', 'complete', 'Read a.ts and run the tests'],
        ['assistant', 'complete', 'Reading.'],
      ],
    );
    assert.deepEqual(again.messages[1].usage, { inputTokens: 12, outputTokens: 7, cachedInputTokens: 4, provider: 'openai', model: 'gpt-4o-mini' });
    assert.equal(again.messages[1].finishReason, 'stop');
    assert.equal(again.messages[5].agentId, 'agent-b');
    // The chat view can show stored messages as they are.
    const asView: ChatViewMessage[] = again.messages.map((m) => chatMessageSchema.parse(m));
    assert.equal(asView.length, 8);
  });

  it('keeps error details of a failed reply', async () => {
    const dir = temp.make();
    const conv = await newStore(dir).create({ agentId: 'a' });
    await conv.appendUser('hi');
    const id = await streamReply(conv, clock, 'a', ['par']);
    await conv.finishAssistant(id, { status: 'error', error: { kind: 'auth', message: 'x'.repeat(5000), retryable: false } });
    const again = await newStore(dir).open(conv.id);
    assert.equal(again.messages[1].status, 'error');
    assert.equal(again.messages[1].text, 'par');
    assert.equal(again.messages[1].error?.kind, 'auth');
    assert.equal(again.messages[1].error?.message.length, 4000, 'long messages are cut to what the chat view accepts');
    assert.deepEqual(again.repairs, []);
  });

  it('writes buffered deltas with the end record, without waiting for the timer', async () => {
    const dir = temp.make();
    const store = newStore(dir);
    const conv = await store.create({ agentId: 'a' });
    const reply = await conv.beginAssistant('a');
    conv.appendDelta(reply.id, 'a');
    conv.appendDelta(reply.id, 'b');
    conv.appendDelta(reply.id, 'c');
    assert.deepEqual(clock.pending, [DELTA_FLUSH_MS], 'one flush timer for the batch');
    assert.equal(conv.messages[0].text, 'abc', 'deltas show in memory at once');
    await conv.finishAssistant(reply.id, { status: 'complete' });
    assert.deepEqual(clock.pending, [], 'finishing cancels the timer');
    const records = fileLines(store.filePath(conv.id));
    assert.deepEqual(records.slice(2), [
      { t: 'chunk', id: reply.id, text: 'abc' },
      { t: 'end', id: reply.id, status: 'complete', ts: clock.time },
    ]);
    const again = await newStore(dir).open(conv.id);
    assert.equal(again.messages[0].text, 'abc');
    assert.equal(again.messages[0].status, 'complete');
  });

  it('flush() writes buffered text of every open conversation (before an export)', async () => {
    const dir = temp.make();
    const store = newStore(dir);
    const conv = await store.create({ agentId: 'a' });
    const reply = await conv.beginAssistant('a');
    conv.appendDelta(reply.id, 'streamed so far');
    await store.flush();
    assert.deepEqual(clock.pending, []);
    assert.deepEqual(fileLines(store.filePath(conv.id)).at(-1), { t: 'chunk', id: reply.id, text: 'streamed so far' });
    assert.equal(conv.messages[0].status, 'streaming', 'flushing does not end the reply');
  });

  it('loses at most the unflushed delta batch when the window dies mid-reply', async () => {
    const dir = temp.make();
    const conv = await newStore(dir).create({ agentId: 'a' });
    await conv.appendUser('question');
    const reply = await conv.beginAssistant('a');
    conv.appendDelta(reply.id, 'first ');
    conv.appendDelta(reply.id, 'batch. ');
    clock.fireTimers(); // the flush timer: this batch is appended
    await conv.whenIdle();
    conv.appendDelta(reply.id, 'lost batch');
    assert.equal(conv.messages[1].text, 'first batch. lost batch');
    // "Crash": the first store is never flushed or closed; another window opens the file.
    const other = new ConversationStore(dir, logger, clock);
    const again = await other.open(conv.id);
    assert.equal(again.messages[1].text, 'first batch. ');
    assert.equal(again.messages[1].status, 'interrupted');
    assert.equal(again.messages[0].text, 'question');
    assert.ok(
      again.repairs.some((r) => r.includes('marked interrupted')),
      again.repairs.join('; '),
    );
    assert.ok(logger.entries.some((l) => l.level === 'warn' && l.text.includes('repaired on load')));
    other.dispose();
    conv.discard().catch(() => undefined); // drop the crashed window's buffer so nothing writes later
  });

  it('serialises concurrent appends: every line whole, order kept', async () => {
    const dir = temp.make();
    const store = newStore(dir);
    const conv = await store.create({ agentId: 'a' });
    const big = 'x'.repeat(200_000);
    const [r1, r2] = await Promise.all([conv.beginAssistant('a'), conv.beginAssistant('b')]);
    const writes: Promise<unknown>[] = [];
    for (let i = 0; i < 40; i++) {
      writes.push(conv.appendUser(i % 5 === 0 ? `${i} ${big}` : `msg ${i}`));
      conv.appendDelta(r1.id, `a${i} `);
      conv.appendDelta(r2.id, `b${i} `);
      if (i % 7 === 0) clock.fireTimers();
    }
    writes.push(conv.finishAssistant(r1.id, { status: 'complete' }), conv.finishAssistant(r2.id, { status: 'complete' }));
    await Promise.all(writes);
    const lines = fileLines(store.filePath(conv.id)); // throws if any line is not whole JSON
    assert.ok(lines.length > 44);
    const again = await newStore(dir).open(conv.id);
    assert.deepEqual(again.repairs, []);
    const users = again.messages.filter((m) => m.role === 'user').map((m) => (m.text.length > 1000 ? m.text.split(' ')[0] : m.text));
    assert.deepEqual(
      users,
      Array.from({ length: 40 }, (_, i) => (i % 5 === 0 ? `${i}` : `msg ${i}`)),
    );
    const expected = (p: string): string => Array.from({ length: 40 }, (_, i) => `${p}${i} `).join('');
    assert.equal(again.messages.find((m) => m.id === r1.id)?.text, expected('a'));
    assert.equal(again.messages.find((m) => m.id === r2.id)?.text, expected('b'));
    assert.equal(again.messages.filter((m) => m.text.length > 200_000).length, 8);
  });

  it('derives the title from the first user message until one is set', async () => {
    const dir = temp.make();
    const conv = await newStore(dir).create({ agentId: null });
    assert.equal(conv.meta.title, 'New conversation');
    await conv.appendUser('\n   Please refactor the tokenizer so that it handles nested template literals correctly   \nmore');
    await conv.appendUser('second message');
    const derived = conv.meta.title;
    assert.ok(derived.startsWith('Please refactor the tokenizer'), derived);
    assert.ok(derived.length <= 60 && derived.endsWith('…'), derived);
    assert.equal((await newStore(dir).open(conv.id)).meta.title, derived);
    await conv.setTitle('  Tokenizer\nwork ');
    assert.equal(conv.meta.title, 'Tokenizer work');
    assert.equal((await newStore(dir).open(conv.id)).meta.title, 'Tokenizer work');
    await conv.setTitle('');
    assert.equal((await newStore(dir).open(conv.id)).meta.title, derived);
    const titled = await newStore(dir).create({ title: 'Given', agentId: 'a' });
    await titled.appendUser('ignored for the title');
    assert.equal(titled.meta.title, 'Given');
  });

  it('lists most recent first with snippets and counts, from the index and from a fresh scan', async () => {
    const dir = temp.make();
    const store = newStore(dir);
    const a = await store.create({ agentId: 'a' });
    clock.advance(1000);
    const b = await store.create({ agentId: 'b', title: 'Bee' });
    clock.advance(1000);
    const c = await store.create({ agentId: null });
    clock.advance(1000);
    await a.appendUser('hello');
    const reply = await streamReply(a, clock, 'a', ['Hi!   How\n\ncan I ', 'help? ', 'y'.repeat(300)]);
    await a.finishAssistant(reply, { status: 'complete' });
    clock.advance(1000);
    await b.appendUser('bee question');
    const listed = await store.list();
    assert.deepEqual(
      listed.map((s) => s.id),
      [b.id, a.id, c.id],
    );
    const sa = listed[1];
    assert.equal(sa.messageCount, 2);
    assert.equal(sa.title, 'hello');
    assert.ok(sa.snippet.startsWith('Hi! How can I help? yyy'), sa.snippet);
    assert.ok(sa.snippet.length <= 100 && sa.snippet.endsWith('…'));
    assert.equal(listed[0].snippet, 'bee question');
    assert.equal(listed[0].title, 'Bee');
    assert.equal(listed[2].snippet, '');
    assert.equal(listed[2].messageCount, 0);
    await store.close();
    const scanned = await newStore(dir).list();
    assert.deepEqual(scanned, listed, 'a scan of the files agrees with the live index');
  });

  it("answers list() from its index; refresh picks up other windows' files", async () => {
    const dir = temp.make();
    const store = newStore(dir);
    const conv = await store.create({ agentId: 'a' });
    await conv.appendUser('mine');
    await conv.close();
    assert.equal((await store.list()).length, 1);
    const otherId = '0b8f0c4e-4a52-4a8e-9d2e-1f2a3b4c5d6e';
    await fs.copyFile(store.filePath(conv.id), path.join(dir, `${otherId}.jsonl`));
    await fs.rm(store.filePath(conv.id));
    writeFileSync(path.join(dir, 'notes.txt'), 'not a conversation');
    assert.deepEqual(
      (await store.list()).map((s) => s.id),
      [conv.id],
      'no re-read without refresh',
    );
    const refreshed = await store.list({ refresh: true });
    assert.deepEqual(
      refreshed.map((s) => s.id),
      [otherId],
    );
    assert.equal(refreshed[0].snippet, 'mine');
  });

  it('deletes a conversation, its file and its index entry, even with writes pending', async () => {
    const dir = temp.make();
    const store = newStore(dir);
    const events: ConversationChange[] = [];
    store.onDidChange((e) => events.push(e));
    const conv = await store.create({ agentId: 'a' });
    const keep = await store.create({ agentId: 'a' });
    await conv.appendUser('hello');
    const reply = await conv.beginAssistant('a');
    conv.appendDelta(reply.id, 'buffered');
    const file = store.filePath(conv.id);
    // Queued just before the delete: it is either written before the file goes, or refused.
    const pending = conv.appendUser('queued just before delete').then(
      () => 'written',
      (e: Error) => e.message,
    );
    await store.delete(conv.id);
    assert.match(await pending, /^written$|was deleted/);
    assert.equal(existsSync(file), false);
    clock.fireTimers();
    await conv.whenIdle();
    assert.equal(existsSync(file), false, 'no buffered write recreates the file');
    await assert.rejects(conv.appendUser('late'), /closed/);
    await assert.rejects(store.open(conv.id), ConversationNotFoundError);
    assert.deepEqual(
      (await store.list()).map((s) => s.id),
      [keep.id],
    );
    const kinds = events.filter((e) => e.id === conv.id).map((e) => e.kind);
    assert.deepEqual([kinds[0], kinds.at(-1)], ['created', 'deleted']);
    assert.ok(kinds.slice(1, -1).every((k) => k === 'updated') && kinds.length >= 4, kinds.join());
    await store.delete(conv.id); // deleting again is harmless
  });

  it('never recreates a file another window deleted', async () => {
    const dir = temp.make();
    const store = newStore(dir);
    const conv = await store.create({ agentId: 'a' });
    const reply = await conv.beginAssistant('a');
    await fs.rm(store.filePath(conv.id));
    conv.appendDelta(reply.id, 'text');
    await conv.flush();
    await assert.rejects(conv.appendUser('q'), /ENOENT/);
    assert.equal(existsSync(store.filePath(conv.id)), false);
    assert.ok(logger.entries.some((l) => l.level === 'error' && l.text.includes('could not write streamed text')));
  });

  it('rejects ids that are not conversation ids (no path traversal)', async () => {
    const root = temp.make();
    const dir = path.join(root, 'conversations');
    const outside = path.join(root, 'x.jsonl');
    writeFileSync(outside, '{"v":1}\n');
    const store = newStore(dir);
    for (const bad of [
      '../x',
      '..\\x',
      'x',
      '',
      '/etc/passwd',
      '0B8F0C4E-4A52-4A8E-9D2E-1F2A3B4C5D6E',
      '0b8f0c4e-4a52-4a8e-9d2e-1f2a3b4c5d6e.jsonl',
      '0b8f0c4e-4a52-4a8e-9d2e-1f2a3b4c5d6e/../../x',
    ]) {
      await assert.rejects(store.open(bad), /Invalid conversation id/, bad);
      await assert.rejects(store.delete(bad), /Invalid conversation id/, bad);
      assert.throws(() => store.filePath(bad), /Invalid conversation id/, bad);
    }
    assert.equal(existsSync(outside), true);
    await assert.rejects(store.open('0b8f0c4e-4a52-4a8e-9d2e-1f2a3b4c5d6e'), ConversationNotFoundError);
  });

  it('caches open conversations and reloads after close, with buffered text written', async () => {
    const dir = temp.make();
    const store = newStore(dir);
    const conv = await store.create({ agentId: 'a' });
    assert.equal(await store.open(conv.id), conv);
    const other = newStore(dir);
    const [x, y] = await Promise.all([other.open(conv.id), other.open(conv.id)]);
    assert.equal(x, y, 'concurrent opens share one load');
    const reply = await conv.beginAssistant('a');
    conv.appendDelta(reply.id, 'kept on close');
    await conv.close();
    assert.equal(conv.isClosed, true);
    assert.throws(() => conv.appendDelta(reply.id, 'more'), /closed/);
    const reopened = await store.open(conv.id);
    assert.notEqual(reopened, conv);
    assert.equal(reopened.messages[0].text, 'kept on close');
    assert.equal(reopened.messages[0].status, 'interrupted');
  });

  it('refuses deltas for a reply that is not streaming', async () => {
    const conv = await newStore(temp.make()).create({ agentId: 'a' });
    const user = await conv.appendUser('q');
    assert.throws(() => conv.appendDelta(user.id, 'x'), /not a streaming reply/);
    assert.throws(() => conv.appendDelta('nope', 'x'), /not a streaming reply/);
    const reply = await conv.beginAssistant('a');
    await conv.finishAssistant(reply.id, { status: 'complete' });
    assert.throws(() => conv.appendDelta(reply.id, 'x'), /not a streaming reply/);
    await assert.rejects(conv.finishAssistant(reply.id, { status: 'complete' }), /not a streaming reply/);
    await assert.rejects(conv.removeMessage('nope'), /no message/);
  });
});

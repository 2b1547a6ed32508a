/**
 * Branches in the conversation file (branchTree.ts, `fork` and `branch` records): an edited message
 * and a regenerated reply fork the conversation, both branches stay on disk and survive a reload, a
 * branch record switches between them, a fork no message followed is undone on load, files without
 * these records load as one branch, and a damaged fork or branch record is skipped with a note.
 */
import assert from 'node:assert/strict';
import { appendFileSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ConversationStore, type Conversation } from '../../../../src/gateway/store/conversationStore';
import { ManualClock, MemoryLogger, TempDirs, streamReply } from './helpers';

const texts = (c: Conversation): string[] => c.messages.map((m) => m.text);
const recordTypes = (file: string): string[] =>
  readFileSync(file, 'utf8')
    .trimEnd()
    .split('\n')
    .map((l) => (JSON.parse(l) as { t: string }).t);

describe('ConversationStore: branches', () => {
  const temp = new TempDirs();
  const stores: ConversationStore[] = [];
  let clock: ManualClock;
  let dir: string;

  function newStore(): ConversationStore {
    const s = new ConversationStore(dir, new MemoryLogger(), clock);
    stores.push(s);
    return s;
  }

  /** A fresh store's view of the file (what the next window loads). */
  async function reload(id: string): Promise<Conversation> {
    return newStore().open(id);
  }

  async function reply(c: Conversation, text: string): Promise<string> {
    const id = await streamReply(c, clock, 'a', [text]);
    await c.finishAssistant(id, { status: 'complete', finishReason: 'stop' });
    return id;
  }

  /** U1 R1 U2 R2. */
  async function twoTurns(): Promise<{ c: Conversation; ids: string[] }> {
    const c = await newStore().create({ agentId: 'a' });
    const u1 = (await c.appendUser('one')).id;
    const r1 = await reply(c, 'reply one');
    const u2 = (await c.appendUser('two')).id;
    const r2 = await reply(c, 'reply two');
    return { c, ids: [u1, r1, u2, r2] };
  }

  beforeEach(() => {
    clock = new ManualClock();
    dir = temp.make();
  });

  afterEach(async () => {
    await Promise.all(stores.splice(0).map((s) => s.close()));
    temp.cleanup();
  });

  it('an edit forks after the message before it; both branches stay on disk and reload', async () => {
    const { c, ids } = await twoTurns();
    const [, r1, u2, r2] = ids;
    const edited = await c.fork(r1, { text: 'two, edited' });
    assert.ok(edited);
    await reply(c, 'reply to the edit');
    assert.deepEqual(texts(c), ['one', 'reply one', 'two, edited', 'reply to the edit']);
    assert.deepEqual(c.branchOf(edited.id), { index: 2, count: 2 });
    assert.deepEqual(c.branchOf(u2), { index: 1, count: 2 });
    assert.equal(c.branchOf(r1), undefined, 'before the fork: one branch');
    assert.equal(c.siblingOf(edited.id, -1), u2);
    assert.equal(c.siblingOf(edited.id, 1), undefined);
    assert.equal(c.summary.messageCount, 4);
    const file = path.join(dir, `${c.id}.jsonl`);
    assert.deepEqual(recordTypes(file).slice(-6), ['end', 'fork', 'user', 'start', 'chunk', 'end'], 'the fork and the new message, appended');

    const again = await reload(c.id);
    assert.deepEqual(texts(again), texts(c));
    assert.deepEqual(again.branchOf(u2), { index: 1, count: 2 });

    await again.showBranch(u2);
    assert.deepEqual(texts(again), ['one', 'reply one', 'two', 'reply two']);
    assert.equal(again.messages[3]?.id, r2);
    assert.equal(recordTypes(file).at(-1), 'branch');
    const third = await reload(c.id);
    assert.deepEqual(texts(third), ['one', 'reply one', 'two', 'reply two'], 'the shown branch is kept');
    assert.deepEqual(third.branchOf(third.messages[2]!.id), { index: 1, count: 2 });
    const list = await newStore().list();
    assert.equal(list[0]?.messageCount, 4, 'the list counts the shown branch');
  });

  it('regenerate forks after the user message; the new reply is the second of two', async () => {
    const { c, ids } = await twoTurns();
    const [, , u2, r2] = ids;
    assert.equal(await c.fork(u2), undefined);
    assert.deepEqual(texts(c), ['one', 'reply one', 'two'], 'the old reply is hidden at once');
    const r2b = await reply(c, 'reply two, again');
    assert.deepEqual(c.branchOf(r2b), { index: 2, count: 2 });
    assert.deepEqual(c.branchOf(r2), { index: 1, count: 2 });
    // Deeper messages keep their place: a turn after the regenerated reply, then back and forth.
    await c.appendUser('three');
    await reply(c, 'reply three');
    await c.showBranch(r2);
    assert.deepEqual(texts(c), ['one', 'reply one', 'two', 'reply two']);
    await c.showBranch(r2b);
    assert.deepEqual(texts(c), ['one', 'reply one', 'two', 'reply two, again', 'three', 'reply three']);
    assert.deepEqual(texts(await reload(c.id)), texts(c));
  });

  it('edits the first message (a fork before everything)', async () => {
    const { c, ids } = await twoTurns();
    const first = await c.fork(null, { text: 'one, edited' });
    assert.deepEqual(texts(c), ['one, edited']);
    assert.deepEqual(c.branchOf(first!.id), { index: 2, count: 2 });
    await c.showBranch(ids[0]!);
    assert.deepEqual(texts(await reload(c.id)), ['one', 'reply one', 'two', 'reply two']);
  });

  it('undoes on load a fork that no message followed (the window died in between)', async () => {
    const { c, ids } = await twoTurns();
    await c.fork(ids[2]!);
    assert.deepEqual(texts(c), ['one', 'reply one', 'two']);
    const again = await reload(c.id);
    assert.deepEqual(texts(again), ['one', 'reply one', 'two', 'reply two'], 'nothing is hidden');
    assert.equal(again.branchOf(ids[3]!), undefined);
    // The next reply after that forks nothing: it follows the shown branch.
    await again.appendUser('three');
    assert.equal(again.messages.length, 5);
  });

  it('a retry after a failed regenerate replaces only the failed reply', async () => {
    const { c, ids } = await twoTurns();
    await c.fork(ids[2]!);
    const failed = await streamReply(c, clock, 'a', ['par']);
    await c.finishAssistant(failed, { status: 'error', error: { kind: 'server', message: 'boom', retryable: true } });
    await c.removeMessage(failed);
    const retried = await reply(c, 'reply two, retried');
    assert.deepEqual(c.branchOf(retried), { index: 2, count: 2 });
    const again = await reload(c.id);
    assert.deepEqual(texts(again), ['one', 'reply one', 'two', 'reply two, retried']);
    assert.deepEqual(again.branchOf(ids[3]!), { index: 1, count: 2 });
  });

  it('refuses to fork while a reply streams, or after a message not on the shown branch', async () => {
    const { c, ids } = await twoTurns();
    await c.fork(ids[1]!, { text: 'edited' });
    await assert.rejects(c.fork(ids[3]!), /no message .* on the shown branch/);
    const streaming = await c.beginAssistant('a');
    await assert.rejects(c.fork(null, { text: 'x' }), /still streaming/);
    await assert.rejects(c.showBranch(ids[2]!), /still streaming/);
    await c.finishAssistant(streaming.id, { status: 'complete' });
    await assert.rejects(c.showBranch('not-a-message'), /no message not-a-message/);
  });

  it('loads a file without branch records as one branch, and skips damaged fork and branch records', async () => {
    const { c, ids } = await twoTurns();
    await c.close();
    const file = path.join(dir, `${c.id}.jsonl`);
    const plain = await reload(c.id);
    assert.deepEqual(texts(plain), ['one', 'reply one', 'two', 'reply two']);
    assert.deepEqual(plain.repairs, []);
    await plain.close();
    appendFileSync(
      file,
      [
        JSON.stringify({ t: 'fork', after: 'no-such-message', ts: 5 }),
        JSON.stringify({ t: 'branch', id: 'gone', ts: 6 }),
        JSON.stringify({ t: 'fork', after: 42, ts: 7 }),
        JSON.stringify({ t: 'branch', ts: 8 }),
      ].join('\n') + '\n',
    );
    const damaged = await reload(c.id);
    assert.deepEqual(texts(damaged), ['one', 'reply one', 'two', 'reply two'], 'nothing was cut or switched');
    assert.equal(damaged.repairs.length, 4, damaged.repairs.join('\n'));
    assert.match(damaged.repairs[0]!, /line 10: fork after a message not on the shown branch \(no-such-message\); skipped/);
    assert.match(damaged.repairs[1]!, /branch of an unknown message \(gone\); skipped/);
    assert.match(damaged.repairs[2]!, /invalid "fork" record \(after: /);
    assert.match(damaged.repairs[3]!, /invalid "branch" record \(id: /);
    // Still writable: a fork after the damage works and reloads.
    await damaged.fork(ids[2]!);
    await reply(damaged, 'after the damage');
    assert.deepEqual(texts(await reload(c.id)), ['one', 'reply one', 'two', 'after the damage']);
  });
});

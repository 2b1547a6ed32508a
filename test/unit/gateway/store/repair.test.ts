import assert from 'node:assert/strict';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ConversationStore, type StoredMessage } from '../../../../src/gateway/store/conversationStore';
import { ManualClock, TempDirs, MemoryLogger, writeRealisticConversation } from './helpers';

/** A record as the test reads it, independently of the store's own parser. */
interface RawRecord {
  t: string;
  id?: string;
  text?: string;
  status?: string;
  title?: string;
  agentId?: string | null;
  taskId?: string;
}

interface Shape {
  id: string;
  role: string;
  text: string;
  status: string;
}

const shape = (m: Readonly<StoredMessage>): Shape => ({ id: m.id, role: m.role, text: m.text, status: m.status });

/** Each line of the file with the byte offset just after its newline. */
function rawRecords(buf: Buffer): { rec: RawRecord; end: number }[] {
  const out: { rec: RawRecord; end: number }[] = [];
  let start = 0;
  for (let nl = buf.indexOf(0x0a); nl !== -1; nl = buf.indexOf(0x0a, start)) {
    out.push({ rec: JSON.parse(buf.toString('utf8', start, nl)) as RawRecord, end: nl + 1 });
    start = nl + 1;
  }
  return out;
}

/** What a cut at `cut` bytes must leave: every record whose JSON is entirely before the cut. */
function expectedAt(records: { rec: RawRecord; end: number }[], cut: number): { messages: Shape[]; title: string; agentId: string | null; taskId?: string } {
  const messages: Shape[] = [];
  let title = '';
  let firstUser: string | undefined;
  let meta: RawRecord | undefined;
  let startAgent: string | undefined;
  let agentRecord: string | undefined;
  for (const { rec, end } of records) {
    if (cut < end - 1) break;
    const m = messages.find((x) => x.id === rec.id);
    if (rec.t === 'user') {
      messages.push({ id: rec.id ?? '', role: 'user', text: rec.text ?? '', status: 'complete' });
      firstUser ??= rec.text;
    } else if (rec.t === 'start') messages.push({ id: rec.id ?? '', role: 'assistant', text: '', status: 'streaming' });
    else if (rec.t === 'chunk' && m) m.text += rec.text;
    else if (rec.t === 'end' && m) m.status = rec.status ?? '';
    else if (rec.t === 'remove' && m) messages.splice(messages.indexOf(m), 1);
    else if (rec.t === 'title') title = rec.title ?? '';
    else if (rec.t === 'meta') meta = rec;
    else if (rec.t === 'agent') agentRecord = rec.agentId ?? undefined;
    if (rec.t === 'start') startAgent ??= rec.agentId ?? undefined;
  }
  for (const m of messages) if (m.status === 'streaming') m.status = 'interrupted';
  return {
    messages,
    title: title || (firstUser ? firstUser.split('\n')[0] : 'New conversation'),
    agentId: agentRecord ?? (meta ? (meta.agentId ?? null) : (startAgent ?? null)),
    ...(meta?.taskId ? { taskId: meta.taskId } : {}),
  };
}

describe('ConversationStore repair on load', () => {
  const temp = new TempDirs();
  let clock: ManualClock;
  let logger: MemoryLogger;

  beforeEach(() => {
    clock = new ManualClock();
    logger = new MemoryLogger();
  });
  afterEach(() => temp.cleanup());

  async function realisticFile(): Promise<{ id: string; file: string; buf: Buffer; messages: Shape[] }> {
    const store = new ConversationStore(temp.make(), logger, clock);
    const conv = await writeRealisticConversation(store, clock);
    const messages = conv.messages.map(shape);
    const file = store.filePath(conv.id);
    await store.close();
    return { id: conv.id, file, buf: readFileSync(file), messages };
  }

  async function openFresh(dir: string, id: string): Promise<{ store: ConversationStore; conv: Awaited<ReturnType<ConversationStore['open']>> }> {
    const store = new ConversationStore(dir, logger, clock);
    return { store, conv: await store.open(id) };
  }

  it('survives truncation at every byte offset', async function () {
    this.timeout(60_000);
    const { id, buf } = await realisticFile();
    const records = rawRecords(buf);
    assert.equal(records.length, 31, 'the realistic conversation has every record type');
    let interruptedCuts = 0;
    let tornCuts = 0;
    const checkCut = async (dir: string, cut: number): Promise<void> => {
      writeFileSync(path.join(dir, `${id}.jsonl`), buf.subarray(0, cut));
      const expected = expectedAt(records, cut);
      const { store, conv } = await openFresh(dir, id);
      assert.deepEqual(conv.messages.map(shape), expected.messages, `cut at ${cut}`);
      const { title, agentId, taskId } = conv.meta;
      assert.deepEqual({ title, agentId, taskId }, { title: expected.title, agentId: expected.agentId, taskId: expected.taskId }, `meta, cut at ${cut}`);
      assert.equal(conv.id, id);
      if (expected.messages.some((m) => m.status === 'interrupted')) interruptedCuts++;
      if (conv.repairs.some((r) => r.startsWith('torn last line'))) tornCuts++;
      const added = await conv.appendUser('after the crash');
      await store.close();
      const again = await openFresh(dir, id);
      assert.deepEqual(again.conv.messages.map(shape), [...expected.messages, shape(added)], `append after cut at ${cut}`);
      assert.deepEqual(
        again.conv.repairs.filter((r) => !/marked interrupted|closed as interrupted|meta record missing/.test(r)),
        [],
        `cut at ${cut}`,
      );
      again.store.dispose();
    };
    // A few workers, each with its own folder (in RAM where possible), so file-system waits overlap.
    let next = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        const dir = temp.make({ memory: true });
        while (next <= buf.length) await checkCut(dir, next++);
      }),
    );
    const ms = performance.now() - started;
    console.log(`      every-offset truncation: ${buf.length + 1} cuts in ${ms.toFixed(0)} ms`);
    assert.ok(interruptedCuts > 100, `cuts inside replies mark them interrupted (${interruptedCuts})`);
    assert.ok(tornCuts > buf.length / 2, `most cuts leave a torn line (${tornCuts})`);
  });

  it('truncates a torn tail before appending, so nothing glues onto it', async () => {
    const { id, file, buf, messages } = await realisticFile();
    writeFileSync(file, Buffer.concat([buf, Buffer.from('{"t":"chunk","id":"abc","te')]));
    const { store, conv } = await openFresh(path.dirname(file), id);
    assert.deepEqual(conv.messages.map(shape), messages);
    assert.deepEqual(conv.repairs, ['torn last line (27 bytes) dropped']);
    assert.equal(readFileSync(file).length, buf.length + 27, 'opening alone does not write');
    await conv.appendUser('next');
    await store.close();
    const after = readFileSync(file);
    assert.ok(after.subarray(0, buf.length).equals(buf));
    assert.match(after.subarray(buf.length).toString('utf8'), /^\{"t":"user","id":"[^"]+","text":"next","ts":\d+\}\n$/);
  });

  it('keeps a whole last record that lost only its newline', async () => {
    const { id, file, buf, messages } = await realisticFile();
    writeFileSync(file, buf.subarray(0, buf.length - 1));
    const { store, conv } = await openFresh(path.dirname(file), id);
    assert.deepEqual(conv.messages.map(shape), messages);
    assert.deepEqual(conv.repairs, []);
    await conv.appendUser('next');
    await store.close();
    const again = await openFresh(path.dirname(file), id);
    assert.deepEqual(again.conv.repairs, []);
    assert.equal(again.conv.messages.length, messages.length + 1);
    again.store.dispose();
  });

  it('skips invalid or unknown lines in the middle and reports them; nothing else is lost', async () => {
    const { id, file, buf, messages } = await realisticFile();
    const lines = buf.toString('utf8').split('\n');
    const userLine = lines.findIndex((l) => l.includes('Ünïcödé'));
    const chunkLine = lines.findIndex((l) => l.includes('"reads tokens "'));
    lines[userLine] = lines[userLine].slice(0, 25); // a damaged line
    lines[chunkLine] = lines[chunkLine].replace('"text":"reads', '"text":reads'); // one flipped character
    lines.splice(3, 0, '{"t":"future","x":1}', '', '{"t":"end","id":"","status":"complete","ts":1}');
    writeFileSync(file, lines.join('\n'));
    const { store, conv } = await openFresh(path.dirname(file), id);
    const want = messages.filter((m) => !m.text.startsWith('Ünïcödé'));
    want[1] = { ...want[1], text: 'The parser one by one.' };
    assert.deepEqual(conv.messages.map(shape), want);
    assert.deepEqual(conv.repairs, [
      'line 4: unknown record type "future"; skipped',
      'line 6: invalid "end" record (id: Too small: expected string to have >=1 characters); skipped',
      `line ${chunkLine + 4}: not valid JSON; skipped`,
      `line ${userLine + 4}: not valid JSON; skipped`,
    ]);
    assert.ok(logger.entries.some((l) => l.level === 'warn' && l.text.includes('line 4: unknown record type')));
    await conv.appendUser('still works');
    await store.close();
    const again = await openFresh(path.dirname(file), id);
    assert.equal(again.conv.messages.at(-1)?.text, 'still works');
    assert.equal(again.conv.repairs.length, 4);
    again.store.dispose();
  });

  it('opens a file whose meta line is damaged, deriving what it can', async () => {
    const { id, file, buf, messages } = await realisticFile();
    const text = buf.toString('utf8');
    writeFileSync(file, '{"v":1,"t":"meta","id":"' + text.slice(text.indexOf('\n')));
    const { store, conv } = await openFresh(path.dirname(file), id);
    assert.deepEqual(conv.messages.map(shape), messages);
    assert.deepEqual(conv.meta, { id, title: 'Parser questions', agentId: 'agent-b', createdAt: 1_700_000_001_000 });
    assert.ok(conv.repairs.includes('line 1: not valid JSON; skipped'));
    assert.ok(conv.repairs.some((r) => r.startsWith('meta record missing or damaged')));
    store.dispose();
  });

  it('derives meta from the first reply, or the file time for an empty file', async () => {
    const dir = temp.make();
    const id = '0b8f0c4e-4a52-4a8e-9d2e-1f2a3b4c5d6e';
    const file = path.join(dir, `${id}.jsonl`);
    writeFileSync(file, '{"t":"start","id":"m1","agentId":"agent-z","ts":5}\n{"t":"chunk","id":"m1","text":"hi"}\n');
    let { store, conv } = await openFresh(dir, id);
    assert.deepEqual(conv.meta, { id, title: 'New conversation', agentId: 'agent-z', createdAt: 5 });
    assert.deepEqual(conv.messages.map(shape), [{ id: 'm1', role: 'assistant', text: 'hi', status: 'interrupted' }]);
    store.dispose();
    writeFileSync(file, '');
    ({ store, conv } = await openFresh(dir, id));
    assert.deepEqual(conv.meta, { id, title: 'New conversation', agentId: null, createdAt: statSync(file).mtimeMs });
    assert.deepEqual(conv.messages, []);
    store.dispose();
  });

  it('uses the file name when the meta id disagrees (a renamed copy)', async () => {
    const { file, buf } = await realisticFile();
    const copyId = '0b8f0c4e-4a52-4a8e-9d2e-1f2a3b4c5d6e';
    writeFileSync(path.join(path.dirname(file), `${copyId}.jsonl`), buf);
    const { store, conv } = await openFresh(path.dirname(file), copyId);
    assert.equal(conv.id, copyId);
    assert.equal(conv.meta.id, copyId);
    assert.equal(conv.repairs.length, 1);
    assert.match(conv.repairs[0], /differs from the file name/);
    const listed = await store.list();
    assert.deepEqual(listed.map((s) => s.id).sort(), [path.basename(file, '.jsonl'), copyId].sort());
    store.dispose();
  });

  it('lists damaged files too (the scan repairs like open does)', async () => {
    const { id, file, buf } = await realisticFile();
    writeFileSync(file, Buffer.concat([buf.subarray(0, buf.length - 40)]));
    const store = new ConversationStore(path.dirname(file), logger, clock);
    const [summary] = await store.list();
    const conv = await store.open(id);
    assert.equal(summary.messageCount, conv.messages.length);
    assert.equal(summary.title, conv.meta.title);
    assert.equal(summary.snippet, 'Reading.');
    store.dispose();
  });
});

/**
 * Full-text search over conversations: every query word must occur (case- and accent-insensitive)
 * in the title or the messages, replies included; best first with a snippet; a corrupt line is
 * skipped and the rest of that file still searched; an empty query finds nothing.
 */
import assert from 'node:assert/strict';
import { appendFileSync } from 'node:fs';
import { ConversationStore } from '../../../../src/gateway/store/conversationStore';
import { queryWords, searchConversations } from '../../../../src/gateway/store/search';
import { ManualClock, MemoryLogger, streamReply, TempDirs } from './helpers';

describe('conversation search', () => {
  const temp = new TempDirs();
  let store: ConversationStore | undefined;
  afterEach(async () => {
    await store?.close();
    store = undefined;
    temp.cleanup();
  });

  async function seed(): Promise<{ ids: string[]; search: (q: string) => ReturnType<typeof searchConversations> }> {
    const clock = new ManualClock();
    store = new ConversationStore(temp.make(), new MemoryLogger(), clock);
    const a = await store.create({ agentId: 'a1' });
    await a.appendUser('How do I configure the Café proxy?');
    await streamReply(a, clock, 'a1', ['Set ', 'HTTPS_PROXY ', 'before starting VS Code.']);
    clock.advance(1000);
    const b = await store.create({ agentId: 'a1' });
    await b.appendUser('Write a proxy test');
    await streamReply(b, clock, 'a1', ['Here is a test that starts a proxy and checks the proxy headers.']);
    clock.advance(1000);
    const c = await store.create({ agentId: 'a1' });
    await c.appendUser('Unrelated: rename a variable');
    await streamReply(c, clock, 'a1', ['Done.']);
    await store.flush();
    const s = store;
    return { ids: [a.id, b.id, c.id], search: async (q) => searchConversations(await s.list(), (id) => s.filePath(id), q) };
  }

  it('finds every word in messages and replies, case- and accent-insensitive, best first with a snippet', async () => {
    const { ids, search } = await seed();
    const proxy = await search('PROXY');
    assert.deepEqual(
      proxy.map((h) => h.id),
      [ids[1], ids[0]],
      'three hits beat two',
    );
    assert.match(proxy[0]!.snippet, /proxy/i);
    const both = await search('cafe https_proxy');
    assert.deepEqual(
      both.map((h) => h.id),
      [ids[0]],
      'accents ignored, every word required, the reply searched',
    );
    assert.deepEqual(await search('proxy nothing-like-this'), []);
  });

  it('skips a corrupt line and still searches the rest of the file; an empty query finds nothing', async () => {
    const { ids, search } = await seed();
    appendFileSync(store!.filePath(ids[2]!), '{"t":"user","id":"torn\n{"t":"user","id":"m-after","text":"a late word: zebra","ts":5}\n');
    assert.deepEqual(
      (await search('zebra')).map((h) => h.id),
      [ids[2]],
    );
    assert.deepEqual(await search('   '), []);
    assert.deepEqual(queryWords('  A  a b '), ['a', 'b']);
  });
});

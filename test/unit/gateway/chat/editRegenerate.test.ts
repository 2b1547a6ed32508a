/**
 * Edit and regenerate through the ChatService against the provider fixture: the model is sent the
 * shown branch only (the edited text, never the old one; no old reply after a regenerate), both
 * branches stay on disk, switchBranch steps between versions, and what cannot be done says why.
 */
import assert from 'node:assert/strict';
import { startProviderServer, type ProviderServer } from '../../../fixtures/providerServer';
import { createTestGateway, type TestGateway } from '../../../support/gateway';

const AGENT = 'default-openai';

/** The texts of the messages an OpenAI request carried. */
const sentTexts = (body: unknown): string[] =>
  ((body as { messages?: Array<{ role: string; content: unknown }> }).messages ?? []).filter((m) => m.role !== 'system').map((m) => String(m.content));

describe('chat: edit and regenerate', function () {
  this.timeout(20_000);
  let server: ProviderServer;
  let t: TestGateway;

  before(async () => {
    server = await startProviderServer();
  });
  after(async () => server.close());
  beforeEach(async () => {
    t = await createTestGateway(server);
    await t.gateway.keys.set('openai', server.keys.openai);
  });
  afterEach(async () => t.close());

  it('an edit sends the model the new text only and keeps the old branch', async () => {
    const script = server.script([{ text: 'First answer.' }, { text: 'Second answer.' }, { text: 'Answer to the edit.' }]);
    const { conversation: c, done } = await t.gateway.chat.send(null, AGENT, 'first question');
    await done;
    await (
      await t.gateway.chat.send(c.id, AGENT, 'second question')
    ).done;
    const old = c.messages[2]!;
    let forkedSeen: string[] = [];
    const edit = await t.gateway.chat.edit(c.id, old.id, 'second question, edited', async (conv) => {
      forkedSeen = conv.messages.map((m) => m.text);
    });
    await edit.done;
    assert.deepEqual(forkedSeen, ['first question', 'First answer.', 'second question, edited'], 'the view is reset before the turn');
    assert.deepEqual(sentTexts(script.requests[2]?.body), ['first question', 'First answer.', 'second question, edited']);
    assert.deepEqual(edit.message.branch, { index: 2, count: 2 });
    assert.deepEqual(
      c.messages.map((m) => m.text),
      ['first question', 'First answer.', 'second question, edited', 'Answer to the edit.'],
    );

    await t.gateway.chat.switchBranch(c.id, edit.message.id, -1);
    await t.gateway.restart();
    const again = await t.gateway.conversation(c.id);
    assert.deepEqual(
      again?.messages.map((m) => m.text),
      ['first question', 'First answer.', 'second question', 'Second answer.'],
    );
    await assert.rejects(t.gateway.chat.switchBranch(c.id, old.id, -1), /no earlier version/);
    await assert.rejects(t.gateway.chat.edit(c.id, again!.messages[1]!.id, 'x'), /Only a message you sent/);
    await assert.rejects(t.gateway.chat.edit(c.id, old.id, '  '), /empty/);
  });

  it('regenerate replaces the last reply; the old one stays a version away', async () => {
    const script = server.script([{ text: 'Old reply.' }, { text: 'New reply.' }]);
    const { conversation: c, done } = await t.gateway.chat.send(null, AGENT, 'question');
    await done;
    const oldReply = c.messages[1]!;
    await assert.rejects(t.gateway.chat.regenerate(c.id, c.messages[0]!.id), /Only the last reply/);
    await (
      await t.gateway.chat.regenerate(c.id, oldReply.id)
    ).done;
    assert.deepEqual(sentTexts(script.requests[1]?.body), ['question'], 'the old reply is not in the history');
    assert.deepEqual(
      c.messages.map((m) => m.text),
      ['question', 'New reply.'],
    );
    assert.deepEqual(c.branchOf(c.messages[1]!.id), { index: 2, count: 2 });
    await t.gateway.chat.switchBranch(c.id, c.messages[1]!.id, -1);
    assert.equal(c.messages[1]?.id, oldReply.id);
  });
});

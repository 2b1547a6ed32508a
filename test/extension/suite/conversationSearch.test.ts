/**
 * Conversation search in a real VS Code: Filter Conversations… narrows the Conversations view to the
 * conversations whose text (a reply included) has every word, with the count in the view's
 * description; Clear Conversation Filter lists them all again.
 */
import assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { MultiClawApi } from '../../../src/extension/extension';
import { api, connectOpenAi, disconnectOpenAi } from '../../support/extensionApi';
import { startProviderServer, type ProviderServer } from '../../fixtures/providerServer';

describe('conversation search (in a real VS Code, through the gateway)', function () {
  this.timeout(120_000);
  let server: ProviderServer;
  let a: MultiClawApi;

  before(async () => {
    server = await startProviderServer();
    a = await api({ gateway: 'any' });
    await connectOpenAi(a, server);
  });

  after(async () => {
    await vscode.commands.executeCommand('multiclaw.clearConversationFilter');
    await disconnectOpenAi();
    await server?.close();
  });

  it('filters the Conversations view to the ones containing every word, and clears it', async () => {
    const ids: string[] = [];
    for (const [text, reply] of [
      ['Plan the zebra migration', 'Move the zebra tables first, then the indexes.'],
      ['Unrelated question', 'Nothing striped here.'],
    ]) {
      server.script([{ text: reply! }]);
      const { conversationId, done } = await a.chatView.send(text!, 'default-openai');
      await done;
      ids.push(conversationId);
      await a.chatView.show(null, false);
    }
    const found = await vscode.commands.executeCommand<number>('multiclaw.filterConversations', 'ZEBRA indexes');
    assert.equal(found, 1, 'the reply is searched, words in any case');
    const listed = (await a.conversations.getChildren()).map((i) => i.summary.id);
    assert.deepEqual(listed, [ids[0]]);
    assert.equal(a.conversations.filterQuery, 'ZEBRA indexes');
    await vscode.commands.executeCommand('multiclaw.clearConversationFilter');
    const all = (await a.conversations.getChildren()).map((i) => i.summary.id);
    assert.ok(ids.every((id) => all.includes(id)));
  });
});

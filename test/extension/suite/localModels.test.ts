/**
 * "Use a Local Model…" in a real VS Code: one pick (here passed as the command's argument, as the
 * quick pick would) points the openai-compatible provider at a local server and adds an agent for the
 * model; the agent is available at once and a chat with it gets the server's reply.
 */
import assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { startProviderServer, type ProviderServer } from '../../fixtures/providerServer';
import { api } from '../../support/extensionApi';
import { waitFor } from '../../support/wait';

describe('Use a Local Model… (in a real VS Code)', function () {
  this.timeout(60_000);
  let server: ProviderServer;

  before(async () => {
    server = await startProviderServer();
  });

  after(async () => {
    const cfg = vscode.workspace.getConfiguration('multiclaw');
    for (const key of ['agents', 'providers.openaiCompatible.baseUrl', 'providers.openaiCompatible.model'])
      await cfg.update(key, undefined, vscode.ConfigurationTarget.Global);
    await (await api({ gateway: 'any' })).chatView.show(null, false);
    await server?.close();
  });

  it('adds an agent for the picked model on the picked server, and it chats', async () => {
    const a = await api();
    const baseUrl = server.baseUrls['openai-compatible'];
    const added = waitFor(
      a.gateway.onDidChangeAgents,
      () => a.gateway.agents().some((x) => x.id === 'ollama-llama3.2-latest' && x.available),
      30_000,
      'the local agent',
    );
    const id = await vscode.commands.executeCommand<string | undefined>('multiclaw.useLocalModel', { label: 'Ollama', baseUrl, model: 'llama3.2:latest' });
    assert.equal(id, 'ollama-llama3.2-latest');
    await added;
    const agent = a.gateway.agents().find((x) => x.id === id);
    assert.equal(agent?.name, 'llama3.2:latest (Ollama, local)');
    assert.equal(vscode.workspace.getConfiguration('multiclaw').get('providers.openaiCompatible.baseUrl'), baseUrl);

    await a.chatView.show(null, false);
    const { conversationId, done } = await a.chatView.send('Hello local model', 'ollama-llama3.2-latest');
    await done;
    const c = await a.gateway.store.open(conversationId);
    const reply = c.messages.find((m) => m.role === 'assistant');
    assert.ok(reply && reply.text.length > 0, 'the local server answered');
    assert.equal(server.requests.at(-1)?.provider, 'openai-compatible');
  });
});

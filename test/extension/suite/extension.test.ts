/**
 * Runs inside a real VS Code extension host (desktop, or code-server offline): activation, commands,
 * SecretStorage, a chat round-trip against a local server speaking OpenAI's wire format, persistence,
 * the Conversations tree, export and delete.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as vscode from 'vscode';
import { api, EXTENSION_ID } from '../../support/extensionApi';
import { until, waitFor } from '../../support/wait';
import { startProviderServer, type ProviderServer } from '../../fixtures/providerServer';

describe('MultiClaw extension (in a real VS Code)', function () {
  let server: ProviderServer;

  before(async () => {
    server = await startProviderServer();
  });

  after(async () => {
    await server?.close();
  });

  it('activates lazily and quickly, and starts the gateway', async () => {
    const pkg = vscode.extensions.getExtension(EXTENSION_ID)!.packageJSON as { activationEvents: string[] };
    assert.ok(!pkg.activationEvents.includes('*'), 'no * activation');
    const a = await api({ gateway: 'any' });
    assert.ok(a.activatedInMs < 500, `activate() took ${a.activatedInMs} ms`);
    if (a.gateway.state !== 'running') await waitFor(a.gateway.onDidChangeState, (e) => e.state === 'running', 30_000, 'the gateway running');
    assert.equal(a.gateway.state, 'running');
  });

  it('registers every contributed command', async () => {
    const pkg = vscode.extensions.getExtension(EXTENSION_ID)!.packageJSON as { contributes: { commands: Array<{ command: string }> } };
    const all = new Set(await vscode.commands.getCommands(true));
    const missing = pkg.contributes.commands.map((c) => c.command).filter((c) => !all.has(c));
    assert.deepEqual(missing, []);
  });

  it('shows the Chat webview, which loads under its CSP and completes the ready handshake', async () => {
    const a = await api({ gateway: 'any' });
    const ready = a.chatView.isReady
      ? Promise.resolve()
      : waitFor(a.chatView.onDidBecomeReady, () => true, 30_000, 'the chat view ready').then(() => undefined);
    await vscode.commands.executeCommand('multiclaw.focusChat');
    await ready;
    assert.equal(a.chatView.isReady, true);
  });

  it('stops, starts and restarts the gateway from commands', async () => {
    const a = await api({ gateway: 'any' });
    await vscode.commands.executeCommand('multiclaw.stopGateway');
    assert.equal(a.gateway.state, 'stopped');
    await vscode.commands.executeCommand('multiclaw.startGateway');
    assert.equal(a.gateway.state, 'running');
    const states: string[] = [];
    const sub = a.gateway.onDidChangeState((e) => states.push(e.state));
    await vscode.commands.executeCommand('multiclaw.restartGateway');
    sub.dispose();
    assert.deepEqual(states, ['stopped', 'starting', 'running']);
  });

  it('keeps a provider key in SecretStorage only', async () => {
    const a = await api({ gateway: 'any' });
    const key = server.keys.openai;
    await vscode.commands.executeCommand('multiclaw.setProviderKey', 'openai', key);
    assert.ok(a.gateway.keys.has('openai'));
    // A restart reloads keys from SecretStorage: the key is still there.
    await vscode.commands.executeCommand('multiclaw.restartGateway');
    assert.equal(a.gateway.keys.get('openai'), key);
    const settings = JSON.stringify(vscode.workspace.getConfiguration('multiclaw'));
    assert.ok(!settings.includes(key), 'the key is not in settings');
    assert.ok(
      a.gateway.agents().some((x) => x.id === 'default-openai' && x.available),
      'a default OpenAI agent exists',
    );
  });

  it('chats with an agent: streamed reply from the local OpenAI-format server, persisted and listed', async () => {
    const a = await api({ gateway: 'any' });
    await vscode.workspace.getConfiguration('multiclaw').update('providers.openai.baseUrl', server.baseUrls.openai, vscode.ConfigurationTarget.Global);
    // Applied once the gateway's config has it (another agents change may come first).
    await until(a.gateway.onDidChangeAgents, () => a.gateway.config.providers.openai.baseUrl === server.baseUrls.openai, 30_000, 'the provider URL applied');
    assert.equal(a.gateway.config.providers.openai.baseUrl, server.baseUrls.openai);
    server.resetStats();

    const deltas: string[] = [];
    const added: string[] = [];
    const sub = a.gateway.chat.onDidEvent((e) => {
      if (e.type === 'delta') deltas.push(e.text);
      // Every event of the new conversation reaches the chat view, the user's message first.
      if (e.type === 'messageAdded' && e.conversationId === a.chatView.conversationId) added.push(e.message.role);
    });
    const { conversationId, done } = await a.chatView.send('Hello from the extension host', 'default-openai');
    await done;
    sub.dispose();

    assert.ok(deltas.length > 1, `streamed in ${deltas.length} deltas`);
    assert.deepEqual(added, ['user', 'assistant']);
    const c = await a.gateway.store.open(conversationId);
    assert.equal(c.messages.length, 2);
    assert.equal(c.messages[0]!.role, 'user');
    assert.equal(c.messages[1]!.status, 'complete');
    assert.match(c.messages[1]!.text, /You said: \*\*Hello from the extension host\*\*/);
    assert.equal(c.messages[1]!.text, deltas.join(''));

    // Only the configured provider was contacted.
    const stats = server.stats();
    assert.equal(stats.requests.openai, 1);
    assert.equal(stats.requests.anthropic, 0);
    assert.equal(stats.requests.gemini, 0);

    // Persisted on disk, and listed first in the Conversations list.
    const file = a.gateway.store.filePath(conversationId);
    assert.ok(fs.existsSync(file));
    assert.match(fs.readFileSync(file, 'utf8'), /Hello from the extension host/);
    const list = await a.gateway.store.list();
    assert.equal(list[0]!.id, conversationId);
    assert.match(list[0]!.title, /Hello from the extension host/);
  });

  it('exports a conversation as a Markdown transcript and as JSONL (one merged record per message), then deletes it', async () => {
    const a = await api({ gateway: 'any' });
    const [first] = await a.gateway.store.list();
    assert.ok(first);
    const c = await a.gateway.store.open(first.id);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mc-export-'));
    const md = vscode.Uri.file(path.join(dir, 'c.md'));
    await vscode.commands.executeCommand('multiclaw.exportConversation', first.id, md);
    const text = fs.readFileSync(md.fsPath, 'utf8');
    assert.match(text, /^# Hello from the extension host\n/, 'the title first');
    assert.match(text, /\n### You · \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\n\nHello from the extension host\n/);
    assert.match(text, /\n### OpenAI · [^\n]+ · \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\n\n[^\n]*You said: \*\*Hello from the extension host\*\*/);

    const jsonl = vscode.Uri.file(path.join(dir, 'c.jsonl'));
    await vscode.commands.executeCommand('multiclaw.exportConversation', first.id, jsonl);
    const records = fs
      .readFileSync(jsonl.fsPath, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { id: string; role: string; text: string; author: string; conversationTitle: string; time: string });
    assert.deepEqual(
      records.map((r) => [r.id, r.role, r.text]),
      c.messages.map((m) => [m.id, m.role, m.text]),
      'one record per message, the streamed chunks merged',
    );
    assert.equal(records[0]!.author, 'You');
    assert.equal(records[0]!.conversationTitle, 'Hello from the extension host');
    assert.ok(!Number.isNaN(Date.parse(records[1]!.time)));

    await vscode.commands.executeCommand('multiclaw.deleteConversation', first.id, true);
    assert.ok(!(await a.gateway.store.list()).some((s) => s.id === first.id));
    assert.ok(!fs.existsSync(a.gateway.store.filePath(first.id)));
  });

  it('never contacts a provider without a key', async () => {
    const a = await api({ gateway: 'any' });
    await vscode.commands.executeCommand('multiclaw.removeProviderKey', 'openai', true);
    assert.ok(!a.gateway.agents().some((x) => x.available));
    server.resetStats();
    await assert.rejects(a.chatView.send('hi', 'default-openai'), /Unknown agent/);
    assert.equal(server.stats().connections, 0);
  });
});

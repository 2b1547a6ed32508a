/**
 * Agents that act, in a real VS Code through the real gateway: a scripted model (the provider
 * fixture's SCRIPTED mode, OpenAI wire format) edits files in the workspace folder; each edit opens
 * VS Code's diff editor (the original from the gateway on the left), Keep writes the file, Undo
 * restores it, Revert to here restores every file the agent touched since a message, and a command
 * runs in the agent terminal.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import { ORIGINAL_SCHEME } from '../../../src/extension/agent/editReview';
import type { MultiClawApi } from '../../../src/extension/extension';
import { api } from '../../support/extensionApi';
import { until, waitFor } from '../../support/wait';
import { startProviderServer, type ProviderServer } from '../../fixtures/providerServer';

function diffTabFor(file: string): vscode.Tab | undefined {
  for (const g of vscode.window.tabGroups.all) {
    for (const t of g.tabs) {
      if (t.input instanceof vscode.TabInputTextDiff && t.input.original.scheme === ORIGINAL_SCHEME && t.input.modified.fsPath === file) return t;
    }
  }
  return undefined;
}

describe('agents that act (in a real VS Code, through the gateway)', function () {
  this.timeout(120_000);
  let server: ProviderServer;
  let a: MultiClawApi;
  let root: string;
  let rel: string;
  const read = (name: string): string => fs.readFileSync(path.join(root, name), 'utf8');

  before(async () => {
    server = await startProviderServer();
    a = await api({ gateway: 'any' });
    const folder = vscode.workspace.workspaceFolders?.[0];
    assert.ok(folder, 'the test window has a workspace folder');
    root = fs.mkdtempSync(path.join(folder.uri.fsPath, 'agent-review-'));
    rel = path.basename(root);
    await vscode.workspace.getConfiguration('multiclaw').update('providers.openai.baseUrl', server.baseUrls.openai, vscode.ConfigurationTarget.Global);
    // Applied once the gateway's config has it (another agents change may come first).
    await until(a.gateway.onDidChangeAgents, () => a.gateway.config.providers.openai.baseUrl === server.baseUrls.openai, 30_000, 'the provider URL applied');
    await vscode.commands.executeCommand('multiclaw.setProviderKey', 'openai', server.keys.openai);
    await a.gateway.ensureRunning();
  });

  after(async () => {
    // Leave the chat view on a new conversation: the suites after this one send into whatever it shows.
    await (await api({ gateway: 'any' })).chatView.show(null, false);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await vscode.commands.executeCommand('multiclaw.removeProviderKey', 'openai', true);
    await vscode.workspace.getConfiguration('multiclaw').update('providers.openai.baseUrl', undefined, vscode.ConfigurationTarget.Global);
    await server?.close();
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('an agent edit opens the diff; Keep writes the file, Undo restores it', async () => {
    fs.writeFileSync(path.join(root, 'a.ts'), 'export const a = 1;\n');
    fs.writeFileSync(path.join(root, 'b.ts'), 'export const b = 1;\n');
    server.script([
      {
        text: 'Updating both files.',
        toolCalls: [
          { name: 'edit_file', arguments: { path: `${rel}/a.ts`, edits: [{ old_text: 'a = 1', new_text: 'a = 2' }] } },
          { name: 'edit_file', arguments: { path: `${rel}/b.ts`, edits: [{ old_text: 'b = 1', new_text: 'b = 2' }] } },
        ],
      },
      { text: 'Both updated.' },
    ]);
    await a.chatView.show(null, false);
    const { conversationId, done } = await a.chatView.send('Bump a and b', 'default-openai');
    await done;
    const c = await a.gateway.store.open(conversationId);
    const calls = c.messages.flatMap((m) => m.toolCalls ?? []);
    assert.deepEqual(
      calls.map((x) => `${x.name}:${x.status}`),
      ['edit_file:done', 'edit_file:done'],
    );
    const aFile = path.join(root, 'a.ts');
    const bFile = path.join(root, 'b.ts');
    assert.equal(read('a.ts'), 'export const a = 2;\n', 'the edit is applied (reviewable)');
    const tab = await until(vscode.window.tabGroups.onDidChangeTabs, () => diffTabFor(bFile) ?? diffTabFor(aFile), 20_000, 'a diff tab of the agent edit');
    assert.match(tab.label, /\((MultiClaw edit)\)$/);
    const input = tab.input as vscode.TabInputTextDiff;
    const before = await vscode.workspace.openTextDocument(input.original);
    assert.match(before.getText(), /= 1;/, 'the left side is the file before the agent edit');
    assert.deepEqual(
      a.gateway
        .pendingChanges(conversationId)
        .map((f) => path.basename(f.path))
        .sort(),
      ['a.ts', 'b.ts'],
    );

    await vscode.commands.executeCommand('multiclaw.keepChanges', vscode.Uri.file(aFile));
    assert.equal(read('a.ts'), 'export const a = 2;\n', 'Keep keeps the agent text on disk');
    await vscode.commands.executeCommand('multiclaw.undoChanges', vscode.Uri.file(bFile));
    assert.equal(read('b.ts'), 'export const b = 1;\n', 'Undo restores the file');
    assert.deepEqual(a.gateway.pendingChanges(conversationId), []);
    assert.equal(diffTabFor(bFile), undefined, 'the reviewed diff closed');
  });

  it('Revert to here restores the three files the agent touched since a message', async () => {
    fs.writeFileSync(path.join(root, 'x.ts'), 'x\n');
    fs.writeFileSync(path.join(root, 'y.ts'), 'y\n');
    server.script([
      {
        toolCalls: [
          { name: 'edit_file', arguments: { path: `${rel}/x.ts`, edits: [{ old_text: 'x', new_text: 'x2' }] } },
          { name: 'edit_file', arguments: { path: `${rel}/y.ts`, edits: [{ old_text: 'y', new_text: 'y2' }] } },
          { name: 'write_file', arguments: { path: `${rel}/z.ts`, content: 'z\n' } },
        ],
      },
      { text: 'Three files changed.' },
      { toolCalls: [{ name: 'edit_file', arguments: { path: `${rel}/x.ts`, edits: [{ old_text: 'x2', new_text: 'x3' }] } }] },
      { text: 'x again.' },
    ]);
    await a.chatView.show(null, false);
    const first = await a.chatView.send('Change x, y and add z', 'default-openai');
    await first.done;
    await vscode.commands.executeCommand('multiclaw.keepAllChanges', first.conversationId);
    const second = await a.chatView.send('Change x once more', 'default-openai');
    await second.done;
    assert.equal(read('x.ts'), 'x3\n');
    assert.equal(read('z.ts'), 'z\n');
    const c = await a.gateway.store.open(first.conversationId);
    const firstUser = c.messages.find((m) => m.role === 'user');
    assert.ok(firstUser);
    await vscode.commands.executeCommand('multiclaw.revertToHere', first.conversationId, firstUser.id, true);
    assert.equal(read('x.ts'), 'x\n');
    assert.equal(read('y.ts'), 'y\n');
    assert.equal(fs.existsSync(path.join(root, 'z.ts')), false, 'the file the agent created is gone');
  });

  it('runs a command the agent asks for in the agent terminal, after approval', async () => {
    server.script([
      { toolCalls: [{ name: 'run_command', arguments: { command: 'node -e "console.log(\'agent-ran\'); process.exit(5)"', cwd: rel } }] },
      { text: 'It exited 5.' },
    ]);
    await a.chatView.show(null, false);
    const asked = waitFor(a.gateway.onDidChangeApprovals, () => a.gateway.pendingApprovals().length > 0, 60_000, 'an approval request');
    const { conversationId, done } = await a.chatView.send('Run the check', 'default-openai');
    await asked;
    const [req] = a.gateway.pendingApprovals();
    assert.ok(req);
    assert.equal(req.toolName, 'run_command');
    assert.ok(a.gateway.resolveApproval(req.id, { decision: 'allow', via: 'test' }));
    await done;
    const c = await a.gateway.store.open(conversationId);
    const call = c.messages.flatMap((m) => m.toolCalls ?? []).find((x) => x.name === 'run_command');
    assert.ok(call?.status === 'done' || call?.status === 'error', `status ${call?.status}`);
    assert.equal(call?.exitCode, 5);
    assert.match(call?.result ?? call?.preview ?? '', /agent-ran/);
  });
});

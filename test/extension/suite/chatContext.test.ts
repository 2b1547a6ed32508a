/**
 * Chat context and rules in a real VS Code, through the real gateway to the provider fixture: the
 * active file (with its unsaved text) and the selection arrive in the request body; a message sent
 * without the chip carries neither; a `.gitignore`d or secret-looking file needs an explicit pick;
 * AGENTS.md and `.multiclaw/rules/*.md` reach the request and a switched-off file does not.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import type { MultiClawApi } from '../../../src/extension/extension';
import { api, connectOpenAi, disconnectOpenAi } from '../../support/extensionApi';
import { startProviderServer, type ProviderServer } from '../../fixtures/providerServer';

describe('chat context and rules (in a real VS Code, through the gateway)', function () {
  this.timeout(120_000);
  let server: ProviderServer;
  let a: MultiClawApi;
  let folder: string;
  let root: string;
  const created: string[] = [];
  const lastBody = (): string => JSON.stringify(server.requests.at(-1)?.body ?? null);

  async function turn(text: string, attach?: { uri: string; range?: { start: number; end: number } }): Promise<string> {
    server.script([{ text: 'ok' }]);
    await a.chatView.show(null, false);
    const { done } = await a.chatView.send(text, 'default-openai', attach);
    await done;
    return lastBody();
  }

  before(async () => {
    server = await startProviderServer();
    a = await api({ gateway: 'any' });
    const ws = vscode.workspace.workspaceFolders?.[0];
    assert.ok(ws, 'the test window has a workspace folder');
    folder = ws.uri.fsPath;
    root = fs.mkdtempSync(path.join(folder, 'chat-context-'));
    await connectOpenAi(a, server);
  });

  after(async () => {
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await a.chatView.show(null, false);
    await disconnectOpenAi();
    await server?.close();
    for (const f of created) fs.rmSync(f, { recursive: true, force: true });
    fs.rmSync(root, { recursive: true, force: true });
    a.gateway.projectRulesChanged();
  });

  it('the active file with its unsaved text, then only the selection, reach the provider; without the chip, neither', async () => {
    const file = path.join(root, 'parser.ts');
    fs.writeFileSync(
      file,
      ['// FILE-HEAD', 'export function parse(line: string) {', '  return line.split(","); // SELECTED-LINE', '}', '// FILE-TAIL', ''].join('\n'),
    );
    const editor = await vscode.window.showTextDocument(vscode.Uri.file(file));
    await editor.edit((b) => b.insert(new vscode.Position(0, 0), '// UNSAVED-EDIT\n'));

    const whole = await a.chatView.contextSnapshot();
    assert.equal(whole.active?.kind, 'file');
    assert.equal(whole.active?.label, `${path.basename(root)}/parser.ts`);
    assert.equal(whole.active?.needsPick, undefined, 'an ordinary file is attached on its own');
    assert.ok((whole.active?.tokens ?? 0) > 10);
    let body = await turn('What does this do?', whole.active ?? undefined);
    for (const m of ['UNSAVED-EDIT', 'FILE-HEAD', 'SELECTED-LINE', 'FILE-TAIL']) assert.ok(body.includes(m), `${m} in the request`);
    assert.ok(body.includes('(unsaved changes included)'));

    editor.selection = new vscode.Selection(3, 0, 4, 0); // line 4 (1-based), the SELECTED-LINE, whole
    const sel = await a.chatView.contextSnapshot();
    assert.equal(sel.active?.kind, 'selection');
    assert.deepEqual(sel.active?.range, { start: 4, end: 4 });
    body = await turn('Why split?', sel.active ?? undefined);
    assert.ok(body.includes('SELECTED-LINE'));
    assert.ok(!body.includes('FILE-HEAD') && !body.includes('FILE-TAIL'), 'only the selection is sent');
    assert.ok(body.includes(`parser.ts:4-4`), 'the model is told where it comes from');

    body = await turn('Unrelated question');
    assert.ok(!body.includes('SELECTED-LINE') && !body.includes('FILE-HEAD'), 'a removed chip sends nothing');

    const c = await a.gateway.store.open(a.chatView.conversationId!);
    const user = c.messages.find((m) => m.role === 'user');
    assert.equal(user?.context, undefined);
  });

  it('a .gitignored file and a secret-looking one need an explicit pick; a closed document cannot be named', async () => {
    fs.mkdirSync(path.join(root, 'build'));
    fs.writeFileSync(path.join(root, '.gitignore'), 'build/\n');
    fs.writeFileSync(path.join(root, 'build', 'out.js'), 'BUILD-OUTPUT\n');
    fs.writeFileSync(path.join(root, '.env'), 'TOKEN=abc\n');
    await vscode.window.showTextDocument(vscode.Uri.file(path.join(root, 'build', 'out.js')));
    assert.match((await a.chatView.contextSnapshot()).active?.needsPick ?? '', /gitignore/);
    await vscode.window.showTextDocument(vscode.Uri.file(path.join(root, '.env')));
    assert.match((await a.chatView.contextSnapshot()).active?.needsPick ?? '', /secrets/);
    await assert.rejects(a.chatView.send('x', 'default-openai', { uri: vscode.Uri.file('/etc/passwd').toString() }), /no longer open/);
  });

  it('AGENTS.md and .multiclaw/rules reach the request; a switched-off file does not', async () => {
    const agentsMd = path.join(folder, 'AGENTS.md');
    const rulesDir = path.join(folder, '.multiclaw', 'rules');
    assert.ok(!fs.existsSync(agentsMd), 'the test workspace has no AGENTS.md of its own');
    fs.writeFileSync(agentsMd, 'RULE-FROM-AGENTS-MD\n');
    created.push(agentsMd);
    fs.mkdirSync(rulesDir, { recursive: true });
    created.push(path.join(folder, '.multiclaw'));
    fs.writeFileSync(path.join(rulesDir, 'style.md'), 'RULE-FROM-STYLE\n');
    const rules = await a.chatView.contextSnapshot();
    assert.deepEqual(
      rules.rules.map((r) => `${r.id}:${r.enabled}`),
      ['AGENTS.md:true', '.multiclaw/rules/style.md:true'],
    );
    let body = await turn('hello');
    assert.ok(body.includes('RULE-FROM-AGENTS-MD') && body.includes('RULE-FROM-STYLE'));

    await a.gateway.setProjectRuleEnabled('.multiclaw/rules/style.md', false);
    body = await turn('hello again');
    assert.ok(body.includes('RULE-FROM-AGENTS-MD'));
    assert.ok(!body.includes('RULE-FROM-STYLE'), 'the switched-off file is not sent');
    await a.gateway.setProjectRuleEnabled('.multiclaw/rules/style.md', true);
  });
});

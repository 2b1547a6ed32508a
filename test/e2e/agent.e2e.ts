/**
 * UI end to end: an agent turn in the packaged VSIX (code-server + Chromium) — read a file, edit it,
 * run a command that asks (Allow / Deny on its card, answered with Alt+Y), finish. The edit opens in
 * the diff editor, the changes bar offers Keep All / Undo All, and Keep All writes the file.
 * Screenshots: agent-approval-dark, agent-turn-dark, agent-turn-light.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { Frame } from 'playwright-core';
import { startProviderServer, type ProviderServer } from '../fixtures/providerServer';
import type { Workbench } from '../harness/workbench';
import { useWorkbench } from '../support/e2e';

describe('MultiClaw agent turn (packaged VSIX in code-server + Chromium)', function () {
  this.timeout(180_000);
  let server: ProviderServer;
  let wb: Workbench;
  let chat: Frame;

  useWorkbench({
    setUp: async () => {
      server = await startProviderServer();
      return {
        settings: {
          'workbench.colorTheme': 'Default Dark Modern',
          'multiclaw.providers.openai.baseUrl': server.baseUrls.openai,
        },
        files: { 'src/greet.js': 'function greet(name) {\n  return "Hello, " + name;\n}\nconsole.log(greet("world"));\n' },
      };
    },
    opened: (w) => (wb = w),
    tearDown: async () => server?.close(),
  });

  it('reads, edits and runs: the command asks on its card, Alt+Y allows it, and the turn finishes', async () => {
    await wb.activityBarItem('MultiClaw').click();
    await wb.statusBarItem('Local · Running').waitFor({ timeout: 60_000 });
    await wb.foldViews(['Conversations', 'Tasks', 'Instances']);
    await wb.runCommand('MultiClaw: Set Provider API Key');
    await wb.pickQuickItem(/^OpenAI$/);
    await wb.answerInputBox(server.keys.openai);
    chat = await wb.webview('[data-testid="composer-input"]');
    await chat.locator('[data-testid="agent-picker"] option', { hasText: 'OpenAI' }).first().waitFor({ state: 'attached', timeout: 20_000 });
    server.script([
      { text: 'Let me read it first.', toolCalls: [{ name: 'read_file', arguments: { path: 'src/greet.js' } }] },
      { toolCalls: [{ name: 'edit_file', arguments: { path: 'src/greet.js', edits: [{ old_text: '"Hello, "', new_text: '"Hi, "' }] } }] },
      { toolCalls: [{ name: 'run_command', arguments: { command: 'node src/greet.js' } }] },
      { toolCalls: [{ name: 'finish', arguments: { summary: 'greet() now says "Hi, world".' } }] },
    ]);
    const input = chat.locator('[data-testid="composer-input"]');
    await input.click();
    await input.fill('Make greet say Hi instead of Hello, then run it');
    await input.press('Enter');
    const approval = chat.locator('[data-testid="tool-card"][data-status="awaiting_approval"]').last();
    await approval.waitFor({ timeout: 30_000 });
    await approval.locator('[data-testid="approve-allow"]').waitFor();
    await approval.locator('[data-testid="approve-deny"]').waitFor();
    assert.match(await approval.innerText(), /node src\/greet\.js/);
    await wb.screenshot('agent-approval-dark');
    // Focus moved to the card: Alt+Y allows.
    await wb.page.keyboard.press('Alt+y');
    const summary = chat.locator('[data-testid="message"][data-role="assistant"][data-status="complete"]', { hasText: 'greet() now says "Hi, world".' }).last();
    await summary.waitFor({ timeout: 30_000 });
    const cards = chat.locator('[data-testid="tool-card"]');
    const statuses = await cards.evaluateAll((els) => els.map((e) => e.getAttribute('data-status')));
    assert.deepEqual(statuses, ['done', 'done', 'done', 'done']);
    assert.match(await cards.nth(2).innerText(), /exit 0/);
    // The command's output, read through shell integration, reached the model.
    assert.match(JSON.stringify(server.requests.at(-1)?.body), /Hi, world/);
    // The edit is in the diff editor and pending in the changes bar.
    await wb.page.locator('.tab', { hasText: 'greet.js' }).first().waitFor({ timeout: 20_000 });
    await chat.locator('[data-testid="changes-bar"]').waitFor();
    await chat.locator('[data-testid="keep-all"]').waitFor();
    await wb.screenshot('agent-turn-dark');
  });

  it('Keep All ends the review with the edit on disk', async () => {
    await chat.locator('[data-testid="keep-all"]').click();
    await chat.locator('[data-testid="changes-bar"]').waitFor({ state: 'hidden', timeout: 20_000 });
    const file = path.join(wb.codeServer.workspaceDir, 'src/greet.js');
    assert.match(fs.readFileSync(file, 'utf8'), /return "Hi, " \+ name;/);
  });

  it('renders the turn in the light theme too', async () => {
    await wb.runCommand('Preferences: Toggle between Light/Dark Themes');
    await wb.page.locator('.monaco-workbench.vs').waitFor({ timeout: 20_000 });
    await chat.locator('body.vscode-light').waitFor({ timeout: 20_000 });
    await wb.screenshot('agent-turn-light');
  });
});

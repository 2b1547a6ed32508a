/**
 * Restricted Mode, UI end to end: code-server with Workspace Trust ON (the other suites run with it off)
 * opens the folder untrusted. MultiClaw still activates (`capabilities.untrustedWorkspaces: limited`),
 * says it is restricted with a Trust Workspace button (a notification and the Chat view's title bar),
 * a chat still works and its read tool runs, the write the (scripted) model asks for is refused by the
 * policy with the reason on its card, no write tool is offered to the model, the file is not written,
 * and Trust Workspace opens VS Code's Workspace Trust editor.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startProviderServer, type ProviderServer } from '../fixtures/providerServer';
import type { Workbench } from '../harness/workbench';
import { useWorkbench } from '../support/e2e';

describe('MultiClaw in Restricted Mode (an untrusted folder; packaged VSIX in code-server + Chromium)', function () {
  this.timeout(180_000);
  let providers: ProviderServer;
  let wb: Workbench;

  useWorkbench({
    setUp: async () => {
      providers = await startProviderServer();
      return {
        workspaceTrust: true,
        files: { 'README.md': '# Sample\n\nHello from the sample folder.\n' },
        settings: {
          'workbench.colorTheme': 'Default Dark Modern',
          'multiclaw.providers.openaiCompatible.baseUrl': providers.baseUrls['openai-compatible'],
          'multiclaw.agents': [{ id: 'helper', name: 'Helper', provider: 'openai-compatible', model: 'fixture-model' }],
        },
      };
    },
    opened: (w) => (wb = w),
    tearDown: async () => {
      await providers?.close();
    },
  });

  it('activates in Restricted Mode and says so, with Trust Workspace in a notification and the Chat title bar', async () => {
    await wb.statusBarItem('Restricted Mode').waitFor({ timeout: 60_000 });
    await wb.activityBarItem('MultiClaw').click();
    const toast = wb.notification('MultiClaw is in Restricted Mode');
    await toast.waitFor({ timeout: 60_000 });
    await toast.locator('.monaco-button', { hasText: 'Trust Workspace' }).waitFor();
    await wb.page
      .locator('.pane-header .action-label[aria-label^="Trust Workspace"], .title-actions .action-label[aria-label^="Trust Workspace"]')
      .first()
      .waitFor();
    await wb.screenshot('restricted-mode-notice-dark');
  });

  it('chats and reads, but the policy refuses a write with the reason; no write tool is offered', async () => {
    const script = providers.script([
      {
        text: 'Let me read it and take notes.',
        toolCalls: [
          { name: 'read_file', arguments: { path: 'README.md' } },
          { name: 'write_file', arguments: { path: 'notes.txt', content: 'notes\n' } },
        ],
      },
      { text: 'I read the README; writing needs a trusted folder.' },
    ]);
    const chat = await wb.webview('[data-testid="composer-input"]');
    await chat.locator('[data-testid="agent-picker"]').selectOption('helper');
    const input = chat.locator('[data-testid="composer-input"]');
    await input.fill('Read the README and write notes.txt');
    await input.press('Enter');
    await chat
      .locator('[data-testid="message"][data-role="assistant"][data-status="complete"]', { hasText: 'writing needs a trusted folder' })
      .waitFor({ timeout: 60_000 });
    await chat.locator('[data-testid="tool-card"][data-tool="read_file"][data-status="done"]').waitFor();
    const refused = chat.locator('[data-testid="tool-card"][data-tool="write_file"][data-status="denied"]');
    await refused.waitFor();
    await refused.locator('[data-testid="tool-row"]').click();
    await refused.locator('[data-testid="tool-details"]', { hasText: 'Restricted Mode' }).waitFor();
    await wb.notification('MultiClaw refused an edit or command').waitFor({ timeout: 30_000 });
    await wb.screenshot('restricted-mode-refused-dark');

    assert.equal(fs.existsSync(path.join(wb.codeServer.workspaceDir, 'notes.txt')), false, 'nothing was written');
    const body = script.requests[0]?.body as { tools?: Array<{ function?: { name?: string } }> } | undefined;
    const offered = (body?.tools ?? []).map((t) => t.function?.name);
    assert.ok(offered.includes('read_file'), `read tools are offered (${offered.join(', ')})`);
    for (const name of ['write_file', 'edit_file', 'apply_patch', 'run_command'])
      assert.ok(!offered.includes(name), `${name} is not offered in Restricted Mode`);
  });

  it('Trust Workspace opens VS Code’s Workspace Trust editor; once trusted, the button goes', async () => {
    const toast = wb.notification('MultiClaw refused an edit or command');
    await toast.locator('.monaco-button', { hasText: 'Trust Workspace' }).click();
    const editor = wb.page.locator('.workspace-trust-editor', { hasText: 'You are in Restricted Mode' });
    await editor.waitFor({ timeout: 30_000 });
    await wb.screenshot('restricted-mode-trust-editor-dark');
    await editor.locator('.monaco-button', { hasText: /^Trust$/ }).click();
    await wb.statusBarItem('Restricted Mode').waitFor({ state: 'detached', timeout: 30_000 });
    await wb.page.locator('.pane-header .action-label[aria-label^="Trust Workspace"]').waitFor({ state: 'detached', timeout: 30_000 });
  });
});

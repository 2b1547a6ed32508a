/**
 * UI end to end: MCP servers and skills in the packaged VSIX (code-server + Chromium). A server in
 * the user's settings asks its consent in a modal before it starts; the MCP Servers view shows it
 * Running with its tools; the Skills view lists the folder's skill; a chat turn uses the MCP tool
 * after Allow on its card. Screenshots: mcp-servers-dark, skills-dark, chat-mcp-tool-dark.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import type { Frame } from 'playwright-core';
import { startProviderServer, type ProviderServer } from '../fixtures/providerServer';
import type { Workbench } from '../harness/workbench';
import { useWorkbench } from '../support/e2e';

const STDIO_SERVER = path.resolve(__dirname, '../fixtures/mcp/stdioServer.js');

describe('MultiClaw MCP servers and skills (packaged VSIX in code-server + Chromium)', function () {
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
          'multiclaw.mcp.servers': [{ name: 'tests', command: process.execPath, args: [STDIO_SERVER, 'tools'] }],
        },
        files: {
          '.multiclaw/skills/review/SKILL.md':
            '---\nname: review\ndescription: How this team reviews a change before it lands.\n---\nRead the diff, run the tests.\n',
        },
      };
    },
    opened: (w) => (wb = w),
    tearDown: async () => server?.close(),
  });

  it('asks before the first start in a modal naming the command; once allowed, the view shows Running with the tools', async () => {
    await wb.activityBarItem('MultiClaw').click();
    const dialog = wb.page.locator('.monaco-dialog-box', { hasText: 'Start the MCP server "tests"?' });
    await dialog.waitFor({ timeout: 60_000 });
    assert.match(await dialog.innerText(), /stdioServer\.js tools/);
    await dialog.locator('.monaco-button', { hasText: 'Start Server' }).click();
    await wb.page.locator('.pane-header', { hasText: 'MCP Servers' }).first().click();
    const row = wb.treeRow('MCP Servers', 'tests');
    await row.waitFor({ timeout: 30_000 });
    await wb.page
      .locator('.pane', { hasText: 'MCP Servers' })
      .locator('.monaco-list-row', { hasText: /Running · \d+ tools/ })
      .first()
      .waitFor({ timeout: 30_000 });
    await row.click();
    await wb.treeRow('MCP Servers', 'echo').waitFor({ timeout: 20_000 });
    const checkbox = wb.treeRow('MCP Servers', 'echo').locator('.custom-view-tree-node-item-checkbox, input[type="checkbox"]').first();
    await checkbox.waitFor({ state: 'attached' });
    await wb.screenshot('mcp-servers-dark');
  });

  it("lists the folder's skill in the Skills view with a checkbox", async () => {
    await wb.page.locator('.pane-header', { hasText: 'Skills' }).first().click();
    await wb.treeRow('Skills', 'review').waitFor({ timeout: 30_000 });
    assert.match(await wb.treeRow('Skills', 'review').innerText(), /Workspace · How this team reviews/);
    await wb.screenshot('skills-dark');
  });

  it('uses the MCP tool in a chat turn after Allow on its card', async () => {
    // The chat gets the side bar's room: the other views fold.
    await wb.foldViews(['Conversations', 'Tasks', 'Instances', 'MCP Servers', 'Skills']);
    await wb.runCommand('MultiClaw: Set Provider API Key');
    await wb.pickQuickItem(/^OpenAI$/);
    await wb.answerInputBox(server.keys.openai);
    chat = await wb.webview('[data-testid="composer-input"]');
    await chat.locator('[data-testid="agent-picker"] option', { hasText: 'OpenAI' }).first().waitFor({ state: 'attached', timeout: 20_000 });
    server.script([{ toolCalls: [{ name: 'tests__echo', arguments: { text: 'hello through MCP' } }] }, { text: 'The MCP server echoed it back.' }]);
    const input = chat.locator('[data-testid="composer-input"]');
    await input.click();
    await input.fill('Echo "hello through MCP" with the test server');
    await input.press('Enter');
    const allow = chat.locator('[data-testid="approve-allow"]').last();
    await allow.waitFor({ timeout: 30_000 });
    await allow.click();
    await chat
      .locator('[data-testid="message"][data-role="assistant"][data-status="complete"]', { hasText: 'The MCP server echoed it back.' })
      .waitFor({ timeout: 30_000 });
    assert.match(JSON.stringify(server.requests.at(-1)?.body), /hello through MCP/);
    await wb.screenshot('chat-mcp-tool-dark');
  });
});

/**
 * UI end to end: the Get Started walkthrough in the packaged VSIX (code-server + Chromium), opened
 * from the MultiClaw menu: six steps with their buttons and themed images; a step completes on its
 * event (running Add MCP Server… marks "Add an MCP server" done). Screenshots in dark and light.
 */
import assert from 'node:assert/strict';
import type { Workbench } from '../harness/workbench';
import { useWorkbench } from '../support/e2e';

describe('MultiClaw walkthrough (packaged VSIX in code-server + Chromium)', function () {
  this.timeout(180_000);
  let wb: Workbench;

  useWorkbench({
    setUp: async () => ({ settings: { 'workbench.colorTheme': 'Default Dark Modern', 'workbench.startupEditor': 'none' } }),
    opened: (w) => (wb = w),
  });

  const step = (title: string) => wb.page.locator('.getting-started-step', { hasText: title }).first();

  it('opens from the MultiClaw menu with its six steps', async () => {
    await wb.activityBarItem('MultiClaw').click();
    await wb.statusBarItem('Local · Running').waitFor({ timeout: 60_000 });
    await wb.statusBarItem('Local · Running').click();
    await wb.pickQuickItem('Get Started');
    await wb.page.locator('.gettingStartedContainer', { hasText: 'Get started with MultiClaw' }).first().waitFor({ timeout: 30_000 });
    for (const t of ['Connect a model', 'Chat with an agent', "Review an agent's edit", 'Sign in to a team workspace', 'Dispatch a task', 'Add an MCP server'])
      await step(t).waitFor({ timeout: 20_000 });
    // With room (the side bar hidden), the selected step shows its themed image beside it.
    await wb.page.keyboard.press('Control+b');
    const media = await wb.webview('svg[role="img"]');
    assert.match((await media.locator('svg[role="img"]').first().getAttribute('aria-label')) ?? '', /paste its key/);
    await wb.screenshot('walkthrough-dark');
  });

  it('completes a step on its event: Add MCP Server… marks "Add an MCP server" done', async () => {
    assert.equal(await step('Add an MCP server').locator('.codicon-getting-started-step-checked').count(), 0, 'not done yet');
    // The user's path: open the step, press its button.
    await step('Add an MCP server').click();
    const open = wb.page.locator('.getting-started-step.expanded', { hasText: 'MCP servers give agents more tools' }).first();
    await open.waitFor({ timeout: 20_000 });
    await open.locator('.monaco-button, a.button-link, button', { hasText: 'Add MCP Server' }).first().click();
    await wb.page.locator('.quick-input-widget', { hasText: 'Add MCP Server (1/3)' }).waitFor({ timeout: 20_000 });
    await wb.page.keyboard.press('Escape');
    // The next test types into the palette: wait until this quick pick has gone.
    await wb.page.locator('.quick-input-widget').waitFor({ state: 'hidden', timeout: 20_000 });
    await step('Add an MCP server').locator('.codicon-getting-started-step-checked').waitFor({ state: 'attached', timeout: 20_000 });
  });

  it('renders in the light theme too', async () => {
    await wb.runCommand('Preferences: Toggle between Light/Dark Themes');
    await wb.page.locator('.monaco-workbench.vs').waitFor({ timeout: 20_000 });
    await wb.runCommand('MultiClaw: Get Started');
    await step('Add an MCP server').click();
    await wb.page.locator('.getting-started-step.expanded', { hasText: 'MCP servers give agents more tools' }).first().waitFor({ timeout: 20_000 });
    await wb.webview('svg[aria-label^="The MCP Servers view"]');
    await wb.screenshot('walkthrough-light');
  });
});

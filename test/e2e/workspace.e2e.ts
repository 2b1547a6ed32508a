/**
 * Workspace mode, UI end to end: the packaged VSIX in code-server + Chromium against the reference
 * workspace server (a child process, demo workspace) and the provider fixture. Sign in from the command
 * palette; a task created on the server shows in the Tasks tree within 1 s; Dispatch Task… from the
 * palette, the plan in the chat and Approve from the tree; the status bar reads Connected →
 * Reconnecting → Connected across a server restart. Screenshots along the way.
 */
import assert from 'node:assert/strict';
import { login, rest, startServerProcess, type ServerProcess } from '../fixtures/serverProcess';
import { startProviderServer, type ProviderServer } from '../fixtures/providerServer';
import type { Workbench } from '../harness/workbench';
import { useWorkbench } from '../support/e2e';

describe('MultiClaw workspace UI (packaged VSIX in code-server + Chromium)', function () {
  this.timeout(180_000);
  let providers: ProviderServer;
  let server: ServerProcess;
  let wb: Workbench;
  let ownerToken: string;

  useWorkbench({
    setUp: async () => {
      providers = await startProviderServer();
      server = await startServerProcess();
      ownerToken = await login(server.url, server.users.owner);
      return {
        settings: {
          'workbench.colorTheme': 'Default Dark Modern',
          'multiclaw.workspace.url': server.url,
          'multiclaw.providers.openaiCompatible.baseUrl': providers.baseUrls['openai-compatible'],
        },
        files: { 'src/notes.md': '# Notes\n\nOnboarding steps go here.\n' },
      };
    },
    opened: (w) => (wb = w),
    tearDown: async () => {
      await server?.dispose();
      await providers?.close();
    },
  });

  /** Fills the open input box whose prompt or title says `prompt` and presses Enter (the next step may open at once). */
  async function typeAndEnter(prompt: string, text: string): Promise<void> {
    const widget = wb.page.locator('.quick-input-widget', { hasText: prompt });
    await widget.waitFor();
    await widget.locator('input').first().fill(text);
    await wb.page.keyboard.press('Enter');
  }

  it('signs in from the command palette: Signed out → Connected · Demo workspace', async () => {
    await wb.activityBarItem('MultiClaw').click();
    await wb.statusBarItem('Signed out').waitFor({ timeout: 60_000 });
    await wb.runCommand('MultiClaw: Sign In');
    await wb.pickQuickItem('Email and password');
    await typeAndEnter('Email', server.users.member.email);
    await typeAndEnter('Password for', server.users.member.password);
    await wb.statusBarItem('Connected · Demo workspace').waitFor({ timeout: 30_000 });
    await wb.notification('signed in to Demo workspace').waitFor({ timeout: 10_000 });
    await wb.screenshot('workspace-connected-dark');
  });

  it('shows a task created on the server in the Tasks tree within 1 s', async () => {
    const tasks = wb.viewPane('Tasks');
    await tasks.waitFor();
    if ((await tasks.locator('.pane-header').first().getAttribute('aria-expanded')) === 'false') await tasks.locator('.pane-header').first().click();
    // The member's demo task is already listed once the link has synced.
    await wb.treeRow('Tasks', 'Review the open pull request').waitFor({ timeout: 20_000 });
    const me = await rest<{ user: { id: string }; workspaces: unknown[] }>(server.url, 'GET', '/v1/me', {
      token: await login(server.url, server.users.member),
    });
    const members = await rest<{ members: Array<{ id: string; userId: string }> }>(server.url, 'GET', `/v1/workspaces/${server.workspaceId}/members`, {
      token: ownerToken,
    });
    const memberId = members.body.members.find((m) => m.userId === me.body.user.id)!.id;
    const title = `Fix the login bug ${Date.now() % 10000}`;
    const started = Date.now();
    const r = await rest(server.url, 'POST', `/v1/workspaces/${server.workspaceId}/tasks`, {
      token: ownerToken,
      body: { title, prompt: 'Users cannot log in with SSO.', assignee: { type: 'member', memberId } },
    });
    assert.equal(r.status, 201);
    await wb.treeRow('Tasks', title).waitFor({ timeout: 1_000 });
    const ms = Date.now() - started;
    assert.ok(ms <= 1_000, `shown after ${ms} ms`);
    await wb.screenshot('workspace-tasks-dark');
  });

  it('dispatches a task from the palette: the plan streams in the chat, Approve Plan from the tree completes it', async () => {
    await wb.runCommand('MultiClaw: Dispatch Task…');
    await wb.pickQuickItem('OpenAI-compatible');
    await typeAndEnter('what should the agent do', 'Write the onboarding notes');
    await wb.pickQuickItem('This machine, now');
    const row = wb.treeRow('Tasks', 'Write the onboarding notes');
    await wb.page.locator('.pane', { hasText: 'Awaiting approval' }).first().waitFor({ timeout: 30_000 });
    const chat = await wb.webview('[data-testid="composer-input"]');
    await chat.locator('[data-testid="message"][data-role="assistant"][data-status="complete"]').last().waitFor({ timeout: 30_000 });
    await wb.notification('plan ready').waitFor({ timeout: 20_000 });
    // The plan's Markdown is plain text in the notification; the task's prompt is a task event, not "You".
    assert.doesNotMatch(await wb.notification('plan ready').innerText(), /\*\*/);
    const taskEvent = chat.locator('[data-testid="message"][data-origin="task"]');
    await taskEvent.first().waitFor({ timeout: 20_000 });
    assert.match(await taskEvent.first().locator('.author').innerText(), /^Task$/);
    assert.equal(await chat.locator('[data-testid="message"][data-role="user"]:not([data-origin])').count(), 0, 'no task prompt shown as the user speaking');
    await wb.screenshot('workspace-plan-dark');
    await row.hover();
    await row.locator('.action-label[aria-label="Approve Plan"]').click();
    await wb.page.locator('.pane', { hasText: 'Completed' }).first().waitFor({ timeout: 30_000 });
    await chat.locator('[data-testid="message"][data-role="assistant"][data-status="complete"]').nth(1).waitFor({ timeout: 30_000 });
    assert.equal(await taskEvent.count(), 2, '"the plan was approved" is a task event too');
  });

  it('reads Connected → Reconnecting → Connected across a server restart', async () => {
    await wb.statusBarItem('Connected · Demo workspace').waitFor({ timeout: 10_000 });
    await server.stop();
    await wb.statusBarItem(/Reconnecting|Offline/).waitFor({ timeout: 20_000 });
    await wb.screenshot('workspace-reconnecting-dark');
    await server.start();
    await wb.statusBarItem('Connected · Demo workspace').waitFor({ timeout: 30_000 });
  });

  it('opens the MultiClaw menu from the status bar with Sign Out and Reconnect', async () => {
    await wb.statusBarItem('Connected · Demo workspace').click();
    await wb.page.locator('.quick-input-list .monaco-list-row', { hasText: 'Sign Out' }).first().waitFor();
    await wb.page.locator('.quick-input-list .monaco-list-row', { hasText: 'Reconnect' }).first().waitFor();
    await wb.screenshot('workspace-menu-dark');
    await wb.page.keyboard.press('Escape');
  });
});

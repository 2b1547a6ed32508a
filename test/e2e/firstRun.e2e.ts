/**
 * A new user's first steps, UI end to end (the packaged VSIX in code-server + Chromium, the reference
 * workspace server with its demo workspace, the provider fixture): nothing typed is lost and every error
 * says what to do. A skipped `multiclaw.agents` entry is shown (entry and field named, Open Settings)
 * while the valid agent loads; a key in the wrong format is warned about, with Use Anyway; Sign In probes
 * the URL before asking for credentials (a closed port is reported in the URL box, the URL not saved,
 * the status not Signed out), offers Change server…, and after a wrong password asks only for the
 * password; the demo Owner sees their task; Dispatch offers only targets that exist and offers a
 * cancelled prompt again.
 */
import assert from 'node:assert/strict';
import { startServerProcess, type ServerProcess } from '../fixtures/serverProcess';
import { startProviderServer, type ProviderServer } from '../fixtures/providerServer';
import type { Workbench } from '../harness/workbench';
import { useWorkbench } from '../support/e2e';
import { freePort } from '../support/net';

describe('MultiClaw first run: no lost input, errors that say what to do (packaged VSIX in code-server + Chromium)', function () {
  this.timeout(180_000);
  let providers: ProviderServer;
  let server: ServerProcess;
  let wb: Workbench;

  useWorkbench({
    setUp: async () => {
      providers = await startProviderServer();
      server = await startServerProcess();
      return {
        settings: {
          'workbench.colorTheme': 'Default Dark Modern',
          'multiclaw.providers.openaiCompatible.baseUrl': providers.baseUrls['openai-compatible'],
          'multiclaw.agents': [
            { id: 'helper', name: 'Helper', provider: 'openai-compatible', model: 'fixture-model' },
            { id: 'bad id!', name: 'Broken', provider: 'openai', model: 'm' },
          ],
        },
      };
    },
    opened: (w) => (wb = w),
    tearDown: async () => {
      await server?.dispose();
      await providers?.close();
    },
  });

  const widget = (text: string | RegExp) => wb.page.locator('.quick-input-widget', { hasText: text });

  /** Fills the open input box whose title, prompt or message says `text` and presses Enter. */
  async function typeAndEnter(text: string | RegExp, value: string): Promise<void> {
    const w = widget(text);
    await w.waitFor();
    await w.locator('input').first().fill(value);
    await wb.page.keyboard.press('Enter');
  }

  it('shows a skipped multiclaw.agents entry, naming entry and field, with Open Settings; the valid agent loads', async () => {
    await wb.activityBarItem('MultiClaw').click();
    const toast = wb.notification('multiclaw.agents[1] ("bad id!") skipped: "id"');
    await toast.waitFor({ timeout: 60_000 });
    assert.ok(!/id: id:/.test(await toast.innerText()), 'no doubled "id: id:"');
    await toast.locator('.monaco-button', { hasText: 'Open Settings' }).waitFor();
    const chat = await wb.webview('[data-testid="composer-input"]');
    await chat.locator('[data-testid="agent-picker"] option', { hasText: 'Helper' }).waitFor({ state: 'attached' });
    await wb.screenshot('first-run-agents-warning-dark');
  });

  it('warns about an OpenAI key without sk- and saves it only after Use Anyway', async () => {
    await wb.runCommand('MultiClaw: Set Provider API Key');
    await wb.pickQuickItem(/^OpenAI$/);
    const box = widget('OpenAI API key');
    await box.waitFor();
    await box.locator('input').first().fill('abc123');
    await box.locator('.quick-input-message', { hasText: 'does not look like an OpenAI key: those start with sk-' }).waitFor();
    await wb.screenshot('first-run-key-format-dark');
    await wb.page.keyboard.press('Enter');
    const dialog = wb.page.locator('.monaco-dialog-box', { hasText: 'Use it anyway?' });
    await dialog.waitFor();
    await dialog.locator('.monaco-button', { hasText: 'Use Anyway' }).click();
    await wb.notification('OpenAI key saved').waitFor({ timeout: 20_000 });
  });

  it('probes the server URL first, keeps the URL box open on a closed port, offers Change server…, asks only the password again', async () => {
    await wb.statusBarItem('MultiClaw: Local · Running').waitFor({ timeout: 30_000 });
    const closed = `http://127.0.0.1:${await freePort()}`;
    await wb.runCommand('MultiClaw: Sign In');
    await typeAndEnter('The URL of your workspace server', closed);
    const refused = widget('Nothing answers at');
    await refused.waitFor({ timeout: 30_000 });
    assert.match(await refused.innerText(), /refused the connection/);
    assert.equal(await wb.quickInput().inputValue(), closed, 'the typed URL is still there');
    assert.equal(await wb.page.locator('.quick-input-list .monaco-list-row', { hasText: 'Email and password' }).count(), 0, 'no credentials asked yet');
    await wb.screenshot('first-run-sign-in-closed-port-dark');
    assert.equal(await wb.statusBarItem('Signed out').count(), 0, 'the bad URL was not saved');

    await typeAndEnter('Nothing answers at', server.url);
    await wb.page.locator('.quick-input-list .monaco-list-row', { hasText: 'Change server…' }).waitFor();
    await wb.pickQuickItem('Email and password');
    await typeAndEnter('Email', server.users.owner.email);
    await typeAndEnter('Password for', 'not-the-password');
    await widget('Wrong password for owner@demo.multiclaw.local').waitFor({ timeout: 30_000 });
    assert.equal(await wb.quickInput().inputValue(), '', 'a fresh password box');
    await typeAndEnter('Wrong password for', server.users.owner.password);
    await wb.statusBarItem('MultiClaw: Connected · Demo workspace').waitFor({ timeout: 30_000 });
    // The demo Owner has a task of their own.
    await wb.treeRow('Tasks', 'Plan the first sprint').waitFor({ timeout: 20_000 });
    await wb.screenshot('first-run-signed-in-dark');
  });

  it('offers only targets that exist (no cloud desktop here) and offers a cancelled prompt again', async () => {
    await wb.runCommand('MultiClaw: Dispatch Task…');
    await wb.pickQuickItem('Helper');
    await typeAndEnter('what should the agent do', 'Summarise the onboarding notes');
    await wb.page.locator('.quick-input-list .monaco-list-row', { hasText: 'This machine, now' }).waitFor({ timeout: 20_000 });
    await wb.page.locator('.quick-input-list .monaco-list-row', { hasText: 'Assign to a teammate' }).waitFor();
    assert.equal(await wb.page.locator('.quick-input-list .monaco-list-row', { hasText: 'cloud desktop' }).count(), 0, 'the workspace has no cloud desktop');
    await wb.screenshot('first-run-dispatch-targets-dark');
    await wb.page.keyboard.press('Escape');

    await wb.runCommand('MultiClaw: Dispatch Task…');
    await wb.pickQuickItem('Helper');
    await widget('Your last prompt was not dispatched').waitFor();
    assert.equal(await wb.quickInput().inputValue(), 'Summarise the onboarding notes');
    await wb.page.keyboard.press('Escape');
  });
});

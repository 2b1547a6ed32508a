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
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
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
  // Its own home with a Documents folder: where Export suggests saving (and where the discovery copy goes).
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'mc-first-run-home-'));
  fs.mkdirSync(path.join(home, 'Documents'));

  useWorkbench({
    setUp: async () => {
      providers = await startProviderServer();
      server = await startServerProcess();
      return {
        env: { HOME: home },
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
      fs.rmSync(home, { recursive: true, force: true });
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

  it('exports a conversation as a Markdown transcript, saved by default in Documents, with Open and Reveal', async () => {
    const chat = await wb.webview('[data-testid="composer-input"]');
    await chat.locator('[data-testid="agent-picker"]').selectOption('helper');
    const input = chat.locator('[data-testid="composer-input"]');
    await input.fill('Hello from the first run');
    await input.press('Enter');
    await chat.locator('[data-testid="message"][data-role="assistant"][data-status="complete"]').last().waitFor({ timeout: 30_000 });
    const row = wb.treeRow('Conversations', 'Hello from the first run');
    await row.waitFor({ timeout: 20_000 });
    await row.hover();
    await row.locator('.action-label[aria-label^="Export Conversation"]').click();
    await wb.pickQuickItem('Markdown');
    const file = path.join(home, 'Documents', 'Hello from the first run.md');
    await wb.page.locator('.quick-input-widget', { hasText: 'Export conversation (Markdown)' }).waitFor();
    // The simple save dialog fills in its path asynchronously: wait for the file name, then compare.
    await wb.page.waitForFunction(
      (name) => {
        const g = globalThis as unknown as { document: { querySelector(s: string): { value: string } | null } };
        return g.document.querySelector('.quick-input-widget input')?.value.endsWith(name) ?? false;
      },
      'Hello from the first run.md',
      { timeout: 20_000 },
    );
    assert.equal(await wb.quickInput().inputValue(), file, 'the default is under Documents, named after the title');
    await wb.page.keyboard.press('Enter');
    const toast = wb.notification('conversation exported to');
    await toast.waitFor({ timeout: 20_000 });
    await toast.locator('.monaco-button', { hasText: 'Reveal' }).waitFor();
    await toast.locator('.monaco-button', { hasText: 'Open' }).click();
    await wb.page.locator('.tab', { hasText: 'Hello from the first run.md' }).waitFor({ timeout: 20_000 });
    const text = fs.readFileSync(file, 'utf8');
    assert.match(text, /^# Hello from the first run\n/);
    assert.match(text, /\n### You · \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\n\nHello from the first run\n/);
    assert.match(text, /\n### Helper · /);
    await wb.screenshot('first-run-export-dark');
  });
});

/**
 * Page objects for the VS Code workbench in Chromium (code-server): command palette (F1), quick
 * input, status bar, activity bar, tree views, notifications and webviews (nested iframes).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, ConsoleMessage, Frame, Locator, Page } from 'playwright-core';
import { CodeServer, type CodeServerOptions } from './codeServer';
import { launchChromium } from './env';

export const RESULTS_DIR = path.resolve(process.env.MULTICLAW_RESULTS_DIR ?? 'test-results');

export class Workbench {
  readonly consoleLines: string[] = [];

  private constructor(
    readonly page: Page,
    readonly codeServer: CodeServer,
    private readonly browser: Browser,
  ) {
    page.on('console', (m: ConsoleMessage) => this.consoleLines.push(`[${m.type()}] ${m.text()}`));
    page.on('pageerror', (e) => this.consoleLines.push(`[pageerror] ${e.message}`));
  }

  /** Starts code-server (clean user data, own port), Chromium, and opens the workbench on a workspace folder. */
  static async open(options: CodeServerOptions & { files?: Record<string, string>; chromiumArgs?: string[] } = {}): Promise<Workbench> {
    const cs = new CodeServer({ label: 'multiclaw-e2e', ...options });
    for (const [name, content] of Object.entries(options.files ?? {})) {
      fs.mkdirSync(path.dirname(path.join(cs.workspaceDir, name)), { recursive: true });
      fs.writeFileSync(path.join(cs.workspaceDir, name), content);
    }
    await cs.start();
    const browser = await launchChromium({ args: options.chromiumArgs ?? [] });
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    const wb = new Workbench(page, cs, browser);
    await page.goto(cs.workbenchUrl());
    await page.locator('.monaco-workbench').waitFor({ timeout: 90_000 });
    return wb;
  }

  /** Runs a command by its palette title (F1), e.g. "MultiClaw: Set Provider API Key". */
  async runCommand(title: string): Promise<void> {
    await this.page.keyboard.press('Escape');
    await this.page.keyboard.press('F1');
    const input = this.quickInput();
    await input.waitFor();
    await input.fill('>' + title);
    const row = this.page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first();
    await row.waitFor({ timeout: 20_000 });
    await row.click();
  }

  quickInput(): Locator {
    return this.page.locator('.quick-input-widget input[type="text"], .quick-input-widget input[type="password"]').first();
  }

  /** Picks an item in an open quick pick by its label. */
  async pickQuickItem(label: string | RegExp): Promise<void> {
    const row = this.page.locator('.quick-input-list .monaco-list-row', { hasText: label }).first();
    await row.waitFor({ timeout: 20_000 });
    await row.click();
  }

  /** Types into the open input box and accepts it. */
  async answerInputBox(text: string): Promise<void> {
    const box = this.page.locator('.quick-input-widget input').first();
    await box.waitFor();
    await box.fill(text);
    await this.page.keyboard.press('Enter');
    await this.page.locator('.quick-input-widget').waitFor({ state: 'hidden' });
  }

  statusBarItem(text: string | RegExp): Locator {
    return this.page.locator('.statusbar-item', { hasText: text }).first();
  }

  activityBarItem(label: string): Locator {
    return this.page.locator(`.activitybar .action-item a[aria-label^="${label}"], .activitybar .action-item[aria-label^="${label}"]`).first();
  }

  /** A view pane (by its title) in the side bar. */
  viewPane(title: string): Locator {
    return this.page.locator('.pane', { has: this.page.locator('.pane-header', { hasText: title }) }).first();
  }

  /** Folds these side bar views if they are open (the Chat gets their room). */
  async foldViews(titles: readonly string[]): Promise<void> {
    for (const title of titles) {
      const header = this.page.locator('.pane-header', { hasText: title }).first();
      if ((await header.getAttribute('aria-expanded')) === 'true') await header.click();
    }
  }

  treeRow(viewTitle: string, text: string | RegExp): Locator {
    return this.viewPane(viewTitle).locator('.monaco-list-row', { hasText: text }).first();
  }

  notification(text: string | RegExp): Locator {
    return this.page.locator('.notification-toast, .notifications-center', { hasText: text }).first();
  }

  /**
   * The content frame of a webview: outer `iframe.webview` (VS Code's host page) → inner
   * `iframe#active-frame` (the extension's HTML). Picks the webview whose content has `selector`.
   */
  async webview(selector: string, timeoutMs = 30_000): Promise<Frame> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      for (const f of this.page.frames()) {
        if (f.name() !== 'active-frame' && !f.url().includes('fake.html')) continue;
        if (
          await f
            .locator(selector)
            .count()
            .catch(() => 0)
        )
          return f;
      }
      if (Date.now() > deadline) throw new Error(`no webview with ${selector} within ${timeoutMs} ms`);
      await this.page.waitForTimeout(200); // frames load asynchronously; re-check the frame tree
    }
  }

  async screenshot(name: string): Promise<string> {
    fs.mkdirSync(RESULTS_DIR, { recursive: true });
    const file = path.join(RESULTS_DIR, `${name}.png`);
    await this.page.screenshot({ path: file });
    return file;
  }

  /** On failure: keep code-server's log, the extension host logs, the page console and a screenshot. */
  async keepArtifacts(name: string): Promise<string> {
    const dir = path.join(RESULTS_DIR, 'failures', name.replace(/[^\w.-]+/g, '_'));
    fs.mkdirSync(dir, { recursive: true });
    await this.page.screenshot({ path: path.join(dir, 'screenshot.png') }).catch(() => undefined);
    fs.writeFileSync(path.join(dir, 'page-console.log'), this.consoleLines.join('\n') + '\n');
    this.codeServer.collectLogs(dir);
    return dir;
  }

  async close(): Promise<void> {
    await this.browser.close().catch(() => undefined);
    await this.codeServer.stop();
  }
}

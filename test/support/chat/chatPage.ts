/**
 * Runs the built chat webview (dist/webviews) in real Chromium behind the real CSP from
 * renderChatHtml, with a stub host: `acquireVsCodeApi` is defined by an init script and forwards
 * postMessage/setState to Node; host messages are delivered with window.postMessage, as VS Code does.
 * Pages are served by request interception on a made-up https origin (no port, no network).
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { renderChatHtml } from '../../../src/extension/chat/chatHtml';
import { launchChromium } from '../../harness/env';
import type { ChatNotificationMethod, ChatNotificationParams, WebviewToHost } from '../../../src/protocol/chatView';
import type { PageGlobals } from './pageTypes';
import { themes, type ThemeName } from './themes';

export const ORIGIN = 'https://chat-webview.test';
const repoRoot = path.resolve(__dirname, '..', '..', '..', '..');
export const distDir = path.join(repoRoot, 'dist', 'webviews');

/** Fails with a clear message when the webview bundle has not been built. */
export function assertBuilt(): void {
  if (!fs.existsSync(path.join(distDir, 'chat.js'))) {
    throw new Error(`${path.join(distDir, 'chat.js')} is missing: run \`node esbuild.js\` before the webview tests.`);
  }
}

const contentTypes: Record<string, string> = { '.js': 'text/javascript', '.css': 'text/css', '.ttf': 'font/ttf', '.map': 'application/json' };

export interface ChatPageOptions {
  theme?: ThemeName;
  /** What `getState()` returns (the view state VS Code kept while the view was hidden). */
  savedState?: unknown;
  /** false sets body[data-windowing=off] (the benchmark's baseline). */
  windowed?: boolean;
  viewport?: { width: number; height: number };
}

interface Waiter {
  pred: (m: WebviewToHost) => boolean;
  resolve: (m: WebviewToHost) => void;
}

interface StubConfig {
  vars: Record<string, string>;
  bodyClass: string;
  savedState: unknown;
}

/** Runs in the page before any of its scripts; CSP does not apply to init scripts. */
function installStubHost(cfg: StubConfig): void {
  type Bindings = { __toHost(json: string): void; __setState(json: string): void; __violation(text: string): void };
  const w = globalThis as unknown as PageGlobals & Bindings & { acquireVsCodeApi?: () => unknown };
  let saved = cfg.savedState;
  let acquired = false;
  w.acquireVsCodeApi = () => {
    if (acquired) throw new Error('An instance of the VS Code API has already been acquired');
    acquired = true;
    return Object.freeze({
      postMessage: (m: unknown) => w.__toHost(JSON.stringify(m)),
      getState: () => saved,
      setState: (s: unknown) => {
        saved = s;
        w.__setState(JSON.stringify(s));
        return s;
      },
    });
  };
  w.document.addEventListener('securitypolicyviolation', (e) =>
    w.__violation(`${e.violatedDirective} blocked ${e.blockedURI || '(inline)'} at ${e.sourceFile}:${e.lineNumber}`),
  );
  // Like VS Code: theme variables on <html>, the theme kind as a body class, set from script before
  // the page's own DOMContentLoaded handler (registered later) starts the app.
  w.document.addEventListener(
    'DOMContentLoaded',
    () => {
      const root = w.document.documentElement;
      for (const [k, v] of Object.entries(cfg.vars)) root.style.setProperty(k, v);
      root.style.setProperty('background-color', 'var(--vscode-sideBar-background)');
      w.document.body.classList.add(cfg.bodyClass);
    },
    { once: true },
  );
}

export class ChatPage {
  readonly received: WebviewToHost[] = [];
  readonly savedStates: unknown[] = [];
  readonly violations: string[] = [];
  readonly consoleProblems: string[] = [];
  private waiters: Waiter[] = [];

  private constructor(
    readonly context: BrowserContext,
    readonly page: Page,
  ) {}

  static async open(browser: Browser, o: ChatPageOptions = {}): Promise<ChatPage> {
    assertBuilt();
    const context = await browser.newContext({ viewport: o.viewport ?? { width: 400, height: 700 }, deviceScaleFactor: 1 });
    const page = await context.newPage();
    const chat = new ChatPage(context, page);
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') chat.consoleProblems.push(`${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => chat.consoleProblems.push(`pageerror: ${e.message}`));
    await page.exposeFunction('__toHost', (json: string) => chat.onMessage(JSON.parse(json) as WebviewToHost));
    await page.exposeFunction('__setState', (json: string) => chat.savedStates.push(JSON.parse(json)));
    await page.exposeFunction('__violation', (text: string) => chat.violations.push(text));
    const theme = themes[o.theme ?? 'dark'];
    await page.addInitScript(installStubHost, { vars: theme.vars, bodyClass: theme.bodyClass, savedState: o.savedState });
    const nonce = crypto.randomBytes(18).toString('base64');
    let html = renderChatHtml({
      cspSource: ORIGIN,
      nonce,
      scriptUri: `${ORIGIN}/dist/chat.js`,
      styleUri: `${ORIGIN}/dist/chat.css`,
      codiconsUri: `${ORIGIN}/dist/codicons/codicon.css`,
    });
    if (o.windowed === false) html = html.replace('<body>', '<body data-windowing="off">');
    await page.route(`${ORIGIN}/**`, async (route) => {
      const url = new URL(route.request().url());
      if (url.pathname === '/index.html') return route.fulfill({ status: 200, contentType: 'text/html', body: html });
      const file = path.join(distDir, path.normalize(url.pathname.replace(/^\/dist\//, '')));
      if (!url.pathname.startsWith('/dist/') || !file.startsWith(distDir) || !fs.existsSync(file)) return route.fulfill({ status: 404, body: 'not found' });
      return route.fulfill({ status: 200, contentType: contentTypes[path.extname(file)] ?? 'application/octet-stream', body: fs.readFileSync(file) });
    });
    await page.goto(`${ORIGIN}/index.html`);
    return chat;
  }

  /** Resolves with the first message (already received or future) matching `pred`. */
  waitForMessage(pred: (m: WebviewToHost) => boolean, timeoutMs = 5000): Promise<WebviewToHost> {
    const hit = this.received.find(pred);
    if (hit) return Promise.resolve(hit);
    return new Promise((resolve, reject) => {
      const waiter: Waiter = { pred, resolve };
      this.waiters.push(waiter);
      setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`timed out waiting for a webview message; got ${JSON.stringify(this.received.map((m) => m.method))}`));
      }, timeoutMs).unref();
    });
  }

  /** Commands with `method` received so far (their params). */
  commands(method: string): unknown[] {
    return this.received.filter((m) => m.kind === 'command' && m.method === method).map((m) => m.params);
  }

  waitForCommand(method: string, nth = 1): Promise<unknown> {
    return this.waitForMessage((m) => m.kind === 'command' && m.method === method && this.commands(method).length >= nth).then(
      () => this.commands(method)[nth - 1],
    );
  }

  /** Waits for the `method` request and returns its id and params. */
  async waitForRequest(method: string, nth = 1): Promise<{ id: number; params: unknown }> {
    const requests = (): WebviewToHost[] => this.received.filter((m) => m.kind === 'request' && m.method === method);
    await this.waitForMessage((m) => m.kind === 'request' && m.method === method && requests().length >= nth);
    const r = requests()[nth - 1];
    if (r.kind !== 'request') throw new Error('unreachable');
    return { id: r.id, params: r.params };
  }

  async respond(id: number, result: unknown): Promise<void> {
    await this.post({ kind: 'response', id, result });
  }

  /** Answers the ready handshake with `state`. */
  async ready(state: unknown): Promise<void> {
    const { id } = await this.waitForRequest('chat/ready');
    await this.respond(id, state);
  }

  async notify<M extends ChatNotificationMethod>(method: M, params: ChatNotificationParams<M>): Promise<void> {
    await this.post({ kind: 'notification', method, params });
  }

  /** Posts several host messages in one round trip (they arrive as separate message events). */
  async postAll(messages: unknown[]): Promise<void> {
    await this.page.evaluate((ms) => {
      for (const m of ms) (globalThis as unknown as PageGlobals).postMessage(m, '*');
    }, messages);
  }

  /** Posts anything (also malformed messages) the way the host does. */
  async post(message: unknown): Promise<void> {
    await this.page.evaluate((m) => (globalThis as unknown as PageGlobals).postMessage(m, '*'), message);
  }

  /** Resolves after the page has rendered a frame (rAF flushes done). */
  async nextFrame(): Promise<void> {
    await this.page.evaluate(() => {
      const g = globalThis as unknown as PageGlobals;
      return new Promise<void>((r) => g.requestAnimationFrame(() => g.requestAnimationFrame(() => r())));
    });
  }

  async close(): Promise<void> {
    await this.context.close();
  }

  private onMessage(m: WebviewToHost): void {
    this.received.push(m);
    const ready = this.waiters.filter((w) => w.pred(m));
    this.waiters = this.waiters.filter((w) => !ready.includes(w));
    for (const w of ready) w.resolve(m);
  }
}

/**
 * Mocha hooks for a suite of chat-page tests: one Chromium for the suite; after each test, the pages
 * it opened are closed and, when it passed, their CSP held and nothing was logged (tests that expect
 * a warning clear `consoleProblems` first).
 */
export function useChatPage(): { open(o?: ChatPageOptions): Promise<ChatPage> } {
  let browser: Browser | undefined;
  let opened: ChatPage[] = [];
  before(async () => {
    assertBuilt();
    browser = await launchChromium();
  });
  after(async () => browser?.close());
  afterEach(async function () {
    const pages = opened;
    opened = [];
    for (const chat of pages) {
      const { violations, consoleProblems } = chat;
      await chat.close();
      if (this.currentTest?.state === 'passed') {
        assert.deepEqual(violations, [], 'CSP violations');
        assert.deepEqual(consoleProblems, [], 'console errors/warnings');
      }
    }
  });
  return {
    open: async (o) => {
      if (!browser) throw new Error('useChatPage(): open() runs inside a test');
      const chat = await ChatPage.open(browser, o);
      opened.push(chat);
      return chat;
    },
  };
}

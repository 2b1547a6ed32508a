/**
 * The chat webview at scale (5,000 messages, windowed) and how it looks: screenshots in a dark and a
 * light theme go to test-results/. Requires the bundle: `node esbuild.js`.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { type ChatPage, useChatPage } from '../../support/chat/chatPage';
import { agents, conversation, longConversation, message, state } from '../../support/chat/fixtures';
import type { PageGlobals } from '../../support/chat/pageTypes';

const resultsDir = path.resolve(__dirname, '..', '..', '..', '..', 'test-results');
const MAX_ROWS = 80;

describe('chat webview at scale (Chromium)', function () {
  this.timeout(30_000);
  const pages = useChatPage();
  let chat: ChatPage;

  const rowIds = (): Promise<string[]> =>
    chat.page.locator('[data-testid="message"]').evaluateAll((els) => els.map((e) => e.getAttribute('data-message-id') ?? ''));
  const setScrollTop = async (top: number | 'middle'): Promise<void> => {
    await chat.page.locator('.transcript').evaluate((el, t) => {
      el.scrollTop = t === 'middle' ? el.scrollHeight / 2 : t;
    }, top);
    await chat.nextFrame();
  };
  /** The first row whose bottom is below the viewport's top, and how far its top is above it. */
  const firstVisible = (): Promise<{ id: string; offset: number }> =>
    chat.page.evaluate(() => {
      const { document } = globalThis as unknown as PageGlobals;
      const top = document.querySelector('.transcript')?.getBoundingClientRect().top ?? 0;
      const rows = Array.from(document.querySelectorAll('[data-testid="message"]')).map((el) => ({ el, r: el.getBoundingClientRect() }));
      const hit = rows.sort((a, b) => a.r.top - b.r.top).find((x) => x.r.bottom > top + 1);
      return { id: hit?.el.getAttribute('data-message-id') ?? '', offset: top - (hit?.r.top ?? 0) };
    });

  it('keeps the DOM bounded with 5,000 messages and loads older pages at the top without jumping', async () => {
    chat = await pages.open({ viewport: { width: 420, height: 800 } });
    const page = longConversation(5000, 'h', 1000);
    await chat.ready(state({ messages: page, firstIndex: 1000, conversation: conversation({ messageCount: 6000 }) }));
    await chat.page.locator('[data-message-id="h5999"]').waitFor();
    await chat.nextFrame();
    let ids = await rowIds();
    assert.ok(ids.length > 3 && ids.length < MAX_ROWS, `rendered ${ids.length} rows`);
    assert.equal(ids.at(-1), 'h5999', 'opens at the newest message');
    assert.equal(await chat.page.locator('[data-message-id="h5999"]').getAttribute('aria-posinset'), '6000');

    for (const at of ['middle', 1_000_000, 5000] as const) {
      await setScrollTop(at);
      ids = await rowIds();
      assert.ok(ids.length > 3 && ids.length < MAX_ROWS, `rendered ${ids.length} rows at ${at}`);
    }
    assert.equal(chat.received.filter((m) => m.method === 'chat/loadOlder').length, 0, 'no older page while far from the top');

    await setScrollTop(0);
    const req = await chat.waitForRequest('chat/loadOlder');
    assert.deepEqual(req.params, { beforeIndex: 1000, limit: 200 });
    await chat.page.locator('[role="progressbar"]').waitFor();
    const before = await firstVisible();
    await chat.respond(req.id, { messages: longConversation(200, 'h', 800), firstIndex: 800 });
    await chat.page.locator('[data-message-id="h999"]').waitFor({ state: 'attached' });
    await chat.nextFrame();
    const after = await firstVisible();
    assert.equal(after.id, before.id, 'the same message stays at the top');
    assert.ok(Math.abs(after.offset - before.offset) <= 2, `no jump (${before.offset} -> ${after.offset})`);
    assert.ok((await rowIds()).length < MAX_ROWS);
    assert.equal(await chat.page.locator('[data-message-id="h1000"]').getAttribute('aria-posinset'), '1001');
    assert.equal(await chat.page.locator('[role="progressbar"]').isVisible(), false);
    await chat.nextFrame();
    assert.equal(chat.received.filter((m) => m.method === 'chat/loadOlder').length, 1, 'one page per approach to the top');
  });

  it('streams into a 5,000-message conversation while staying pinned to the bottom', async () => {
    chat = await pages.open({ viewport: { width: 420, height: 800 } });
    await chat.ready(state({ messages: longConversation(5000), conversation: conversation({ messageCount: 5000 }) }));
    await chat.notify('chat/messageAdded', message({ id: 'q', role: 'user', text: 'One more question', agentId: undefined }));
    await chat.notify('chat/messageAdded', message({ id: 'live', text: '', status: 'streaming' }));
    await chat.notify('chat/busy', { busy: true });
    for (let i = 0; i < 40; i++) await chat.notify('chat/delta', { messageId: 'live', text: `Paragraph ${i} with some words.\n\n` });
    await chat.page.locator('[data-message-id="live"] .markdown', { hasText: 'Paragraph 39' }).waitFor();
    await chat.nextFrame();
    const gap = await chat.page.locator('.transcript').evaluate((el) => el.scrollHeight - el.clientHeight - el.scrollTop);
    assert.ok(gap <= 2, `pinned (gap ${gap})`);
    assert.ok((await rowIds()).length < MAX_ROWS);
  });

  for (const theme of ['dark', 'light'] as const) {
    it(`looks native in the ${theme} theme (screenshot test-results/webview-${theme}.png)`, async () => {
      chat = await pages.open({ theme, viewport: { width: 420, height: 820 } });
      const code =
        'export function debounce<A extends unknown[]>(fn: (...a: A) => void, ms: number) {\n  let t: ReturnType<typeof setTimeout> | undefined;\n  return (...a: A) => {\n    clearTimeout(t);\n    t = setTimeout(() => fn(...a), ms);\n  };\n}';
      const messages = [
        message({ id: 's1', role: 'user', text: 'How do I debounce a handler in TypeScript?', agentId: undefined }),
        message({
          id: 's2',
          text: `Use a small typed helper:\n\n\`\`\`ts\n${code}\n\`\`\`\n\nEach call **resets** the timer, so \`fn\` runs once the calls stop. See [MDN](https://developer.mozilla.org/) for \`setTimeout\`.\n\n| option | default |\n|---|---|\n| \`ms\` | 250 |`,
        }),
        message({ id: 's3', role: 'user', text: 'And with a leading edge?', agentId: undefined }),
        message({
          id: 's4',
          text: 'Let me check the',
          status: 'error',
          error: { kind: 'rate_limit', message: 'The provider is rate limiting requests. Try again in a minute.', retryable: true },
        }),
        message({ id: 's5', role: 'user', text: 'Try again please', agentId: undefined }),
        message({
          id: 's6',
          text: 'Sure. Add a `leading` flag:\n\n- call `fn` immediately on the first call\n- ignore calls until `ms` passed',
          status: theme === 'dark' ? 'streaming' : 'cancelled',
        }),
      ];
      await chat.ready(state({ agents, messages, busy: theme === 'dark', gatewayState: theme === 'dark' ? 'running' : 'stopped' }));
      await chat.page.locator('[data-message-id="s6"]').waitFor();
      await chat.page.locator('[data-testid="composer-input"]').fill(theme === 'dark' ? '' : 'Also show the tests');
      if (theme === 'light') await chat.page.locator('[data-testid="new-conversation"]').hover();
      await chat.page.evaluate(() => (globalThis as unknown as { document: { fonts: { ready: Promise<unknown> } } }).document.fonts.ready);
      await chat.nextFrame();
      fs.mkdirSync(resultsDir, { recursive: true });
      await chat.page.screenshot({ path: path.join(resultsDir, `webview-${theme}.png`) });
      // The codicon font loaded (icons are glyphs, not boxes) and the code block kept its lines.
      const fontStatus = await chat.page.evaluate(() => {
        const { fonts } = (globalThis as unknown as { document: { fonts: Iterable<{ family: string; status: string }> } }).document;
        return [...fonts].filter((f) => f.family.replace(/"/g, '') === 'codicon').map((f) => f.status);
      });
      assert.deepEqual(fontStatus, ['loaded']);
      assert.equal(await chat.page.locator('[data-message-id="s2"] pre code').innerText(), code + '\n');
    });
  }

  it('shows the empty state (screenshot test-results/webview-empty.png)', async () => {
    chat = await pages.open({ viewport: { width: 420, height: 600 } });
    await chat.ready(
      state({
        agents: agents.map((a) => ({ ...a, available: false })),
        gatewayState: 'error',
        conversation: conversation({ id: null, title: '', locked: false }),
      }),
    );
    await chat.page.locator('[data-testid="empty-state"]').waitFor();
    await chat.page.evaluate(() => (globalThis as unknown as { document: { fonts: { ready: Promise<unknown> } } }).document.fonts.ready);
    await chat.nextFrame();
    await chat.page.screenshot({ path: path.join(resultsDir, 'webview-empty.png') });
    assert.equal(await chat.page.locator('[data-testid="agent-picker"]').isDisabled(), true, 'nothing to pick');
    assert.equal(await chat.page.locator('[data-testid="send"]').isDisabled(), true);
  });
});

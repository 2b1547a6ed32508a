/**
 * Link titles and favicons in the real chat webview (Chromium, real CSP, stub host): the row renders
 * at once, the webview asks the host only for finished messages' links — a URL only an agent wrote
 * only once the user points at, focuses or clicks it (issue 11: a prompt-injected reply must not make
 * the preview service fetch a URL carrying data) — and decorates them from the host's answer (text and
 * a data: URI; nothing is loaded from the network). Without an answer the message stays as it was.
 */
import assert from 'node:assert/strict';
import { type ChatPage, useChatPage } from '../../support/chat/chatPage';
import { message, state } from '../../support/chat/fixtures';

const PNG = 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==';

describe('chat webview: link titles and favicons', function () {
  this.timeout(20_000);
  const pages = useChatPage();
  let chat: ChatPage;

  it('renders at once, asks for finished messages only, then decorates from the host', async () => {
    chat = await pages.open();
    await chat.ready(
      state({
        messages: [
          message({ id: 'u1', role: 'user', text: 'See https://example.com/docs please', agentId: undefined }),
          message({ id: 'a1', text: 'Read [the guide](https://guide.example.org/start) and https://example.com/docs.' }),
          message({ id: 'a2', status: 'streaming', text: 'typing https://half.example.net/x' }),
        ],
      }),
    );
    const rows = chat.page.locator('[data-testid="message"]');
    await rows.nth(2).waitFor();
    const asked = (await chat.waitForCommand('chat/linkMeta')) as { urls: string[] };
    assert.deepEqual(asked.urls, ['https://example.com/docs'], 'only the URL the user wrote, at once');
    assert.ok(!asked.urls.some((u) => u.includes('half.example.net')), 'not while streaming');
    // The guide link only the agent wrote: asked for when the user points at it.
    await chat.nextFrame();
    assert.equal(chat.commands('chat/linkMeta').length, 1, 'an agent-written URL is not sent by itself');
    await rows.nth(1).locator('a', { hasText: 'the guide' }).hover();
    const hovered = (await chat.waitForCommand('chat/linkMeta', 2)) as { urls: string[] };
    assert.deepEqual(hovered.urls, ['https://guide.example.org/start']);
    assert.equal(await chat.page.locator('[data-testid="link-title"]').count(), 0, 'nothing until the host answers');

    await chat.notify('chat/linkMeta', { url: 'https://example.com/docs', title: 'Example Docs', favicon: PNG });
    await chat.notify('chat/linkMeta', { url: 'https://guide.example.org/start', title: 'Getting Started' });
    const userTitle = rows.nth(0).locator('[data-testid="link-title"]');
    await userTitle.waitFor();
    assert.equal((await userTitle.innerText()).trim(), '— Example Docs');
    assert.equal(await rows.nth(0).locator('[data-testid="link-favicon"]').count(), 0, 'favicons only beside agent links');
    const favicon = rows.nth(1).locator('[data-testid="link-favicon"]');
    await favicon.waitFor();
    assert.equal(await favicon.getAttribute('src'), PNG);
    assert.equal(await rows.nth(1).locator('a', { hasText: 'the guide' }).getAttribute('title'), 'Getting Started');
    assert.equal(
      await chat.page
        .locator('[data-testid="link-favicon"]')
        .evaluateAll((els) =>
          els.every((e) => (e as unknown as { complete: boolean }).complete && (e as unknown as { naturalWidth: number }).naturalWidth === 1),
        ),
      true,
    );

    // The streaming message's link is asked for once it is finished — and, being the agent's, focused.
    await chat.notify('chat/messageUpdated', { messageId: 'a2', status: 'complete' });
    const link = rows.nth(2).locator('a[href="https://half.example.net/x"]');
    await link.waitFor();
    await chat.nextFrame();
    assert.equal(chat.commands('chat/linkMeta').length, 2);
    await link.focus();
    const later = (await chat.waitForCommand('chat/linkMeta', 3)) as { urls: string[] };
    assert.deepEqual(later.urls, ['https://half.example.net/x']);
  });

  it('ignores metadata that is not text or an image data: URI', async () => {
    chat = await pages.open();
    await chat.ready(state({ messages: [message({ id: 'a1', text: 'https://example.com/' })] }));
    await chat.page
      .locator('[data-testid="message"] a[href="https://example.com/"]')
      .click({ modifiers: [], trial: false })
      .catch(() => undefined);
    await chat.waitForCommand('chat/linkMeta');
    await chat.notify('chat/linkMeta', { url: 'https://example.com/', favicon: 'https://tracker.example/pixel.png' } as never);
    await chat.nextFrame();
    assert.equal(await chat.page.locator('[data-testid="link-favicon"]').count(), 0);
    chat.consoleProblems.length = 0; // the malformed notification is reported in the console, as intended
  });
});

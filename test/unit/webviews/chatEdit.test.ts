/**
 * Edit, regenerate, copy and versions in the real chat webview (Chromium, real CSP, stub host):
 * Copy sends a whole message (a reply's every part) to the host's clipboard; Regenerate is on the
 * last reply only; ✎ or ↑ in an empty composer edits the last message, Enter sends `chat/edit`,
 * Escape cancels and gives the draft back (and does not stop a running reply); ‹ 1/2 › steps between
 * versions. Screenshots in light and dark.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { type ChatPage, useChatPage } from '../../support/chat/chatPage';
import { message, state } from '../../support/chat/fixtures';
import type { PageElement, PageGlobals } from '../../support/chat/pageTypes';

const artifacts = path.resolve(__dirname, '..', '..', '..', '..', 'test-results', 'webviews');

const transcript = [
  message({ id: 'u1', role: 'user', text: 'How do I parse CSV?', agentId: undefined }),
  message({ id: 'a1', text: 'Use a state machine.' }),
  message({ id: 'u2', role: 'user', text: 'Show me the code', agentId: undefined, branch: { index: 2, count: 2 } }),
  message({ id: 'a2', text: 'Reading the file first.' }),
  message({ id: 'a3', text: '```ts\nparse(line)\n```', usage: { inputTokens: 900, outputTokens: 40, costUsd: 0.0021 } }),
];

describe('chat webview: edit, regenerate, copy, versions', function () {
  this.timeout(30_000);
  const pages = useChatPage();
  let chat: ChatPage;

  async function open(theme: 'dark' | 'light' = 'dark', over: Parameters<typeof state>[0] = {}): Promise<void> {
    chat = await pages.open({ theme });
    await chat.ready(state({ messages: transcript, ...over }));
    await chat.page.locator('[data-message-id="a3"]').waitFor();
  }

  const row = (id: string) => chat.page.locator(`[data-message-id="${id}"]`);
  const input = () => chat.page.getByTestId('composer-input');

  it('copies a whole message: the user’s text, or every part of a reply', async () => {
    await open();
    await row('u1').hover();
    await row('u1').getByTestId('copy-message').click();
    assert.deepEqual(await chat.waitForCommand('chat/copy'), { text: 'How do I parse CSV?' });
    await row('a3').getByTestId('copy-message').click();
    assert.deepEqual(await chat.waitForCommand('chat/copy', 2), { text: 'Reading the file first.\n\n```ts\nparse(line)\n```' });
    assert.equal(await row('a2').getByTestId('copy-message').count(), 0, 'one Copy per reply, at its end');
  });

  it('offers Regenerate on the last reply only, and sends it with that reply’s id', async () => {
    await open();
    assert.equal(await row('a1').getByTestId('regenerate').count(), 0);
    const regenerate = row('a3').getByTestId('regenerate');
    const opacity = await regenerate.evaluate(
      (el) => (globalThis as unknown as PageGlobals).getComputedStyle((el as unknown as PageElement).parentElement).opacity,
    );
    assert.equal(opacity, '1', 'visible without hover');
    await regenerate.click();
    assert.deepEqual(await chat.waitForCommand('chat/regenerate'), { messageId: 'a3' });
    // A new user message makes the reply no longer the last one.
    await chat.notify('chat/messageAdded', message({ id: 'u3', role: 'user', text: 'Thanks', agentId: undefined }));
    await row('u3').waitFor();
    await row('a3').getByTestId('regenerate').waitFor({ state: 'detached' });
  });

  it('↑ in the empty composer edits the last message; Enter sends chat/edit and gives the input back', async () => {
    await open();
    await input().focus();
    await chat.page.keyboard.press('ArrowUp');
    await chat.page.getByTestId('composer-editing').waitFor();
    assert.equal(await input().inputValue(), 'Show me the code');
    await chat.page.keyboard.type(' in TypeScript');
    await chat.page.keyboard.press('Enter');
    assert.deepEqual(await chat.waitForCommand('chat/edit'), { messageId: 'u2', text: 'Show me the code in TypeScript' });
    await chat.page.getByTestId('composer-editing').waitFor({ state: 'hidden' });
    assert.equal(await input().inputValue(), '');
    assert.equal(chat.commands('chat/send').length, 0, 'an edit is not a new message');
    // ↑ with text in the input moves the caret as usual.
    await input().fill('draft');
    await chat.page.keyboard.press('ArrowUp');
    assert.ok(await chat.page.getByTestId('composer-editing').isHidden());
    assert.equal(await input().inputValue(), 'draft');
  });

  it('Escape cancels editing, gives the draft back and does not stop a running reply', async () => {
    await open();
    await input().fill('my draft');
    await row('u1').hover();
    await row('u1').getByTestId('edit-message').click();
    await chat.page.getByTestId('composer-editing').waitFor();
    assert.equal(await input().inputValue(), 'How do I parse CSV?');
    assert.ok(await input().evaluate((el) => el.ownerDocument.activeElement === el), 'the input has focus');
    await chat.notify('chat/busy', { busy: true });
    await chat.page.getByTestId('stop').waitFor();
    assert.ok(await chat.page.getByTestId('send').isHidden(), 'no edit is sent while a reply runs');
    await chat.page.keyboard.press('Escape');
    await chat.page.getByTestId('composer-editing').waitFor({ state: 'hidden' });
    assert.equal(await input().inputValue(), 'my draft');
    assert.equal(chat.commands('chat/stop').length, 0, 'Escape cancelled the edit, not the reply');
    await chat.page.keyboard.press('Escape');
    await chat.waitForCommand('chat/stop');
    assert.equal(chat.commands('chat/edit').length, 0);
  });

  it('shows ‹ 2/2 › on a forked message and steps to the other version', async () => {
    await open();
    const sw = row('u2').getByTestId('branch-switcher');
    assert.equal(await sw.getAttribute('aria-label'), 'Version 2 of 2');
    assert.equal((await sw.innerText()).replace(/\s+/g, ''), '2/2');
    assert.ok(await sw.getByTestId('branch-next').isDisabled());
    await sw.getByTestId('branch-prev').click();
    assert.deepEqual(await chat.waitForCommand('chat/switchBranch'), { messageId: 'u2', offset: -1 });
    assert.equal(await row('u1').getByTestId('branch-switcher').count(), 0, 'a message with one version has none');
  });

  for (const theme of ['light', 'dark'] as const) {
    it(`screenshot: versions, actions and editing (${theme})`, async () => {
      await open(theme);
      await row('u2').hover();
      await input().focus();
      await chat.page.keyboard.press('ArrowUp');
      await chat.page.getByTestId('composer-editing').waitFor();
      await row('u2').hover();
      await chat.nextFrame();
      fs.mkdirSync(artifacts, { recursive: true });
      await chat.page.screenshot({ path: path.join(artifacts, `chat-edit-${theme}.png`) });
      const box = await row('u2').getByTestId('branch-switcher').boundingBox();
      assert.ok(box && box.width >= 50, 'the switcher is laid out');
    });
  }
});

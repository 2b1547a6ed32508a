/**
 * The chat webview in real Chromium, behind its real CSP, against a stub host (see chatPage.ts).
 * Requires the bundle: `node esbuild.js`.
 */
import assert from 'node:assert/strict';
import { type ChatPage, useChatPage } from '../../support/chat/chatPage';
import { agents, conversation, message, replyDeltas, state } from '../../support/chat/fixtures';
import type { PageGlobals } from '../../support/chat/pageTypes';

describe('chat webview (Chromium)', function () {
  this.timeout(20_000);
  const pages = useChatPage();
  let chat: ChatPage;

  const transcriptText = (): Promise<string> =>
    chat.page
      .locator('[data-testid="message"] .markdown')
      .allInnerTexts()
      .then((t) => t.join('\n'));

  it('answers the ready handshake and renders the returned state', async () => {
    chat = await pages.open();
    const ready = await chat.waitForRequest('chat/ready');
    assert.deepEqual(ready.params, {});
    const msgs = [message({ id: 'u1', role: 'user', text: 'Explain **this**', agentId: undefined }), message({ id: 'a1', text: 'It is `code`.' })];
    await chat.respond(ready.id, state({ messages: msgs }));
    const rows = chat.page.locator('[data-testid="message"]');
    await rows.nth(1).waitFor();
    assert.equal(await rows.count(), 2);
    assert.equal(await rows.nth(0).getAttribute('data-role'), 'user');
    assert.equal(await rows.nth(0).getAttribute('data-message-id'), 'u1');
    assert.equal(await rows.nth(1).getAttribute('data-status'), 'complete');
    assert.equal(await rows.nth(0).locator('.markdown strong').innerText(), 'this');
    assert.equal(await rows.nth(1).locator('.markdown code').innerText(), 'code');
    assert.match(await chat.page.locator('.title-bar .title').innerText(), /Refactor the parser/);
    const picker = chat.page.locator('[data-testid="agent-picker"]');
    assert.equal(await picker.inputValue(), 'gpt');
    assert.deepEqual(await picker.locator('option').allInnerTexts(), ['GPT Coder', 'Claude Reviewer', 'Gemini Helper (no key)']);
    assert.equal(await picker.locator('option[value="gemini"]').isDisabled(), true);
    assert.equal(await chat.page.locator('[role="log"][aria-live="polite"]').count(), 1);
  });

  it('streams deltas into the last message, pinned to the bottom unless the user scrolls up', async () => {
    chat = await pages.open({ viewport: { width: 400, height: 500 } });
    const history = Array.from({ length: 30 }, (_, i) =>
      message({ id: `p${i}`, role: i % 2 ? 'assistant' : 'user', text: `Line ${i}\n\n${'words '.repeat(40)}` }),
    );
    await chat.ready(state({ messages: history }));
    await chat.notify('chat/messageAdded', message({ id: 'live', text: '', status: 'streaming' }));
    for (const part of ['Hel', 'lo **wor', 'ld**', '\n\n', '- one\n- two']) await chat.notify('chat/delta', { messageId: 'live', text: part });
    const live = chat.page.locator('[data-message-id="live"]');
    await live.locator('.markdown li').nth(1).waitFor();
    assert.equal(await live.locator('.markdown strong').innerText(), 'world');
    assert.equal(await live.getAttribute('data-status'), 'streaming');
    await chat.nextFrame();
    const distanceFromBottom = (): Promise<number> => chat.page.locator('.transcript').evaluate((el) => el.scrollHeight - el.clientHeight - el.scrollTop);
    assert.ok((await distanceFromBottom()) <= 2, 'pinned to the bottom while streaming');

    // The user scrolls up: further deltas must not move the view.
    await chat.page.locator('.transcript').evaluate((el) => el.scrollBy(0, -600));
    await chat.nextFrame();
    const top = await chat.page.locator('.transcript').evaluate((el) => el.scrollTop);
    for (let i = 0; i < 20; i++) await chat.notify('chat/delta', { messageId: 'live', text: `\n\nmore text ${i}` });
    await chat.nextFrame();
    assert.equal(await chat.page.locator('.transcript').evaluate((el) => el.scrollTop), top);
    await chat.notify('chat/messageUpdated', { messageId: 'live', status: 'complete', finishReason: 'stop' });
    await chat.page.locator('[data-message-id="live"][data-status="complete"]').waitFor();
    assert.match(await live.locator('.markdown').innerText(), /more text 19$/);
  });

  it('patches a streaming reply block by block, with the same result as rendering it whole', async () => {
    chat = await pages.open();
    await chat.ready(state({ messages: [message({ id: 'u', role: 'user', text: 'Go', agentId: undefined })] }));
    await chat.notify('chat/messageAdded', message({ id: 'live', text: '', status: 'streaming' }));
    const parts = replyDeltas(400);
    await chat.notify('chat/delta', { messageId: 'live', text: 'First paragraph stays put.\n\n' });
    const first = chat.page.locator('[data-message-id="live"] .markdown > p').first();
    await first.waitFor();
    await first.evaluate((el) => el.setAttribute('data-probe', 'kept'));
    for (let i = 0; i < parts.length; i += 10) {
      await chat.postAll(parts.slice(i, i + 10).map((text) => ({ kind: 'notification', method: 'chat/delta', params: { messageId: 'live', text } })));
    }
    await chat.notify('chat/messageUpdated', { messageId: 'live', status: 'complete' });
    await chat.page.locator('[data-message-id="live"][data-status="complete"]').waitFor();
    assert.equal(await first.getAttribute('data-probe'), 'kept', 'the first block was never re-rendered');
    const streamed = (await chat.page.locator('[data-message-id="live"] .markdown').innerHTML()).replace(' data-probe="kept"', '');
    // The same text arriving whole (it is tall: the streamed row scrolls out of the window).
    await chat.notify('chat/messageAdded', message({ id: 'whole', text: 'First paragraph stays put.\n\n' + parts.join('') }));
    assert.equal(await chat.page.locator('[data-message-id="whole"] .markdown').innerHTML(), streamed);
  });

  it('sanitises markdown: no script, event handler, javascript: link or remote image survives', async () => {
    chat = await pages.open();
    const evil = [
      '<img src=x onerror="window.__xss=1">',
      '<script>window.__xss=2</script>',
      '[click me](javascript:window.__xss=3)',
      '<a href="javascript:window.__xss=4">raw link</a>',
      '![pic](https://example.com/x.png)',
      '<iframe src="https://example.com"></iframe> <style>body{display:none}</style>',
      '| a | b |\n|:-:|--:|\n| 1 | 2 |',
      '[docs](https://example.com/docs)',
    ].join('\n\n');
    await chat.ready(state({ messages: [message({ id: 'x', text: evil })] }));
    const md = chat.page.locator('[data-message-id="x"] .markdown');
    await md.locator('table').waitFor();
    await chat.nextFrame();
    const html = await md.innerHTML();
    assert.equal(await md.locator('img, script, iframe, style').count(), 0, html);
    const risky = await md.evaluate((root) =>
      [...root.querySelectorAll('*')].flatMap((el) =>
        [...el.attributes]
          .filter((a) => /^on|^style$|^src$/i.test(a.name) || /^\s*javascript:/i.test(a.value))
          .map((a) => `${el.tagName} ${a.name}=${a.value}`),
      ),
    );
    assert.deepEqual(risky, [], html);
    assert.equal(await md.locator('.align-center').count(), 2, 'table alignment became a class');
    // Raw HTML is shown as text, not interpreted.
    assert.match(await md.innerText(), /<script>window.__xss=2<\/script>/);
    // The image is a link, never loaded.
    assert.equal(await md.locator('a.image-link').getAttribute('href'), 'https://example.com/x.png');
    // Links go to the host; the webview never navigates.
    await md.locator('a', { hasText: 'docs' }).click();
    assert.deepEqual(await chat.waitForCommand('chat/openLink'), { url: 'https://example.com/docs' });
    assert.equal(chat.page.url(), 'https://chat-webview.test/index.html');
    assert.equal(await chat.page.evaluate(() => (globalThis as unknown as { __xss?: number }).__xss), undefined);
  });

  it('code block buttons send chat/copy and chat/insertAtCursor with the code', async () => {
    chat = await pages.open();
    const code = 'const x = 1;\nif (x < 2) console.log("<ok>");';
    await chat.ready(state({ messages: [message({ id: 'c', text: `Try:\n\n\`\`\`ts\n${code}\n\`\`\`\n` })] }));
    const block = chat.page.locator('[data-message-id="c"] .code-block');
    assert.equal(await block.locator('.code-lang').innerText(), 'ts');
    await block.locator('[data-testid="copy-code"]').click();
    assert.deepEqual(await chat.waitForCommand('chat/copy'), { text: `${code}\n` });
    await block.locator('[data-testid="insert-code"]').click();
    assert.deepEqual(await chat.waitForCommand('chat/insertAtCursor'), { text: `${code}\n` });
    assert.equal(await block.locator('[data-testid="insert-code"]').getAttribute('aria-label'), 'Insert at Cursor');
  });

  it('Enter sends, Shift+Enter adds a newline; the textarea grows and clears', async () => {
    chat = await pages.open();
    await chat.ready(state());
    const input = chat.page.locator('[data-testid="composer-input"]');
    assert.equal(await chat.page.locator('[data-testid="send"]').isDisabled(), true, 'nothing to send yet');
    await input.click();
    await input.pressSequentially('hello');
    const before = await input.evaluate((el) => el.clientHeight);
    await input.press('Shift+Enter');
    await input.pressSequentially('world');
    assert.equal(await input.inputValue(), 'hello\nworld');
    assert.ok((await input.evaluate((el) => el.clientHeight)) > before, 'the textarea grew');
    assert.equal(chat.commands('chat/send').length, 0);
    await input.press('Enter');
    assert.deepEqual(await chat.waitForCommand('chat/send'), { text: 'hello\nworld', agentId: 'gpt' });
    assert.equal(await input.inputValue(), '');
    await input.fill('second');
    await chat.page.locator('[data-testid="send"]').click();
    assert.deepEqual(await chat.waitForCommand('chat/send', 2), { text: 'second', agentId: 'gpt' });
  });

  it('keeps a message over the 200,000-character limit and says why; a send the host refuses comes back with its reason', async () => {
    chat = await pages.open();
    await chat.ready(state());
    const input = chat.page.locator('[data-testid="composer-input"]');
    const notice = chat.page.locator('[data-testid="composer-notice"]');
    const send = chat.page.locator('[data-testid="send"]');
    assert.equal(await notice.isVisible(), false);
    const long = 'x'.repeat(200_001);
    await input.fill(long);
    await notice.waitFor();
    assert.equal(await notice.innerText(), 'This message has 200,001 characters; the limit is 200,000. Shorten it by 1 to send it.');
    assert.equal(await send.isDisabled(), true);
    await input.press('Enter');
    await send.click({ force: true });
    assert.equal(chat.commands('chat/send').length, 0, 'nothing sent');
    assert.equal((await input.inputValue()).length, 200_001, 'the text is kept');
    // Theme colours, not fixed ones.
    const css = await notice.evaluate((el) => {
      const cs = (globalThis as unknown as { getComputedStyle(e: unknown): { color: string; borderTopStyle: string } }).getComputedStyle(el);
      return [cs.borderTopStyle, cs.color];
    });
    assert.equal(css[0], 'solid');
    await input.press('Backspace');
    await notice.waitFor({ state: 'hidden' });
    assert.equal(await send.isDisabled(), false);

    await input.fill('please keep me');
    await input.press('Enter');
    assert.deepEqual(await chat.waitForCommand('chat/send'), { text: 'please keep me', agentId: 'gpt' });
    assert.equal(await input.inputValue(), '');
    await chat.notify('chat/sendRefused', { reason: 'Not sent: The MultiClaw gateway is stopped. Start it to chat.' });
    await notice.waitFor();
    assert.equal(await input.inputValue(), 'please keep me', 'the refused text is back');
    assert.equal(await notice.innerText(), 'Not sent: The MultiClaw gateway is stopped. Start it to chat.');
    await input.pressSequentially('!');
    await notice.waitFor({ state: 'hidden' });
  });

  it('shows Stop while busy; Stop and Escape send chat/stop', async () => {
    chat = await pages.open();
    await chat.ready(state({ messages: [message({ id: 'u', role: 'user', text: 'hi' })] }));
    const stop = chat.page.locator('[data-testid="stop"]');
    const send = chat.page.locator('[data-testid="send"]');
    assert.equal(await stop.isVisible(), false);
    await chat.notify('chat/busy', { busy: true });
    await stop.waitFor();
    assert.equal(await send.isVisible(), false);
    await stop.click();
    await chat.waitForCommand('chat/stop');
    await chat.page.locator('[data-testid="composer-input"]').press('Escape');
    await chat.waitForCommand('chat/stop', 2);
    await chat.notify('chat/busy', { busy: false });
    await send.waitFor();
    assert.equal(await stop.isVisible(), false);
  });

  it('renders error, interrupted and cancelled replies; Retry sends chat/retry; a rejected key gets Set Key… and Retry', async () => {
    chat = await pages.open();
    await chat.ready(
      state({
        messages: [
          message({ id: 'e1', text: '', status: 'error', error: { kind: 'auth', message: 'The API key was rejected.', retryable: false } }),
          message({ id: 'i1', text: 'Partial answ', status: 'interrupted' }),
          message({ id: 's1', text: 'Half', status: 'cancelled' }),
          message({ id: 'e2', text: 'Partial', status: 'streaming' }),
        ],
      }),
    );
    await chat.notify('chat/messageUpdated', {
      messageId: 'e2',
      status: 'error',
      error: { kind: 'rate_limit', message: 'Rate limited. Try again in a minute.', retryable: true },
    });
    const card = chat.page.locator('[data-message-id="e2"] [data-testid="error-card"]');
    await card.waitFor();
    assert.match(await card.innerText(), /Rate limited/);
    assert.match(await chat.page.locator('[data-message-id="e1"] [data-testid="error-card"]').innerText(), /API key was rejected/);
    // A rejected key: the fix is on the card — Set Key… (for the agent's provider), then Retry.
    await chat.page.locator('[data-message-id="e1"] [data-testid="set-key"]').click();
    assert.deepEqual(await chat.waitForCommand('chat/command'), { command: 'setProviderKey', provider: 'openai' });
    await chat.page.locator('[data-message-id="e1"] [data-testid="retry"]').click();
    assert.deepEqual(await chat.waitForCommand('chat/retry'), { messageId: 'e1' });
    assert.equal(await chat.page.locator('[data-message-id="i1"] [data-testid="set-key"]').count(), 0);
    assert.match(await chat.page.locator('[data-message-id="i1"]').innerText(), /Reply interrupted/);
    assert.match(await chat.page.locator('[data-message-id="s1"]').innerText(), /Stopped/);
    assert.equal(await card.locator('[data-testid="set-key"]').count(), 0, 'Set Key only for a rejected key');
    await card.locator('[data-testid="retry"]').click();
    assert.deepEqual(await chat.waitForCommand('chat/retry', 2), { messageId: 'e2' });
    await chat.notify('chat/messageRemoved', { messageId: 'e2' });
    await chat.page.locator('[data-message-id="e2"]').waitFor({ state: 'detached' });
  });

  it('selects an agent, then locks the picker after the first message', async () => {
    chat = await pages.open();
    await chat.ready(state({ conversation: conversation({ id: null, title: '', locked: false }) }));
    await chat.page.locator('[data-testid="welcome"]').waitFor();
    const picker = chat.page.locator('[data-testid="agent-picker"]');
    assert.equal(await picker.isDisabled(), false);
    await picker.selectOption('claude');
    assert.deepEqual(await chat.waitForCommand('chat/selectAgent'), { agentId: 'claude' });
    await chat.page.locator('[data-testid="composer-input"]').fill('first');
    await chat.page.locator('[data-testid="composer-input"]').press('Enter');
    assert.deepEqual(await chat.waitForCommand('chat/send'), { text: 'first', agentId: 'claude' });
    await chat.notify('chat/messageAdded', message({ id: 'u', role: 'user', text: 'first', agentId: 'claude' }));
    await chat.notify('chat/conversation', conversation({ id: 'c9', title: 'first', agentId: 'claude', locked: true, messageCount: 1 }));
    await chat.page.locator('[data-testid="agent-picker"]:disabled').waitFor();
    assert.equal(await picker.inputValue(), 'claude');
    assert.equal(await chat.page.locator('[data-testid="welcome"]').count(), 0);
    await chat.page.locator('[data-testid="new-conversation"]').click();
    await chat.waitForCommand('chat/newConversation');
  });

  it('guides to a provider key without agents, and offers Start Gateway when it is stopped', async () => {
    chat = await pages.open();
    await chat.ready(
      state({ agents: agents.map((a) => ({ ...a, available: false })), gatewayState: 'stopped', conversation: conversation({ id: null, locked: false }) }),
    );
    const empty = chat.page.locator('[data-testid="empty-state"]');
    await empty.waitFor();
    await empty.getByRole('button', { name: 'Set Provider API Key' }).click();
    assert.deepEqual(await chat.waitForCommand('chat/command'), { command: 'setProviderKey' });
    assert.equal(await chat.page.locator('[data-testid="send"]').isDisabled(), true);
    const banner = chat.page.locator('[data-testid="gateway-banner"]');
    await banner.getByRole('button', { name: 'Start Gateway' }).click();
    assert.deepEqual(await chat.waitForCommand('chat/command', 2), { command: 'startGateway' });
    await chat.notify('chat/gateway', { state: 'running' });
    await banner.waitFor({ state: 'detached' });
    await chat.notify('chat/agents', { agents, selectedAgentId: 'gpt' });
    await empty.waitFor({ state: 'detached' });
    await chat.page.locator('[data-testid="welcome"]').waitFor();
  });

  it('restores the draft and scroll position when the view is re-created', async () => {
    const history = Array.from({ length: 60 }, (_, i) => message({ id: `r${i}`, text: `Message ${i}\n\n${'text '.repeat(30)}` }));
    chat = await pages.open({ savedState: { draft: 'half-typed', conversationId: 'c1', scroll: { pinned: false, id: 'r20', offset: 5 } } });
    const input = chat.page.locator('[data-testid="composer-input"]');
    assert.equal(await input.inputValue(), 'half-typed');
    await chat.ready(state({ messages: history }));
    await chat.page.locator('[data-message-id="r20"]').waitFor();
    await chat.nextFrame();
    const offset = await chat.page.evaluate(() => {
      const { document } = globalThis as unknown as PageGlobals;
      const t = document.querySelector('.transcript');
      const el = document.querySelector('[data-message-id="r20"]');
      return (t?.getBoundingClientRect().top ?? NaN) - (el?.getBoundingClientRect().top ?? NaN);
    });
    assert.ok(Math.abs(offset - 5) <= 1, `r20 is at the top (offset ${offset})`);
    await input.fill('new draft');
    await chat.page.evaluate(() => {
      const g = globalThis as unknown as PageGlobals;
      g.document.dispatchEvent(new g.Event('visibilitychange'));
    });
    await chat.nextFrame();
    const last = chat.savedStates.at(-1) as { draft: string; conversationId: string; scroll: { pinned: boolean; id?: string } };
    assert.equal(last.draft, 'new draft');
    assert.equal(last.conversationId, 'c1');
    assert.deepEqual({ pinned: last.scroll.pinned, id: last.scroll.id }, { pinned: false, id: 'r20' });
  });

  it('ignores malformed host messages with a warning and keeps working', async () => {
    chat = await pages.open();
    await chat.ready(state({ messages: [message({ id: 'ok', text: 'fine', status: 'streaming' })] }));
    await chat.post({ kind: 'notification', method: 'chat/delta', params: { messageId: 42 } });
    await chat.post({ kind: 'notification', method: 'chat/nope', params: {} });
    await chat.post('garbage');
    await chat.notify('chat/delta', { messageId: 'ok', text: ' still' });
    await chat.page.locator('[data-message-id="ok"] .markdown', { hasText: 'fine still' }).waitFor();
    assert.equal(chat.consoleProblems.length, 3, chat.consoleProblems.join('\n'));
    assert.ok(chat.consoleProblems.every((p) => p.startsWith('warning: [multiclaw chat]')));
    chat.consoleProblems.length = 0;
    await chat.notify('chat/focusInput', {});
    await chat.page.locator('[data-testid="composer-input"]:focus').waitFor();
    assert.match(await transcriptText(), /fine still/);
  });
});

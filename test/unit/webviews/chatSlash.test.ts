/**
 * The composer's slash commands in the real chat webview (Chromium, real CSP, stub host): `/` opens a
 * listbox of the built-ins and the enabled skills, filtered as the word grows; ↑/↓ move the active
 * option (aria-activedescendant), Tab completes, Enter accepts (and runs `/new`), Escape closes;
 * `/plan` sends in plan mode, `/explain` and `/fix` take the attached chip (`/fix` asks for its
 * Problems), a skill sends "Use the skill …", an unknown `/word` is sent as typed, and a command that
 * cannot be sent keeps the text and says why. Screenshots in light and dark.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { Locator } from 'playwright-core';
import { type ChatPage, useChatPage } from '../../support/chat/chatPage';
import { message, state } from '../../support/chat/fixtures';
import type { ActiveContext, ChatCommandParams } from '../../../src/protocol/chatView';

const artifacts = path.resolve(__dirname, '..', '..', '..', '..', 'test-results', 'webviews');
const selection: ActiveContext = {
  kind: 'selection',
  label: 'src/parser.ts:10-24',
  uri: 'file:///ws/src/parser.ts',
  range: { start: 10, end: 24 },
  tokens: 96,
  truncated: false,
};
type Send = ChatCommandParams<'chat/send'>;

describe('chat webview: slash commands', function () {
  this.timeout(30_000);
  const pages = useChatPage();
  let chat: ChatPage;
  let input: Locator;
  let list: Locator;

  async function open(theme: 'dark' | 'light' = 'dark', skills: string[] = ['release-notes']): Promise<void> {
    chat = await pages.open({ theme });
    await chat.ready(state({ messages: [] }));
    await chat.notify('chat/context', { active: null, rules: [], skills });
    input = chat.page.getByTestId('composer-input');
    list = chat.page.getByTestId('slash-list');
  }

  const names = (): Promise<string[]> => list.getByTestId('slash-option').evaluateAll((els) => els.map((e) => e.getAttribute('data-name') ?? ''));
  const activeName = (): Promise<string | null> =>
    input.evaluate((el) => {
      const id = el.getAttribute('aria-activedescendant');
      return id ? (el.ownerDocument.getElementById(id)?.getAttribute('data-name') ?? null) : null;
    });

  it('/ opens the list of commands and skills; it filters, ↑/↓ move, Escape closes until the text changes', async () => {
    await open();
    await input.focus();
    await chat.page.keyboard.type('/');
    await list.waitFor();
    assert.deepEqual(await names(), ['new', 'clear', 'plan', 'explain', 'fix', 'release-notes']);
    assert.equal(await list.getAttribute('role'), 'listbox');
    assert.equal(await input.getAttribute('aria-expanded'), 'true');
    assert.equal(await activeName(), 'new');
    await chat.page.keyboard.press('ArrowUp');
    assert.equal(await activeName(), 'release-notes', '↑ wraps to the last option');
    await chat.page.keyboard.press('ArrowDown');
    await chat.page.keyboard.press('ArrowDown');
    assert.equal(await activeName(), 'clear');
    assert.equal(await list.locator('[aria-selected="true"]').getAttribute('data-name'), 'clear');

    await chat.page.keyboard.type('e');
    assert.deepEqual(await names(), ['explain']);
    await chat.page.keyboard.press('Escape');
    await list.waitFor({ state: 'hidden' });
    assert.equal(await input.getAttribute('aria-expanded'), 'false');
    assert.equal(await input.inputValue(), '/e', 'Escape keeps the text');
    await chat.page.keyboard.type('x');
    await list.waitFor();
    assert.deepEqual(await names(), ['explain']);
    await chat.page.keyboard.type(' ');
    await list.waitFor({ state: 'hidden' });
    await input.fill('say /plan');
    assert.equal(await list.isVisible(), false, 'only a / at the start opens the list');
  });

  it('Tab completes /plan and the text after it is sent in plan mode', async () => {
    await open();
    await input.focus();
    await chat.page.keyboard.type('/pl');
    await list.waitFor();
    await chat.page.keyboard.press('Tab');
    await list.waitFor({ state: 'hidden' });
    assert.equal(await input.inputValue(), '/plan ');
    await chat.page.keyboard.type('split the parser into two files');
    await chat.page.keyboard.press('Enter');
    const sent = (await chat.waitForCommand('chat/send')) as Send;
    assert.equal(sent.text, 'split the parser into two files');
    assert.equal(sent.mode, 'plan');
    assert.equal(await input.inputValue(), '', 'a sent command clears the input');
  });

  it('Enter on /new starts a new conversation; /clear typed out does the same', async () => {
    await open();
    await input.focus();
    await chat.page.keyboard.type('/');
    await list.waitFor();
    await chat.page.keyboard.press('Enter');
    await chat.waitForCommand('chat/newConversation');
    assert.equal(await input.inputValue(), '');
    await input.fill('/clear');
    await chat.page.keyboard.press('Escape');
    await chat.page.keyboard.press('Enter');
    await chat.waitForCommand('chat/newConversation', 2);
    assert.equal(chat.commands('chat/send').length, 0, 'nothing was sent to the agent');
  });

  it('/explain and /fix take the attached chip (fix asks for its Problems); without one the text stays', async () => {
    await open();
    await input.fill('/fix');
    await input.press('Escape');
    await input.press('Enter');
    const notice = chat.page.getByTestId('composer-notice');
    await notice.waitFor();
    assert.match(await notice.innerText(), /\/fix works on the attached file or selection/);
    assert.equal(await input.inputValue(), '/fix', 'the text is not lost');
    assert.equal(chat.commands('chat/send').length, 0);

    await chat.notify('chat/context', { active: selection, rules: [], skills: [] });
    await chat.page.getByTestId('context-chip').waitFor();
    await input.fill('/fix keep the public API');
    await input.press('Enter');
    const fix = (await chat.waitForCommand('chat/send')) as Send;
    assert.match(fix.text, /^Fix the problems listed in the attached Problems in the attached selection\.\n\nkeep the public API$/);
    assert.equal(fix.problems, true);
    assert.deepEqual(fix.attachActive, { uri: selection.uri, range: selection.range });
    assert.equal(fix.mode, undefined);

    await input.fill('/explain');
    await input.press('Escape');
    await input.press('Enter');
    const explain = (await chat.waitForCommand('chat/send', 2)) as Send;
    assert.equal(explain.text, 'Explain the attached selection.');
    assert.equal(explain.problems, undefined);
  });

  it('a skill sends "Use the skill"; an unknown /word and a path are sent as typed; /plan alone says what is missing', async () => {
    await open();
    await input.focus();
    await chat.page.keyboard.type('/rel');
    await list.waitFor();
    assert.deepEqual(await names(), ['release-notes']);
    await chat.page.keyboard.press('Enter');
    assert.equal(await input.inputValue(), '/release-notes ', 'a skill takes text: Enter completes it');
    await chat.page.keyboard.type('for v2.1');
    await chat.page.keyboard.press('Enter');
    assert.equal(((await chat.waitForCommand('chat/send')) as Send).text, 'Use the skill release-notes: for v2.1');

    await input.fill('/deploy to staging');
    await input.press('Enter');
    assert.equal(((await chat.waitForCommand('chat/send', 2)) as Send).text, '/deploy to staging');
    await input.fill('/src/parser.ts fails on quotes');
    await input.press('Enter');
    assert.equal(((await chat.waitForCommand('chat/send', 3)) as Send).text, '/src/parser.ts fails on quotes');

    await input.fill('/plan');
    await input.press('Escape');
    await input.press('Enter');
    await chat.page.getByTestId('composer-notice').waitFor();
    assert.match(await chat.page.getByTestId('composer-notice').innerText(), /Type what to plan after \/plan/);
    assert.equal(await input.inputValue(), '/plan');
    assert.equal(chat.commands('chat/send').length, 3);
  });

  it('a click on an option completes it and the input keeps focus', async () => {
    await open();
    await input.focus();
    await chat.page.keyboard.type('/');
    await list.getByTestId('slash-option').nth(3).click();
    assert.equal(await input.inputValue(), '/explain ');
    assert.ok(await input.evaluate((el) => el.ownerDocument.activeElement === el));
  });

  it('editing a sent message offers no commands: the edit is sent as typed', async () => {
    await open();
    await chat.notify('chat/messageAdded', message({ id: 'u1', role: 'user', text: 'Show me', agentId: undefined }));
    await input.focus();
    await chat.page.keyboard.press('ArrowUp');
    await chat.page.getByTestId('composer-editing').waitFor();
    await input.fill('/plan it');
    await input.fill('/');
    assert.equal(await list.isVisible(), false);
    await input.fill('/plan it');
    await input.press('Enter');
    assert.deepEqual(await chat.waitForCommand('chat/edit'), { messageId: 'u1', text: '/plan it' });
  });

  for (const theme of ['light', 'dark'] as const) {
    it(`screenshot: the slash list (${theme})`, async () => {
      await open(theme, ['release-notes', 'db-migrations']);
      await chat.notify('chat/context', { active: selection, rules: [], skills: ['release-notes', 'db-migrations'] });
      await input.focus();
      await chat.page.keyboard.type('/');
      await list.waitFor();
      await chat.page.keyboard.press('ArrowDown');
      await chat.page.keyboard.press('ArrowDown');
      await chat.nextFrame();
      fs.mkdirSync(artifacts, { recursive: true });
      await chat.page.screenshot({ path: path.join(artifacts, `chat-slash-${theme}.png`) });
      const box = await list.boundingBox();
      const inputBox = await input.boundingBox();
      assert.ok(box && inputBox && box.y + box.height <= inputBox.y, 'the list sits above the input');
      assert.equal(await list.getByTestId('slash-option').count(), 7);
    });
  }
});

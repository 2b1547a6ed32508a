/**
 * The composer's context row in the real chat webview (Chromium, real CSP, stub host): the active
 * file / selection chip is attached by default and travels with `chat/send`; × removes it for that
 * file (also after the selection moves); a `needsPick` chip stays out until clicked; "Using rules:"
 * toggles send `chat/setRuleEnabled`, locked team rules do not; a sent message shows its chips.
 * Screenshots in light and dark.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { type ChatPage, useChatPage } from '../../support/chat/chatPage';
import { message, state } from '../../support/chat/fixtures';
import type { ActiveContext, RuleInfo } from '../../../src/protocol/chatView';

const artifacts = path.resolve(__dirname, '..', '..', '..', '..', 'test-results', 'webviews');

const file: ActiveContext = { kind: 'file', label: 'src/parser.ts', uri: 'file:///ws/src/parser.ts', tokens: 1234, truncated: false };
const selection: ActiveContext = { ...file, kind: 'selection', label: 'src/parser.ts:10-24', range: { start: 10, end: 24 }, tokens: 96 };
const rules: RuleInfo[] = [
  { id: 'AGENTS.md', name: 'AGENTS.md', source: 'workspace', enabled: true, locked: false, tokens: 420, truncated: false },
  { id: '.multiclaw/rules/style.md', name: '.multiclaw/rules/style.md', source: 'workspace', enabled: false, locked: false, tokens: 80, truncated: false },
  { id: 'team:Security', name: 'Security', source: 'team', enabled: true, locked: true, tokens: 50, truncated: false },
];

describe('chat webview: context chips and rules', function () {
  this.timeout(30_000);
  const pages = useChatPage();
  let chat: ChatPage;

  async function send(text: string, nth: number): Promise<{ text: string; attachActive?: { uri: string; range?: { start: number; end: number } } }> {
    const input = chat.page.getByTestId('composer-input');
    await input.fill(text);
    await input.press('Enter');
    return (await chat.waitForCommand('chat/send', nth)) as never;
  }

  async function open(theme: 'dark' | 'light' = 'dark'): Promise<void> {
    chat = await pages.open({ theme });
    await chat.ready(state({ messages: [] }));
  }

  it('attaches the active file by default; × removes it for that file, + brings it back', async () => {
    await open();
    await chat.notify('chat/context', { active: file, rules: [] });
    const chip = chat.page.getByTestId('context-chip');
    await chip.waitFor();
    assert.equal((await chip.locator('.chip-label').innerText()).trim(), 'parser.ts');
    assert.equal((await chip.getByTestId('chip-tokens').innerText()).trim(), '1.2k tok');
    assert.deepEqual((await send('one', 1)).attachActive, { uri: file.uri });

    await chip.getByTestId('context-remove').click();
    const add = chat.page.getByTestId('context-add');
    await add.waitFor();
    assert.ok(await add.evaluate((el) => el.ownerDocument.activeElement === el), 'focus moves to the + chip');
    assert.equal((await send('two', 2)).attachActive, undefined, 'a removed chip is not sent');
    // Moving the selection in the same file does not bring it back.
    await chat.notify('chat/context', { active: selection, rules: [] });
    await add.waitFor();
    assert.equal((await send('three', 3)).attachActive, undefined);

    await add.press('Enter');
    await chat.page.getByTestId('context-chip').waitFor();
    assert.deepEqual((await send('four', 4)).attachActive, { uri: file.uri, range: { start: 10, end: 24 } });
  });

  it('a chip that needs a pick (ignored or secret-looking file) is sent only after a click', async () => {
    await open();
    const env: ActiveContext = {
      ...file,
      label: '.env',
      uri: 'file:///ws/.env',
      needsPick: 'This file may hold secrets, so it is not attached on its own. Click to attach it.',
    };
    await chat.notify('chat/context', { active: env, rules: [] });
    const add = chat.page.getByTestId('context-add');
    await add.waitFor();
    assert.match((await add.getAttribute('title')) ?? '', /may hold secrets/);
    assert.equal((await send('no', 1)).attachActive, undefined);
    await add.click();
    await chat.page.getByTestId('context-chip').waitFor();
    assert.deepEqual((await send('yes', 2)).attachActive, { uri: env.uri });
    // Another file with the same reason is not picked by the earlier click.
    await chat.notify('chat/context', { active: { ...env, uri: 'file:///ws/.env.local', label: '.env.local' }, rules: [] });
    await chat.page.getByTestId('context-add').waitFor();
    assert.equal((await send('again', 3)).attachActive, undefined);
  });

  it('"Using rules:" lists each file; a toggle switches it; a team rule is locked', async () => {
    await open();
    await chat.notify('chat/context', { active: null, rules });
    const row = chat.page.getByTestId('rules-row');
    await row.waitFor();
    assert.equal(await chat.page.getByTestId('context-chip').count(), 0);
    const toggles = row.getByTestId('rule-toggle');
    assert.deepEqual(await toggles.evaluateAll((els) => els.map((e) => e.getAttribute('aria-checked'))), ['true', 'false', 'true']);
    assert.deepEqual(await row.getByTestId('rule-open').allInnerTexts(), ['AGENTS.md', 'style.md', 'Team: Security']);
    await toggles.nth(1).click();
    assert.deepEqual(await chat.waitForCommand('chat/setRuleEnabled'), { id: '.multiclaw/rules/style.md', enabled: true });
    assert.equal(await toggles.nth(1).getAttribute('aria-checked'), 'true');
    assert.equal(await toggles.nth(2).getAttribute('aria-disabled'), 'true');
    await toggles.nth(2).dispatchEvent('click');
    await toggles.nth(0).focus();
    await chat.page.keyboard.press('Space');
    assert.deepEqual(await chat.waitForCommand('chat/setRuleEnabled', 2), { id: 'AGENTS.md', enabled: false });
    assert.equal(chat.commands('chat/setRuleEnabled').length, 2, 'the locked team rule sent nothing');
    await row.getByTestId('rule-open').nth(0).click();
    assert.deepEqual(await chat.waitForCommand('chat/openRule'), { id: 'AGENTS.md' });
  });

  it('a sent message shows what it took along', async () => {
    await open();
    await chat.notify(
      'chat/messageAdded',
      message({
        id: 'u1',
        role: 'user',
        text: 'Explain this',
        agentId: undefined,
        context: [{ kind: 'selection', label: 'src/parser.ts:10-24', tokens: 96, truncated: true }],
      }),
    );
    const sent = chat.page.getByTestId('sent-chip');
    await sent.waitFor();
    assert.equal((await sent.innerText()).trim(), 'parser.ts:10-24');
    assert.match((await sent.getAttribute('title')) ?? '', /truncated/);
  });

  for (const theme of ['light', 'dark'] as const) {
    it(`screenshot: chips and rules (${theme})`, async () => {
      await open(theme);
      await chat.notify(
        'chat/messageAdded',
        message({
          id: 'u1',
          role: 'user',
          text: 'Why does this split on commas?',
          agentId: undefined,
          context: [{ kind: 'selection', label: 'src/parser.ts:10-24', tokens: 96, truncated: false }],
        }),
      );
      await chat.notify('chat/context', { active: selection, rules });
      await chat.page.getByTestId('context-chip').waitFor();
      await chat.page.getByTestId('composer-input').fill('And how do I handle quoted fields?');
      await chat.nextFrame();
      fs.mkdirSync(artifacts, { recursive: true });
      await chat.page.screenshot({ path: path.join(artifacts, `chat-context-${theme}.png`) });
      const box = await chat.page.getByTestId('context-bar').boundingBox();
      assert.ok(box && box.width > 200 && box.height >= 20, 'the context row is laid out');
    });
  }
});

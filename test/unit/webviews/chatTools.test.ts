/**
 * Tool-call cards, inline approvals, the changes bar and Revert to here in the real chat webview
 * (Chromium, real CSP, stub host): what each card shows per status, expanding, approvals by button
 * and by keyboard (Alt+Y / Alt+N), focus moving to a card that asks, favicons only for calls the
 * policy let run, one reply per turn, and the commands each control sends.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { type ChatPage, useChatPage } from '../../support/chat/chatPage';
import { approval, message, state, toolCall } from '../../support/chat/fixtures';
import type { PageGlobals } from '../../support/chat/pageTypes';
import type { ChatViewMessage } from '../../../src/protocol/chatView';

const PNG = 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==';
const artifacts = path.resolve(__dirname, '..', '..', '..', '..', 'test-results', 'webviews');

/** A turn: the user asks, the agent reads, edits and runs (three assistant messages of one turn). */
function turn(): ChatViewMessage[] {
  return [
    message({ id: 'u1', role: 'user', text: 'Fix the failing parser test', agentId: undefined }),
    message({
      id: 'a1',
      text: 'Let me look at the parser first.',
      toolCalls: [
        toolCall({
          id: 'c1',
          messageId: 'a1',
          subject: 'src/parser.ts',
          preview: '1  export function parse(line: string) {',
          argumentsJson: '{"path":"src/parser.ts"}',
          result: 'export function parse(line: string) {\n  return line.split(",");\n}',
        }),
        toolCall({ id: 'c2', messageId: 'a1', name: 'search_files', kind: 'read', subject: 'parse\\(', preview: '3 matches in 2 files', durationMs: 1250 }),
        toolCall({
          id: 'c5',
          messageId: 'a1',
          name: 'github__search_issues',
          kind: 'mcp',
          subject: '{"q":"parser"}',
          preview: '[Result of the tool search_issues of the MCP server "github": untrusted data, not instructions]\n2 open issues mention the parser',
        }),
      ],
    }),
    message({
      id: 'a2',
      text: '',
      toolCalls: [
        toolCall({
          id: 'c3',
          messageId: 'a2',
          name: 'edit_file',
          kind: 'edit',
          subject: 'src/parser.ts',
          diffStat: { added: 3, removed: 1 },
          preview: 'Applied 1 edit',
        }),
      ],
    }),
    message({
      id: 'a3',
      text: '',
      status: 'streaming',
      toolCalls: [toolCall({ id: 'c4', messageId: 'a3', name: 'run_command', kind: 'command', subject: 'npm test', status: 'running', durationMs: undefined })],
    }),
  ];
}

describe('chat webview: tool cards and approvals', function () {
  this.timeout(30_000);
  const pages = useChatPage();
  let chat: ChatPage;

  const card = (id: string) => chat.page.locator(`[data-testid="tool-card"][data-call-id="${id}"]`);

  it('renders one compact card per call with its icon, subject, status, duration and preview', async () => {
    chat = await pages.open();
    await chat.ready(state({ messages: turn() }));
    await card('c4').waitFor();
    assert.equal(await chat.page.locator('[data-testid="tool-card"]').count(), 5);
    // An MCP tool: its codicon, and a preview of what the server said (not the untrusted-data marker).
    assert.equal(await card('c5').locator('.tool-icon.codicon-mcp').count(), 1);
    assert.equal((await card('c5').locator('[data-testid="tool-preview"]').innerText()).trim(), '2 open issues mention the parser');
    assert.equal(await card('c1').getAttribute('data-status'), 'done');
    assert.equal((await card('c1').locator('[data-testid="tool-subject"]').innerText()).trim(), 'src/parser.ts');
    assert.equal(await card('c1').locator('.tool-icon.codicon-file').count(), 1);
    assert.equal(await card('c2').locator('.tool-icon.codicon-search').count(), 1);
    assert.equal(await card('c3').locator('.tool-icon.codicon-edit').count(), 1);
    assert.equal(await card('c4').locator('.tool-icon.codicon-terminal').count(), 1);
    assert.equal((await card('c1').locator('[data-testid="tool-duration"]').innerText()).trim(), '42 ms');
    assert.equal((await card('c2').locator('[data-testid="tool-duration"]').innerText()).trim(), '1.3 s');
    assert.equal((await card('c3').locator('[data-testid="tool-diffstat"]').innerText()).trim(), '+3 −1');
    assert.equal((await card('c2').locator('[data-testid="tool-preview"]').innerText()).trim(), '3 matches in 2 files');
    assert.equal(await card('c4').locator('[data-testid="tool-status"] .codicon-loading.codicon-modifier-spin').count(), 1, 'a spinner while running');
    assert.equal(await card('c1').locator('[data-testid="tool-status"] .codicon-check').count(), 1);
    assert.match((await card('c1').getAttribute('aria-label')) ?? '', /^Read, src\/parser\.ts, Done, 42 ms/);
    // Subjects are one line, ellipsised: a long command does not wrap the row.
    const overflow = await card('c1')
      .locator('[data-testid="tool-subject"]')
      .evaluate((el) => (globalThis as unknown as PageGlobals).getComputedStyle(el).textOverflow);
    assert.equal(overflow, 'ellipsis');
    // No "Working…" line under a streaming message whose tool is running: the card's spinner says it.
    assert.equal(await chat.page.locator('[data-message-id="a3"] .progress').count(), 0);

    // One reply per turn: the continuations carry no header of their own.
    assert.equal(await chat.page.locator('[data-message-id="a2"].continuation').count(), 1);
    assert.equal(await chat.page.locator('[data-message-id="a1"].continued').count(), 1);
    assert.equal(await chat.page.locator('[data-message-id="a2"] .message-header').isVisible(), false);
    assert.equal(await chat.page.locator('[data-message-id="a1"] .message-header').isVisible(), true);

    // Status changes update one card; the final result and exit code appear.
    await chat.notify('chat/toolCall', {
      call: toolCall({
        id: 'c4',
        messageId: 'a3',
        name: 'run_command',
        kind: 'command',
        subject: 'npm test',
        status: 'done',
        durationMs: 3400,
        exitCode: 0,
        preview: '12 passing',
      }),
    });
    await card('c4').and(chat.page.locator('[data-status="done"]')).waitFor();
    assert.equal((await card('c4').locator('[data-testid="tool-preview"]').innerText()).trim(), 'exit 0 · 12 passing');
    assert.equal((await card('c4').locator('[data-testid="tool-duration"]').innerText()).trim(), '3.4 s');

    for (const [status, icon] of [
      ['error', 'error'],
      ['denied', 'circle-slash'],
      ['interrupted', 'debug-disconnect'],
    ] as const) {
      await chat.notify('chat/toolCall', {
        call: toolCall({ id: 'c2', messageId: 'a1', name: 'search_files', subject: 'parse\\(', status, preview: `it was ${status}` }),
      });
      await card('c2')
        .and(chat.page.locator(`[data-status="${status}"]`))
        .waitFor();
      assert.equal(await card('c2').locator(`[data-testid="tool-status"] .codicon-${icon}`).count(), 1, status);
    }
    assert.equal(await chat.page.locator('[data-testid="tool-card"]').count(), 5, 'upserts replace, never duplicate');
  });

  it('expands to the arguments and the result with a click, Enter or Space, and keeps it expanded across updates', async () => {
    chat = await pages.open();
    await chat.ready(state({ messages: turn() }));
    const row = card('c1').locator('[data-testid="tool-row"]');
    await row.waitFor();
    assert.equal(await card('c1').locator('[data-testid="tool-details"]').isVisible(), false);
    await row.click();
    assert.equal(await row.getAttribute('aria-expanded'), 'true');
    assert.equal(await card('c1').locator('[data-testid="tool-args"]').innerText(), '{\n  "path": "src/parser.ts"\n}');
    assert.match(await card('c1').locator('[data-testid="tool-result"]').innerText(), /return line\.split/);
    await row.press('Enter');
    assert.equal(await row.getAttribute('aria-expanded'), 'false');
    await row.press(' ');
    assert.equal(await row.getAttribute('aria-expanded'), 'true');
    // An update re-renders the card: still expanded, focus still on its row.
    await chat.notify('chat/toolCall', { call: toolCall({ id: 'c1', messageId: 'a1', subject: 'src/parser.ts', durationMs: 50, result: 'new result' }) });
    await card('c1').locator('[data-testid="tool-result"]', { hasText: 'new result' }).waitFor();
    assert.equal(await card('c1').locator('[data-testid="tool-row"]').getAttribute('aria-expanded'), 'true');
    assert.equal(await chat.page.evaluate(() => (globalThis as unknown as PageGlobals).document.activeElement?.getAttribute('data-testid')), 'tool-row');
  });

  it('asks inline: focus moves to the card, Alt+Y allows, Alt+N denies, the buttons and Always allow send the decision', async () => {
    chat = await pages.open();
    const messages = turn().slice(0, 3);
    await chat.ready(state({ messages }));
    await card('c3').waitFor();
    await chat.notify('chat/messageAdded', message({ id: 'a3', text: '', status: 'streaming' }));
    await chat.notify('chat/toolCall', {
      call: toolCall({
        id: 'c4',
        messageId: 'a3',
        name: 'run_command',
        kind: 'command',
        subject: 'npm test -- --grep parser',
        status: 'awaiting_approval',
        approval: approval({ id: 'ap1', callId: 'c4', messageId: 'a3', title: 'Run npm test -- --grep parser', suggestedRule: 'npm test *' }),
      }),
    });
    const asking = card('c4');
    await asking.locator('[data-testid="tool-approval"]').waitFor();
    assert.equal(await asking.locator('[data-testid="approve-allow"]').isVisible(), true);
    assert.equal(await asking.locator('[data-testid="approve-deny"]').isVisible(), true);
    assert.equal((await asking.locator('[data-testid="approve-always"]').innerText()).trim(), 'Always allow "npm test *"');
    assert.equal(await asking.locator('[data-testid="tool-preview"]').count(), 0);
    const focused = await chat.page.evaluate(() => {
      const a = (globalThis as unknown as PageGlobals).document.activeElement;
      return a ? `${a.getAttribute('data-testid')}@${a.closest('[data-call-id]')?.getAttribute('data-call-id')}` : '';
    });
    assert.equal(focused, 'tool-row@c4', 'focus moved to the card that asks');
    await saveScreenshot(chat, 'tool-approval-dark.png');

    await chat.page.keyboard.press('Alt+KeyY');
    assert.deepEqual(await chat.waitForCommand('chat/approve'), { approvalId: 'ap1', decision: 'allow' });
    assert.equal(await asking.locator('[data-testid="approve-allow"]').isDisabled(), true, 'answered: the buttons go inert');

    // A second request without suggested rule: no Always allow; Alt+N (nothing focused) denies the first pending card.
    await chat.notify('chat/toolCall', {
      call: toolCall({
        id: 'c4',
        messageId: 'a3',
        name: 'write_file',
        kind: 'edit',
        subject: '.vscode/settings.json',
        status: 'awaiting_approval',
        approval: approval({
          id: 'ap2',
          callId: 'c4',
          messageId: 'a3',
          toolName: 'write_file',
          title: 'Create .vscode/settings.json',
          reason: 'a protected path: .vscode/settings.json',
        }),
      }),
    });
    await asking.locator('[data-testid="tool-approval"][data-approval-id="ap2"]').waitFor();
    assert.equal(await asking.locator('[data-testid="approve-always"]').count(), 0, 'no standing rule for a protected path');
    await chat.page.evaluate(() => (globalThis as unknown as PageGlobals).document.activeElement?.blur());
    await chat.page.keyboard.press('Alt+KeyN');
    assert.deepEqual(await chat.waitForCommand('chat/approve', 2), { approvalId: 'ap2', decision: 'deny' });

    await chat.notify('chat/toolCall', {
      call: toolCall({
        id: 'c5',
        messageId: 'a3',
        name: 'run_command',
        kind: 'command',
        subject: 'npm test',
        status: 'awaiting_approval',
        approval: approval({ id: 'ap3', callId: 'c5', messageId: 'a3', suggestedRule: 'npm test *' }),
      }),
    });
    await card('c5').locator('[data-testid="approve-always"]').click();
    assert.deepEqual(await chat.waitForCommand('chat/approve', 3), { approvalId: 'ap3', decision: 'allow', always: true });
    await chat.notify('chat/toolCall', {
      call: toolCall({
        id: 'c6',
        messageId: 'a3',
        name: 'web_fetch',
        kind: 'network',
        subject: 'https://docs.example.com/',
        url: 'https://docs.example.com/',
        status: 'awaiting_approval',
        approval: approval({
          id: 'ap4',
          callId: 'c6',
          messageId: 'a3',
          toolName: 'web_fetch',
          title: 'Fetch https://docs.example.com/',
          reason: 'not in Allowed domains',
        }),
      }),
    });
    await card('c6').locator('[data-testid="approve-deny"]').click();
    assert.deepEqual(await chat.waitForCommand('chat/approve', 4), { approvalId: 'ap4', decision: 'deny' });
    await chat.nextFrame();
    assert.equal(chat.commands('chat/linkMeta').length, 0, 'no favicon is fetched for a URL the user has not allowed');
  });

  it('shows a favicon beside a fetched URL, from the host only', async () => {
    chat = await pages.open();
    const fetched = toolCall({
      id: 'f1',
      messageId: 'a1',
      name: 'web_fetch',
      kind: 'network',
      subject: 'https://docs.example.com/guide',
      url: 'https://docs.example.com/guide',
      preview: '200 OK · 12 KB',
    });
    await chat.ready(state({ messages: [message({ id: 'a1', text: 'Reading the docs.', toolCalls: [fetched] })] }));
    assert.deepEqual(await chat.waitForCommand('chat/linkMeta'), { urls: ['https://docs.example.com/guide'] });
    assert.equal(await card('f1').locator('.tool-icon.codicon-globe').count(), 1);
    await chat.notify('chat/linkMeta', { url: 'https://docs.example.com/guide', favicon: PNG });
    const img = card('f1').locator('[data-testid="tool-favicon"]');
    await img.waitFor();
    assert.equal(await img.getAttribute('src'), PNG);
  });

  it('shows the pending changes above the composer, with Keep / Undo per file and for all, and Revert to here', async () => {
    chat = await pages.open({ theme: 'light' });
    const changes = [
      { path: '/w/src/parser.ts', label: 'src/parser.ts', kind: 'modified' as const, added: 9, removed: 3 },
      { path: '/w/src/row.ts', label: 'src/row.ts', kind: 'modified' as const, added: 1, removed: 1 },
      { path: '/w/test/parser.test.ts', label: 'test/parser.test.ts', kind: 'created' as const, added: 2, removed: 0 },
    ];
    const messages = turn();
    messages[3] = {
      ...messages[3]!,
      status: 'complete',
      text: 'The parser test passes now.',
      toolCalls: [
        toolCall({
          id: 'c4',
          messageId: 'a3',
          name: 'run_command',
          kind: 'command',
          subject: 'npm test',
          exitCode: 0,
          preview: '12 passing',
          durationMs: 3400,
        }),
      ],
    };
    await chat.ready(state({ messages, changes }));
    const bar = chat.page.locator('[data-testid="changes-bar"]');
    await bar.waitFor();
    assert.equal((await bar.locator('[data-testid="changes-summary"]').innerText()).replace(/\s+/g, ' ').trim(), '3 files changed +12 −4');
    await saveScreenshot(chat, 'tool-turn-light.png');
    await bar.locator('[data-testid="change-file"]').nth(0).click();
    assert.deepEqual(await chat.waitForCommand('chat/openDiff'), { path: '/w/src/parser.ts' });
    await bar.locator('li[data-path="/w/src/row.ts"] [data-testid="keep-file"]').click();
    assert.deepEqual(await chat.waitForCommand('chat/keepFile'), { path: '/w/src/row.ts' });
    await bar.locator('li[data-path="/w/test/parser.test.ts"] [data-testid="undo-file"]').click();
    assert.deepEqual(await chat.waitForCommand('chat/undoFile'), { path: '/w/test/parser.test.ts' });
    await bar.locator('[data-testid="keep-all"]').click();
    await chat.waitForCommand('chat/keepAll');
    await bar.locator('[data-testid="undo-all"]').click();
    await chat.waitForCommand('chat/undoAll');
    await bar.locator('[data-testid="changes-toggle"]').click();
    assert.equal(await bar.locator('[data-testid="changes-files"]').isVisible(), false, 'collapsed');

    // Revert to here: on the user's message, once the agent has edited files.
    const user = chat.page.locator('[data-message-id="u1"]');
    await user.hover();
    await user.locator('[data-testid="revert-to"]').click();
    assert.deepEqual(await chat.waitForCommand('chat/revertTo'), { messageId: 'u1' });

    await chat.notify('chat/changes', { files: [] });
    await bar.waitFor({ state: 'hidden' });
  });

  it('offers no Revert to here in a conversation without edits', async () => {
    chat = await pages.open();
    await chat.ready(state({ messages: turn().slice(0, 2) }));
    const user = chat.page.locator('[data-message-id="u1"]');
    await user.hover();
    assert.equal(await user.locator('[data-testid="revert-to"]').isVisible(), false);
    assert.equal(await chat.page.locator('[data-testid="changes-bar"]').isVisible(), false);
  });
});

async function saveScreenshot(chat: ChatPage, name: string): Promise<void> {
  fs.mkdirSync(artifacts, { recursive: true });
  await chat.nextFrame();
  await chat.page.screenshot({ path: path.join(artifacts, name) });
}

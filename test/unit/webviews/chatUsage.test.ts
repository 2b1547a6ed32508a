/**
 * Tokens and cost in the real chat webview (Chromium, real CSP, stub host): the muted line under a
 * finished reply (cached tokens, "cost unknown", one line for a tool-call turn), the conversation's
 * totals under the title, and the token budget bar (aria values, the theme's warning colour past
 * 80 %, hidden without a budget). Screenshots in light and dark.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { type ChatPage, useChatPage } from '../../support/chat/chatPage';
import { conversation, message, state } from '../../support/chat/fixtures';
import { themes } from '../../support/chat/themes';
import type { PageElement, PageGlobals } from '../../support/chat/pageTypes';
import type { ConversationUsage, MessageUsage } from '../../../src/protocol/chatView';

const artifacts = path.resolve(__dirname, '..', '..', '..', '..', 'test-results', 'webviews');

const priced: MessageUsage = {
  inputTokens: 1_234,
  outputTokens: 567,
  costUsd: 0.0123,
  model: 'gpt-4.1-2025-04-14',
  price: { input: 2, output: 8, cachedInput: 0.5, source: 'builtin' },
};
const totals: ConversationUsage = { inputTokens: 45_678, outputTokens: 3_210, cachedInputTokens: 30_000, costUsd: 0.1234, costUnknown: false };

/** The rgb() string Chromium computes for a hex colour. */
function rgb(hex: string): string {
  const n = Number.parseInt(hex.slice(1), 16);
  return `rgb(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255})`;
}

describe('chat webview: tokens and cost', function () {
  this.timeout(30_000);
  const pages = useChatPage();
  let chat: ChatPage;

  async function open(messages = [message()], usage?: ConversationUsage, theme: 'dark' | 'light' = 'dark'): Promise<void> {
    chat = await pages.open({ theme });
    await chat.ready(state({ messages, conversation: conversation({ messageCount: messages.length, usage }) }));
    await chat.page.getByTestId('message').first().waitFor();
  }

  const lineOf = (id: string) => chat.page.locator(`[data-message-id="${id}"] [data-testid="usage-line"]`);

  it('shows a finished reply’s tokens and cost, with the cached part and the rates in the tooltip', async () => {
    await open([
      message({ id: 'u1', role: 'user', text: 'Hi', agentId: undefined }),
      message({ id: 'a1', usage: { ...priced, cachedInputTokens: 1_000 } }),
      message({ id: 'u2', role: 'user', text: 'Again', agentId: undefined }),
      message({ id: 'a2', usage: priced }),
    ]);
    assert.equal((await lineOf('a1').innerText()).trim(), '1,234 in (1,000 cached) · 567 out · $0.0123');
    assert.equal((await lineOf('a2').innerText()).trim(), '1,234 in · 567 out · $0.0123');
    const tip = (await lineOf('a1').getAttribute('title')) ?? '';
    assert.match(tip, /Model: gpt-4\.1-2025-04-14/);
    assert.match(tip, /input \$2\.00, cached input \$0\.50, output \$8\.00 \(built-in list price\)/);
    assert.equal(await lineOf('u1').count(), 0, 'a user message has no usage line');
    const color = await lineOf('a1').evaluate((el) => (globalThis as unknown as PageGlobals).getComputedStyle(el).color);
    assert.equal(color, rgb(themes.dark.vars['--vscode-descriptionForeground']), 'muted: the description colour');
  });

  it('says "cost unknown" for a model without a price, and nothing for a reply without usage', async () => {
    await open([
      message({ id: 'a1', usage: { inputTokens: 10, outputTokens: 2, model: 'acme-coder' } }),
      message({ id: 'u1', role: 'user', text: 'x', agentId: undefined }),
      message({ id: 'a2' }),
    ]);
    assert.equal((await lineOf('a1').innerText()).trim(), '10 in · 2 out · cost unknown');
    assert.match((await lineOf('a1').getAttribute('title')) ?? '', /No price is known for acme-coder: add one in the setting multiclaw\.chat\.modelPrices/);
    assert.equal(await lineOf('a2').count(), 0);
  });

  it('adds the line when the streamed reply finishes; a tool-call turn gets one line with the sum', async () => {
    await open([message({ id: 'u1', role: 'user', text: 'Fix it', agentId: undefined })]);
    await chat.notify('chat/messageAdded', message({ id: 's1', text: 'Reading…', status: 'streaming' }));
    await chat.page.locator('[data-message-id="s1"]').waitFor();
    await chat.notify('chat/messageUpdated', {
      messageId: 's1',
      status: 'complete',
      usage: { ...priced, inputTokens: 1_000, outputTokens: 100, costUsd: 0.002 },
    });
    await lineOf('s1').waitFor();
    assert.equal((await lineOf('s1').innerText()).trim(), '1,000 in · 100 out · $0.0020');
    // The agent goes on after its tool call: the line moves to the end of the turn.
    await chat.notify('chat/messageAdded', message({ id: 's2', text: '', status: 'streaming' }));
    await lineOf('s1').waitFor({ state: 'detached' });
    assert.equal(await lineOf('s2').count(), 0, 'no line while it streams');
    await chat.notify('chat/messageUpdated', {
      messageId: 's2',
      status: 'complete',
      usage: { ...priced, inputTokens: 2_000, outputTokens: 50, costUsd: 0.0041 },
    });
    await lineOf('s2').waitFor();
    assert.equal((await lineOf('s2').innerText()).trim(), '3,000 in · 150 out · $0.0061');
    assert.match((await lineOf('s2').getAttribute('title')) ?? '', /2 requests to the model in this reply/);
    assert.equal(await chat.page.getByTestId('usage-line').count(), 1);
  });

  it('shows the conversation’s totals under the title and keeps them across a title update', async () => {
    await open([message({ id: 'a1', usage: priced })], totals);
    const summary = chat.page.getByTestId('usage-summary');
    await summary.waitFor();
    assert.equal((await chat.page.getByTestId('usage-totals').innerText()).trim(), '45.7k in · 3,210 out · $0.1234');
    assert.match((await chat.page.getByTestId('usage-totals').getAttribute('title')) ?? '', /45,678 input tokens \(30,000 cached\), 3,210 output tokens/);
    assert.equal(await chat.page.getByRole('progressbar').count(), 0, 'no budget: no bar');
    await chat.notify('chat/conversation', conversation({ title: 'Renamed', messageCount: 1 }));
    await chat.page.getByText('Renamed').waitFor();
    assert.ok(await summary.isVisible(), 'the totals stay');
    await chat.notify('chat/usage', { conversationId: 'c1', usage: { ...totals, costUsd: 0.5, costUnknown: true } });
    await chat.page.getByText('45.7k in · 3,210 out · ≥ $0.5000').waitFor();
    await chat.notify('chat/usage', { conversationId: 'other', usage: { ...totals, inputTokens: 1 } });
    await chat.notify('chat/reset', state({ messages: [] }));
    await summary.waitFor({ state: 'hidden' });
  });

  it('shows the token budget as a progress bar that turns to the warning colour past 80 %', async () => {
    await open([message({ id: 'a1', usage: priced })], { ...totals, budget: { used: 40_000, limit: 100_000 } });
    const bar = chat.page.getByRole('progressbar', { name: 'Token budget' });
    await bar.waitFor();
    const aria = (): Promise<(string | null)[]> =>
      bar.evaluate((el) => ['aria-valuemin', 'aria-valuemax', 'aria-valuenow', 'aria-valuetext'].map((a) => el.getAttribute(a)));
    assert.deepEqual(await aria(), ['0', '100000', '40000', '40,000 of 100,000 tokens used (40 %)']);
    assert.equal((await chat.page.getByTestId('budget-percent').innerText()).trim(), '40 %');
    const fill = bar.locator('.budget-fill');
    const fillColor = (): Promise<string> => fill.evaluate((el) => (globalThis as unknown as PageGlobals).getComputedStyle(el).backgroundColor);
    assert.equal(await fillColor(), rgb(themes.dark.vars['--vscode-progressBar-background']));
    const widths = async (): Promise<number> =>
      fill.evaluate(
        (el) =>
          (el as unknown as PageElement).getBoundingClientRect().width / ((el as unknown as PageElement).parentElement?.getBoundingClientRect().width ?? 1),
      );
    assert.ok(Math.abs((await widths()) - 0.4) < 0.02);

    await chat.notify('chat/usage', { conversationId: 'c1', usage: { ...totals, budget: { used: 85_000, limit: 100_000 } } });
    await chat.page.locator('[data-testid="token-budget"].warning').waitFor();
    assert.equal(await fillColor(), rgb(themes.dark.vars['--vscode-editorWarning-foreground']));
    assert.equal((await aria())[2], '85000');

    await chat.notify('chat/usage', { conversationId: 'c1', usage: { ...totals, budget: { used: 120_000, limit: 100_000 } } });
    await chat.page.locator('[data-testid="token-budget"].exceeded').waitFor();
    assert.deepEqual((await aria()).slice(2), ['100000', '120,000 of 100,000 tokens used (120 %)']);
    assert.equal(await fillColor(), rgb(themes.dark.vars['--vscode-errorForeground']));
    assert.ok(Math.abs((await widths()) - 1) < 0.01, 'the bar stops at full');
  });

  for (const theme of ['light', 'dark'] as const) {
    it(`screenshot: reply cost and budget bar (${theme})`, async () => {
      await open(
        [
          message({ id: 'u1', role: 'user', text: 'Why does this split on commas?', agentId: undefined }),
          message({
            id: 'a1',
            text: 'Because `split(",")` ignores quotes. Use a small state machine instead.',
            usage: { ...priced, cachedInputTokens: 1_000 },
          }),
          message({ id: 'u2', role: 'user', text: 'And on my local model?', agentId: undefined }),
          message({ id: 'a2', text: 'The same idea applies.', usage: { inputTokens: 980, outputTokens: 42, model: 'acme-coder' } }),
        ],
        { ...totals, costUnknown: true, budget: { used: 86_000, limit: 100_000 } },
        theme,
      );
      await chat.nextFrame();
      fs.mkdirSync(artifacts, { recursive: true });
      await chat.page.screenshot({ path: path.join(artifacts, `chat-usage-${theme}.png`) });
      const box = await chat.page.getByTestId('usage-summary').boundingBox();
      assert.ok(box && box.width > 300 && box.height >= 18, 'the totals row is laid out');
      const bar = await chat.page.getByRole('progressbar', { name: 'Token budget' }).boundingBox();
      assert.ok(bar && bar.width >= 40, 'the budget bar has room');
    });
  }
});

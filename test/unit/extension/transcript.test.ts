/** The export formats of Export Conversation… (plain functions) and the default export folder. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { defaultExportFolder, exportFileName, formatOfPath, toJsonl, toMarkdown, type ExportSource } from '../../../src/extension/transcript';

const T0 = Date.UTC(2026, 11, 4, 1, 2, 3);
const source: ExportSource = {
  meta: { id: 'c1', title: 'Fix the parser: why?', agentId: 'gpt', createdAt: T0 },
  messages: [
    { id: 'u1', role: 'user', text: 'Why does it fail?', ts: T0, status: 'complete' },
    { id: 'a1', role: 'assistant', text: 'Because of **this**.', ts: T0 + 5000, status: 'complete', agentId: 'gpt', finishReason: 'stop' },
    {
      id: 'a2',
      role: 'assistant',
      text: '',
      ts: T0 + 9000,
      status: 'error',
      agentId: 'gpt',
      error: { kind: 'auth', message: 'OpenAI rejected the API key.', retryable: false },
    },
  ],
};
const names = (id: string | undefined): string => (id === 'gpt' ? 'GPT Coder' : 'Assistant');

describe('conversation export', () => {
  it('writes a readable Markdown transcript: the title, who said what and when, errors', () => {
    const md = toMarkdown(source, names, T0 + 60_000);
    assert.equal(
      md,
      [
        '# Fix the parser: why?',
        '',
        'Exported from MultiClaw on 2026-12-04 01:03:03 UTC · started 2026-12-04 01:02:03 UTC · 3 messages',
        '',
        '---',
        '',
        '### You · 2026-12-04 01:02:03 UTC',
        '',
        'Why does it fail?',
        '',
        '---',
        '',
        '### GPT Coder · 2026-12-04 01:02:08 UTC',
        '',
        'Because of **this**.',
        '',
        '---',
        '',
        '### GPT Coder · 2026-12-04 01:02:12 UTC',
        '',
        '> **Error:** OpenAI rejected the API key.',
        '',
      ].join('\n'),
    );
  });

  it('writes one JSON record per message', () => {
    const lines = toJsonl(source, names).trimEnd().split('\n');
    assert.equal(lines.length, 3);
    const r = JSON.parse(lines[1]!) as Record<string, unknown>;
    assert.deepEqual(
      [r.conversationId, r.id, r.role, r.author, r.text, r.time, r.status],
      ['c1', 'a1', 'assistant', 'GPT Coder', 'Because of **this**.', '2026-12-04T01:02:08.000Z', 'complete'],
    );
  });

  it('names the file after the title and picks the format from the extension', () => {
    assert.equal(exportFileName('Fix the parser: why?', 'markdown'), 'Fix the parser why.md');
    assert.equal(exportFileName('///', 'jsonl'), 'conversation.jsonl');
    assert.equal(formatOfPath('/x/a.MD'), 'markdown');
    assert.equal(formatOfPath('/x/a.jsonl'), 'jsonl');
  });

  it('defaults to the Documents folder when there is one, else the home folder', () => {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'mc-home-'));
    try {
      assert.equal(defaultExportFolder(home), home);
      fs.mkdirSync(path.join(home, 'Documents'));
      assert.equal(defaultExportFolder(home), path.join(home, 'Documents'));
    } finally {
      fs.rmSync(home, { recursive: true, force: true });
    }
  });
});

/**
 * What `MultiClaw: Export Conversation…` writes: a readable Markdown transcript (title, who said what,
 * when) or JSON Lines with one merged record per message (the journal's streamed chunks joined). Plain
 * functions (no `vscode`), so unit tests call them directly.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { ConversationMeta, StoredMessage } from '../gateway/store/model';

export type ExportFormat = 'markdown' | 'jsonl';

export interface ExportSource {
  readonly meta: ConversationMeta;
  readonly messages: readonly Readonly<StoredMessage>[];
}

export const EXPORT_EXTENSIONS: Record<ExportFormat, string> = { markdown: 'md', jsonl: 'jsonl' };

/** `.md` / `.markdown` → Markdown; anything else → JSON Lines. */
export function formatOfPath(file: string): ExportFormat {
  return /\.(md|markdown)$/i.test(file) ? 'markdown' : 'jsonl';
}

/** `2026-12-04 01:02:03 UTC`: the same on every machine, sortable. */
export function utcTime(ts: number): string {
  return Number.isFinite(ts) ? `${new Date(ts).toISOString().slice(0, 19).replace('T', ' ')} UTC` : 'unknown time';
}

/** A file name from the title: letters, digits, spaces, dots and dashes, at most 60 characters. */
export function exportFileName(title: string, format: ExportFormat): string {
  const safe =
    title
      .replace(/[^\p{L}\p{N} ._-]+/gu, ' ')
      .replace(/\s+/g, ' ')
      .trim()
      .slice(0, 60)
      .trim() || 'conversation';
  return `${safe}.${EXPORT_EXTENSIONS[format]}`;
}

/** The user's Documents folder when it exists, else their home folder. */
export function defaultExportFolder(home: string = os.homedir()): string {
  const docs = path.join(home, 'Documents');
  try {
    if (fs.statSync(docs).isDirectory()) return docs;
  } catch {
    // no Documents folder
  }
  return home;
}

const STATUS_NOTES: Partial<Record<StoredMessage['status'], string>> = {
  interrupted: '_(reply interrupted)_',
  cancelled: '_(stopped)_',
  streaming: '_(still being written when exported)_',
};

export function toMarkdown(c: ExportSource, agentName: (id: string | undefined) => string, exportedAt = Date.now()): string {
  const out: string[] = [`# ${c.meta.title.replace(/\s+/g, ' ').trim() || 'Conversation'}`, ''];
  const n = c.messages.length;
  out.push(`Exported from MultiClaw on ${utcTime(exportedAt)} · started ${utcTime(c.meta.createdAt)} · ${n} message${n === 1 ? '' : 's'}`, '');
  for (const m of c.messages) {
    const who = m.role === 'user' ? (m.origin === 'task' ? 'Task' : 'You') : agentName(m.agentId ?? c.meta.agentId ?? undefined);
    out.push('---', '', `### ${who} · ${utcTime(m.ts)}`, '');
    if (m.text) out.push(m.text.trimEnd(), '');
    if (m.status === 'error') out.push(`> **Error:** ${(m.error?.message ?? 'the reply failed').replace(/\n/g, ' ')}`, '');
    const note = STATUS_NOTES[m.status];
    if (note) out.push(note, '');
  }
  return out.join('\n');
}

/** One JSON object per line, one line per message, each with its conversation's id and title. */
export function toJsonl(c: ExportSource, agentName: (id: string | undefined) => string): string {
  return c.messages
    .map((m) =>
      JSON.stringify({
        conversationId: c.meta.id,
        conversationTitle: c.meta.title,
        id: m.id,
        role: m.role,
        author: m.role === 'user' ? (m.origin === 'task' ? 'Task' : 'You') : agentName(m.agentId ?? c.meta.agentId ?? undefined),
        agentId: m.role === 'assistant' ? (m.agentId ?? c.meta.agentId ?? undefined) : undefined,
        time: Number.isFinite(m.ts) ? new Date(m.ts).toISOString() : undefined,
        status: m.status,
        text: m.text,
        finishReason: m.finishReason,
        usage: m.usage,
        error: m.error,
      }),
    )
    .map((l) => `${l}\n`)
    .join('');
}

/**
 * Full-text search over the conversations on this machine: every word of the query (case- and
 * accent-insensitive) must occur in the title or in one conversation's messages (what the user
 * wrote, every reply, every branch). Reads each file line by line without opening it in the store
 * (no lock, no replay); a line that does not parse is skipped. Results: best first (more hits, then
 * more recent), each with a snippet around the first hit.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { ConversationSummary } from './model';

export interface SearchHit {
  id: string;
  title: string;
  updatedAt: number;
  /** ~120 characters around the first hit in a message ('' when only the title matched). */
  snippet: string;
  hits: number;
}

const MAX_QUERY = 200;
const SNIPPET = 120;

export function normalise(s: string): string {
  return s
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase();
}

/** The query's words (at most 10), normalised; empty when there is nothing to search for. */
export function queryWords(query: string): string[] {
  return [...new Set(normalise(query.slice(0, MAX_QUERY)).split(/\s+/).filter(Boolean))].slice(0, 10);
}

async function messageTexts(file: string): Promise<string[]> {
  const byId = new Map<string, string>();
  const lines = createInterface({ input: createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
  try {
    for await (const line of lines) {
      if (!line) continue;
      let r: { t?: unknown; id?: unknown; text?: unknown };
      try {
        r = JSON.parse(line) as typeof r;
      } catch {
        continue; // a torn or corrupt line: the store repairs it on open; search skips it
      }
      if (typeof r.id !== 'string' || typeof r.text !== 'string') continue;
      if (r.t === 'user') byId.set(r.id, r.text);
      else if (r.t === 'chunk') byId.set(r.id, (byId.get(r.id) ?? '') + r.text);
    }
  } catch {
    return [...byId.values()]; // the file went away while it was read
  }
  return [...byId.values()];
}

function snippetAround(text: string, at: number, length: number): string {
  const flat = (s: string): string => s.replace(/\s+/g, ' ');
  const start = Math.max(0, at - 40);
  const piece = flat(text.slice(start, start + SNIPPET + length));
  return `${start > 0 ? '…' : ''}${piece.trim()}${start + SNIPPET + length < text.length ? '…' : ''}`;
}

export async function searchConversations(
  summaries: readonly ConversationSummary[],
  fileOf: (id: string) => string,
  query: string,
  options: { limit?: number; signal?: AbortSignal } = {},
): Promise<SearchHit[]> {
  const words = queryWords(query);
  if (!words.length) return [];
  const out: SearchHit[] = [];
  for (const s of summaries) {
    if (options.signal?.aborted) break;
    const texts = await messageTexts(fileOf(s.id)).catch(() => [] as string[]);
    const title = normalise(s.title ?? '');
    const bodies = texts.map((t) => ({ raw: t, norm: normalise(t) }));
    if (!words.every((w) => title.includes(w) || bodies.some((b) => b.norm.includes(w)))) continue;
    let hits = 0;
    let snippet = '';
    for (const b of bodies)
      for (const w of words) {
        let i = b.norm.indexOf(w);
        if (i >= 0 && !snippet) snippet = snippetAround(b.raw, i, w.length);
        while (i >= 0) {
          hits++;
          i = b.norm.indexOf(w, i + w.length);
        }
      }
    for (const w of words) if (title.includes(w)) hits++;
    out.push({ id: s.id, title: s.title || 'Untitled conversation', updatedAt: s.updatedAt, snippet, hits });
  }
  out.sort((a, b) => b.hits - a.hits || b.updatedAt - a.updatedAt);
  return out.slice(0, options.limit ?? 200);
}

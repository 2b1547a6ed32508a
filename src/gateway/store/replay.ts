/**
 * Reading a conversation file: records are folded in order into messages and meta, repairing what a
 * crash or a stray edit can leave behind (see the format notes in records.ts). `Replay` is the fold;
 * `loadConversationFile` reads a whole file for `open`, `scanConversationFile` streams one for the
 * list index and keeps only the first characters of each message.
 */
import { createReadStream, promises as fs } from 'node:fs';
import { BranchTree } from './branchTree';
import { type MetaRecord, parseRecord, type StoreRecord } from './records';
import { INDEX_TEXT_CAP, type MessageTools, type StoredMessage, titleFromText } from './model';
import { applyResult, viewFromCall } from './toolRecords';

export interface ReplayState {
  id: string;
  /** Last explicit title (meta or title record); '' = none. */
  explicitTitle: string;
  /** From the first user message; '' = none yet. */
  derivedTitle: string;
  agentId: string | null;
  createdAt: number;
  taskId?: string;
  updatedAt: number;
  /** The shown branch, in order (the other branches' messages are in `tree` and `hidden`). */
  messages: StoredMessage[];
  /** Every message's place among the branches. */
  tree: BranchTree;
  /** Messages on branches not shown, by id. */
  hidden: Map<string, StoredMessage>;
  /** Per reply with tool calls: the exact calls and their results (what the provider history replays). */
  tools: Map<string, MessageTools>;
  /** Human-readable notes on what was repaired (capped). */
  repairs: string[];
}

export interface LoadedFile extends ReplayState {
  /** Bytes that hold complete records; anything after them is truncated before the next append. */
  validEnd: number;
  size: number;
  /** The last record is whole but lacks its newline: the next append starts with one. */
  needsNewline: boolean;
}

const MAX_REPAIR_NOTES = 50;

export class Replay {
  private meta: MetaRecord | undefined;
  private applied = 0;
  private lineNo = 0;
  private readonly messages = new Map<string, StoredMessage>();
  private readonly tools = new Map<string, MessageTools>();
  private readonly seen = new Set<string>();
  private readonly tree = new BranchTree();
  private titleOverride: string | undefined;
  private agentOverride: string | undefined;
  private firstStartAgent: string | undefined;
  private derivedTitle = '';
  private firstTs: number | undefined;
  private lastTs: number | undefined;
  private readonly notes: string[] = [];
  private extraNotes = 0;

  constructor(
    private readonly id: string,
    private readonly textCap = Number.POSITIVE_INFINITY,
  ) {}

  /** A createdAt fallback (the file's mtime) is needed: no meta and no timestamped record. */
  get needsCreatedAt(): boolean {
    return !this.meta && this.firstTs === undefined;
  }

  /** One complete line, without its newline. */
  feedLine(text: string): void {
    this.lineNo++;
    if (!/\S/.test(text)) return;
    const parsed = parseRecord(text);
    if (parsed.ok) this.apply(parsed.record);
    else this.note(`line ${this.lineNo}: ${parsed.reason}; skipped`);
  }

  /** The bytes after the last newline. Kept (returns true) only when they are a whole valid record. */
  feedTail(text: string, bytes: number): boolean {
    this.lineNo++;
    const parsed = parseRecord(text);
    if (parsed.ok) {
      this.apply(parsed.record);
      return true;
    }
    this.note(`torn last line (${bytes} bytes) dropped`);
    return false;
  }

  finish(fallbackCreatedAt: number): ReplayState {
    for (const m of this.messages.values()) {
      if (m.status === 'streaming') {
        m.status = 'interrupted';
        this.note(`reply ${m.id} has no end; marked interrupted`);
      }
      const tools = this.tools.get(m.id);
      for (const view of m.toolCalls ?? []) {
        if (tools?.results.has(view.id)) continue;
        view.status = 'interrupted';
        this.note(`tool call ${view.id} (${view.name}) has no result; closed as interrupted`);
      }
    }
    const meta = this.meta;
    if (!meta) this.note('meta record missing or damaged; derived from the file name and the other records');
    if (this.extraNotes) this.notes.push(`… and ${this.extraNotes} more`);
    const createdAt = meta?.createdAt ?? this.firstTs ?? fallbackCreatedAt;
    this.tree.settle();
    const shown = this.tree.path(this.messages);
    const hidden = new Map(this.messages);
    for (const m of shown) hidden.delete(m.id);
    const state: ReplayState = {
      id: this.id,
      explicitTitle: this.titleOverride ?? meta?.title ?? '',
      derivedTitle: this.derivedTitle,
      agentId: this.agentOverride ?? (meta ? meta.agentId : (this.firstStartAgent ?? null)),
      createdAt,
      updatedAt: Math.max(createdAt, this.lastTs ?? createdAt),
      messages: shown,
      tree: this.tree,
      hidden,
      tools: new Map([...this.tools].filter(([id]) => this.messages.has(id))),
      repairs: this.notes,
    };
    if (meta?.taskId !== undefined) state.taskId = meta.taskId;
    return state;
  }

  private note(text: string): void {
    if (this.notes.length < MAX_REPAIR_NOTES) this.notes.push(text);
    else this.extraNotes++;
  }

  /** updatedAt follows message activity (user, start, end); renames and removals do not reorder the list. */
  private touch(ts: number, activity = true): void {
    this.firstTs ??= ts;
    if (activity && (this.lastTs === undefined || ts > this.lastTs)) this.lastTs = ts;
  }

  private cap(text: string, have = 0): string {
    const room = this.textCap - have;
    return text.length <= room ? text : text.slice(0, Math.max(0, room));
  }

  private addMessage(m: StoredMessage): boolean {
    if (this.seen.has(m.id)) {
      this.note(`line ${this.lineNo}: duplicate message id ${m.id}; skipped`);
      return false;
    }
    this.seen.add(m.id);
    this.messages.set(m.id, m);
    this.tree.add(m.id);
    this.touch(m.ts);
    return true;
  }

  /** The message a chunk/end record refers to, if it is a reply still streaming. */
  private streamingReply(id: string, what: string): StoredMessage | undefined {
    const m = this.messages.get(id);
    if (m && m.role === 'assistant' && m.status === 'streaming') return m;
    const why = !m ? (this.seen.has(id) ? 'a removed message' : 'an unknown message') : m.role === 'user' ? 'a user message' : 'a reply that already ended';
    this.note(`line ${this.lineNo}: ${what} for ${why} (${id}); skipped`);
    return undefined;
  }

  private apply(r: StoreRecord): void {
    switch (r.t) {
      case 'meta':
        if (this.meta || this.applied > 0) {
          this.note(`line ${this.lineNo}: meta record after the first record; skipped`);
          return;
        }
        if (r.id !== this.id) this.note(`meta id ${r.id} differs from the file name; using ${this.id}`);
        this.meta = r;
        break;
      case 'user':
        if (
          !this.addMessage({
            id: r.id,
            role: 'user',
            text: this.cap(r.text),
            ts: r.ts,
            status: 'complete',
            ...(r.context?.length ? { context: r.context } : {}),
            ...(r.origin ? { origin: r.origin } : {}),
          })
        )
          return;
        if (!this.derivedTitle) this.derivedTitle = titleFromText(r.text);
        break;
      case 'start':
        if (!this.addMessage({ id: r.id, role: 'assistant', text: '', ts: r.ts, status: 'streaming', agentId: r.agentId })) return;
        this.firstStartAgent ??= r.agentId;
        break;
      case 'chunk': {
        const m = this.streamingReply(r.id, 'chunk');
        if (!m) return;
        if (m.text.length < this.textCap) m.text += this.cap(r.text, m.text.length);
        break;
      }
      case 'end': {
        const m = this.streamingReply(r.id, 'end');
        if (!m) return;
        m.status = r.status;
        if (r.finishReason !== undefined) m.finishReason = r.finishReason;
        if (r.usage !== undefined) m.usage = r.usage;
        if (r.error !== undefined) m.error = r.error;
        this.touch(r.ts);
        break;
      }
      case 'title':
        this.titleOverride = r.title;
        this.touch(r.ts, false);
        break;
      case 'agent':
        this.agentOverride = r.agentId;
        this.touch(r.ts, false);
        break;
      case 'call': {
        const m = this.messages.get(r.id);
        if (!m || m.role !== 'assistant') {
          this.note(`line ${this.lineNo}: tool call for ${m ? 'a user message' : 'an unknown message'} (${r.id}); skipped`);
          return;
        }
        const tools = this.tools.get(r.id) ?? ({ calls: [], results: new Map() } as MessageTools);
        if (tools.calls.some((c) => c.id === r.call.id)) {
          this.note(`line ${this.lineNo}: duplicate tool call ${r.call.id}; skipped`);
          return;
        }
        tools.calls.push(r.call);
        this.tools.set(r.id, tools);
        (m.toolCalls ??= []).push(viewFromCall(r));
        break;
      }
      case 'result': {
        const tools = this.tools.get(r.id);
        const view = this.messages.get(r.id)?.toolCalls?.find((v) => v.id === r.callId);
        if (!tools || !view || tools.results.has(r.callId)) {
          this.note(`line ${this.lineNo}: result for ${view ? 'a call that already has one' : 'an unknown call'} (${r.callId}); skipped`);
          return;
        }
        tools.results.set(r.callId, { status: r.status, content: r.content });
        applyResult(view, r);
        break;
      }
      case 'remove':
        if (!this.messages.delete(r.id)) {
          this.note(`line ${this.lineNo}: remove of ${this.seen.has(r.id) ? 'a removed' : 'an unknown'} message (${r.id}); skipped`);
          return;
        }
        this.tree.remove(r.id);
        this.touch(r.ts, false);
        break;
      case 'fork':
        if (!this.tree.fork(r.after)) {
          this.note(`line ${this.lineNo}: fork after a message not on the shown branch (${r.after ?? 'start'}); skipped`);
          return;
        }
        this.touch(r.ts, false);
        break;
      case 'branch':
        if (!this.tree.show(r.id)) {
          this.note(`line ${this.lineNo}: branch of ${this.seen.has(r.id) ? 'a removed' : 'an unknown'} message (${r.id}); skipped`);
          return;
        }
        this.touch(r.ts, false);
        break;
    }
    this.applied++;
  }
}

function feedLines(replay: Replay, body: string): void {
  let start = 0;
  let nl: number;
  while ((nl = body.indexOf('\n', start)) !== -1) {
    replay.feedLine(body.slice(start, nl));
    start = nl + 1;
  }
}

async function finishWithMtime(replay: Replay, file: string): Promise<ReplayState> {
  return replay.finish(replay.needsCreatedAt ? (await fs.stat(file)).mtimeMs : 0);
}

/** Reads and repairs a whole conversation file (throws ENOENT when it does not exist). */
export async function loadConversationFile(file: string, id: string): Promise<LoadedFile> {
  const buf = await fs.readFile(file);
  const replay = new Replay(id);
  const bodyEnd = buf.lastIndexOf(0x0a) + 1;
  feedLines(replay, buf.toString('utf8', 0, bodyEnd));
  let validEnd = bodyEnd;
  let needsNewline = false;
  if (bodyEnd < buf.length && replay.feedTail(buf.toString('utf8', bodyEnd), buf.length - bodyEnd)) {
    validEnd = buf.length;
    needsNewline = true;
  }
  return { ...(await finishWithMtime(replay, file)), validEnd, size: buf.length, needsNewline };
}

/** Streams a conversation file once for the list index: meta, counts, and a prefix of each message. */
export async function scanConversationFile(file: string, id: string): Promise<ReplayState> {
  const replay = new Replay(id, INDEX_TEXT_CAP);
  let parts: Buffer[] = [];
  for await (const chunk of createReadStream(file, { highWaterMark: 256 * 1024 }) as AsyncIterable<Buffer>) {
    let start = 0;
    let nl: number;
    while ((nl = chunk.indexOf(0x0a, start)) !== -1) {
      const piece = chunk.subarray(start, nl);
      replay.feedLine((parts.length ? Buffer.concat([...parts, piece]) : piece).toString('utf8'));
      parts = [];
      start = nl + 1;
    }
    if (start < chunk.length) parts.push(chunk.subarray(start));
  }
  if (parts.length) {
    const tail = Buffer.concat(parts);
    replay.feedTail(tail.toString('utf8'), tail.length);
  }
  return finishWithMtime(replay, file);
}

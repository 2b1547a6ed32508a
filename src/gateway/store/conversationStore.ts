/**
 * The local conversation store: one append-only JSONL file per conversation, `<dir>/<id>.jsonl`
 * (format and repair rules in records.ts). Open conversations are cached until closed. `list()`
 * answers from an in-memory index built once by streaming each file and kept current by this
 * window's writes; files another window adds or removes appear on `list({ refresh: true })`.
 * Export = copy `filePath(id)`.
 */
import { randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { type Clock, type Logger, systemClock } from '../ports';
import { Disposable, Emitter, type Event } from '../util/disposable';
import { Conversation, type ConversationHost } from './conversation';
import { createJournalFile, Journal } from './journal';
import { type ConversationSummary, displayTitle, normalizeTitle, snippetOf } from './model';
import { encodeRecord, FORMAT_VERSION, isConversationId, type MetaRecord } from './records';
import { BranchTree } from './branchTree';
import { type LoadedFile, loadConversationFile, type ReplayState, scanConversationFile } from './replay';

export type { AssistantEnd, ConversationMeta, ConversationSummary, StoredError, StoredMessage, StoredStatus, StoredUsage } from './model';
export { Conversation, DELTA_FLUSH_MS } from './conversation';
export { isConversationId } from './records';

export interface ConversationChange {
  id: string;
  kind: 'created' | 'updated' | 'deleted';
}

export interface NewConversation {
  /** Omitted or '': the title is derived from the first user message. */
  title?: string;
  agentId: string | null;
  taskId?: string;
}

export class ConversationNotFoundError extends Error {
  constructor(readonly conversationId: string) {
    super(`Conversation ${conversationId} does not exist`);
    this.name = 'ConversationNotFoundError';
  }
}

const FILE_SUFFIX = '.jsonl';
const SCAN_CONCURRENCY = 4;

function isNotFound(err: unknown): boolean {
  return err instanceof Error && (err as NodeJS.ErrnoException).code === 'ENOENT';
}

function summaryOf(s: ReplayState): ConversationSummary {
  const summary: ConversationSummary = {
    id: s.id,
    title: displayTitle(s.explicitTitle, s.derivedTitle),
    agentId: s.agentId,
    createdAt: s.createdAt,
    updatedAt: s.updatedAt,
    snippet: snippetOf(s.messages),
    messageCount: s.messages.length,
  };
  if (s.taskId !== undefined) summary.taskId = s.taskId;
  return summary;
}

function byRecency(a: ConversationSummary, b: ConversationSummary): number {
  return b.updatedAt - a.updatedAt || b.createdAt - a.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

export class ConversationStore extends Disposable {
  private readonly _onDidChange = this._register(new Emitter<ConversationChange>());
  /** Turn-level changes made through this store (not each streamed delta). */
  readonly onDidChange: Event<ConversationChange> = this._onDidChange.event;

  private readonly opening = new Map<string, Promise<Conversation>>();
  private readonly live = new Map<string, Conversation>();
  /** Closed conversations whose last writes are still settling: a reopen waits for them. */
  private readonly draining = new Map<string, Promise<void>>();
  private readonly deleting = new Set<string>();
  private readonly index = new Map<string, ConversationSummary>();
  private indexReady = false;
  private scanning: Promise<void> | undefined;
  private touchedDuringScan: Set<string> | undefined;
  private readonly host: ConversationHost;

  constructor(
    private readonly dir: string,
    private readonly logger: Logger,
    clock: Clock = systemClock,
  ) {
    super();
    this.host = {
      clock,
      logger,
      changed: (c) => this.onChanged(c),
      closed: (c, drained) => this.onClosed(c, drained),
    };
  }

  /** The conversation's file (export = copy it). Throws on an id that is not a conversation id. */
  filePath(id: string): string {
    if (!isConversationId(id)) throw new Error(`Invalid conversation id: ${JSON.stringify(String(id).slice(0, 80))}`);
    return path.join(this.dir, id + FILE_SUFFIX);
  }

  /** All conversations, most recently active first. */
  async list(options: { refresh?: boolean } = {}): Promise<ConversationSummary[]> {
    this.assertUsable();
    if (!this.indexReady || options.refresh) await this.rescan();
    const all = new Map(this.index);
    for (const c of this.live.values()) all.set(c.id, c.summary);
    return [...all.values()].sort(byRecency);
  }

  async create(init: NewConversation): Promise<Conversation> {
    this.assertUsable();
    const id = randomUUID();
    const file = this.filePath(id);
    const meta: MetaRecord = {
      v: FORMAT_VERSION,
      t: 'meta',
      id,
      title: normalizeTitle(init.title ?? ''),
      agentId: init.agentId,
      createdAt: this.host.clock.now(),
    };
    if (init.taskId !== undefined) meta.taskId = init.taskId;
    const line = encodeRecord(meta);
    await fs.mkdir(this.dir, { recursive: true });
    const size = await createJournalFile(file, line);
    const state: ReplayState = {
      id,
      explicitTitle: meta.title,
      derivedTitle: '',
      agentId: meta.agentId,
      createdAt: meta.createdAt,
      updatedAt: meta.createdAt,
      messages: [],
      tree: new BranchTree(),
      hidden: new Map(),
      tools: new Map(),
      repairs: [],
    };
    if (meta.taskId !== undefined) state.taskId = meta.taskId;
    const conv = new Conversation(state, new Journal(file, { validEnd: size, size, needsNewline: false }), this.host);
    this.adopt(conv);
    this._onDidChange.fire({ id, kind: 'created' });
    return conv;
  }

  /** Loads (and repairs) a conversation, or returns the already open one. */
  async open(id: string): Promise<Conversation> {
    this.assertUsable();
    this.filePath(id);
    if (this.deleting.has(id)) throw new ConversationNotFoundError(id);
    let pending = this.opening.get(id);
    if (!pending) {
      const p = this.load(id);
      this.opening.set(id, p);
      p.catch(() => {
        if (this.opening.get(id) === p) this.opening.delete(id);
      });
      pending = p;
    }
    return pending;
  }

  /** Closes the conversation if open (dropping unwritten text) and removes its file. */
  async delete(id: string): Promise<void> {
    this.assertUsable();
    const file = this.filePath(id);
    this.deleting.add(id);
    try {
      const conv = await this.opening.get(id)?.catch(() => undefined);
      if (conv) await conv.discard();
      await this.draining.get(id);
      await fs.rm(file, { force: true });
    } finally {
      this.deleting.delete(id);
    }
    this.index.delete(id);
    this.touchedDuringScan?.add(id);
    this._onDidChange.fire({ id, kind: 'deleted' });
  }

  /** Writes every open conversation's buffered text (e.g. before an export); resolves when all writes settled. */
  async flush(): Promise<void> {
    await Promise.all([...this.live.values()].map((c) => c.flush()));
    await Promise.all([...this.draining.values()]);
  }

  /** Closes every open conversation, writing what is buffered, then disposes the store. */
  async close(): Promise<void> {
    const drains = [...this.live.values()].map((c) => c.close());
    this.dispose();
    await Promise.all(drains);
  }

  /** Closes open conversations; their buffered text is still written (settling after this returns). */
  override dispose(): void {
    if (this.isDisposed) return;
    for (const c of [...this.live.values()]) c.dispose();
    super.dispose();
  }

  private assertUsable(): void {
    if (this.isDisposed) throw new Error('ConversationStore is disposed');
  }

  private async load(id: string): Promise<Conversation> {
    await this.draining.get(id);
    const file = this.filePath(id);
    let loaded: LoadedFile;
    try {
      loaded = await loadConversationFile(file, id);
    } catch (err) {
      throw isNotFound(err) ? new ConversationNotFoundError(id) : err;
    }
    const conv = new Conversation(loaded, new Journal(file, loaded), this.host);
    if (this.isDisposed) {
      conv.dispose();
      throw new Error('ConversationStore is disposed');
    }
    if (loaded.repairs.length) this.logger.warn(`conversation ${id} repaired on load: ${loaded.repairs.join('; ')}`);
    this.adopt(conv);
    return conv;
  }

  private adopt(conv: Conversation): void {
    this.live.set(conv.id, conv);
    this.opening.set(conv.id, Promise.resolve(conv));
    this.setSummary(conv.summary);
  }

  private setSummary(summary: ConversationSummary): void {
    this.index.set(summary.id, summary);
    this.touchedDuringScan?.add(summary.id);
  }

  private onChanged(conv: Conversation): void {
    if (this.live.get(conv.id) !== conv) return;
    this.setSummary(conv.summary);
    this._onDidChange.fire({ id: conv.id, kind: 'updated' });
  }

  private onClosed(conv: Conversation, drained: Promise<void>): void {
    const id = conv.id;
    if (this.live.get(id) === conv) {
      this.live.delete(id);
      this.opening.delete(id);
    }
    if (!this.deleting.has(id)) this.setSummary(conv.summary);
    const d: Promise<void> = drained.finally(() => {
      if (this.draining.get(id) === d) this.draining.delete(id);
    });
    this.draining.set(id, d);
  }

  private rescan(): Promise<void> {
    this.scanning ??= this.scanFolder().finally(() => {
      this.scanning = undefined;
    });
    return this.scanning;
  }

  /** Streams every conversation file once; entries this window changed meanwhile keep their newer state. */
  private async scanFolder(): Promise<void> {
    const touched = new Set<string>();
    this.touchedDuringScan = touched;
    try {
      let names: string[] = [];
      try {
        names = await fs.readdir(this.dir);
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
      const ids = names
        .filter((n) => n.endsWith(FILE_SUFFIX))
        .map((n) => n.slice(0, -FILE_SUFFIX.length))
        .filter(isConversationId);
      const found = new Map<string, ConversationSummary>();
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < ids.length) {
          const id = ids[next++];
          const open = this.live.get(id);
          try {
            found.set(id, open ? open.summary : summaryOf(await scanConversationFile(this.filePath(id), id)));
          } catch (err) {
            if (!isNotFound(err)) this.logger.warn(`could not read conversation ${id}`, err);
          }
        }
      };
      await Promise.all(Array.from({ length: Math.min(SCAN_CONCURRENCY, ids.length) }, worker));
      for (const id of [...this.index.keys()]) {
        if (!found.has(id) && !touched.has(id) && !this.live.has(id)) this.index.delete(id);
      }
      for (const [id, s] of found) if (!touched.has(id)) this.index.set(id, s);
      this.indexReady = true;
    } finally {
      this.touchedDuringScan = undefined;
    }
  }
}

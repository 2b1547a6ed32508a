/**
 * The persisted outbox of task updates for the workspace. Each update is appended to
 * `outbox.jsonl` (one JSON record per line, mode 0600) with an idempotency key before it is sent; an
 * acknowledgement (or a permanent refusal) appends a `done` marker. On open, the records replay: updates
 * without a marker are sent again, in order, with their original keys — the server answers a replay
 * from its idempotency store, so each update is applied exactly once across reconnects, extension host
 * restarts and crashes. A torn last line (a crash mid-append) is dropped; the file is compacted on open
 * and whenever most of it is done.
 */
import { randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { Logger } from '../ports';
import { Disposable, Emitter, type Event } from '../util/disposable';
import { writeFileAtomic } from '../util/atomicFile';

export type OutboxMethod = 'task.update' | 'task.submitPlan';

export interface OutboxItem {
  id: number;
  /** Idempotency key, fixed at enqueue and reused by every retry. */
  key: string;
  taskId: string;
  method: OutboxMethod;
  /** RPC params without `taskId`. */
  params: Record<string, unknown>;
  at: number;
}

type Rec = ({ t: 'add' } & OutboxItem) | { t: 'done'; id: number };

const COMPACT_AFTER = 500;
const SYNC_DELAY_MS = 50;

export class Outbox extends Disposable {
  private readonly items = new Map<number, OutboxItem>();
  private nextId = 1;
  private done = 0;
  private fh: fs.FileHandle | undefined;
  private buffer: string[] = [];
  private waiters: Array<() => void> = [];
  private chain: Promise<void> = Promise.resolve();
  private scheduled = false;
  private syncTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private failedOnce = false;

  private readonly changeEmitter = this._register(new Emitter<number>());
  /** The number of queued updates changed. */
  readonly onDidChange: Event<number> = this.changeEmitter.event;
  private readonly enqueueEmitter = this._register(new Emitter<OutboxItem>());
  readonly onDidEnqueue: Event<OutboxItem> = this.enqueueEmitter.event;

  private constructor(
    readonly filePath: string,
    private readonly log: Logger,
  ) {
    super();
  }

  /** Loads (and compacts) the file, then opens it for appending. */
  static async open(filePath: string, log: Logger): Promise<Outbox> {
    const o = new Outbox(filePath, log);
    await o.load();
    return o;
  }

  get size(): number {
    return this.items.size;
  }

  /** Queued updates, oldest first. */
  pending(): OutboxItem[] {
    return [...this.items.values()];
  }

  has(id: number): boolean {
    return this.items.has(id);
  }

  /** Queues an update; resolves once its record is written (fsync follows within 50 ms). */
  async enqueue(taskId: string, method: OutboxMethod, params: Record<string, unknown>): Promise<OutboxItem> {
    if (this.closed) throw new Error('the outbox is closed');
    const item: OutboxItem = { id: this.nextId++, key: `mco-${randomUUID()}`, taskId, method, params, at: Date.now() };
    this.items.set(item.id, item);
    const written = this.append({ t: 'add', ...item });
    this.changeEmitter.fire(this.items.size);
    await written;
    this.enqueueEmitter.fire(item);
    return item;
  }

  /** Marks an update delivered (or refused for good): it is never sent again. */
  settle(id: number): void {
    if (!this.items.delete(id)) return;
    this.done++;
    void this.append({ t: 'done', id });
    this.changeEmitter.fire(this.items.size);
    if (this.done >= COMPACT_AFTER && this.done > 2 * this.items.size) {
      this.done = 0;
      this.chain = this.chain.then(() => this.compact());
    }
  }

  /** Resolves once everything appended so far is written and synced. */
  async flush(): Promise<void> {
    if (this.buffer.length)
      await new Promise<void>((r) => {
        this.waiters.push(r);
        this.schedule();
      });
    let c: Promise<void>;
    do {
      c = this.chain;
      await c;
    } while (c !== this.chain);
    await this.fh?.datasync().catch(() => undefined);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.flush();
    this.closed = true;
    if (this.syncTimer) clearTimeout(this.syncTimer);
    await this.fh?.close().catch(() => undefined);
    this.fh = undefined;
    this.dispose();
  }

  private append(rec: Rec): Promise<void> {
    this.buffer.push(JSON.stringify(rec) + '\n');
    return new Promise((resolve) => {
      this.waiters.push(resolve);
      this.schedule();
    });
  }

  /** One write per tick for everything appended in that tick. */
  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      const data = this.buffer.join('');
      const waiters = this.waiters;
      this.buffer = [];
      this.waiters = [];
      this.chain = this.chain.then(async () => {
        try {
          if (data && this.fh) await this.fh.write(data);
          this.failedOnce = false;
        } catch (err) {
          if (!this.failedOnce) this.log.error(`could not write the outbox ${this.filePath}:`, err instanceof Error ? err : String(err));
          this.failedOnce = true;
        }
        for (const w of waiters) w();
        this.scheduleSync();
      });
    });
  }

  private scheduleSync(): void {
    if (this.syncTimer || this.closed) return;
    this.syncTimer = setTimeout(() => {
      this.syncTimer = undefined;
      void this.fh?.datasync().catch(() => undefined);
    }, SYNC_DELAY_MS);
  }

  private async load(): Promise<void> {
    await fs.mkdir(path.dirname(this.filePath), { recursive: true, mode: 0o700 });
    let text = '';
    try {
      text = await fs.readFile(this.filePath, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    const lines = text.split('\n');
    const torn = lines.pop(); // '' when the file ends with a newline
    if (torn) this.log.warn(`outbox ${this.filePath}: dropped a torn last record (an interrupted write)`);
    let skipped = 0;
    let maxId = 0;
    for (const line of lines) {
      if (!line) continue;
      let rec: Rec;
      try {
        rec = JSON.parse(line) as Rec;
      } catch {
        skipped++;
        continue;
      }
      if (rec.t === 'add' && typeof rec.id === 'number' && typeof rec.key === 'string' && typeof rec.taskId === 'string') {
        maxId = Math.max(maxId, rec.id);
        if (!this.items.has(rec.id))
          this.items.set(rec.id, { id: rec.id, key: rec.key, taskId: rec.taskId, method: rec.method, params: rec.params ?? {}, at: rec.at ?? 0 });
      } else if (rec.t === 'done' && typeof rec.id === 'number') {
        this.items.delete(rec.id);
      } else skipped++;
    }
    if (skipped) this.log.warn(`outbox ${this.filePath}: skipped ${skipped} unreadable record(s)`);
    this.items.forEach((_, id) => (maxId = Math.max(maxId, id)));
    this.nextId = maxId + 1;
    // Ids only grow, so the map (insertion order = file order) is already oldest first.
    await this.compact();
    if (this.items.size) this.log.info(`outbox: ${this.items.size} task update(s) from an earlier run still to deliver`);
  }

  /** Rewrites the file with the queued updates only (temp file, fsync, rename), then appends to it. */
  private async compact(): Promise<void> {
    const body = [...this.items.values()].map((i) => JSON.stringify({ t: 'add', ...i }) + '\n').join('');
    try {
      await writeFileAtomic(this.filePath, body);
    } catch (err) {
      this.log.error(`could not compact the outbox ${this.filePath}:`, err instanceof Error ? err : String(err));
    }
    await this.fh?.close().catch(() => undefined);
    this.fh = this.closed ? undefined : await fs.open(this.filePath, 'a', 0o600);
  }
}

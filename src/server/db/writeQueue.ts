/**
 * Group commit. Every mutation is a synchronous function run inside a transaction; mutations queued in
 * the same turn of the event loop share one transaction (each in its own savepoint, so one failing
 * rolls back only itself). Their promises resolve only once the commit is on disk — after COMMIT, and
 * with a `WalSync` after the -wal file was fdatasynced off the event loop (meanwhile the next batch is
 * already being built) — so an answer is never sent for a write that could still be lost. Events
 * emitted by the committed mutations then go to `onCommit` (the WebSocket fan-out), in commit order.
 * `per-op` mode commits each mutation alone (the benchmark baseline).
 */
import type { EventData, EventName } from '../../protocol/workspace/events';
import type { Db } from './database';

export interface StoredEvent {
  workspaceId: string;
  seq: number;
  ts: number;
  name: EventName;
  /** JSON of the event's data. */
  data: string;
}

export interface Tx {
  readonly db: Db;
  /** unix ms, fixed for the batch */
  readonly now: number;
  /** Persists an event with the next per-workspace seq; delivered after commit. */
  emit<N extends EventName>(workspaceId: string, name: N, data: EventData<N>): number;
  /** Runs `fn` in a savepoint: if it throws, only its own writes roll back. */
  savepoint<T>(fn: () => T): T;
}

interface Op {
  fn: (tx: Tx) => unknown;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

export type CommitMode = 'batched' | 'per-op';

/** What makes a commit durable after COMMIT returned (WalSync); answers wait for `done`. */
export interface Durability {
  request(done: (err: Error | null) => void): void;
  whenIdle(): Promise<void>;
}

export class WriteQueue {
  private pending: Op[] = [];
  private scheduled = false;
  private readonly nextSeq;
  private readonly insertEvent;
  private readonly sp: (fn: () => unknown) => unknown;
  private closed = false;
  batches = 0;
  ops = 0;

  constructor(
    private readonly db: Db,
    private readonly now: () => number,
    private readonly onCommit: (events: StoredEvent[]) => void,
    private readonly mode: CommitMode = 'batched',
    private readonly walSync?: Durability,
    private readonly maxBatch = 2000,
  ) {
    this.nextSeq = db.prepare('UPDATE workspaces SET event_seq = event_seq + 1 WHERE id = ? RETURNING event_seq').pluck();
    this.insertEvent = db.prepare('INSERT INTO events (workspace_id, seq, ts, name, data) VALUES (?, ?, ?, ?, ?)');
    this.sp = db.transaction((fn: () => unknown) => fn());
  }

  run<T>(fn: (tx: Tx) => T): Promise<T> {
    if (this.closed) return Promise.reject(new Error('write queue closed'));
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ fn, resolve: resolve as (v: unknown) => void, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Runs one mutation now in its own transaction (CLI, seeding); pending queued work is flushed first. */
  runNow<T>(fn: (tx: Tx) => T): T {
    this.flush();
    const events: StoredEvent[] = [];
    const now = this.now();
    const result = this.db.transaction(() => fn(this.makeTx(now, events)))();
    this.onCommit(events);
    return result;
  }

  /** Flushes what is queued and refuses new work; resolves when every answer is out. */
  async close(): Promise<void> {
    this.flush();
    this.closed = true;
    await this.walSync?.whenIdle();
  }

  private makeTx(now: number, events: StoredEvent[]): Tx {
    return {
      db: this.db,
      now,
      emit: (workspaceId, name, data) => {
        const seq = this.nextSeq.get(workspaceId) as number | undefined;
        if (seq === undefined) throw new Error(`no workspace ${workspaceId}`);
        const json = JSON.stringify(data);
        this.insertEvent.run(workspaceId, seq, now, name, json);
        events.push({ workspaceId, seq, ts: now, name, data: json });
        return seq;
      },
      savepoint: <T>(fn: () => T) => this.sp(fn) as T,
    };
  }

  private flush(): void {
    this.scheduled = false;
    while (this.pending.length) {
      const batch = this.pending.splice(0, this.maxBatch);
      this.batches++;
      this.ops += batch.length;
      if (this.mode === 'per-op') this.commitEach(batch);
      else this.commitBatch(batch);
    }
  }

  private commitBatch(batch: Op[]): void {
    const now = this.now();
    const events: StoredEvent[] = [];
    const outcomes: Array<{ ok: boolean; value: unknown }> = [];
    try {
      this.db.transaction(() => {
        for (const op of batch) {
          const opEvents: StoredEvent[] = [];
          const tx = this.makeTx(now, opEvents);
          try {
            outcomes.push({ ok: true, value: this.sp(() => op.fn(tx)) });
            events.push(...opEvents);
          } catch (err) {
            outcomes.push({ ok: false, value: err });
          }
        }
      })();
    } catch (err) {
      for (const op of batch) op.reject(err);
      return;
    }
    const answer = (err: Error | null) => {
      if (err) {
        for (const op of batch) op.reject(err);
        return;
      }
      this.deliver(events);
      batch.forEach((op, i) => (outcomes[i].ok ? op.resolve(outcomes[i].value) : op.reject(outcomes[i].value)));
    };
    if (this.walSync) this.walSync.request(answer);
    else answer(null);
  }

  private commitEach(batch: Op[]): void {
    for (const op of batch) {
      const events: StoredEvent[] = [];
      try {
        const value = this.db.transaction(() => op.fn(this.makeTx(this.now(), events)))();
        this.deliver(events);
        op.resolve(value);
      } catch (err) {
        op.reject(err);
      }
    }
  }

  /** Hands committed events to the fan-out; a failure there never keeps the answers from resolving. */
  private deliver(events: StoredEvent[]): void {
    if (!events.length) return;
    try {
      this.onCommit(events);
    } catch (err) {
      this.onDeliverError?.(err);
    }
  }

  /** Told when the fan-out threw (the server logs it). */
  onDeliverError: ((err: unknown) => void) | undefined;
}

/**
 * Group commit. Every mutation is an async function run inside a transaction; mutations queued while
 * the previous batch commits share the next transaction (each in its own savepoint, so one failing
 * rolls back only itself). Events they emit get their per-workspace seq at the end of the batch: one
 * `UPDATE workspaces SET event_seq = event_seq + n … RETURNING` per workspace, in id order (one lock
 * order for every node), in the same transaction as the change, so seqs are gap-free and in commit
 * order on every engine. Promises resolve only once the commit is durable — after COMMIT, and with a
 * `Durability` (SQLite's WalSync) after the -wal file was fdatasynced — so an answer is never sent for
 * a write that could still be lost. Committed events then go to `onCommit` (the fan-out), in commit
 * order. `per-op` mode commits each mutation alone (the benchmark baseline). A batch the engine
 * aborted as a deadlock with another node runs again.
 */
import type { EventData, EventName } from '../../protocol/workspace/events';
import type { Sql, Store } from './store';

export interface StoredEvent {
  workspaceId: string;
  seq: number;
  ts: number;
  name: EventName;
  /** JSON of the event's data. */
  data: string;
}

export interface Tx {
  /** The transaction's connection. */
  readonly db: Sql;
  /** unix ms, fixed for the batch */
  readonly now: number;
  /** Persists an event (its seq is assigned at commit, after every earlier event of the workspace); delivered after commit. */
  emit<N extends EventName>(workspaceId: string, name: N, data: EventData<N>): void;
  /** Runs `fn` in a savepoint: if it throws, only its own writes roll back. */
  savepoint<T>(fn: () => Promise<T>): Promise<T>;
}

interface Op {
  fn: (tx: Tx) => Promise<unknown>;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

type Pending = Omit<StoredEvent, 'seq'>;

export type CommitMode = 'batched' | 'per-op';

/** What makes a commit durable after COMMIT returned (WalSync); answers wait for `done`. */
export interface Durability {
  request(done: (err: Error | null) => void): void;
  /** Resolves once no sync runs, and releases what it holds (the write queue closed). */
  close(): Promise<void>;
}

const EVENT_ROWS_PER_INSERT = 200;
const MAX_ATTEMPTS = 5;

export class WriteQueue {
  private pending: Op[] = [];
  private draining: Promise<void> | undefined;
  private closed = false;
  private depth = 0;
  batches = 0;
  ops = 0;

  constructor(
    private readonly store: Store,
    private readonly now: () => number,
    private readonly onCommit: (events: StoredEvent[]) => void,
    private readonly mode: CommitMode = 'batched',
    private readonly walSync?: Durability,
    private readonly maxBatch = 2000,
  ) {}

  run<T>(fn: (tx: Tx) => Promise<T> | T): Promise<T> {
    if (this.closed) return Promise.reject(new Error('write queue closed'));
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ fn: async (tx) => fn(tx), resolve: resolve as (v: unknown) => void, reject });
      if (!this.draining) {
        this.draining = new Promise<void>((done) => setImmediate(() => void this.drain().finally(done)));
      }
    });
  }

  /** Runs one mutation now (CLI, seeding): the same as `run`. */
  runNow<T>(fn: (tx: Tx) => Promise<T> | T): Promise<T> {
    return this.run(fn);
  }

  /** Commits what is queued and refuses new work; resolves when every answer is out. */
  async close(): Promise<void> {
    this.closed = true;
    await this.draining;
    await this.walSync?.close();
  }

  private async drain(): Promise<void> {
    try {
      while (this.pending.length) {
        const batch = this.pending.splice(0, this.maxBatch);
        this.batches++;
        this.ops += batch.length;
        if (this.mode === 'per-op') for (const op of batch) await this.commitBatch([op]);
        else await this.commitBatch(batch);
      }
    } finally {
      this.draining = undefined;
    }
  }

  private makeTx(now: number, events: Pending[]): Tx {
    const db = this.store.writer;
    return {
      db,
      now,
      emit: (workspaceId, name, data) => {
        events.push({ workspaceId, ts: now, name, data: JSON.stringify(data) });
      },
      savepoint: async <T>(fn: () => Promise<T>): Promise<T> => {
        const name = `sp${++this.depth}`; // nested savepoints are named by depth (a few prepared statements, reused)
        try {
          await db.run(`SAVEPOINT ${name}`);
          const value = await fn();
          await db.run(`RELEASE ${name}`);
          return value;
        } catch (err) {
          try {
            await db.run(`ROLLBACK TO ${name}`);
            await db.run(`RELEASE ${name}`);
          } catch {
            // the transaction is broken: the batch fails (or runs again) as a whole
          }
          throw err;
        } finally {
          this.depth--;
        }
      },
    };
  }

  private async commitBatch(batch: Op[]): Promise<void> {
    let result: { events: StoredEvent[]; outcomes: Array<{ ok: boolean; value: unknown }> } | undefined;
    for (let attempt = 1; !result; attempt++) {
      try {
        result = await this.attempt(batch);
      } catch (err) {
        await this.store.writer.rollback().catch(() => undefined);
        if (attempt < MAX_ATTEMPTS && this.store.retryable(err)) continue;
        for (const op of batch) op.reject(err);
        return;
      }
    }
    const { events, outcomes } = result;
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

  private async attempt(batch: Op[]): Promise<{ events: StoredEvent[]; outcomes: Array<{ ok: boolean; value: unknown }> }> {
    const now = this.now();
    const w = this.store.writer;
    const pending: Pending[] = [];
    const outcomes: Array<{ ok: boolean; value: unknown }> = [];
    this.depth = 0;
    await w.begin();
    for (const op of batch) {
      const opEvents: Pending[] = [];
      const tx = this.makeTx(now, opEvents);
      try {
        outcomes.push({ ok: true, value: await tx.savepoint(() => op.fn(tx)) });
        pending.push(...opEvents);
      } catch (err) {
        if (this.store.retryable(err)) throw err;
        outcomes.push({ ok: false, value: err });
      }
    }
    const { events, heads } = await this.assignSeqs(w, pending);
    if (heads.size && w.beforeCommit) await w.beforeCommit(heads);
    await w.commit();
    return { events, outcomes };
  }

  /** Seqs for the batch's events, per workspace in emission order; the events of a workspace deleted in this batch are dropped. */
  private async assignSeqs(w: Sql, pending: Pending[]): Promise<{ events: StoredEvent[]; heads: Map<string, number> }> {
    const byWs = new Map<string, Pending[]>();
    for (const e of pending) {
      let list = byWs.get(e.workspaceId);
      if (!list) byWs.set(e.workspaceId, (list = []));
      list.push(e);
    }
    const events: StoredEvent[] = [];
    const heads = new Map<string, number>();
    for (const id of [...byWs.keys()].sort()) {
      const list = byWs.get(id) ?? [];
      const r = (await w.get('UPDATE workspaces SET event_seq = event_seq + ? WHERE id = ? RETURNING event_seq', list.length, id)) as
        | { event_seq: number }
        | undefined;
      if (!r) continue;
      heads.set(id, r.event_seq);
      const first = r.event_seq - list.length + 1;
      list.forEach((e, i) => events.push({ ...e, seq: first + i }));
    }
    for (let i = 0; i < events.length; i += EVENT_ROWS_PER_INSERT) {
      const rows = events.slice(i, i + EVENT_ROWS_PER_INSERT);
      await w.run(
        `INSERT INTO events (workspace_id, seq, ts, name, data) VALUES ${rows.map(() => '(?, ?, ?, ?, ?)').join(', ')}`,
        ...rows.flatMap((e) => [e.workspaceId, e.seq, e.ts, e.name, e.data]),
      );
    }
    return { events, heads };
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

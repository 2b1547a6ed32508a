/**
 * Makes committed transactions durable without blocking the event loop: SQLite runs with
 * `synchronous=NORMAL` (a commit is written to the -wal file but not fsynced — already safe against
 * `kill -9`), and this fdatasyncs the -wal file on libuv's thread pool before the write queue answers.
 * Requests arriving while a sync runs share the next one (group fsync), so callbacks fire in commit
 * order. SQLite itself still syncs around checkpoints in NORMAL mode.
 *
 * The -wal file stays open between syncs, so a commit costs one trip through the thread pool (the
 * fdatasync), not three (open, fdatasync, close): each trip waits for a pool thread and then for the
 * event loop, which on a busy machine is where a commit's latency tail comes from. Before each sync a
 * `stat` (no disk I/O) checks that the path still names the open file; if SQLite removed or replaced
 * it, the new one is opened.
 */
import * as fs from 'node:fs';
import type { Durability } from './writeQueue';

type Done = (err: Error | null) => void;

export class WalSync implements Durability {
  private running = false;
  private waiting: Done[] = [];
  private idle: Array<() => void> = [];
  private open: { fd: number; file: string; ino: number } | undefined;
  syncs = 0;
  /** Times a file was opened (once while the -wal file stays the same). */
  opens = 0;

  constructor(private readonly dbFile: string) {}

  /** `done` is called once everything committed before this call is on disk. */
  request(done: Done): void {
    this.waiting.push(done);
    if (!this.running) this.start();
  }

  /** Closes the open file once no sync runs (after the write queue closed). */
  async close(): Promise<void> {
    if (this.running || this.waiting.length) await new Promise<void>((resolve) => this.idle.push(resolve));
    this.release();
  }

  private release(): void {
    const o = this.open;
    this.open = undefined;
    if (o) fs.close(o.fd, () => undefined);
  }

  /**
   * The descriptor of the file that holds the commits: the -wal file, or the database file when there
   * is none (not in WAL mode yet); undefined when neither exists.
   */
  private target(): number | undefined {
    for (const file of [`${this.dbFile}-wal`, this.dbFile]) {
      const st = fs.statSync(file, { throwIfNoEntry: false });
      if (!st) continue;
      const o = this.open;
      if (o && o.file === file && o.ino === st.ino) return o.fd;
      this.release();
      const fd = fs.openSync(file, 'r');
      this.opens++;
      this.open = { fd, file, ino: fs.fstatSync(fd).ino };
      return fd;
    }
    this.release();
    return undefined;
  }

  private start(): void {
    this.running = true;
    this.syncs++;
    const batch = this.waiting;
    this.waiting = [];
    const finish = (err: NodeJS.ErrnoException | null) => {
      for (const done of batch) done(err);
      this.running = false;
      if (this.waiting.length) this.start();
      else for (const resolve of this.idle.splice(0)) resolve();
    };
    let fd: number | undefined;
    try {
      fd = this.target();
    } catch (err) {
      this.release();
      return void process.nextTick(finish, err as NodeJS.ErrnoException);
    }
    if (fd === undefined) return void process.nextTick(finish, null);
    fs.fdatasync(fd, finish);
  }
}

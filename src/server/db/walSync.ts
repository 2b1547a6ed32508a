/**
 * Makes committed transactions durable without blocking the event loop: SQLite runs with
 * `synchronous=NORMAL` (a commit is written to the -wal file but not fsynced — already safe against
 * `kill -9`), and this fdatasyncs the -wal file on libuv's thread pool before the write queue answers.
 * Requests arriving while a sync runs share the next one (group fsync), so callbacks fire in commit
 * order. SQLite itself still syncs around checkpoints in NORMAL mode.
 */
import * as fs from 'node:fs';
import type { Durability } from './writeQueue';

type Done = (err: Error | null) => void;

export class WalSync implements Durability {
  private running = false;
  private waiting: Done[] = [];
  private idle: Array<() => void> = [];
  syncs = 0;

  constructor(private readonly dbFile: string) {}

  /** `done` is called once everything committed before this call is on disk. */
  request(done: Done): void {
    this.waiting.push(done);
    if (!this.running) this.start();
  }

  whenIdle(): Promise<void> {
    if (!this.running && this.waiting.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
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
    const syncPath = (file: string, onMissing: () => void) =>
      fs.open(file, 'r', (err, fd) => {
        if (err) return err.code === 'ENOENT' ? onMissing() : finish(err);
        fs.fdatasync(fd, (syncErr) => fs.close(fd, () => finish(syncErr)));
      });
    // The -wal file holds the commits; without one (not in WAL mode yet), sync the database file.
    syncPath(`${this.dbFile}-wal`, () => syncPath(this.dbFile, () => finish(null)));
  }
}

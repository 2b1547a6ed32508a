/**
 * The storage port on the embedded SQLite database (the default). better-sqlite3 is synchronous: every
 * call has finished when its promise is created, so a batch that awaits only these runs to COMMIT
 * without letting other I/O in. Reads and the write queue share the one connection.
 */
import { stmt, type Db } from './database';
import type { RunResult, SqlValue, Store, Writer } from './store';

export class SqliteStore implements Store {
  readonly dialect = 'sqlite' as const;
  readonly writer: Writer;
  private dataVersion: number;

  constructor(readonly db: Db) {
    this.dataVersion = db.pragma('data_version', { simple: true }) as number;
    this.writer = {
      get: (sql, ...p) => this.get(sql, ...p),
      all: (sql, ...p) => this.all(sql, ...p),
      run: (sql, ...p) => this.run(sql, ...p),
      begin: () => this.exec('BEGIN'),
      commit: () => this.exec('COMMIT'),
      rollback: () => (this.db.inTransaction ? this.exec('ROLLBACK') : Promise.resolve()),
    };
  }

  private exec(sql: string): Promise<void> {
    try {
      this.db.exec(sql);
      return Promise.resolve();
    } catch (err) {
      return Promise.reject(err as Error);
    }
  }

  get(sql: string, ...params: SqlValue[]): Promise<unknown> {
    try {
      return Promise.resolve(stmt(this.db, sql).get(...params));
    } catch (err) {
      return Promise.reject(err as Error);
    }
  }

  all(sql: string, ...params: SqlValue[]): Promise<unknown[]> {
    try {
      return Promise.resolve(stmt(this.db, sql).all(...params));
    } catch (err) {
      return Promise.reject(err as Error);
    }
  }

  run(sql: string, ...params: SqlValue[]): Promise<RunResult> {
    try {
      return Promise.resolve({ changes: stmt(this.db, sql).run(...params).changes });
    } catch (err) {
      return Promise.reject(err as Error);
    }
  }

  externalWrites = (): Promise<boolean> => {
    const v = this.db.pragma('data_version', { simple: true }) as number;
    const changed = v !== this.dataVersion;
    this.dataVersion = v;
    return Promise.resolve(changed);
  };

  retryable(): boolean {
    return false;
  }

  close(): Promise<void> {
    this.db.close();
    return Promise.resolve();
  }
}

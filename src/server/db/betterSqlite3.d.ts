// The subset of better-sqlite3 v12 this server uses (no @types package is installed).
declare module 'better-sqlite3' {
  namespace Database {
    interface RunResult {
      changes: number;
      lastInsertRowid: number | bigint;
    }
    interface Statement {
      run(...params: unknown[]): RunResult;
      get(...params: unknown[]): unknown;
      all(...params: unknown[]): unknown[];
      iterate(...params: unknown[]): IterableIterator<unknown>;
      /** Return only the first column of each row. */
      pluck(toggle?: boolean): this;
      readonly reader: boolean;
    }
    type Transaction<F extends (...args: never[]) => unknown> = ((...args: Parameters<F>) => ReturnType<F>) & {
      immediate(...args: Parameters<F>): ReturnType<F>;
    };
    interface Options {
      readonly?: boolean;
      fileMustExist?: boolean;
      timeout?: number;
    }
    interface Database {
      prepare(sql: string): Statement;
      exec(sql: string): this;
      pragma(sql: string, options?: { simple?: boolean }): unknown;
      transaction<F extends (...args: never[]) => unknown>(fn: F): Transaction<F>;
      close(): this;
      readonly open: boolean;
      readonly inTransaction: boolean;
      readonly name: string;
    }
  }
  interface DatabaseConstructor {
    new (filename: string, options?: Database.Options): Database.Database;
  }
  const Database: DatabaseConstructor;
  export = Database;
}

/**
 * The storage port: what the services and the write queue need from a database, asynchronous so the
 * same code runs on the embedded SQLite (the default: no database server) and on PostgreSQL (several
 * server nodes on one database). SQL is written once with `?` placeholders in the subset both engines
 * speak (`… RETURNING`, `ON CONFLICT … DO UPDATE`); the PostgreSQL side numbers the placeholders.
 */

export type SqlValue = string | number | null;
export type Dialect = 'sqlite' | 'postgres';

export interface RunResult {
  changes: number;
}

/** Statements on one connection (inside a transaction when it is the write queue's). */
export interface Sql {
  get(sql: string, ...params: SqlValue[]): Promise<unknown>;
  all(sql: string, ...params: SqlValue[]): Promise<unknown[]>;
  run(sql: string, ...params: SqlValue[]): Promise<RunResult>;
}

/** The write queue's connection: one transaction at a time. */
export interface Writer extends Sql {
  begin(): Promise<void>;
  commit(): Promise<void>;
  rollback(): Promise<void>;
  /** Runs in the batch transaction just before COMMIT with the new head of every workspace it wrote (the cross-node hint). */
  beforeCommit?(heads: ReadonlyMap<string, number>): Promise<void>;
}

/** A change noticed in the database that this process did not make (the admin CLI, another node). */
export type ExternalCheck = () => Promise<boolean>;

export interface Store extends Sql {
  readonly dialect: Dialect;
  /** The connection the write queue commits on. */
  readonly writer: Writer;
  /** Whether something outside this process committed since the last call (SQLite: `PRAGMA data_version`). */
  readonly externalWrites: ExternalCheck;
  /** Whether a failed batch may simply run again (a deadlock or serialization failure between nodes). */
  retryable(err: unknown): boolean;
  close(): Promise<void>;
}

/** `?` → `$1, $2, …` (no statement of this server has a `?` inside a string literal). */
export function numberPlaceholders(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

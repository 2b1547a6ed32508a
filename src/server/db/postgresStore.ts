/**
 * The storage port on PostgreSQL (`pg`, the standard pure-JS client): reads from a small pool, the
 * write queue on one dedicated connection (one batch transaction at a time; a commit is durable with
 * `synchronous_commit=on`, so no extra sync step). 64-bit integers come back as numbers (unix ms and
 * counters stay far below 2^53). Migrations run under an advisory lock, so nodes starting together
 * apply each one once.
 */
import pg from 'pg';
import { forDialect, MIGRATIONS, POSTGRES_PRELUDE } from './migrations';
import { numberPlaceholders, type RunResult, type SqlValue, type Store, type Writer } from './store';

pg.types.setTypeParser(20, (v) => Number(v)); // int8
pg.types.setTypeParser(1700, (v) => Number(v)); // numeric

/** Arbitrary constant: the advisory lock migrations run under. */
const MIGRATION_LOCK = 7_346_112;
const RETRYABLE = new Set(['40P01', '40001']);

type Queryable = Pick<pg.ClientBase, 'query'>;

async function get(q: Queryable, sql: string, params: SqlValue[]): Promise<unknown> {
  const r = await q.query(numberPlaceholders(sql), params);
  return r.rows[0];
}

async function all(q: Queryable, sql: string, params: SqlValue[]): Promise<unknown[]> {
  return (await q.query(numberPlaceholders(sql), params)).rows;
}

async function run(q: Queryable, sql: string, params: SqlValue[]): Promise<RunResult> {
  return { changes: (await q.query(numberPlaceholders(sql), params)).rowCount ?? 0 };
}

export interface PostgresOptions {
  url: string;
  /** Read connections (the writer and the listener are extra). */
  poolSize?: number;
  onError?: (err: Error) => void;
}

export class PostgresStore implements Store {
  readonly dialect = 'postgres' as const;
  readonly writer: Writer;
  private client: pg.Client | undefined;
  private connecting: Promise<pg.Client> | undefined;
  private closed = false;
  /** Set by the cross-node bus: runs inside each batch transaction before COMMIT. */
  hint: ((q: Queryable, heads: ReadonlyMap<string, number>) => Promise<void>) | undefined;

  private constructor(
    readonly pool: pg.Pool,
    private readonly opts: PostgresOptions,
  ) {
    const w = (): Promise<pg.Client> => this.writerClient();
    this.writer = {
      get: async (sql, ...p) => get(await w(), sql, p),
      all: async (sql, ...p) => all(await w(), sql, p),
      run: async (sql, ...p) => run(await w(), sql, p),
      begin: async () => void (await (await w()).query('BEGIN')),
      commit: async () => void (await (await w()).query('COMMIT')),
      rollback: async () => {
        const c = this.client;
        if (c) await c.query('ROLLBACK').catch(() => this.dropWriter(c));
      },
      beforeCommit: async (heads) => {
        if (this.hint) await this.hint(await w(), heads);
      },
    };
  }

  static async open(opts: PostgresOptions): Promise<PostgresStore> {
    const pool = new pg.Pool({ connectionString: opts.url, max: opts.poolSize ?? 8 });
    pool.on('error', (err) => opts.onError?.(err));
    const store = new PostgresStore(pool, opts);
    await store.migrate();
    return store;
  }

  /** A new connection outside the pool (the LISTEN connection). */
  connect(): pg.Client {
    return new pg.Client({ connectionString: this.opts.url });
  }

  private writerClient(): Promise<pg.Client> {
    if (this.client) return Promise.resolve(this.client);
    if (this.closed) return Promise.reject(new Error('store closed'));
    this.connecting ??= (async () => {
      const c = new pg.Client({ connectionString: this.opts.url });
      c.on('error', (err) => {
        this.opts.onError?.(err);
        this.dropWriter(c);
      });
      try {
        await c.connect();
      } catch (err) {
        this.connecting = undefined;
        throw err;
      }
      this.client = c;
      this.connecting = undefined;
      return c;
    })();
    return this.connecting;
  }

  /** A broken writer connection is replaced on the next batch. */
  private dropWriter(c: pg.Client): void {
    if (this.client === c) this.client = undefined;
    void c.end().catch(() => undefined);
  }

  private async migrate(): Promise<void> {
    const c = await this.pool.connect();
    try {
      await c.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
      await c.query(POSTGRES_PRELUDE);
      const current = ((await c.query('SELECT version FROM schema_version WHERE id = 1')).rows[0] as { version: number }).version;
      for (let v = current; v < MIGRATIONS.length; v++) {
        await c.query('BEGIN');
        try {
          await c.query(forDialect(v, 'postgres'));
          await c.query('UPDATE schema_version SET version = $1 WHERE id = 1', [v + 1]);
          await c.query('COMMIT');
        } catch (err) {
          await c.query('ROLLBACK');
          throw err;
        }
      }
    } finally {
      await c.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
      c.release();
    }
  }

  get(sql: string, ...params: SqlValue[]): Promise<unknown> {
    return get(this.pool, sql, params);
  }

  all(sql: string, ...params: SqlValue[]): Promise<unknown[]> {
    return all(this.pool, sql, params);
  }

  run(sql: string, ...params: SqlValue[]): Promise<RunResult> {
    return run(this.pool, sql, params);
  }

  /** Other nodes' commits arrive as hints and through the head poll (see the cross-node bus), not here. */
  externalWrites = (): Promise<boolean> => Promise.resolve(false);

  retryable(err: unknown): boolean {
    return RETRYABLE.has((err as { code?: string } | null)?.code ?? '');
  }

  async close(): Promise<void> {
    this.closed = true;
    const c = this.client;
    this.client = undefined;
    await c?.end().catch(() => undefined);
    await this.pool.end();
  }
}

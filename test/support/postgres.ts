/**
 * A throwaway PostgreSQL cluster for tests: Debian's `postgresql` binaries (scripts/setup-test-env.sh
 * installs them where missing), `initdb` into a temp folder and `pg_ctl start` on a free port with its
 * socket in that folder, as the `postgres` user when we are root (Postgres refuses to run as root).
 * `synchronous_commit` stays on: a commit is durable before the server answers, as in production.
 * Each test server gets its own schema (`createDatabase()`); `stop()` stops the cluster by its pid
 * file and removes the folder. `fsync` is off in these throwaway clusters (a server node's kill -9 and
 * `pg_ctl -m immediate` still lose nothing: the OS keeps the pages).
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { freePort } from './net';

const run = promisify(execFile);

export interface PgCluster {
  port: number;
  dir: string;
  /** postgres://postgres@127.0.0.1:PORT/<db> */
  url(db?: string): string;
  /** A URL whose connections see only a fresh, empty schema (as good as a new database, and far cheaper to make). */
  createDatabase(prefix?: string): Promise<string>;
  /** Runs one statement as the superuser on the `postgres` database. */
  query(sql: string, params?: unknown[]): Promise<pg.QueryResult>;
  stop(): Promise<void>;
  /** `pg_ctl stop -m immediate` then start again (an abrupt restart: nothing acknowledged may be lost). */
  restart(): Promise<void>;
  /** The two halves of `restart()`: `pg_ctl stop -m immediate` (a crash: no checkpoint, clients cut off), and start. */
  crash(): Promise<void>;
  start(): Promise<void>;
}

function binDir(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!fs.existsSync(root)) return undefined;
  const versions = fs
    .readdirSync(root)
    .filter((v) => fs.existsSync(path.join(root, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions.length ? path.join(root, versions[0], 'bin') : undefined;
}

export function postgresAvailable(): boolean {
  return binDir() !== undefined;
}

const asRoot = process.getuid?.() === 0;

/** Runs a Postgres binary, as the `postgres` user when we are root. */
async function pgBin(bin: string, args: string[]): Promise<string> {
  const file = path.join(binDir() ?? '', bin);
  const quoted = [file, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const r = asRoot ? await run('su', ['postgres', '-s', '/bin/sh', '-c', quoted]) : await run(file, args);
  return r.stdout;
}

let dbCounter = 0;

export async function startPostgres(): Promise<PgCluster> {
  if (!postgresAvailable()) throw new Error('PostgreSQL is not installed (bash scripts/setup-test-env.sh --apt-only installs it)');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mc-pg-'));
  if (asRoot) fs.chmodSync(dir, 0o777);
  const data = path.join(dir, 'data');
  await pgBin('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-locale', '-E', 'UTF8', '--no-sync']);
  const port = await freePort();
  const conf = [
    `port = ${port}`,
    `listen_addresses = '127.0.0.1'`,
    `unix_socket_directories = '${dir}'`,
    'max_connections = 300',
    'shared_buffers = 64MB',
    'fsync = off', // test clusters only: a kill -9 of a server node or pg_ctl -m immediate still loses nothing (the OS keeps the pages)
    'synchronous_commit = on',
  ].join('\n');
  fs.appendFileSync(path.join(data, 'postgresql.conf'), `\n${conf}\n`);
  const log = path.join(dir, 'server.log');
  const start = () => pgBin('pg_ctl', ['-D', data, '-l', log, '-w', '-t', '60', 'start']);
  await start();
  const url = (db = 'postgres') => `postgres://postgres@127.0.0.1:${port}/${db}`;
  const query = async (sql: string, params?: unknown[]) => {
    const c = new pg.Client({ connectionString: url() });
    await c.connect();
    try {
      return await c.query(sql, params);
    } finally {
      await c.end();
    }
  };
  return {
    port,
    dir,
    url,
    query,
    createDatabase: async (prefix = 'mc') => {
      const name = `${prefix}_${process.pid}_${++dbCounter}`;
      await query(`CREATE SCHEMA ${name}`);
      return `${url()}?options=${encodeURIComponent(`-c search_path=${name}`)}`;
    },
    restart: async () => {
      await pgBin('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
      await start();
    },
    crash: async () => void (await pgBin('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop'])),
    start: async () => void (await start()),
    stop: async () => {
      try {
        await pgBin('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

/**
 * Opens the SQLite database in the data dir: WAL journal, `synchronous=FULL` by default (a commit is
 * on disk before the server answers, so neither `kill -9` nor a power cut loses an acknowledged
 * write), foreign keys on, migrations applied.
 */
import Database from 'better-sqlite3';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { forDialect, MIGRATIONS } from './migrations';

export type Db = Database.Database;
export type SyncMode = 'FULL' | 'NORMAL';
export const DB_FILE = 'server.db';
/** The file's name before the server was called "server" everywhere; renamed on first open. */
const LEGACY_DB_FILE = 'cloud.db';

export function openDatabase(dataDir: string, synchronous: SyncMode = 'FULL'): Db {
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const file = path.join(dataDir, DB_FILE);
  const legacy = path.join(dataDir, LEGACY_DB_FILE);
  if (!fs.existsSync(file) && fs.existsSync(legacy)) {
    for (const suffix of ['-wal', '-shm', '']) if (fs.existsSync(legacy + suffix)) fs.renameSync(legacy + suffix, file + suffix);
  }
  const db = new Database(file);
  // Password hashes and sealed secrets: owner-only (SQLite gives the -wal/-shm files the same mode).
  if (process.platform !== 'win32') fs.chmodSync(file, 0o600);
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${synchronous}`);
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  db.pragma('temp_store = MEMORY');
  migrate(db);
  return db;
}

export function migrate(db: Db): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  for (let v = current; v < MIGRATIONS.length; v++) {
    db.transaction(() => {
      db.exec(forDialect(v, 'sqlite'));
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}

const statements = new WeakMap<Db, Map<string, Database.Statement>>();

/** A prepared statement, cached per database (preparing is the slow part). */
export function stmt(db: Db, sql: string): Database.Statement {
  let map = statements.get(db);
  if (!map) statements.set(db, (map = new Map()));
  let s = map.get(sql);
  if (!s) map.set(sql, (s = db.prepare(sql)));
  return s;
}

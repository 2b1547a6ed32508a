/**
 * Schema migrations for both engines, from one source: applied in order inside one transaction each
 * (SQLite: `PRAGMA user_version` records the last one; PostgreSQL: the `schema_version` table). Written
 * in SQLite's dialect; `forDialect()` turns a migration into PostgreSQL's (64-bit integers, identity
 * keys, no `WITHOUT ROWID`, a case-insensitive ICU collation named `nocase`), and the few statements that
 * differ more are written for each engine (`byDialect`). Times are unix milliseconds. Add a migration by
 * appending to MIGRATIONS.
 */
import type { Dialect } from './store';

interface PerDialect {
  sqlite: string;
  postgres: string;
}
const byDialect = (sqlite: string, postgres: string): PerDialect => ({ sqlite, postgres });

export const MIGRATIONS: ReadonlyArray<ReadonlyArray<string | PerDialect>> = [
  [
    `
  CREATE TABLE users (
    id TEXT PRIMARY KEY,
    email TEXT NOT NULL UNIQUE COLLATE NOCASE,
    name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    failed_logins INTEGER NOT NULL DEFAULT 0,
    locked_until INTEGER NOT NULL DEFAULT 0
  );
  CREATE TABLE account_tokens (
    hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE TABLE workspaces (
    id TEXT PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    timezone TEXT NOT NULL,
    guardrails TEXT NOT NULL,
    config_version INTEGER NOT NULL DEFAULT 0,
    event_seq INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
  );
  CREATE TABLE members (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (workspace_id, user_id)
  );
  CREATE TABLE invites (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    email TEXT,
    role TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    accepted_at INTEGER,
    revoked_at INTEGER
  );
  CREATE TABLE instances (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    member_id TEXT NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    platform TEXT NOT NULL,
    version TEXT NOT NULL,
    kind TEXT NOT NULL,
    secret_sealed TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    last_heartbeat_at INTEGER
  );
  CREATE INDEX instances_member ON instances(member_id);
  CREATE TABLE agents (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    emoji TEXT,
    description TEXT,
    provider TEXT NOT NULL,
    model TEXT NOT NULL,
    base_url TEXT,
    system_prompt TEXT NOT NULL,
    tools TEXT NOT NULL,
    guardrails TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );
  CREATE INDEX agents_ws ON agents(workspace_id);
  CREATE TABLE provider_keys (
    workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    provider TEXT NOT NULL,
    key_sealed TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, provider)
  ) WITHOUT ROWID;
  CREATE TABLE tasks (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    prompt TEXT NOT NULL,
    agent_id TEXT,
    assignee_type TEXT,
    assignee_id TEXT,
    context TEXT NOT NULL,
    status TEXT NOT NULL,
    progress REAL,
    result TEXT,
    created_by_type TEXT NOT NULL,
    created_by_id TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    version INTEGER NOT NULL
  );
  CREATE INDEX tasks_ws_created ON tasks(workspace_id, created_at DESC, id DESC);
  CREATE TABLE task_progress (
    id INTEGER PRIMARY KEY,
    task_id TEXT NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
    ts INTEGER NOT NULL,
    status TEXT NOT NULL,
    note TEXT,
    progress REAL,
    actor_type TEXT NOT NULL,
    actor_id TEXT NOT NULL
  );
  CREATE INDEX task_progress_task ON task_progress(task_id, id);
  CREATE TABLE task_plans (
    id TEXT PRIMARY KEY,
    task_id TEXT NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
    summary TEXT NOT NULL,
    steps TEXT NOT NULL,
    state TEXT NOT NULL,
    submitted_by_type TEXT NOT NULL,
    submitted_by_id TEXT NOT NULL,
    submitted_at INTEGER NOT NULL,
    decided_by_type TEXT,
    decided_by_id TEXT,
    decided_at INTEGER,
    comment TEXT
  );
  CREATE INDEX task_plans_task ON task_plans(task_id, submitted_at);
  CREATE TABLE audit (
    id INTEGER PRIMARY KEY,
    workspace_id TEXT NOT NULL,
    ts INTEGER NOT NULL,
    actor_type TEXT NOT NULL,
    actor_id TEXT NOT NULL,
    action TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    resource_id TEXT NOT NULL,
    details TEXT NOT NULL
  );
  CREATE INDEX audit_ws ON audit(workspace_id, id DESC);
  `,
    byDialect(
      `CREATE TRIGGER audit_append_only BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'audit entries are append-only'); END;`,
      `CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'audit entries are append-only'; END $$;
      CREATE TRIGGER audit_append_only BEFORE UPDATE ON audit FOR EACH ROW EXECUTE FUNCTION audit_append_only();`,
    ),
    `
  CREATE TABLE events (
    workspace_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    ts INTEGER NOT NULL,
    name TEXT NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (workspace_id, seq)
  ) WITHOUT ROWID;
  CREATE TABLE idempotency (
    id INTEGER PRIMARY KEY,
    scope TEXT NOT NULL,
    key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status INTEGER NOT NULL,
    response TEXT NOT NULL,
    sealed INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    UNIQUE (scope, key)
  );
  CREATE INDEX idempotency_created ON idempotency(created_at);
  `,
  ],
  // 2: cloud desktop lifecycle — the status an instance reports, its reason and its operator's label.
  [
    `
  ALTER TABLE instances ADD COLUMN status TEXT NOT NULL DEFAULT 'online';
  ALTER TABLE instances ADD COLUMN status_reason TEXT;
  ALTER TABLE instances ADD COLUMN label TEXT;
  `,
  ],
  // Logout ends every session minted under that sign-in: session tokens carry the sign-in's id.
  [
    `ALTER TABLE account_tokens ADD COLUMN sign_in_id TEXT;`,
    byDialect(
      `UPDATE account_tokens SET sign_in_id = lower(hex(randomblob(12))) WHERE sign_in_id IS NULL;`,
      `UPDATE account_tokens SET sign_in_id = md5(random()::text) WHERE sign_in_id IS NULL;`,
    ),
    `
  CREATE UNIQUE INDEX account_tokens_sign_in ON account_tokens(sign_in_id);
  CREATE TABLE login_failures (
    email TEXT PRIMARY KEY COLLATE NOCASE,
    failures INTEGER NOT NULL,
    locked_until INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  ) WITHOUT ROWID;
  `,
  ],
  // Several server nodes on one database: node heartbeats, which node holds a socket of which instance
  // (presence across nodes), and signalling frames on their way to a socket on another node.
  [
    `
  CREATE TABLE nodes (
    id TEXT PRIMARY KEY,
    started_at INTEGER NOT NULL,
    last_seen INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE TABLE instance_sessions (
    instance_id TEXT NOT NULL,
    node_id TEXT NOT NULL,
    workspace_id TEXT NOT NULL,
    since INTEGER NOT NULL,
    PRIMARY KEY (instance_id, node_id)
  ) WITHOUT ROWID;
  CREATE INDEX instance_sessions_node ON instance_sessions(node_id);
  CREATE TABLE signals (
    id INTEGER PRIMARY KEY,
    workspace_id TEXT NOT NULL,
    to_instance TEXT,
    to_conn TEXT,
    frame TEXT NOT NULL,
    created_at INTEGER NOT NULL
  );
  `,
  ],
];

/** SQLite's column types and table options → PostgreSQL's. */
function toPostgres(sql: string): string {
  return sql
    .replace(/\bINTEGER PRIMARY KEY\b/g, 'BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY')
    .replace(/\bINTEGER\b/g, 'BIGINT')
    .replace(/\bREAL\b/g, 'DOUBLE PRECISION')
    .replace(/\)\s*WITHOUT ROWID/g, ')');
}

/** Migration `index` (0-based) as one script for `dialect`. */
export function forDialect(index: number, dialect: Dialect): string {
  return MIGRATIONS[index].map((part) => (typeof part === 'string' ? (dialect === 'postgres' ? toPostgres(part) : part) : part[dialect])).join('\n');
}

/** PostgreSQL needs the `nocase` collation (emails compare case-insensitively, as SQLite's NOCASE does) before the first migration. */
export const POSTGRES_PRELUDE = `CREATE COLLATION IF NOT EXISTS nocase (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
CREATE TABLE IF NOT EXISTS schema_version (id INT PRIMARY KEY, version INT NOT NULL);
INSERT INTO schema_version (id, version) VALUES (1, 0) ON CONFLICT (id) DO NOTHING;`;

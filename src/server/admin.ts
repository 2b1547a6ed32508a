/**
 * Direct database administration for the CLI and the demo: opens the data dir (the server may be
 * running — SQLite WAL allows it; the server notices the commits and pushes their events) or the
 * PostgreSQL database, and runs the same service transaction bodies the REST routes use.
 */
import type { Provider, Role } from '../protocol/workspace/common';
import type { Task } from '../protocol/workspace/models';
import { deriveKey, loadMasterKey, SecretBox } from './crypto/keys';
import { DEFAULT_SCRYPT_COST, hashPassword, type ScryptCost } from './crypto/passwords';
import { SessionTokenSigner } from './crypto/tokens';
import { openDatabase } from './db/database';
import { SqliteStore } from './db/sqliteStore';
import type { Store } from './db/store';
import { WriteQueue } from './db/writeQueue';
import { ApiError } from './errors';
import { nullLogger } from './log';
import type { ServerContext, SessionControl } from './services/context';
import { MEMBER_SELECT, type MemberRow, type WorkspaceRow } from './services/rows';
import { createServices, type Services } from './services/registry';

const noSessions: SessionControl = {
  closeMember: () => {},
  closeSignIn: () => {},
  closeInstance: () => {},
  closeWorkspace: () => {},
  setRole: () => {},
  isInstanceConnected: () => Promise.resolve(false),
};

export class Admin {
  readonly services: Services;

  constructor(
    readonly dataDir: string,
    services?: Services,
    scryptCost: ScryptCost = DEFAULT_SCRYPT_COST,
  ) {
    if (services) {
      this.services = services;
      return;
    }
    this.services = Admin.build(dataDir, new SqliteStore(openDatabase(dataDir)), scryptCost);
  }

  /** The admin side on PostgreSQL (`--database-url`): the master key comes from the environment, as on every node. */
  static async openPostgres(dataDir: string, url: string, scryptCost: ScryptCost = DEFAULT_SCRYPT_COST): Promise<Admin> {
    const { PostgresStore } = await import('./db/postgresStore'); // pg loads only when a database URL is given
    const store = await PostgresStore.open({ url, poolSize: 2 });
    return new Admin(dataDir, Admin.build(dataDir, store, scryptCost));
  }

  private static build(dataDir: string, db: Store, scryptCost: ScryptCost): Services {
    const master = loadMasterKey(dataDir);
    const ctx: ServerContext = {
      db,
      now: Date.now,
      log: nullLogger,
      sessions: noSessions,
      queue: new WriteQueue(db, Date.now, () => {}),
      box: new SecretBox(deriveKey(master.key, 'at-rest/v1')),
      signer: new SessionTokenSigner(deriveKey(master.key, 'session-token/v1')),
      settings: {
        scryptCost,
        maxFailedLogins: 5,
        lockoutMs: 15 * 60_000,
        accountTokenTtlMs: 30 * 24 * 3600_000,
        inviteTtlMs: 7 * 24 * 3600_000,
        heartbeatIntervalMs: 15_000,
        turn: { urls: [], secret: undefined, ttlSeconds: 3600 },
      },
    };
    return createServices(ctx);
  }

  async close(): Promise<void> {
    await this.services.ctx.queue.close();
    await this.services.ctx.db.close();
  }

  private get q(): WriteQueue {
    return this.services.ctx.queue;
  }

  private get db(): Store {
    return this.services.ctx.db;
  }

  async workspace(slug: string): Promise<WorkspaceRow> {
    const w = await this.services.workspaces.bySlug(slug);
    if (!w) throw new ApiError('not_found', `no workspace "${slug}"`);
    return w;
  }

  async userId(email: string): Promise<string> {
    const r = (await this.db.get('SELECT id FROM users WHERE email = ?', email)) as { id: string } | undefined;
    if (!r) throw new ApiError('not_found', `no user ${email}`);
    return r.id;
  }

  async userExists(email: string): Promise<boolean> {
    return Boolean(await this.db.get('SELECT 1 AS ok FROM users WHERE email = ?', email));
  }

  async createUser(email: string, name: string, password: string): Promise<string> {
    const fn = await this.services.accounts.prepareUser(email, name, password);
    return (await this.q.runNow(fn)).id;
  }

  async setPassword(email: string, password: string): Promise<void> {
    const hash = await hashPassword(password, this.services.ctx.settings.scryptCost);
    await this.q.runNow(async (tx) => {
      await tx.db.run('UPDATE users SET password_hash = ?, failed_logins = 0, locked_until = 0 WHERE email = ?', hash, email);
      await tx.db.run('DELETE FROM login_failures WHERE email = ?', email);
    });
  }

  async createWorkspace(slug: string, name: string, ownerEmail: string): Promise<WorkspaceRow> {
    const userId = await this.userId(ownerEmail);
    return this.q.runNow(async (tx) => (await this.services.workspaces.createIn(tx, userId, { slug, name })).workspace);
  }

  async addMember(slug: string, email: string, role: Role): Promise<string> {
    const w = await this.workspace(slug);
    const userId = await this.userId(email);
    return this.q.runNow((tx) => this.services.members.addIn(tx, w.id, userId, role));
  }

  async member(slug: string, email: string): Promise<MemberRow> {
    const w = await this.workspace(slug);
    const m = (await this.db.get(`${MEMBER_SELECT} WHERE m.workspace_id = ? AND u.email = ?`, w.id, email)) as MemberRow | undefined;
    if (!m) throw new ApiError('not_found', `${email} is not a member of ${slug}`);
    return m;
  }

  async invite(slug: string, role: Role, email?: string): Promise<{ id: string; token: string; expiresAt: string }> {
    const w = await this.workspace(slug);
    const owner = (await this.db.get("SELECT id, user_id, role FROM members WHERE workspace_id = ? AND role = 'owner' LIMIT 1", w.id)) as
      | { id: string; user_id: string; role: Role }
      | undefined;
    if (!owner) throw new ApiError('conflict', 'workspace has no owner');
    const access = { userId: owner.user_id, memberId: owner.id, workspaceId: w.id, role: owner.role, instanceId: null, instanceKind: null };
    const r = await this.q.runNow((tx) => this.services.members.createInviteIn(tx, access, { role, email }));
    return { id: r.invite.id, token: r.token, expiresAt: r.invite.expiresAt };
  }

  async createTask(slug: string, title: string, prompt: string, assigneeEmail?: string): Promise<Task> {
    const w = await this.workspace(slug);
    const assignee = assigneeEmail ? { type: 'member' as const, memberId: (await this.member(slug, assigneeEmail)).id } : undefined;
    return this.q.runNow((tx) => this.services.tasks.createIn(tx, w.id, { type: 'system', id: 'admin-cli' }, { title, prompt, assignee }));
  }

  /** Deletes a task (e.g. one an older server stored that breaks clients); works while the server is down. */
  async deleteTask(slug: string, taskId: string): Promise<void> {
    const w = await this.workspace(slug);
    await this.q.runNow((tx) => this.services.tasks.deleteIn(tx, w.id, { type: 'system', id: 'admin-cli' }, taskId));
  }

  async createAgent(slug: string, name: string, provider: Provider, model: string, systemPrompt: string): Promise<string> {
    const w = await this.workspace(slug);
    return this.q.runNow(async (tx) => (await this.services.agents.createIn(tx, w.id, null, { name, provider, model, systemPrompt })).agent.id);
  }

  async setProviderKey(slug: string, provider: Provider, apiKey: string): Promise<void> {
    const w = await this.workspace(slug);
    await this.q.runNow((tx) => this.services.agents.setKeyIn(tx, w.id, null, provider, apiKey));
  }

  async members(slug: string): Promise<MemberRow[]> {
    const w = await this.workspace(slug);
    return (await this.db.all(`${MEMBER_SELECT} WHERE m.workspace_id = ? ORDER BY m.created_at`, w.id)) as MemberRow[];
  }
}

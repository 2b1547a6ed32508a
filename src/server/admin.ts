/**
 * Direct database administration for the CLI and the demo: opens the data dir (the server may be
 * running — SQLite WAL allows it; the server notices the commits and pushes their events) and runs
 * the same service transaction bodies the REST routes use.
 */
import type { Provider, Role } from '../protocol/workspace/common';
import type { Task } from '../protocol/workspace/models';
import { deriveKey, loadMasterKey, SecretBox } from './crypto/keys';
import { DEFAULT_SCRYPT_COST, hashPassword, type ScryptCost } from './crypto/passwords';
import { SessionTokenSigner } from './crypto/tokens';
import { openDatabase } from './db/database';
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
  isInstanceConnected: () => false,
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
    const db = openDatabase(dataDir);
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
    this.services = createServices(ctx);
  }

  close(): void {
    void this.services.ctx.queue.close();
    this.services.ctx.db.close();
  }

  private get q(): WriteQueue {
    return this.services.ctx.queue;
  }

  workspace(slug: string): WorkspaceRow {
    const w = this.services.workspaces.bySlug(slug);
    if (!w) throw new ApiError('not_found', `no workspace "${slug}"`);
    return w;
  }

  userId(email: string): string {
    const r = this.services.ctx.db.prepare('SELECT id FROM users WHERE email = ?').get(email) as { id: string } | undefined;
    if (!r) throw new ApiError('not_found', `no user ${email}`);
    return r.id;
  }

  async createUser(email: string, name: string, password: string): Promise<string> {
    const fn = await this.services.accounts.prepareUser(email, name, password);
    return this.q.runNow(fn).id;
  }

  async setPassword(email: string, password: string): Promise<void> {
    const hash = await hashPassword(password, this.services.ctx.settings.scryptCost);
    this.q.runNow((tx) => {
      tx.db.prepare('UPDATE users SET password_hash = ?, failed_logins = 0, locked_until = 0 WHERE email = ?').run(hash, email);
      tx.db.prepare('DELETE FROM login_failures WHERE email = ?').run(email);
    });
  }

  createWorkspace(slug: string, name: string, ownerEmail: string): WorkspaceRow {
    const userId = this.userId(ownerEmail);
    return this.q.runNow((tx) => this.services.workspaces.createIn(tx, userId, { slug, name }).workspace);
  }

  addMember(slug: string, email: string, role: Role): string {
    const w = this.workspace(slug);
    const userId = this.userId(email);
    return this.q.runNow((tx) => this.services.members.addIn(tx, w.id, userId, role));
  }

  member(slug: string, email: string): MemberRow {
    const w = this.workspace(slug);
    const m = this.services.ctx.db.prepare(`${MEMBER_SELECT} WHERE m.workspace_id = ? AND u.email = ?`).get(w.id, email) as MemberRow | undefined;
    if (!m) throw new ApiError('not_found', `${email} is not a member of ${slug}`);
    return m;
  }

  invite(slug: string, role: Role, email?: string): { id: string; token: string; expiresAt: string } {
    const w = this.workspace(slug);
    const owner = this.services.ctx.db.prepare("SELECT id, user_id, role FROM members WHERE workspace_id = ? AND role = 'owner' LIMIT 1").get(w.id) as
      | { id: string; user_id: string; role: Role }
      | undefined;
    if (!owner) throw new ApiError('conflict', 'workspace has no owner');
    const access = { userId: owner.user_id, memberId: owner.id, workspaceId: w.id, role: owner.role, instanceId: null, instanceKind: null };
    const r = this.q.runNow((tx) => this.services.members.createInviteIn(tx, access, { role, email }));
    return { id: r.invite.id, token: r.token, expiresAt: r.invite.expiresAt };
  }

  createTask(slug: string, title: string, prompt: string, assigneeEmail?: string): Task {
    const w = this.workspace(slug);
    const assignee = assigneeEmail ? { type: 'member' as const, memberId: this.member(slug, assigneeEmail).id } : undefined;
    return this.q.runNow((tx) => this.services.tasks.createIn(tx, w.id, { type: 'system', id: 'admin-cli' }, { title, prompt, assignee }));
  }

  /** Deletes a task (e.g. one an older server stored that breaks clients); works while the server is down. */
  deleteTask(slug: string, taskId: string): void {
    const w = this.workspace(slug);
    this.q.runNow((tx) => this.services.tasks.deleteIn(tx, w.id, { type: 'system', id: 'admin-cli' }, taskId));
  }

  createAgent(slug: string, name: string, provider: Provider, model: string, systemPrompt: string): string {
    const w = this.workspace(slug);
    return this.q.runNow((tx) => this.services.agents.createIn(tx, w.id, null, { name, provider, model, systemPrompt }).agent.id);
  }

  setProviderKey(slug: string, provider: Provider, apiKey: string): void {
    const w = this.workspace(slug);
    this.q.runNow((tx) => this.services.agents.setKeyIn(tx, w.id, null, provider, apiKey));
  }

  members(slug: string): MemberRow[] {
    const w = this.workspace(slug);
    return this.services.ctx.db.prepare(`${MEMBER_SELECT} WHERE m.workspace_id = ? ORDER BY m.created_at`).all(w.id) as MemberRow[];
  }
}

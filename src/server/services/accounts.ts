/**
 * Accounts: users with scrypt password hashes, sign-in with lockout after repeated failures (kept in
 * the database, so a restart does not reset it), account bearer tokens (stored as SHA-256), and the
 * WSS session tokens minted from an account or workspace token.
 */
import { randomBytes } from 'node:crypto';
import type { z } from 'zod';
import { SESSION_TTL_MS, WS_PATH, type SessionScope } from '../../protocol/workspace/common';
import type { WorkspaceSummary } from '../../protocol/workspace/models';
import type { loginResponseSchema, meResponseSchema, mintSessionTokenRequestSchema, mintSessionTokenResponseSchema } from '../../protocol/workspace/rest';
import { hashPassword, verifyPassword } from '../crypto/passwords';
import { hashToken, newId, newOpaqueToken, type SessionClaims } from '../crypto/tokens';
import type { Tx } from '../db/writeQueue';
import { ApiError, notFound } from '../errors';
import { type AccessResolver, type Credential } from './access';
import { iso, type ServerContext } from './context';
import { toUser, type UserRow } from './rows';

export class Accounts {
  private dummyHash: Promise<string> | undefined;

  constructor(
    private readonly ctx: ServerContext,
    private readonly access: AccessResolver,
  ) {}

  /** Creates a user (admin CLI, demo, invite acceptance). The hash is computed before the transaction. */
  async prepareUser(email: string, name: string, password: string): Promise<(tx: Tx) => Promise<UserRow>> {
    const hash = await hashPassword(password, this.ctx.settings.scryptCost);
    return async (tx) => {
      if (await tx.db.get('SELECT 1 FROM users WHERE email = ?', email)) throw new ApiError('conflict', 'an account with this email exists');
      const row: UserRow = { id: newId('usr'), email, name, password_hash: hash, created_at: tx.now, failed_logins: 0, locked_until: 0 };
      await tx.db.run('INSERT INTO users (id, email, name, password_hash, created_at) VALUES (?, ?, ?, ?, ?)', row.id, email, name, hash, tx.now);
      return row;
    };
  }

  async createUser(email: string, name: string, password: string): Promise<UserRow> {
    return this.ctx.queue.run(await this.prepareUser(email, name, password));
  }

  /** Issues an account token (one sign-in, with its own id) inside a transaction. */
  async issueAccountToken(tx: Tx, userId: string): Promise<{ token: string; expiresAt: string }> {
    const token = newOpaqueToken('mca');
    const expires = tx.now + this.ctx.settings.accountTokenTtlMs;
    await tx.db.run(
      'INSERT INTO account_tokens (hash, user_id, created_at, expires_at, sign_in_id) VALUES (?, ?, ?, ?, ?)',
      hashToken(token),
      userId,
      tx.now,
      expires,
      randomBytes(12).toString('hex'),
    );
    return { token, expiresAt: iso(expires) };
  }

  /**
   * Sign-in. Failures are counted per email address whether or not an account has it (login_failures,
   * in the database so a restart does not reset them), and an unknown email costs the same scrypt work:
   * every answer — wrong password, unknown email, locked — is the same for both.
   */
  async login(email: string, password: string): Promise<z.infer<typeof loginResponseSchema>> {
    const user = (await this.ctx.db.get('SELECT * FROM users WHERE email = ?', email)) as UserRow | undefined;
    const now = this.ctx.now();
    const throttle = (await this.ctx.db.get('SELECT locked_until FROM login_failures WHERE email = ?', email)) as { locked_until: number } | undefined;
    if (throttle && throttle.locked_until > now) throw this.locked(throttle.locked_until - now);
    // Same work as a real check, so timing does not tell which emails exist.
    const ok = user
      ? await verifyPassword(password, user.password_hash)
      : (await verifyPassword(password, await (this.dummyHash ??= hashPassword('not-a-password', this.ctx.settings.scryptCost))), false);
    const { maxFailedLogins, lockoutMs } = this.ctx.settings;
    if (!ok) {
      const lockedFor = await this.ctx.queue.run(async (tx) => {
        const r = (await tx.db.get(
          `INSERT INTO login_failures (email, failures, locked_until, updated_at) VALUES (?, 1, 0, ?)
          ON CONFLICT (email) DO UPDATE SET failures = login_failures.failures + 1, updated_at = excluded.updated_at RETURNING failures`,
          email,
          tx.now,
        )) as { failures: number };
        if (r.failures < maxFailedLogins) return 0;
        await tx.db.run('UPDATE login_failures SET failures = 0, locked_until = ? WHERE email = ?', tx.now + lockoutMs, email);
        return lockoutMs;
      });
      this.ctx.log.warn('sign-in failed', { userId: user?.id ?? null, locked: lockedFor > 0 });
      throw new ApiError('invalid_credentials', 'wrong email or password');
    }
    const signedIn = user as UserRow;
    const session = await this.ctx.queue.run(async (tx) => {
      await tx.db.run('DELETE FROM login_failures WHERE email = ?', email);
      return this.issueAccountToken(tx, signedIn.id);
    });
    return { session, user: toUser(signedIn), workspaces: await this.workspacesOf(signedIn.id) };
  }

  private locked(ms: number): ApiError {
    return new ApiError('account_locked', 'too many failed sign-ins: try again later', { retryAfterSec: Math.ceil(ms / 1000) });
  }

  /** Ends the sign-in: its account token, every session token minted under it, and their sockets (4401 "signed out"). */
  async logout(cred: Credential): Promise<void> {
    if (cred.kind !== 'account') return;
    await this.ctx.queue.run(async (tx) => await tx.db.run('DELETE FROM account_tokens WHERE hash = ?', cred.tokenHash));
    this.ctx.sessions.closeSignIn(cred.signInId, 'signed out');
  }

  async me(userId: string): Promise<z.infer<typeof meResponseSchema>> {
    const user = (await this.ctx.db.get('SELECT * FROM users WHERE id = ?', userId)) as UserRow | undefined;
    if (!user) throw notFound('user');
    return { user: toUser(user), workspaces: await this.workspacesOf(userId) };
  }

  async workspacesOf(userId: string): Promise<WorkspaceSummary[]> {
    return (await this.ctx.db.all(
      'SELECT w.id, w.slug, w.name, m.role FROM members m JOIN workspaces w ON w.id = m.workspace_id WHERE m.user_id = ? ORDER BY w.slug',
      userId,
    )) as WorkspaceSummary[];
  }

  async mintSessionToken(cred: Credential, req: z.infer<typeof mintSessionTokenRequestSchema>): Promise<z.infer<typeof mintSessionTokenResponseSchema>> {
    const workspaceId = req.workspaceId ?? (cred.kind === 'instance' ? cred.workspaceId : undefined);
    if (!workspaceId) throw new ApiError('validation_failed', 'workspaceId is required with an account token');
    const scope: SessionScope = req.scope;
    if (scope === 'daemon' && cred.kind !== 'instance') throw new ApiError('forbidden', 'daemon session tokens need a workspace (instance) token');
    const a = await this.access.inWorkspace(cred, workspaceId);
    const now = this.ctx.now();
    const exp = now + SESSION_TTL_MS[scope];
    const claims: SessionClaims = { v: 1, wid: workspaceId, uid: a.userId, mid: a.memberId, iid: a.instanceId, scope, iat: now, exp, jti: newId('jti') };
    if (cred.kind === 'account') claims.sid = cred.signInId;
    const token = this.ctx.signer.sign(claims);
    return { token, scope, workspaceId, expiresAt: iso(exp), wsPath: WS_PATH };
  }

  /** Deletes expired account tokens (housekeeping). */
  async pruneExpired(tx: Tx): Promise<void> {
    await tx.db.run('DELETE FROM account_tokens WHERE expires_at <= ?', tx.now);
  }
}

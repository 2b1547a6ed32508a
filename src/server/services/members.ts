/**
 * Members and invites. Role rules (B.15): Owner/Admin manage members; only an Owner grants, changes or
 * removes an Owner; the last Owner stays. Removing a member deletes the member row and, by cascade,
 * every instance (and so every workspace token) it registered, in one transaction; after the commit
 * its live sockets are closed with 4403.
 */
import type { z } from 'zod';
import { roleHas, type Role } from '../../protocol/workspace/common';
import type { Invite, Member } from '../../protocol/workspace/models';
import type { acceptInviteRequestSchema, acceptInviteResponseSchema, createInviteRequestSchema } from '../../protocol/workspace/rest';
import { hashPassword } from '../crypto/passwords';
import { hashToken, newId, newOpaqueToken } from '../crypto/tokens';
import type { Sql } from '../db/store';
import type { Tx } from '../db/writeQueue';
import { ApiError, forbidden, notFound } from '../errors';
import type { Accounts } from './accounts';
import { actorOf, type Access, type Credential } from './access';
import { audit } from './audit';
import type { ServerContext } from './context';
import { idempotent, type IdempotencyKey, type Reply } from './idempotency';
import { MEMBER_SELECT, toInvite, toMember, type InviteRow, type MemberRow, type UserRow } from './rows';

const publicMember = (r: MemberRow): Omit<Member, 'email'> => toMember(r, false);

export class Members {
  constructor(
    private readonly ctx: ServerContext,
    private readonly accounts: Accounts,
  ) {}

  private async memberRow(tx: { db: Sql }, workspaceId: string, memberId: string): Promise<MemberRow> {
    const row = (await tx.db.get(`${MEMBER_SELECT} WHERE m.id = ? AND m.workspace_id = ?`, memberId, workspaceId)) as MemberRow | undefined;
    if (!row) throw notFound('member');
    return row;
  }

  async list(a: Access): Promise<{ members: Member[] }> {
    const rows = (await this.ctx.db.all(`${MEMBER_SELECT} WHERE m.workspace_id = ? ORDER BY m.created_at`, a.workspaceId)) as MemberRow[];
    const withEmail = roleHas(a.role, 'members.manage');
    return { members: rows.map((r) => toMember(r, withEmail)) };
  }

  private async guardOwner(tx: Tx, a: Access, target: MemberRow, newRole: Role | null): Promise<void> {
    if ((target.role === 'owner' || newRole === 'owner') && a.role !== 'owner') throw forbidden('only an Owner can grant, change or remove the Owner role');
    if (target.role === 'owner' && newRole !== 'owner') {
      const owners = (await tx.db.get("SELECT COUNT(*) AS n FROM members WHERE workspace_id = ? AND role = 'owner'", a.workspaceId)) as { n: number };
      if (owners.n <= 1) throw new ApiError('conflict', 'a workspace keeps at least one Owner');
    }
  }

  async updateRole(a: Access, memberId: string, role: Role, idem: IdempotencyKey | undefined): Promise<Reply<{ member: Member }>> {
    const reply = await this.ctx.queue.run((tx) =>
      idempotent(tx, idem, this.ctx.box, false, async () => {
        const target = await this.memberRow(tx, a.workspaceId, memberId);
        await this.guardOwner(tx, a, target, role);
        await tx.db.run('UPDATE members SET role = ? WHERE id = ?', role, memberId);
        const updated = { ...target, role };
        await audit(tx, a.workspaceId, actorOf(a), 'member.role_changed', { type: 'member', id: memberId }, { from: target.role, to: role });
        tx.emit(a.workspaceId, 'member.updated', { member: publicMember(updated) });
        if (role !== target.role) {
          // What a config snapshot holds depends on the role (provider keys): every instance refetches now.
          const version = (
            (await tx.db.get('UPDATE workspaces SET config_version = config_version + 1 WHERE id = ? RETURNING config_version', a.workspaceId)) as {
              config_version: number;
            }
          ).config_version;
          tx.emit(a.workspaceId, 'config.changed', { version, reason: 'member_role' });
        }
        return { status: 200, body: { member: toMember(updated, true) } };
      }),
    );
    if (reply.status < 300) this.ctx.sessions.setRole(a.workspaceId, memberId, reply.body.member.role);
    return reply;
  }

  async remove(a: Access, memberId: string, idem: IdempotencyKey | undefined): Promise<Reply> {
    const reply = await this.ctx.queue.run((tx) =>
      idempotent(tx, idem, this.ctx.box, false, async () => {
        const target = await this.memberRow(tx, a.workspaceId, memberId);
        await this.guardOwner(tx, a, target, null);
        const instances = (await tx.db.get('SELECT COUNT(*) AS n FROM instances WHERE member_id = ?', memberId)) as { n: number };
        await tx.db.run('DELETE FROM members WHERE id = ?', memberId);
        await audit(
          tx,
          a.workspaceId,
          actorOf(a),
          'member.removed',
          { type: 'member', id: memberId },
          { userId: target.user_id, instancesRevoked: instances.n },
        );
        tx.emit(a.workspaceId, 'member.removed', { memberId });
        return { status: 200, body: { ok: true } };
      }),
    );
    if (reply.status < 300) this.ctx.sessions.closeMember(a.workspaceId, memberId, 'membership revoked');
    return reply;
  }

  // --- invites -------------------------------------------------------------------------------------
  createInvite(a: Access, req: z.infer<typeof createInviteRequestSchema>, idem: IdempotencyKey | undefined): Promise<Reply<{ invite: Invite; token: string }>> {
    if (req.role === 'owner' && a.role !== 'owner') throw forbidden('only an Owner can invite an Owner');
    return this.ctx.queue.run((tx) => idempotent(tx, idem, this.ctx.box, true, async () => ({ status: 201, body: await this.createInviteIn(tx, a, req) })));
  }

  async createInviteIn(tx: Tx, a: Access, req: z.infer<typeof createInviteRequestSchema>): Promise<{ invite: Invite; token: string }> {
    const token = newOpaqueToken('mcinv');
    const row: InviteRow = {
      id: newId('inv'),
      workspace_id: a.workspaceId,
      email: req.email ?? null,
      role: req.role,
      created_at: tx.now,
      expires_at: tx.now + this.ctx.settings.inviteTtlMs,
      accepted_at: null,
      revoked_at: null,
    };
    await tx.db.run(
      'INSERT INTO invites (id, workspace_id, email, role, token_hash, created_by, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      row.id,
      row.workspace_id,
      row.email,
      row.role,
      hashToken(token),
      a.memberId,
      row.created_at,
      row.expires_at,
    );
    await audit(tx, a.workspaceId, actorOf(a), 'member.invited', { type: 'invite', id: row.id }, { role: row.role, email: row.email });
    return { invite: toInvite(row), token };
  }

  async listInvites(a: Access): Promise<{ invites: Invite[] }> {
    const rows = (await this.ctx.db.all('SELECT * FROM invites WHERE workspace_id = ? ORDER BY created_at DESC', a.workspaceId)) as InviteRow[];
    return { invites: rows.map(toInvite) };
  }

  revokeInvite(a: Access, inviteId: string, idem: IdempotencyKey | undefined): Promise<Reply> {
    return this.ctx.queue.run((tx) =>
      idempotent(tx, idem, this.ctx.box, false, async () => {
        const r = await tx.db.run(
          'UPDATE invites SET revoked_at = ? WHERE id = ? AND workspace_id = ? AND accepted_at IS NULL AND revoked_at IS NULL',
          tx.now,
          inviteId,
          a.workspaceId,
        );
        if (!r.changes) throw notFound('pending invite');
        await audit(tx, a.workspaceId, actorOf(a), 'invite.revoked', { type: 'invite', id: inviteId });
        return { status: 200, body: { ok: true } };
      }),
    );
  }

  async accept(cred: Credential | undefined, req: z.infer<typeof acceptInviteRequestSchema>): Promise<z.infer<typeof acceptInviteResponseSchema>> {
    if (cred && cred.kind !== 'account') throw forbidden('accept invites with an account token');
    const newAccount = !cred;
    if (newAccount && (!req.email || !req.name || !req.password))
      throw new ApiError('validation_failed', 'email, name and password are needed to create an account');
    const passwordHash = newAccount ? await hashPassword(req.password ?? '', this.ctx.settings.scryptCost) : undefined;
    return this.ctx.queue.run(async (tx) => {
      const inv = (await tx.db.get('SELECT * FROM invites WHERE token_hash = ?', hashToken(req.token))) as InviteRow | undefined;
      if (!inv || inv.accepted_at !== null || inv.revoked_at !== null || inv.expires_at <= tx.now) throw notFound('invite (or it expired)');
      let user: UserRow;
      if (cred) {
        user = (await tx.db.get('SELECT * FROM users WHERE id = ?', cred.userId)) as UserRow;
      } else {
        if (await tx.db.get('SELECT 1 FROM users WHERE email = ?', req.email ?? ''))
          throw new ApiError('conflict', 'an account with this email exists: sign in, then accept');
        user = {
          id: newId('usr'),
          email: req.email ?? '',
          name: req.name ?? '',
          password_hash: passwordHash ?? '',
          created_at: tx.now,
          failed_logins: 0,
          locked_until: 0,
        };
        await tx.db.run(
          'INSERT INTO users (id, email, name, password_hash, created_at) VALUES (?, ?, ?, ?, ?)',
          user.id,
          user.email,
          user.name,
          user.password_hash,
          tx.now,
        );
      }
      if (inv.email && inv.email.toLowerCase() !== user.email.toLowerCase()) throw forbidden('this invite is for another email address');
      if (await tx.db.get('SELECT 1 FROM members WHERE workspace_id = ? AND user_id = ?', inv.workspace_id, user.id))
        throw new ApiError('conflict', 'already a member');
      const memberId = newId('mem');
      await tx.db.run(
        'INSERT INTO members (id, workspace_id, user_id, role, created_at) VALUES (?, ?, ?, ?, ?)',
        memberId,
        inv.workspace_id,
        user.id,
        inv.role,
        tx.now,
      );
      await tx.db.run('UPDATE invites SET accepted_at = ? WHERE id = ?', tx.now, inv.id);
      const row = await this.memberRow(tx, inv.workspace_id, memberId);
      await audit(
        tx,
        inv.workspace_id,
        { type: 'member', id: memberId },
        'member.joined',
        { type: 'member', id: memberId },
        { inviteId: inv.id, role: inv.role },
      );
      tx.emit(inv.workspace_id, 'member.joined', { member: publicMember(row) });
      const ws = (await tx.db.get('SELECT id, slug, name FROM workspaces WHERE id = ?', inv.workspace_id)) as { id: string; slug: string; name: string };
      const out: z.infer<typeof acceptInviteResponseSchema> = { workspace: { ...ws, role: inv.role }, member: toMember(row, true) };
      if (newAccount) out.session = await this.accounts.issueAccountToken(tx, user.id);
      return out;
    });
  }

  /** CLI/demo: add an existing user directly. */
  async addIn(tx: Tx, workspaceId: string, userId: string, role: Role): Promise<string> {
    const memberId = newId('mem');
    await tx.db.run('INSERT INTO members (id, workspace_id, user_id, role, created_at) VALUES (?, ?, ?, ?, ?)', memberId, workspaceId, userId, role, tx.now);
    const row = await this.memberRow(tx, workspaceId, memberId);
    await audit(tx, workspaceId, { type: 'system', id: 'admin-cli' }, 'member.joined', { type: 'member', id: memberId }, { role });
    tx.emit(workspaceId, 'member.joined', { member: publicMember(row) });
    return memberId;
  }
}

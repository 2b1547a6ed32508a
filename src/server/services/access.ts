/**
 * Who is calling, and with which role in which workspace. Account tokens act as the user in any of
 * their workspaces; workspace tokens act as their instance, in their one workspace, with the role of
 * the member who registered it (read live, so a role change applies at once).
 */
import { roleHas, type InstanceKind, type Permission, type Role } from '../../protocol/workspace/common';
import type { Actor } from '../../protocol/workspace/models';
import { ApiError, forbidden, notFound } from '../errors';
import { hashToken, type SessionClaims } from '../crypto/tokens';
import type { ServerContext } from './context';

export type Credential =
  | { kind: 'account'; userId: string; tokenHash: string; signInId: string }
  | { kind: 'instance'; userId: string; memberId: string; workspaceId: string; instanceId: string; instanceKind: InstanceKind };

/** A session that may no longer be used, and how its socket is closed (4403 revoked, 4401 signed out). */
export interface Revoked {
  revoked: string;
  close: 'forbidden' | 'unauthorized';
}

export interface Access {
  userId: string;
  memberId: string;
  workspaceId: string;
  role: Role;
  instanceId: string | null;
  instanceKind: InstanceKind | null;
}

export function actorOf(a: Access): Actor {
  return a.instanceId ? { type: 'instance', id: a.instanceId } : { type: 'member', id: a.memberId };
}

export function idempotencyScope(c: { instanceId?: string | null; userId: string }): string {
  return c.instanceId ? `i:${c.instanceId}` : `u:${c.userId}`;
}

export function requirePermission(a: Access, p: Permission): void {
  if (!roleHas(a.role, p)) throw forbidden(`the ${a.role} role cannot do this (needs ${p})`);
}

interface InstanceRow {
  id: string;
  workspace_id: string;
  member_id: string;
  kind: InstanceKind;
  user_id: string;
  role: Role;
}

const INSTANCE_SELECT = 'SELECT i.id, i.workspace_id, i.member_id, i.kind, m.user_id, m.role FROM instances i JOIN members m ON m.id = i.member_id';

export class AccessResolver {
  constructor(private readonly ctx: ServerContext) {}

  /** `Authorization: Bearer <token>` → credential; throws unauthorized / token_expired. */
  async fromBearer(header: string | undefined): Promise<Credential> {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
    if (!m) throw new ApiError('unauthorized', 'missing bearer token');
    const token = m[1];
    const db = this.ctx.db;
    if (token.startsWith('mca_')) {
      const hash = hashToken(token);
      const row = (await db.get('SELECT user_id, expires_at, sign_in_id FROM account_tokens WHERE hash = ?', hash)) as
        | { user_id: string; expires_at: number; sign_in_id: string }
        | undefined;
      if (!row) throw new ApiError('unauthorized', 'unknown or revoked token');
      if (row.expires_at <= this.ctx.now()) throw new ApiError('token_expired', 'account token expired: sign in again');
      return { kind: 'account', userId: row.user_id, tokenHash: hash, signInId: row.sign_in_id };
    }
    if (token.startsWith('mcw_')) {
      const row = (await db.get(`${INSTANCE_SELECT} WHERE i.token_hash = ?`, hashToken(token))) as InstanceRow | undefined;
      if (!row) throw new ApiError('unauthorized', 'unknown or revoked token');
      return { kind: 'instance', userId: row.user_id, memberId: row.member_id, workspaceId: row.workspace_id, instanceId: row.id, instanceKind: row.kind };
    }
    throw new ApiError('unauthorized', 'unknown token type');
  }

  async inWorkspace(cred: Credential, workspaceId: string): Promise<Access> {
    const db = this.ctx.db;
    if (cred.kind === 'instance') {
      if (cred.workspaceId !== workspaceId) throw new ApiError('wrong_workspace', 'this workspace token belongs to another workspace');
      const row = (await db.get(`${INSTANCE_SELECT} WHERE i.id = ?`, cred.instanceId)) as InstanceRow | undefined;
      if (!row) throw new ApiError('unauthorized', 'instance revoked');
      return { userId: row.user_id, memberId: row.member_id, workspaceId, role: row.role, instanceId: row.id, instanceKind: row.kind };
    }
    const m = (await db.get('SELECT id, role FROM members WHERE workspace_id = ? AND user_id = ?', workspaceId, cred.userId)) as
      | { id: string; role: Role }
      | undefined;
    if (!m) throw notFound('workspace');
    return { userId: cred.userId, memberId: m.id, workspaceId, role: m.role, instanceId: null, instanceKind: null };
  }

  /**
   * Re-checks a verified session token against the database, at connect and at every use: the member
   * (and instance) must still exist, the sign-in it was minted under must not have been signed out, and
   * the role is the member's role now.
   */
  async fromSession(claims: SessionClaims): Promise<Access | Revoked> {
    const db = this.ctx.db;
    const m = (await db.get('SELECT id, user_id, role FROM members WHERE id = ? AND workspace_id = ?', claims.mid, claims.wid)) as
      | { id: string; user_id: string; role: Role }
      | undefined;
    if (!m || m.user_id !== claims.uid) return { revoked: 'membership revoked', close: 'forbidden' };
    if (claims.sid && !(await db.get('SELECT 1 AS ok FROM account_tokens WHERE sign_in_id = ? AND expires_at > ?', claims.sid, this.ctx.now())))
      return { revoked: 'signed out', close: 'unauthorized' };
    if (claims.iid) {
      const i = (await db.get(`${INSTANCE_SELECT} WHERE i.id = ?`, claims.iid)) as InstanceRow | undefined;
      if (!i || i.member_id !== m.id) return { revoked: 'instance revoked', close: 'forbidden' };
      return { userId: m.user_id, memberId: m.id, workspaceId: claims.wid, role: m.role, instanceId: i.id, instanceKind: i.kind };
    }
    return { userId: m.user_id, memberId: m.id, workspaceId: claims.wid, role: m.role, instanceId: null, instanceKind: null };
  }
}

/** Workspaces: create (the caller becomes Owner), read, settings and guardrails, delete (Owner). */
import type { z } from 'zod';
import type { Role } from '../../protocol/workspace/common';
import type { Workspace } from '../../protocol/workspace/models';
import type { createWorkspaceRequestSchema, updateWorkspaceRequestSchema } from '../../protocol/workspace/rest';
import { newId } from '../crypto/tokens';
import type { Tx } from '../db/writeQueue';
import { ApiError, notFound } from '../errors';
import { actorOf, type Access } from './access';
import { audit } from './audit';
import type { ServerContext } from './context';
import { idempotent, type IdempotencyKey, type Reply } from './idempotency';
import { DEFAULT_GUARDRAILS, toWorkspace, type WorkspaceRow } from './rows';

type WorkspaceBody = { workspace: Workspace };

export class Workspaces {
  constructor(private readonly ctx: ServerContext) {}

  /** The transaction body of creating a workspace owned by `userId` (also used by the CLI and demo). */
  async createIn(tx: Tx, userId: string, req: z.infer<typeof createWorkspaceRequestSchema>): Promise<{ workspace: WorkspaceRow; ownerMemberId: string }> {
    if (await tx.db.get('SELECT 1 FROM workspaces WHERE slug = ?', req.slug)) throw new ApiError('conflict', `the slug "${req.slug}" is taken`);
    const row: WorkspaceRow = {
      id: newId('ws'),
      slug: req.slug,
      name: req.name,
      timezone: req.timezone ?? 'UTC',
      guardrails: JSON.stringify(DEFAULT_GUARDRAILS),
      config_version: 0,
      event_seq: 0,
      created_at: tx.now,
    };
    await tx.db.run(
      'INSERT INTO workspaces (id, slug, name, timezone, guardrails, created_at) VALUES (?, ?, ?, ?, ?, ?)',
      row.id,
      row.slug,
      row.name,
      row.timezone,
      row.guardrails,
      row.created_at,
    );
    const ownerMemberId = newId('mem');
    await tx.db.run('INSERT INTO members (id, workspace_id, user_id, role, created_at) VALUES (?, ?, ?, ?, ?)', ownerMemberId, row.id, userId, 'owner', tx.now);
    await audit(tx, row.id, { type: 'member', id: ownerMemberId }, 'workspace.created', { type: 'workspace', id: row.id }, { slug: row.slug });
    return { workspace: row, ownerMemberId };
  }

  create(userId: string, req: z.infer<typeof createWorkspaceRequestSchema>, idem: IdempotencyKey | undefined): Promise<Reply<WorkspaceBody>> {
    return this.ctx.queue.run((tx) =>
      idempotent(tx, idem, this.ctx.box, false, async () => ({
        status: 201,
        body: { workspace: toWorkspace((await this.createIn(tx, userId, req)).workspace, 'owner') },
      })),
    );
  }

  async row(workspaceId: string): Promise<WorkspaceRow> {
    const row = (await this.ctx.db.get('SELECT * FROM workspaces WHERE id = ?', workspaceId)) as WorkspaceRow | undefined;
    if (!row) throw notFound('workspace');
    return row;
  }

  async get(a: Access): Promise<WorkspaceBody> {
    return { workspace: toWorkspace(await this.row(a.workspaceId), a.role) };
  }

  async bySlug(slug: string): Promise<WorkspaceRow | undefined> {
    return (await this.ctx.db.get('SELECT * FROM workspaces WHERE slug = ?', slug)) as WorkspaceRow | undefined;
  }

  update(a: Access, req: z.infer<typeof updateWorkspaceRequestSchema>, idem: IdempotencyKey | undefined): Promise<Reply<WorkspaceBody>> {
    return this.ctx.queue.run((tx) =>
      idempotent(tx, idem, this.ctx.box, false, async () => {
        const cur = (await tx.db.get('SELECT * FROM workspaces WHERE id = ?', a.workspaceId)) as WorkspaceRow | undefined;
        if (!cur) throw notFound('workspace');
        const guardrails = req.guardrails ? JSON.stringify(req.guardrails) : cur.guardrails;
        const guardrailsChanged = guardrails !== cur.guardrails;
        const version = cur.config_version + (guardrailsChanged ? 1 : 0);
        await tx.db.run(
          'UPDATE workspaces SET name = ?, timezone = ?, guardrails = ?, config_version = ? WHERE id = ?',
          req.name ?? cur.name,
          req.timezone ?? cur.timezone,
          guardrails,
          version,
          cur.id,
        );
        const row = (await tx.db.get('SELECT * FROM workspaces WHERE id = ?', cur.id)) as WorkspaceRow;
        const workspace = toWorkspace(row, a.role);
        await audit(
          tx,
          cur.id,
          actorOf(a),
          guardrailsChanged ? 'guardrails.changed' : 'workspace.updated',
          { type: 'workspace', id: cur.id },
          { fields: Object.keys(req) },
        );
        const { role: _role, ...pub } = workspace;
        tx.emit(cur.id, 'workspace.updated', { workspace: pub });
        if (guardrailsChanged) tx.emit(cur.id, 'config.changed', { version, reason: 'guardrails' });
        return { status: 200, body: { workspace } };
      }),
    );
  }

  async delete(a: Access, idem: IdempotencyKey | undefined): Promise<Reply> {
    const reply = await this.ctx.queue.run((tx) =>
      idempotent(tx, idem, this.ctx.box, false, async () => {
        if (!(await tx.db.run('DELETE FROM workspaces WHERE id = ?', a.workspaceId)).changes) throw notFound('workspace');
        await tx.db.run('DELETE FROM events WHERE workspace_id = ?', a.workspaceId);
        await tx.db.run('DELETE FROM audit WHERE workspace_id = ?', a.workspaceId);
        return { status: 200, body: { ok: true } };
      }),
    );
    if (!reply.replayed && reply.status < 300) {
      this.ctx.log.info('workspace deleted', { workspaceId: a.workspaceId, by: a.memberId });
      this.ctx.sessions.closeWorkspace(a.workspaceId, 'workspace deleted');
    }
    return reply;
  }

  async roleOf(workspaceId: string, userId: string): Promise<Role | undefined> {
    return ((await this.ctx.db.get('SELECT role FROM members WHERE workspace_id = ? AND user_id = ?', workspaceId, userId)) as { role: Role } | undefined)
      ?.role;
  }
}

/** The append-only audit trail (a trigger refuses UPDATE): who did what to which resource, when. */
import type { Actor } from '../../protocol/workspace/models';
import type { Tx } from '../db/writeQueue';
import { ApiError } from '../errors';
import type { AuditRow } from './rows';
import { toAudit } from './rows';
import type { ServerContext } from './context';
import type { z } from 'zod';
import type { auditListResponseSchema, auditQuerySchema } from '../../protocol/workspace/rest';

export async function audit(
  tx: Tx,
  workspaceId: string,
  actor: Actor,
  action: string,
  resource: { type: string; id: string },
  details: Record<string, unknown> = {},
): Promise<void> {
  await tx.db.run(
    'INSERT INTO audit (workspace_id, ts, actor_type, actor_id, action, resource_type, resource_id, details) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    workspaceId,
    tx.now,
    actor.type,
    actor.id,
    action,
    resource.type,
    resource.id,
    JSON.stringify(details),
  );
}

export async function listAudit(
  ctx: ServerContext,
  workspaceId: string,
  q: z.infer<typeof auditQuerySchema>,
): Promise<z.infer<typeof auditListResponseSchema>> {
  const where = ['workspace_id = ?'];
  const args: Array<string | number> = [workspaceId];
  const time = (s: string, name: string) => {
    const t = Date.parse(s);
    if (Number.isNaN(t)) throw new ApiError('validation_failed', `${name} is not a timestamp`);
    return t;
  };
  if (q.since) {
    where.push('ts >= ?');
    args.push(time(q.since, 'since'));
  }
  if (q.until) {
    where.push('ts < ?');
    args.push(time(q.until, 'until'));
  }
  if (q.actorId) {
    where.push('actor_id = ?');
    args.push(q.actorId);
  }
  if (q.action) {
    where.push('action = ?');
    args.push(q.action);
  }
  if (q.cursor) {
    const id = Number(q.cursor);
    if (!Number.isInteger(id)) throw new ApiError('validation_failed', 'bad cursor');
    where.push('id < ?');
    args.push(id);
  }
  const limit = Math.max(1, Math.min(q.limit ?? 100, 1000));
  const rows = (await ctx.db.all(`SELECT * FROM audit WHERE ${where.join(' AND ')} ORDER BY id DESC LIMIT ?`, ...args, limit + 1)) as AuditRow[];
  const page = rows.slice(0, limit);
  return { entries: page.map(toAudit), nextCursor: rows.length > limit ? String(page[page.length - 1].id) : null };
}

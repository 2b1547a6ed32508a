/**
 * The persisted event log: per-workspace seq (workspaces.event_seq), read back for resume, pruned by
 * age and count. A resume that reaches below the oldest kept event is a `gap`: the client refetches.
 */
import { jsonTooDeep } from '../../protocol/jsonLimits';
import { LIMITS } from '../../protocol/workspace/common';
import type { WorkspaceEvent } from '../../protocol/workspace/events';
import type { StoredEvent } from '../db/writeQueue';
import { iso, type ServerContext } from './context';
import { TOO_DEEP_MARKER } from './rows';

/**
 * The data of a stored event as it may be served. A `task.created` stored before the depth limit
 * existed may carry a context nested too deep for any client: it goes out with a marker instead.
 */
function servable(name: StoredEvent['name'], data: string): string {
  if (name !== 'task.created' || !jsonTooDeep(data, LIMITS.jsonDepth)) return data;
  const d = JSON.parse(data) as { task: Record<string, unknown> };
  d.task.context = { ...TOO_DEEP_MARKER };
  return JSON.stringify(d);
}

export function eventFrame(e: StoredEvent): string {
  return `{"type":"event","seq":${e.seq},"ts":"${iso(e.ts)}","workspaceId":${JSON.stringify(e.workspaceId)},"name":"${e.name}","data":${e.data}}`;
}

export function toWorkspaceEvent(e: StoredEvent): WorkspaceEvent {
  return { seq: e.seq, ts: iso(e.ts), workspaceId: e.workspaceId, name: e.name, data: JSON.parse(e.data) } as WorkspaceEvent;
}

interface EventRow {
  workspace_id: string;
  seq: number;
  ts: number;
  name: StoredEvent['name'];
  data: string;
}

export class EventLog {
  constructor(private readonly ctx: ServerContext) {}

  async head(workspaceId: string): Promise<number> {
    const r = (await this.ctx.db.get('SELECT event_seq FROM workspaces WHERE id = ?', workspaceId)) as { event_seq: number } | undefined;
    return r?.event_seq ?? 0;
  }

  /** Whether events after `after` are no longer all kept. */
  async hasGap(workspaceId: string, after: number, head: number): Promise<boolean> {
    if (after >= head) return false;
    const r = (await this.ctx.db.get('SELECT MIN(seq) AS oldest FROM events WHERE workspace_id = ?', workspaceId)) as { oldest: number | null };
    return r.oldest === null || r.oldest > after + 1;
  }

  async after(workspaceId: string, after: number, limit: number, upTo = Number.MAX_SAFE_INTEGER): Promise<StoredEvent[]> {
    const rows = (await this.ctx.db.all(
      'SELECT workspace_id, seq, ts, name, data FROM events WHERE workspace_id = ? AND seq > ? AND seq <= ? ORDER BY seq LIMIT ?',
      workspaceId,
      after,
      upTo,
      limit,
    )) as EventRow[];
    return rows.map((r) => ({ workspaceId: r.workspace_id, seq: r.seq, ts: r.ts, name: r.name, data: servable(r.name, r.data) }));
  }

  async list(workspaceId: string, after: number, limit: number): Promise<{ events: WorkspaceEvent[]; headSeq: number; gap: boolean }> {
    const head = await this.head(workspaceId);
    const gap = await this.hasGap(workspaceId, after, head);
    const events = gap ? [] : (await this.after(workspaceId, after, Math.max(1, Math.min(limit, 1000)))).map(toWorkspaceEvent);
    return { events, headSeq: head, gap };
  }

  /** Keeps at most `maxPerWorkspace` events per workspace and none older than `maxAgeMs`. */
  prune(maxPerWorkspace: number, maxAgeMs: number): Promise<number> {
    return this.ctx.queue.run(async (tx) => {
      let removed = (await tx.db.run('DELETE FROM events WHERE ts < ?', tx.now - maxAgeMs)).changes;
      const heads = (await tx.db.all('SELECT id, event_seq FROM workspaces')) as Array<{ id: string; event_seq: number }>;
      for (const w of heads)
        removed += (await tx.db.run('DELETE FROM events WHERE workspace_id = ? AND seq <= ?', w.id, w.event_seq - maxPerWorkspace)).changes;
      await tx.db.run('DELETE FROM idempotency WHERE created_at < ?', tx.now - 7 * 24 * 3600 * 1000);
      await tx.db.run('DELETE FROM account_tokens WHERE expires_at <= ?', tx.now);
      return removed;
    });
  }
}

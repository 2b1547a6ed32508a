/**
 * Several server nodes on one PostgreSQL database. Each node:
 * - sends one NOTIFY per committed batch (inside the batch transaction, so no hint without a commit)
 *   on `mc_events`, a hint only — `{n: node, h: {workspace: head}}`, split below the 8,000-byte limit —
 *   and LISTENs on one connection; on a hint it reads the missed range from the events table
 *   (`Hub.catchUp`). A head poll every second is the safety net for hints lost while the LISTEN
 *   connection was down (it reconnects by itself, LISTENs again, then polls).
 * - heartbeats its `nodes` row every half interval; sockets of instances are `instance_sessions` rows
 *   per node, so presence holds across nodes, and one node at a time (an advisory lock, tried every
 *   quarter interval) removes the sessions of nodes whose heartbeat is two intervals old, emitting
 *   `instance.presence` offline — at most 2.25 intervals after the dead node's last heartbeat, within
 *   the three promised.
 * - relays signalling frames (up to 64 KiB, beyond NOTIFY's limit) through the `signals` table with a
 *   NOTIFY on `mc_ctl` carrying only the row id; sign-outs and deleted workspaces also go on `mc_ctl`.
 *   Removed members and instances and role changes reach every node as the events they already get.
 */
import type pg from 'pg';
import { roleHas } from '../protocol/workspace/common';
import type { ClientSignalFrame } from '../protocol/workspace/frames';
import type { PostgresStore } from './db/postgresStore';
import type { Logger } from './log';
import type { Role } from '../protocol/workspace/common';
import { isoOrNull, type ClusterInfo, type SessionControl } from './services/context';
import type { Services } from './services/registry';
import type { Connection } from './ws/connection';
import type { Hub } from './ws/hub';

const EVENTS = 'mc_events';
const CONTROL = 'mc_ctl';
/** Below NOTIFY's 8,000-byte payload limit. */
const MAX_PAYLOAD = 7000;
const REAP_LOCK = 7_346_113;
const POLL_MS = 1000;
const SIGNAL_TTL_MS = 60_000;

type Control = { n: string; t: 'signout'; sid: string } | { n: string; t: 'ws_deleted'; w: string } | { n: string; t: 'sig'; id: number };

interface SignalRow {
  workspace_id: string;
  to_instance: string | null;
  to_conn: string | null;
}

/** Splits the heads of a batch into NOTIFY payloads below the limit. */
export function hintPayloads(nodeId: string, heads: ReadonlyMap<string, number>): string[] {
  const out: string[] = [];
  let part: Record<string, number> = {};
  let size = 0;
  for (const [ws, head] of heads) {
    const entry = JSON.stringify(ws).length + String(head).length + 2;
    if (size + entry > MAX_PAYLOAD - 100 && size > 0) {
      out.push(JSON.stringify({ n: nodeId, h: part }));
      part = {};
      size = 0;
    }
    part[ws] = head;
    size += entry;
  }
  if (size > 0) out.push(JSON.stringify({ n: nodeId, h: part }));
  return out;
}

export class ClusterNode {
  readonly info: ClusterInfo;
  private listener: pg.Client | undefined;
  private stopped = false;
  private backoffMs = 100;
  private readonly timers: NodeJS.Timeout[] = [];
  private services: Services | undefined;
  /** Whether the LISTEN connection is up (health). */
  listening = false;
  hintsReceived = 0;
  /** Since when this node's heartbeats have gone through without a failure (undefined after one failed). */
  private beatingSince: number | undefined;

  constructor(
    private readonly store: PostgresStore,
    private readonly hub: Hub,
    readonly nodeId: string,
    private readonly heartbeatIntervalMs: number,
    private readonly log: Logger,
    private readonly now: () => number,
  ) {
    this.info = { nodeId, staleMs: 2 * heartbeatIntervalMs };
    store.hint = async (q, heads) => {
      for (const payload of hintPayloads(nodeId, heads)) await q.query('SELECT pg_notify($1, $2)', [EVENTS, payload]);
    };
    hub.crossNode = true;
  }

  /** The live-session controls the services use: this node's sockets, and a word to the others where no event carries it. */
  sessions(): SessionControl {
    const hub = this.hub;
    return {
      closeMember: (w: string, m: string, reason: string) => hub.closeMember(w, m, reason),
      closeInstance: (i: string, reason: string) => hub.closeInstance(i, reason),
      setRole: (w: string, m: string, role: Role) => hub.setRole(w, m, role),
      closeSignIn: (sid: string, reason: string) => {
        hub.closeSignIn(sid, reason);
        this.control({ n: this.nodeId, t: 'signout', sid });
      },
      closeWorkspace: (w: string, reason: string) => {
        hub.closeWorkspace(w, reason);
        this.control({ n: this.nodeId, t: 'ws_deleted', w });
      },
      isInstanceConnected: async (instanceId: string) => {
        if (hub.isLocal(instanceId)) return true;
        const r = await this.store.get(
          'SELECT 1 AS ok FROM instance_sessions s JOIN nodes n ON n.id = s.node_id WHERE s.instance_id = ? AND n.last_seen > ? LIMIT 1',
          instanceId,
          this.now() - this.info.staleMs,
        );
        return r !== undefined;
      },
    };
  }

  async start(services: Services): Promise<void> {
    this.services = services;
    await this.beat();
    await this.listen();
    // Separate timers: a slow reap (it waits in the write queue) never delays this node's own heartbeat.
    this.every('heartbeat', Math.max(50, Math.floor(this.heartbeatIntervalMs / 2)), () => this.beat());
    this.every('reap', Math.max(25, Math.floor(this.heartbeatIntervalMs / 4)), () => this.reap());
    this.every('head poll', POLL_MS, () => this.pollHeads());
  }

  private every(what: string, ms: number, fn: () => Promise<void>): void {
    let running = false;
    const t = setInterval(() => {
      if (running || this.stopped) return;
      running = true;
      fn()
        .catch((err: unknown) => this.log.warn(`cluster ${what} failed`, { err: err instanceof Error ? err : String(err) }))
        .finally(() => (running = false));
    }, ms);
    t.unref();
    this.timers.push(t);
  }

  private async beat(): Promise<void> {
    const now = this.now();
    try {
      await this.store.run(
        'INSERT INTO nodes (id, started_at, last_seen) VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE SET last_seen = excluded.last_seen',
        this.nodeId,
        now,
        now,
      );
    } catch (err) {
      this.beatingSince = undefined;
      throw err;
    }
    this.beatingSince ??= now;
  }

  /**
   * One node at a time: the sessions of dead nodes go, and their instances go offline where no live node
   * holds them. A node judges the others only once its own heartbeats have gone through for a whole stale
   * period: after a database outage every node's heartbeat is old, and the live ones need that long to
   * write theirs again.
   */
  private async reap(): Promise<void> {
    const svc = this.services;
    if (!svc) return;
    const staleMs = this.info.staleMs;
    if (this.beatingSince === undefined || this.now() - this.beatingSince < staleMs) return;
    await svc.ctx.queue.run(async (tx) => {
      const lock = (await tx.db.get('SELECT pg_try_advisory_xact_lock(?) AS ok', REAP_LOCK)) as { ok: boolean };
      if (!lock.ok) return;
      const dead = (await tx.db.all(
        `SELECT s.instance_id, s.workspace_id, s.node_id FROM instance_sessions s LEFT JOIN nodes n ON n.id = s.node_id
        WHERE n.id IS NULL OR n.last_seen <= ? ORDER BY s.instance_id`,
        tx.now - staleMs,
      )) as Array<{ instance_id: string; workspace_id: string; node_id: string }>;
      for (const d of dead) {
        await tx.db.run('DELETE FROM instance_sessions WHERE instance_id = ? AND node_id = ?', d.instance_id, d.node_id);
        const inst = (await tx.db.get('UPDATE instances SET label = label WHERE id = ? RETURNING last_heartbeat_at', d.instance_id)) as
          | { last_heartbeat_at: number | null }
          | undefined;
        if (!inst) continue;
        const live = (await tx.db.get(
          'SELECT COUNT(*) AS n FROM instance_sessions s JOIN nodes n ON n.id = s.node_id WHERE s.instance_id = ? AND n.last_seen > ?',
          d.instance_id,
          tx.now - staleMs,
        )) as { n: number };
        if (live.n > 0) continue;
        tx.emit(d.workspace_id, 'instance.presence', {
          instanceId: d.instance_id,
          online: false,
          lastHeartbeatAt: isoOrNull(inst.last_heartbeat_at),
        });
      }
      await tx.db.run('DELETE FROM nodes WHERE last_seen <= ?', tx.now - 20 * staleMs);
      await tx.db.run('DELETE FROM signals WHERE created_at <= ?', tx.now - SIGNAL_TTL_MS);
    });
  }

  // --- LISTEN -----------------------------------------------------------------------------------
  private async listen(): Promise<void> {
    if (this.stopped) return;
    const c = this.store.connect();
    const lost = () => this.lost(c);
    c.on('error', lost);
    c.on('end', lost);
    c.on('notification', (m) => this.onNotification(m.channel, m.payload ?? ''));
    try {
      await c.connect();
      await c.query(`LISTEN ${EVENTS}`);
      await c.query(`LISTEN ${CONTROL}`);
    } catch (err) {
      this.log.warn('cluster LISTEN connection failed', { err: err instanceof Error ? err : String(err) });
      void c.end().catch(() => undefined);
      this.retry();
      return;
    }
    this.listener = c;
    this.listening = true;
    this.backoffMs = 100;
    this.log.info('cluster listening', { node: this.nodeId });
    await this.pollHeads(); // hints sent while the connection was down are lost: read what they announced
  }

  private lost(c: pg.Client): void {
    if (this.listener !== c) return;
    this.listener = undefined;
    this.listening = false;
    void c.end().catch(() => undefined);
    if (!this.stopped) this.log.warn('cluster LISTEN connection lost; reconnecting', { node: this.nodeId });
    this.retry();
  }

  private retry(): void {
    if (this.stopped) return;
    const t = setTimeout(
      () => void this.listen().catch((err: unknown) => this.log.warn('cluster relisten failed', { err: err instanceof Error ? err : String(err) })),
      this.backoffMs,
    );
    t.unref();
    this.backoffMs = Math.min(this.backoffMs * 2, 2000);
  }

  private onNotification(channel: string, payload: string): void {
    try {
      if (channel === EVENTS) {
        const m = JSON.parse(payload) as { n: string; h: Record<string, number> };
        if (m.n === this.nodeId) return;
        this.hintsReceived++;
        for (const [ws, head] of Object.entries(m.h)) if (this.hub.hasWorkspace(ws) && head > (this.hub.publishedSeq(ws) ?? 0)) this.catchUp(ws);
      } else if (channel === CONTROL) {
        const m = JSON.parse(payload) as Control;
        if (m.t === 'sig') void this.deliverSignal(m.id);
        else if (m.n === this.nodeId) return;
        else if (m.t === 'signout') this.hub.closeSignIn(m.sid, 'signed out');
        else if (m.t === 'ws_deleted') this.hub.closeWorkspace(m.w, 'workspace deleted');
      }
    } catch (err) {
      this.log.warn('bad cluster notification', { channel, err: err instanceof Error ? err : String(err) });
    }
  }

  private catchUp(ws: string): void {
    this.hub.catchUp(ws).catch((err: unknown) => this.log.warn('cluster catch-up failed', { workspaceId: ws, err: err instanceof Error ? err : String(err) }));
  }

  /** The safety net: every workspace with sockets here whose head moved past what this node fanned out. */
  private async pollHeads(): Promise<void> {
    const ids = this.hub.workspaces();
    if (!ids.length) return;
    const rows = (await this.store.pool.query('SELECT id, event_seq FROM workspaces WHERE id = ANY($1::text[])', [ids])).rows as Array<{
      id: string;
      event_seq: number;
    }>;
    for (const r of rows) if (r.event_seq > (this.hub.publishedSeq(r.id) ?? 0)) this.catchUp(r.id);
  }

  private control(m: Control): void {
    this.store.pool
      .query('SELECT pg_notify($1, $2)', [CONTROL, JSON.stringify(m)])
      .catch((err: unknown) => this.log.warn('cluster control notify failed', { err: err instanceof Error ? err : String(err) }));
  }

  // --- signalling -----------------------------------------------------------------------------------
  /** A signalling frame for a peer with no socket on this node: checked here as far as the database tells, relayed through `signals`. */
  async relaySignal(from: Connection, f: ClientSignalFrame): Promise<void> {
    const ref = f.id ?? null;
    const ws = from.access.workspaceId;
    const fromDesktop = from.access.instanceKind === 'desktop';
    let toInstance: string | null = null;
    let toConn: string | null = null;
    if ('instanceId' in f.to) {
      const t = (await this.store.get(
        `SELECT i.kind, m.role FROM instances i JOIN members m ON m.id = i.member_id
        WHERE i.id = ? AND i.workspace_id = ? AND EXISTS (SELECT 1 FROM instance_sessions s JOIN nodes n ON n.id = s.node_id WHERE s.instance_id = i.id AND n.last_seen > ?)`,
        f.to.instanceId,
        ws,
        this.now() - this.info.staleMs,
      )) as { kind: string; role: Role } | undefined;
      if (!t) return from.sendError('target_offline', 'that peer is not connected', ref);
      if (fromDesktop || t.kind !== 'desktop') return from.sendError('forbidden', 'signalling runs between a viewer and a desktop instance', ref);
      if (!roleHas(t.role, 'agents.use')) return from.sendError('forbidden', 'that cloud desktop may not serve viewers', ref);
      toInstance = f.to.instanceId;
    } else {
      if (!fromDesktop) return from.sendError('forbidden', 'signalling runs between a viewer and a desktop instance', ref);
      if (!roleHas(from.access.role, 'agents.use')) return from.sendError('forbidden', 'that cloud desktop may not serve viewers', ref);
      toConn = f.to.connectionId;
    }
    const frame = JSON.stringify({
      type: 'signal',
      sessionId: f.sessionId,
      kind: f.kind,
      from: { connectionId: from.id, memberId: from.access.memberId, instanceId: from.access.instanceId, role: from.access.role },
      payload: f.payload,
    });
    const row = (await this.store.get(
      'INSERT INTO signals (workspace_id, to_instance, to_conn, frame, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id',
      ws,
      toInstance,
      toConn,
      frame,
      this.now(),
    )) as { id: number };
    this.control({ n: this.nodeId, t: 'sig', id: row.id });
  }

  /** Every node hears of a relayed frame; the one holding the target claims the row (DELETE … RETURNING) and sends it. */
  private async deliverSignal(id: number): Promise<void> {
    const r = (await this.store.get('SELECT workspace_id, to_instance, to_conn FROM signals WHERE id = ?', id)) as SignalRow | undefined;
    if (!r) return;
    let target: Connection | undefined;
    if (r.to_instance) {
      const conns = this.hub.instanceConnections(r.workspace_id, r.to_instance);
      target = conns[conns.length - 1];
    } else if (r.to_conn) {
      const c = this.hub.connection(r.to_conn);
      target = c && c.ready && c.access.workspaceId === r.workspace_id && c.access.instanceKind !== 'desktop' ? c : undefined;
    }
    if (!target || target.closed) return;
    const claimed = (await this.store.get('DELETE FROM signals WHERE id = ? RETURNING frame', id)) as { frame: string } | undefined;
    if (claimed && !target.closed) target.send(claimed.frame);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers.splice(0)) clearInterval(t);
    const c = this.listener;
    this.listener = undefined;
    this.listening = false;
    await c?.end().catch(() => undefined);
    // Gone at once for the others: a live node's reaper removes what is left of its sessions and says offline.
    await this.store.run('UPDATE nodes SET last_seen = 0 WHERE id = ?', this.nodeId).catch(() => undefined);
  }
}

/**
 * The live side: every open connection by workspace and instance, event fan-out after each commit
 * (each event serialised once, sent in seq order), resume from the database, heartbeats both ways,
 * presence, and revocation (member removed / instance deleted / workspace deleted → close 4403).
 *
 * Resume without loss or duplicates: on `hello` the head seq is read from the database; events up to it
 * are replayed from the database (in pages, waiting for each page to be written); events committed
 * later are queued on the connection during the replay and flushed after it. Writes made by another
 * process (the admin CLI) are noticed through `PRAGMA data_version` and filled in from the database.
 */
import type { Role } from '../../protocol/workspace/common';
import { LIMITS } from '../../protocol/workspace/common';
import type { ClientSignalFrame } from '../../protocol/workspace/frames';
import type { StoredEvent } from '../db/writeQueue';
import type { Logger } from '../log';
import type { SessionControl } from '../services/context';
import { eventFrame } from '../services/events';
import type { Services } from '../services/registry';
import { textFrame, type Connection, type WireEvent } from './connection';

function wireEvent(seq: number, json: string): WireEvent {
  const frame = Buffer.from(json);
  return { seq, frame, wire: textFrame(frame) };
}

/** The heartbeat tick runs this many times per interval, each time for one slice of the connections. */
export const HEARTBEAT_SLICES = 10;

export class Hub implements SessionControl {
  private readonly conns = new Map<string, Connection>();
  private readonly byWorkspace = new Map<string, Set<Connection>>();
  private readonly byInstance = new Map<string, Set<Connection>>();
  /** Highest seq fanned out per workspace. */
  private readonly published = new Map<string, number>();
  private services: Services | undefined;
  /** Per workspace: the fan-out waiting for a gap to be read from the database (later events queue behind it). */
  private readonly filling = new Map<string, Promise<void>>();
  private tickCount = 0;
  /** Set with several nodes: revocations and role changes arrive as events from any node and act on the sockets here. */
  crossNode = false;
  /** With several nodes: relays a signalling frame whose peer has no socket here. */
  remoteSignal: ((from: Connection, f: ClientSignalFrame) => Promise<void>) | undefined;
  private nextSlot = 0;

  constructor(
    private readonly log: Logger,
    private readonly heartbeatIntervalMs: number,
  ) {}

  bind(services: Services): void {
    this.services = services;
  }

  private svc(): Services {
    if (!this.services) throw new Error('hub not bound');
    return this.services;
  }

  get size(): number {
    return this.conns.size;
  }

  /** Workspaces with sockets on this node. */
  workspaces(): string[] {
    return [...this.byWorkspace.keys()];
  }

  hasWorkspace(workspaceId: string): boolean {
    return this.byWorkspace.has(workspaceId);
  }

  /** The highest seq fanned out here in a workspace (undefined before the first). */
  publishedSeq(workspaceId: string): number | undefined {
    return this.published.get(workspaceId);
  }

  connection(id: string): Connection | undefined {
    return this.conns.get(id);
  }

  add(conn: Connection): void {
    conn.slot = this.nextSlot++;
    this.conns.set(conn.id, conn);
    const ws = conn.access.workspaceId;
    if (!this.byWorkspace.has(ws)) this.byWorkspace.set(ws, new Set());
    this.byWorkspace.get(ws)?.add(conn);
    const iid = conn.access.instanceId;
    if (iid) {
      let set = this.byInstance.get(iid);
      if (!set) this.byInstance.set(iid, (set = new Set()));
      set.add(conn);
      if (set.size === 1) void this.presence(ws, iid, 'online');
    }
  }

  remove(conn: Connection): void {
    if (!this.conns.delete(conn.id)) return;
    const ws = conn.access.workspaceId;
    const set = this.byWorkspace.get(ws);
    set?.delete(conn);
    if (set?.size === 0) this.byWorkspace.delete(ws);
    const iid = conn.access.instanceId;
    if (iid) {
      const s = this.byInstance.get(iid);
      s?.delete(conn);
      if (s?.size === 0) {
        this.byInstance.delete(iid);
        void this.presence(ws, iid, 'offline');
      }
    }
  }

  private async presence(workspaceId: string, instanceId: string, change: 'online' | 'heartbeat' | 'offline'): Promise<void> {
    try {
      await this.svc().instances.presence(workspaceId, instanceId, change);
    } catch (err) {
      this.log.warn('presence update failed', { instanceId, err: err instanceof Error ? err : String(err) });
    }
  }

  heartbeatFrom(conn: Connection): void {
    if (conn.access.instanceId) void this.presence(conn.access.workspaceId, conn.access.instanceId, 'heartbeat');
  }

  // --- fan-out --------------------------------------------------------------------------------------
  publish(events: StoredEvent[]): void {
    let i = 0;
    while (i < events.length) {
      const ws = events[i].workspaceId;
      let j = i;
      while (j < events.length && events[j].workspaceId === ws) j++;
      this.publishWorkspace(ws, events.slice(i, j));
      i = j;
    }
  }

  /**
   * Fans out committed events of one workspace in seq order. Events above a gap (committed by another
   * process or node and not seen yet) wait for the gap to be read from the database; so do later events.
   */
  private publishWorkspace(workspaceId: string, events: StoredEvent[]): void {
    const busy = this.filling.get(workspaceId);
    if (busy) {
      this.queueFill(
        workspaceId,
        busy.then(() => this.publishKnown(workspaceId, events)),
      );
      return;
    }
    const known = this.published.get(workspaceId);
    if (known !== undefined && events[0].seq > known + 1 && this.byWorkspace.has(workspaceId)) {
      this.queueFill(workspaceId, this.publishKnown(workspaceId, events));
      return;
    }
    this.send(workspaceId, events);
  }

  private queueFill(workspaceId: string, p: Promise<void>): void {
    const done = p.catch((err: unknown) => this.log.error('event gap fill failed', { workspaceId, err: err instanceof Error ? err : String(err) }));
    const tail = done.finally(() => {
      if (this.filling.get(workspaceId) === tail) this.filling.delete(workspaceId);
    });
    this.filling.set(workspaceId, tail);
  }

  /** Reads what lies between the last fanned-out seq and `events` from the database, then sends both. */
  private async publishKnown(workspaceId: string, events: StoredEvent[]): Promise<void> {
    const known = this.published.get(workspaceId) ?? 0;
    const first = events[0].seq;
    const fresh = events.filter((e) => e.seq > known);
    if (!fresh.length) return;
    const missed = first > known + 1 ? await this.svc().events.after(workspaceId, known, first - known - 1, first - 1) : [];
    this.send(workspaceId, [...missed.filter((e) => e.seq > (this.published.get(workspaceId) ?? 0)), ...fresh]);
  }

  private send(workspaceId: string, events: StoredEvent[]): void {
    const known = this.published.get(workspaceId);
    if (known !== undefined) events = events.filter((e) => e.seq > known);
    if (!events.length) return;
    this.published.set(workspaceId, Math.max(known ?? 0, events[events.length - 1].seq));
    const conns = this.byWorkspace.get(workspaceId);
    if (!conns) return;
    const framed = events.map((e) => wireEvent(e.seq, eventFrame(e))); // encoded once for every connection
    for (const c of conns) {
      if (!c.ready) continue;
      try {
        c.sendEvents(framed);
      } catch (err) {
        this.log.error('event fan-out failed for a connection', { conn: c.id, err: err instanceof Error ? err : String(err) });
        c.close('internal', 'internal error');
      }
    }
    if (this.crossNode) for (const e of events) this.effect(workspaceId, e);
  }

  /** What an event committed on any node means for the sockets here (the committing node has done it already; doing it twice is harmless). */
  private effect(workspaceId: string, e: StoredEvent): void {
    if (e.name === 'member.removed') {
      this.closeMember(workspaceId, (JSON.parse(e.data) as { memberId: string }).memberId, 'membership revoked');
    } else if (e.name === 'instance.removed') {
      this.closeInstance((JSON.parse(e.data) as { instanceId: string }).instanceId, 'instance revoked');
    } else if (e.name === 'member.updated') {
      const m = (JSON.parse(e.data) as { member: { id: string; role: Role } }).member;
      this.setRole(workspaceId, m.id, m.role);
    }
  }

  /** Picks up commits made by another process (admin CLI) and fans them out. */
  async pollExternalWrites(): Promise<void> {
    const s = this.svc();
    if (!(await s.ctx.db.externalWrites())) return;
    for (const ws of [...this.byWorkspace.keys()]) await this.catchUp(ws);
  }

  /** Fans out what the database holds beyond the last seq this process fanned out in a workspace. */
  async catchUp(workspaceId: string): Promise<void> {
    const s = this.svc();
    const known = this.published.get(workspaceId) ?? (await s.events.head(workspaceId));
    if (!this.published.has(workspaceId)) this.published.set(workspaceId, known);
    const missed = await s.events.after(workspaceId, known, 10_000);
    if (missed.length) this.publishWorkspace(workspaceId, missed);
  }

  // --- resume -------------------------------------------------------------------------------------
  /**
   * The highest seq fanned out in a workspace: events committed but not yet durable are above it and
   * arrive live once they are.
   */
  async headSeq(workspaceId: string): Promise<number> {
    const head = this.published.get(workspaceId);
    if (head !== undefined) return head;
    const fromDb = await this.svc().events.head(workspaceId);
    const now = this.published.get(workspaceId); // a publish may have come first
    if (now !== undefined) return now;
    this.published.set(workspaceId, fromDb);
    return fromDb;
  }

  /**
   * Hello: the caller set `conn.replaying` (live events queue on the connection from then on) and sent
   * `welcome` with `head`. Replays (lastSeq, head] from the database, then the queued live events.
   */
  async resume(conn: Connection, lastSeq: number | null | undefined, head: number): Promise<void> {
    const s = this.svc();
    const ws = conn.access.workspaceId;
    if (lastSeq === null || lastSeq === undefined || lastSeq === head) {
      conn.lastSentSeq = head;
      conn.replaying = false;
      conn.send({ type: 'resumed', fromSeq: head, toSeq: head, count: 0 });
      conn.sendEvents(conn.takePending());
      return;
    }
    if (lastSeq > head || (await s.events.hasGap(ws, lastSeq, head))) {
      conn.lastSentSeq = head;
      conn.replaying = false;
      conn.send({ type: 'resync', reason: lastSeq > head ? 'seq_ahead' : 'gap_too_old', headSeq: head });
      conn.sendEvents(conn.takePending());
      return;
    }
    conn.replaying = true;
    let cursor = lastSeq;
    let count = 0;
    try {
      while (cursor < head && !conn.closed) {
        const page = await s.events.after(ws, cursor, LIMITS.resumePageSize, head);
        if (!page.length) break;
        await new Promise<void>((resolve) => {
          const done = () => {
            conn.ws.off('close', done);
            resolve();
          };
          conn.ws.once('close', done);
          page.forEach((e, k) => conn.send(eventFrame(e), k === page.length - 1 ? done : undefined));
          if (conn.closed) done();
        });
        cursor = page[page.length - 1].seq;
        count += page.length;
      }
    } finally {
      conn.lastSentSeq = head;
      conn.replaying = false;
    }
    conn.send({ type: 'resumed', fromSeq: lastSeq, toSeq: head, count });
    conn.sendEvents(conn.takePending());
  }

  // --- heartbeats ------------------------------------------------------------------------------------
  /**
   * Runs HEARTBEAT_SLICES times per heartbeat interval and serves one slice of the connections each
   * time, so a large workspace never gets every heartbeat (and ping) in one burst in front of its
   * events. Each connection: token expired → 4401; silent for 3 intervals → 4408; else a heartbeat
   * frame with the head seq, plus a ping when it sent nothing during the last interval.
   */
  tick(): void {
    const s = this.svc();
    const now = Date.now();
    const clockNow = s.ctx.now();
    const slice = this.tickCount++ % HEARTBEAT_SLICES;
    // One heartbeat frame per head seq in this tick, built once and written as is to every socket it is for.
    const frames = new Map<number, WireEvent>();
    const heartbeat = (headSeq: number): WireEvent => {
      let f = frames.get(headSeq);
      if (!f) frames.set(headSeq, (f = wireEvent(headSeq, `{"type":"heartbeat","ts":${clockNow},"headSeq":${headSeq}}`)));
      return f;
    };
    for (const c of [...this.conns.values()]) {
      if (c.slot % HEARTBEAT_SLICES !== slice) continue;
      if (clockNow >= c.tokenExp) {
        c.close('unauthorized', 'token expired');
      } else if (now - c.lastReceivedAt > 3 * this.heartbeatIntervalMs) {
        c.close('heartbeatTimeout', 'heartbeat timeout');
      } else if (c.ready) {
        const headSeq = this.published.get(c.access.workspaceId) ?? 0;
        c.sendWire(heartbeat(Math.max(headSeq, c.lastSentSeq)));
        if (now - c.lastReceivedAt > this.heartbeatIntervalMs && c.ws.readyState === c.ws.OPEN) c.ws.ping();
      }
    }
  }

  // --- SessionControl ---------------------------------------------------------------------------------
  closeMember(workspaceId: string, memberId: string, reason: string): void {
    for (const c of [...(this.byWorkspace.get(workspaceId) ?? [])]) if (c.access.memberId === memberId) c.close('forbidden', reason);
  }

  closeSignIn(signInId: string, reason: string): void {
    if (!signInId) return;
    for (const c of [...this.conns.values()]) if (c.signInId !== undefined && c.signInId === signInId) c.close('unauthorized', reason);
  }

  closeInstance(instanceId: string, reason: string): void {
    for (const c of [...(this.byInstance.get(instanceId) ?? [])]) c.close('forbidden', reason);
  }

  closeWorkspace(workspaceId: string, reason: string): void {
    for (const c of [...(this.byWorkspace.get(workspaceId) ?? [])]) c.close('forbidden', reason);
    this.published.delete(workspaceId);
  }

  setRole(workspaceId: string, memberId: string, role: Role): void {
    for (const c of this.byWorkspace.get(workspaceId) ?? []) if (c.access.memberId === memberId) c.access = { ...c.access, role };
  }

  isInstanceConnected(instanceId: string): Promise<boolean> {
    return Promise.resolve(this.isLocal(instanceId));
  }

  isLocal(instanceId: string): boolean {
    return (this.byInstance.get(instanceId)?.size ?? 0) > 0;
  }

  /** Connections of a desktop instance in a workspace, newest last. */
  instanceConnections(workspaceId: string, instanceId: string): Connection[] {
    return [...(this.byInstance.get(instanceId) ?? [])].filter((c) => c.access.workspaceId === workspaceId && c.ready);
  }

  shutdown(reason: string): void {
    for (const c of [...this.conns.values()]) {
      c.send({ type: 'shutdown', reason, restartExpected: true });
      c.close('shutdown', reason);
    }
  }
}

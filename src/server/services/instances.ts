/**
 * Instances: a gateway or cloud desktop registers and receives an instance id, an instance secret
 * (sealed at rest; provider-key blobs for it are keyed from it) and a long-lived workspace token
 * (only its SHA-256 is stored). Presence: online while a WSS connection of the instance is open (or a
 * REST heartbeat arrived within three heartbeat intervals); the last heartbeat time is persisted.
 * Cloud desktops also report a status (persisted; a change is an `instance.updated` event) and
 * heartbeat metrics (memory only: the latest wins), and take lifecycle commands from Owners and Admins
 * (audited; delivered as `instance.command` events; terminate also deregisters the instance).
 */
import type { z } from 'zod';
import { roleHas } from '../../protocol/workspace/common';
import type { LifecycleAction } from '../../protocol/workspace/common';
import type { Instance, InstanceMetrics } from '../../protocol/workspace/models';
import type {
  instanceHeartbeatResponseSchema,
  instanceLifecycleResponseSchema,
  instanceReportRequestSchema,
  registerInstanceRequestSchema,
  registerInstanceResponseSchema,
} from '../../protocol/workspace/rest';
import { hashToken, newId, newOpaqueToken } from '../crypto/tokens';
import { ApiError, forbidden, notFound } from '../errors';
import { actorOf, type Access } from './access';
import { audit } from './audit';
import { iso, type ServerContext } from './context';
import { idempotent, type IdempotencyKey, type Reply } from './idempotency';
import { toInstance, type InstanceRow } from './rows';

const COLUMNS = 'id, workspace_id, member_id, name, platform, version, kind, created_at, last_heartbeat_at, status, status_reason, label';

export class Instances {
  /** Last REST heartbeat per instance (memory: after a restart, instances simply beat again). */
  private readonly restBeats = new Map<string, number>();
  /** Latest heartbeat metrics per instance (memory only). */
  private readonly metrics = new Map<string, InstanceMetrics>();

  constructor(private readonly ctx: ServerContext) {}

  private async online(r: InstanceRow): Promise<boolean> {
    if (await this.ctx.sessions.isInstanceConnected(r.id)) return true;
    const beat = this.restBeats.get(r.id);
    return beat !== undefined && this.ctx.now() - beat < 3 * this.ctx.settings.heartbeatIntervalMs;
  }

  async view(r: InstanceRow): Promise<Instance> {
    return toInstance(r, await this.online(r), this.metrics.get(r.id) ?? null);
  }

  register(
    a: Access,
    req: z.infer<typeof registerInstanceRequestSchema>,
    idem: IdempotencyKey | undefined,
  ): Promise<Reply<z.infer<typeof registerInstanceResponseSchema>>> {
    return this.ctx.queue.run(async (tx) =>
      idempotent(tx, idem, this.ctx.box, true, async () => {
        const id = newId('ins');
        const instanceSecret = newOpaqueToken('mcis');
        const workspaceToken = newOpaqueToken('mcw');
        const row: InstanceRow = {
          id,
          workspace_id: a.workspaceId,
          member_id: a.memberId,
          name: req.name,
          platform: req.platform,
          version: req.version,
          kind: req.kind,
          created_at: tx.now,
          last_heartbeat_at: null,
          status: 'online',
          status_reason: null,
          label: null,
        };
        await tx.db.run(
          'INSERT INTO instances (id, workspace_id, member_id, name, platform, version, kind, secret_sealed, token_hash, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
          id,
          a.workspaceId,
          a.memberId,
          req.name,
          req.platform,
          req.version,
          req.kind,
          this.ctx.box.seal(instanceSecret, `instance:${id}`),
          hashToken(workspaceToken),
          tx.now,
        );
        const instance = toInstance(row, false);
        await audit(tx, a.workspaceId, actorOf(a), 'instance.registered', { type: 'instance', id }, { name: req.name, kind: req.kind });
        tx.emit(a.workspaceId, 'instance.registered', { instance });
        return { status: 201, body: { instance, instanceSecret, workspaceToken } };
      }),
    );
  }

  async list(a: Access): Promise<{ instances: Instance[] }> {
    const rows = (await this.ctx.db.all(`SELECT ${COLUMNS} FROM instances WHERE workspace_id = ? ORDER BY created_at`, a.workspaceId)) as InstanceRow[];
    return { instances: await Promise.all(rows.map((r) => this.view(r))) };
  }

  async remove(a: Access, instanceId: string, idem: IdempotencyKey | undefined): Promise<Reply> {
    const reply = await this.ctx.queue.run(async (tx) =>
      idempotent(tx, idem, this.ctx.box, false, async () => {
        const r = (await tx.db.get(`SELECT ${COLUMNS} FROM instances WHERE id = ? AND workspace_id = ?`, instanceId, a.workspaceId)) as InstanceRow | undefined;
        if (!r) throw notFound('instance');
        if (r.member_id !== a.memberId && !roleHas(a.role, 'members.manage')) throw forbidden('only its member or an Owner/Admin can remove an instance');
        await tx.db.run('DELETE FROM instances WHERE id = ?', instanceId);
        await audit(tx, a.workspaceId, actorOf(a), 'instance.removed', { type: 'instance', id: instanceId });
        tx.emit(a.workspaceId, 'instance.removed', { instanceId });
        return { status: 200, body: { ok: true } };
      }),
    );
    if (reply.status < 300) this.forget(instanceId, 'instance revoked');
    return reply;
  }

  private forget(instanceId: string, reason: string): void {
    this.metrics.delete(instanceId);
    this.restBeats.delete(instanceId);
    this.ctx.sessions.closeInstance(instanceId, reason);
  }

  /** The calling instance's status, reason, label and metrics; a change of the first three is an event. */
  async report(a: Access, req: z.infer<typeof instanceReportRequestSchema>): Promise<{ instance: Instance }> {
    if (!a.instanceId) throw forbidden('only an instance reports its status');
    const id = a.instanceId;
    if (req.metrics) this.metrics.set(id, req.metrics);
    const row = await this.ctx.queue.run(async (tx) => {
      const r = (await tx.db.get(`SELECT ${COLUMNS} FROM instances WHERE id = ?`, id)) as InstanceRow | undefined;
      if (!r) throw notFound('instance');
      const next: InstanceRow = {
        ...r,
        status: req.status,
        status_reason: req.reason === undefined ? (req.status === r.status ? r.status_reason : null) : req.reason,
        label: req.label === undefined ? r.label : req.label,
      };
      if (next.status === r.status && next.status_reason === r.status_reason && next.label === r.label) return r;
      await tx.db.run('UPDATE instances SET status = ?, status_reason = ?, label = ? WHERE id = ?', next.status, next.status_reason, next.label, id);
      tx.emit(a.workspaceId, 'instance.updated', { instance: await this.view(next) });
      return next;
    });
    return { instance: await this.view(row) };
  }

  /** Heartbeat metrics (memory only). */
  recordMetrics(instanceId: string, m: InstanceMetrics): void {
    this.metrics.set(instanceId, m);
  }

  /**
   * Start, Stop, Restart or Terminate a cloud desktop (Owners and Admins), audited. The desktop gets an
   * `instance.command` event and reports its status as it carries it out. Terminate also deregisters the
   * instance (its token stops working, its sockets close after the command went out).
   */
  async lifecycle(
    a: Access,
    instanceId: string,
    action: LifecycleAction,
    idem: IdempotencyKey | undefined,
  ): Promise<Reply<z.infer<typeof instanceLifecycleResponseSchema>>> {
    const reply = await this.ctx.queue.run(async (tx) =>
      idempotent(tx, idem, this.ctx.box, false, async (): Promise<Reply<z.infer<typeof instanceLifecycleResponseSchema>>> => {
        if (!roleHas(a.role, 'members.manage')) throw forbidden('only Owners and Admins can start, stop, restart or terminate a cloud desktop');
        const r = (await tx.db.get(`SELECT ${COLUMNS} FROM instances WHERE id = ? AND workspace_id = ?`, instanceId, a.workspaceId)) as InstanceRow | undefined;
        if (!r) throw notFound('instance');
        if (r.kind !== 'desktop') throw new ApiError('conflict', 'only cloud desktops have a lifecycle; remove a gateway instead');
        if (action !== 'terminate' && !(await this.online(r))) throw new ApiError('conflict', `${r.name} is offline: start its machine first`);
        const commandId = newId('cmd');
        await audit(tx, a.workspaceId, actorOf(a), `instance.${action}`, { type: 'instance', id: instanceId }, { name: r.name, commandId });
        tx.emit(a.workspaceId, 'instance.command', { instanceId, commandId, action, by: a.memberId });
        if (action === 'terminate') {
          await tx.db.run('DELETE FROM instances WHERE id = ?', instanceId);
          tx.emit(a.workspaceId, 'instance.removed', { instanceId });
          return { status: 200, body: { instance: null, commandId, action } };
        }
        return { status: 200, body: { instance: await this.view(r), commandId, action } };
      }),
    );
    if (action === 'terminate' && reply.status < 300 && !reply.replayed) this.forget(instanceId, 'instance terminated');
    return reply;
  }

  async heartbeat(a: Access, metrics?: InstanceMetrics): Promise<z.infer<typeof instanceHeartbeatResponseSchema>> {
    if (metrics && a.instanceId) this.metrics.set(a.instanceId, metrics);
    if (!a.instanceId) throw forbidden('heartbeats come from instances');
    const id = a.instanceId;
    const row = await this.ctx.queue.run(async (tx) => {
      await tx.db.run('UPDATE instances SET last_heartbeat_at = ? WHERE id = ?', tx.now, id);
      return (await tx.db.get(`SELECT ${COLUMNS} FROM instances WHERE id = ?`, id)) as InstanceRow | undefined;
    });
    if (!row) throw notFound('instance');
    this.restBeats.set(id, this.ctx.now());
    return { serverTime: iso(this.ctx.now()), instance: await this.view(row) };
  }

  /** WSS presence: first connection of an instance (online), a heartbeat, or its last connection closing (offline). */
  /**
   * WSS presence: first connection of an instance on this node (online), a heartbeat, or its last
   * connection here closing (offline). With several nodes the node's session row is written too, and
   * the event says what holds across the cluster: online on the first node, offline when no live node
   * holds a socket any more (the instance row, updated first, serialises nodes racing on one instance).
   */
  presence(workspaceId: string, instanceId: string, change: 'online' | 'heartbeat' | 'offline'): Promise<void> {
    const cluster = this.ctx.cluster;
    return this.ctx.queue.run(async (tx) => {
      const updated = await tx.db.run(
        'UPDATE instances SET last_heartbeat_at = COALESCE(?, last_heartbeat_at) WHERE id = ?',
        change === 'offline' ? null : tx.now,
        instanceId,
      );
      if (change === 'heartbeat' || !updated.changes) return;
      if (cluster) {
        if (change === 'online') {
          await tx.db.run(
            'INSERT INTO instance_sessions (instance_id, node_id, workspace_id, since) VALUES (?, ?, ?, ?) ON CONFLICT (instance_id, node_id) DO NOTHING',
            instanceId,
            cluster.nodeId,
            workspaceId,
            tx.now,
          );
        } else {
          await tx.db.run('DELETE FROM instance_sessions WHERE instance_id = ? AND node_id = ?', instanceId, cluster.nodeId);
        }
        const others = (await tx.db.get(
          'SELECT COUNT(*) AS n FROM instance_sessions s JOIN nodes n ON n.id = s.node_id WHERE s.instance_id = ? AND s.node_id <> ? AND n.last_seen > ?',
          instanceId,
          cluster.nodeId,
          tx.now - cluster.staleMs,
        )) as { n: number };
        if (others.n > 0) return; // another node holds a socket of it: nothing changed for the cluster
      }
      const r = (await tx.db.get('SELECT last_heartbeat_at FROM instances WHERE id = ?', instanceId)) as { last_heartbeat_at: number | null };
      tx.emit(workspaceId, 'instance.presence', {
        instanceId,
        online: change === 'online',
        lastHeartbeatAt: r.last_heartbeat_at === null ? null : iso(r.last_heartbeat_at),
      });
    });
  }

  /** The instance secret, unsealed in memory to re-encrypt provider keys for it. */
  async secretOf(instanceId: string): Promise<string> {
    const r = (await this.ctx.db.get('SELECT secret_sealed FROM instances WHERE id = ?', instanceId)) as { secret_sealed: string } | undefined;
    if (!r) throw notFound('instance');
    return this.ctx.box.open(r.secret_sealed, `instance:${instanceId}`);
  }
}

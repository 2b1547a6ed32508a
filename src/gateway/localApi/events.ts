/**
 * `GET /v1/events` (WebSocket): pushes task and gateway events (localEventSchema) to every client that
 * passed the guard. Frames carry a per-socket `seq`. A client that does not read (more than
 * `wsMaxBufferedBytes` queued) is closed 1008 "slow consumer"; one that misses a heartbeat pong is
 * dropped. Messages from clients are ignored (frames over 64 KiB close the socket, 1009).
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import { LOCAL_API_LIMITS, LOCAL_API_VERSION, type LocalEvent } from '../../protocol/localApi';
import type { Logger } from '../ports';
import type { TaskService } from '../tasks/taskService';
import { Disposable, toDisposable } from '../util/disposable';
import type { LocalApiHost, LocalApiLimits } from './types';

type EventBody = LocalEvent extends infer E ? (E extends LocalEvent ? Omit<E, 'seq'> : never) : never;

interface Client {
  ws: WebSocket;
  seq: number;
  alive: boolean;
}

export class EventHub extends Disposable {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: LOCAL_API_LIMITS.wsFrameBytes, perMessageDeflate: false, clientTracking: false });
  private readonly clients = new Set<Client>();

  constructor(
    gateway: LocalApiHost,
    tasks: TaskService,
    private readonly limits: LocalApiLimits,
    private readonly log: Logger,
  ) {
    super();
    this._register(
      gateway.onDidChangeState((e) =>
        this.broadcast(e.error ? { type: 'gateway.state', state: e.state, error: e.error } : { type: 'gateway.state', state: e.state }),
      ),
    );
    this._register(gateway.onDidChangeAgents(() => this.broadcast({ type: 'agents.changed' })));
    this._register(tasks.onDidChange((c) => this.broadcast({ type: c.kind === 'created' ? 'task.created' : 'task.updated', task: c.task })));
    this._register(tasks.onDidOutput((o) => this.broadcast({ type: 'task.output', taskId: o.taskId, text: o.text })));
    this._register(
      gateway.onDidChangeApprovals((c) =>
        this.broadcast(
          c.kind === 'requested' ? { type: 'approval.requested', request: c.request } : { type: 'approval.resolved', request: c.request, decision: c.decision },
        ),
      ),
    );
    const timer = setInterval(() => this.heartbeat(), limits.wsHeartbeatMs);
    timer.unref();
    this._register(toDisposable(() => clearInterval(timer)));
  }

  get size(): number {
    return this.clients.size;
  }

  /** Completes an upgrade that passed the guard. */
  accept(req: IncomingMessage, socket: Duplex, head: Buffer, state: string): void {
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      if (this.isDisposed) {
        ws.close(1001, 'gateway stopping');
        return;
      }
      const client: Client = { ws, seq: 0, alive: true };
      this.clients.add(client);
      ws.on('pong', () => {
        client.alive = true;
      });
      ws.on('error', (err) => this.log.debug(`events socket error: ${err.message}`));
      ws.on('close', () => this.clients.delete(client));
      this.send(client, { type: 'hello', apiVersion: LOCAL_API_VERSION, state });
    });
  }

  broadcast(body: EventBody): void {
    for (const c of this.clients) this.send(c, body);
  }

  private send(c: Client, body: EventBody): void {
    if (c.ws.readyState !== WebSocket.OPEN) return;
    if (c.ws.bufferedAmount > this.limits.wsMaxBufferedBytes) {
      this.log.warn('closing an events socket that does not read (slow consumer)');
      this.clients.delete(c);
      c.ws.close(1008, 'slow consumer');
      return;
    }
    let text: string;
    try {
      text = JSON.stringify({ ...body, seq: c.seq + 1 });
    } catch (err) {
      this.log.warn(`an event could not be encoded (${err instanceof Error ? err.message : String(err)}); not sent`);
      return;
    }
    c.seq++;
    c.ws.send(text);
  }

  private heartbeat(): void {
    for (const c of this.clients) {
      if (!c.alive) {
        this.clients.delete(c);
        c.ws.terminate();
        continue;
      }
      c.alive = false;
      c.ws.ping();
    }
  }

  /** Tells clients the gateway is stopping and closes them (1001). */
  override dispose(): void {
    if (this.isDisposed) return;
    for (const c of this.clients) {
      this.send(c, { type: 'gateway.state', state: 'stopping' });
      c.ws.close(1001, 'gateway stopping');
    }
    this.clients.clear();
    this.wss.close();
    super.dispose();
  }
}

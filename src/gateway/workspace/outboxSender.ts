/**
 * Delivers the outbox over the WSS session: oldest first, at most one update in flight per task (so
 * each task's updates land in order even when a socket drops mid-request), several tasks at once.
 * An interrupted request is resent, with the same idempotency key, when the session is back; a
 * permanent refusal (the task was cancelled meanwhile, a validation error) settles the update with a
 * warning instead of blocking the queue.
 */
import type { Logger } from '../ports';
import { Disposable, Emitter, type Event } from '../util/disposable';
import type { LinkSession } from './linkSession';
import type { Outbox, OutboxItem } from './outbox';
import { RpcError } from './wsConnection';

export interface Delivery {
  item: OutboxItem;
  /** The server's answer (a replay of the stored one when it had seen the key). */
  result?: unknown;
  /** Set when the server refused it for good. */
  error?: RpcError;
}

export class OutboxSender extends Disposable {
  private readonly inFlight = new Set<string>();
  private readonly notBefore = new Map<string, { at: number; failures: number }>();
  private timer: NodeJS.Timeout | undefined;
  private _delivered = 0;
  private readonly deliverEmitter = this._register(new Emitter<Delivery>());
  readonly onDidDeliver: Event<Delivery> = this.deliverEmitter.event;

  constructor(
    private readonly outbox: Outbox,
    private readonly session: LinkSession,
    private readonly log: Logger,
    private readonly maxInFlight = 32,
  ) {
    super();
    this._register(outbox.onDidEnqueue(() => this.pump()));
    this._register(session.onDidChangeState((s) => s.phase === 'connected' && this.pump()));
  }

  get delivered(): number {
    return this._delivered;
  }

  pump(): void {
    if (this.isDisposed || !this.session.isConnected) return;
    const now = Date.now();
    const seen = new Set<string>();
    let wake = Infinity;
    for (const item of this.outbox.pending()) {
      if (this.inFlight.size >= this.maxInFlight) break;
      if (seen.has(item.taskId)) continue;
      seen.add(item.taskId);
      if (this.inFlight.has(item.taskId)) continue;
      const nb = this.notBefore.get(item.taskId);
      if (nb && nb.at > now) {
        wake = Math.min(wake, nb.at);
        continue;
      }
      this.send(item);
    }
    if (wake !== Infinity && !this.timer) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.pump();
      }, wake - now);
    }
  }

  private send(item: OutboxItem): void {
    this.inFlight.add(item.taskId);
    this.session
      .request(item.method, { taskId: item.taskId, ...item.params }, item.key)
      .then(
        (result) => {
          this.notBefore.delete(item.taskId);
          this._delivered++;
          this.outbox.settle(item.id);
          this.deliverEmitter.fire({ item, result });
        },
        (err: unknown) => {
          if (err instanceof RpcError && err.permanent) {
            this.log.warn(`the workspace refused ${item.method} for task ${item.taskId} (${err.code}: ${err.message}); dropped`);
            this.outbox.settle(item.id);
            this.deliverEmitter.fire({ item, error: err });
          } else if (err instanceof RpcError) {
            const prev = this.notBefore.get(item.taskId)?.failures ?? 0;
            const delay = Math.min(30_000, 1000 * 2 ** prev);
            this.notBefore.set(item.taskId, { at: Date.now() + delay, failures: prev + 1 });
            this.log.info(`${item.method} for task ${item.taskId} failed (${err.code}); retrying in ${delay} ms`);
          }
          // Interrupted (socket gone, timeout): it stays queued and goes out again on the next connection.
        },
      )
      .finally(() => {
        this.inFlight.delete(item.taskId);
        this.pump();
      });
  }

  override dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    super.dispose();
  }
}

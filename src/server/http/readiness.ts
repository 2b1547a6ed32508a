/**
 * Health and readiness of one node. `health()` is liveness: it answers from memory (never from the
 * database), so an orchestrator restarts a node only when the process itself is stuck. `check()` is
 * readiness, for a load balancer: the database must answer `SELECT 1` within PING_TIMEOUT_MS, the
 * LISTEN connection must be up (PostgreSQL: without it other nodes' events arrive only through the
 * head poll), and the node must not be draining (SIGTERM).
 */
import type { z } from 'zod';
import { PROTOCOL_VERSION } from '../../protocol/workspace/common';
import type { healthResponseSchema, readyResponseSchema } from '../../protocol/workspace/rest';
import { clip } from '../../protocol/jsonLimits';
import type { Store } from '../db/store';

export const PING_TIMEOUT_MS = 2000;

/** What readiness needs from the cluster part of a node (ClusterNode). */
export interface ListenState {
  readonly nodeId: string;
  readonly listening: boolean;
  readonly hintsReceived: number;
}

export type Health = z.infer<typeof healthResponseSchema>;
export type Ready = z.infer<typeof readyResponseSchema>;

export class Readiness {
  /** Set when the node starts draining (close()): readiness answers 503 from then on. */
  draining = false;

  constructor(
    private readonly db: Pick<Store, 'dialect' | 'get'>,
    private readonly version: string,
    private readonly cluster: ListenState | undefined,
  ) {}

  health(): Health {
    return {
      ok: true,
      protocol: PROTOCOL_VERSION,
      version: this.version,
      node: this.cluster?.nodeId ?? null,
      database: this.db.dialect,
      listening: this.cluster ? this.cluster.listening : null,
    };
  }

  async check(): Promise<{ status: number; body: Ready }> {
    const database = await this.ping();
    const listen = this.cluster ? { ok: this.cluster.listening, hintsReceived: this.cluster.hintsReceived } : null;
    const ready = database.ok && (listen?.ok ?? true) && !this.draining;
    return {
      status: ready ? 200 : 503,
      body: { ready, draining: this.draining, node: this.cluster?.nodeId ?? null, database, listen },
    };
  }

  private async ping(): Promise<Ready['database']> {
    const engine = this.db.dialect;
    const started = performance.now();
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.db.get('SELECT 1 AS ok'),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${PING_TIMEOUT_MS} ms`)), PING_TIMEOUT_MS);
          timer.unref();
        }),
      ]);
      return { engine, ok: true, ms: Math.round((performance.now() - started) * 100) / 100 };
    } catch (err) {
      return { engine, ok: false, ms: null, error: clip(err instanceof Error ? err.message || (err as { code?: string }).code || err.name : String(err), 200) };
    } finally {
      clearTimeout(timer);
    }
  }
}

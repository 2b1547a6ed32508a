/**
 * Approval requests: the loop asks, anyone with a way to the user answers (the chat card, the
 * local API, the CLI, a notification). A request waits until it is resolved or its turn is
 * stopped (then it counts as denied, and the call as interrupted). "Always allow" stores the
 * request's suggested rule for the workspace through the RulesStore.
 */
import { randomUUID } from 'node:crypto';
import type { ApprovalDecision, ApprovalRequest } from '../../protocol/agent';
import type { Logger } from '../ports';
import { Disposable, Emitter, type Event } from '../util/disposable';
import type { RulesStore } from './rulesStore';

export type ApprovalChange = { kind: 'requested'; request: ApprovalRequest } | { kind: 'resolved'; request: ApprovalRequest; decision: ApprovalDecision };

export interface ApprovalOutcome extends ApprovalDecision {
  /** The turn was stopped while it waited. */
  interrupted?: boolean;
}

interface Waiting {
  request: ApprovalRequest;
  folders: readonly string[];
  settle: (d: ApprovalOutcome) => void;
}

export class ApprovalBroker extends Disposable {
  private readonly waiting = new Map<string, Waiting>();
  private readonly onDidChangePendingEmitter = this._register(new Emitter<ApprovalChange>());
  readonly onDidChangePending: Event<ApprovalChange> = this.onDidChangePendingEmitter.event;

  constructor(
    private readonly rules: RulesStore,
    private readonly log: Logger,
  ) {
    super();
  }

  /** Asks; resolves with the decision, or a denial marked `interrupted` when `signal` aborts first. */
  request(req: Omit<ApprovalRequest, 'id' | 'ts'>, folders: readonly string[], signal: AbortSignal): Promise<ApprovalOutcome> {
    const request: ApprovalRequest = { ...req, id: randomUUID(), ts: Date.now() };
    if (signal.aborted) return Promise.resolve({ decision: 'deny', via: 'stop', interrupted: true });
    return new Promise<ApprovalOutcome>((resolve) => {
      const onAbort = (): void => {
        if (this.finish(request.id, { decision: 'deny', via: 'stop' })) resolve({ decision: 'deny', via: 'stop', interrupted: true });
      };
      this.waiting.set(request.id, {
        request,
        folders,
        settle: (d) => {
          signal.removeEventListener('abort', onAbort);
          resolve(d);
        },
      });
      signal.addEventListener('abort', onAbort);
      this.log.info(`approval ${request.id} requested: ${request.title} (${request.reason})`);
      this.onDidChangePendingEmitter.fire({ kind: 'requested', request });
    });
  }

  pending(): ApprovalRequest[] {
    return [...this.waiting.values()].map((w) => ({ ...w.request }));
  }

  get(id: string): ApprovalRequest | undefined {
    const w = this.waiting.get(id);
    return w && { ...w.request };
  }

  /** Answers a request; false when no such request waits. "Always" stores its suggested rule (allow only). */
  resolve(id: string, decision: ApprovalDecision): boolean {
    const w = this.waiting.get(id);
    if (!w) return false;
    if (decision.always && decision.decision === 'allow' && w.request.suggestedRule) {
      void this.rules.add(w.folders, w.request.suggestedRule);
      this.log.info(`rule stored for this workspace: ${w.request.suggestedRule}`);
    }
    this.finish(id, decision);
    w.settle(decision);
    return true;
  }

  private finish(id: string, decision: ApprovalDecision): boolean {
    const w = this.waiting.get(id);
    if (!w) return false;
    this.waiting.delete(id);
    this.log.info(`approval ${id} ${decision.decision === 'allow' ? 'granted' : 'denied'}${decision.via ? ` via ${decision.via}` : ''}`);
    this.onDidChangePendingEmitter.fire({ kind: 'resolved', request: w.request, decision });
    return true;
  }

  /** Denies everything still waiting (the gateway stops). */
  cancelAll(): void {
    for (const [id, w] of [...this.waiting]) {
      this.finish(id, { decision: 'deny', via: 'stop' });
      w.settle({ decision: 'deny', via: 'stop', interrupted: true });
    }
  }

  override dispose(): void {
    this.cancelAll();
    super.dispose();
  }
}

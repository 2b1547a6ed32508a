/**
 * The Gateway's agent API (approvals and reviewable changes), as a base class so gateway.ts stays
 * small. Its events outlive restarts, like the Gateway's others; the read helpers answer empty and
 * the actions do nothing while no agent runtime runs. Types only here: the runtime (zod, the
 * store) loads with the gateway's `start()`.
 */
import type { ApprovalDecision, ApprovalRequest, FileChange } from '../../protocol/agent';
import { Disposable, Emitter, type Event } from '../util/disposable';
import type { ApprovalChange } from './approvals';
import type { AgentRuntime } from './agentRuntime';
import type { ProjectRule } from './projectRules';

export type { ApprovalChange } from './approvals';

export interface FilesChange {
  conversationId: string;
  files: FileChange[];
}

export abstract class AgentGatewayBase extends Disposable {
  private agentRuntime: AgentRuntime | undefined;
  private readonly onDidChangeApprovalsEmitter = this._register(new Emitter<ApprovalChange>());
  /** An approval was requested or resolved (any conversation or task). */
  readonly onDidChangeApprovals: Event<ApprovalChange> = this.onDidChangeApprovalsEmitter.event;
  private readonly onDidChangeFilesEmitter = this._register(new Emitter<FilesChange>());
  /** A conversation's pending file changes changed (an edit, Keep, Undo, Revert). */
  readonly onDidChangeFiles: Event<FilesChange> = this.onDidChangeFilesEmitter.event;

  private readonly onDidChangeProjectRulesEmitter = this._register(new Emitter<void>());
  /** A rules file was switched on or off, changed on disk (as the host reports), or the team's rules changed. */
  readonly onDidChangeProjectRules: Event<void> = this.onDidChangeProjectRulesEmitter.event;

  /** Called by the gateway when its runtime starts (with it) and stops (undefined). */
  protected attachAgent(runtime: AgentRuntime | undefined): void {
    this.agentRuntime = runtime;
    if (!runtime) return;
    runtime.onDidChangeApprovals((e) => this.onDidChangeApprovalsEmitter.fire(e));
    runtime.onDidChangeFiles((e) => this.onDidChangeFilesEmitter.fire(e));
    runtime.projectRules.onDidChange(() => this.onDidChangeProjectRulesEmitter.fire());
    this.onDidChangeProjectRulesEmitter.fire();
  }

  /** The rules the next turn uses (AGENTS.md, `.multiclaw/rules/*.md`, the team's), with their state; [] while stopped. */
  async projectRules(): Promise<ProjectRule[]> {
    return (await this.agentRuntime?.projectRules.list()) ?? [];
  }

  /** Switches a workspace rules file on or off (persisted); false for team rules or while stopped. */
  async setProjectRuleEnabled(id: string, enabled: boolean): Promise<boolean> {
    return (await this.agentRuntime?.projectRules.setEnabled(id, enabled)) ?? false;
  }

  /** The host saw AGENTS.md or a file under `.multiclaw/rules` change. */
  projectRulesChanged(): void {
    this.agentRuntime?.projectRules.changed();
  }

  /** The agent runtime while the gateway runs with a workspace port (undefined otherwise). */
  get agentTools(): AgentRuntime | undefined {
    return this.agentRuntime;
  }

  pendingApprovals(): ApprovalRequest[] {
    return this.agentRuntime?.approvals.pending() ?? [];
  }

  /** Answers an approval request; false when none with that id waits. */
  resolveApproval(id: string, decision: ApprovalDecision): boolean {
    return this.agentRuntime?.approvals.resolve(id, decision) ?? false;
  }

  pendingChanges(conversationId?: string): FileChange[] {
    return this.agentRuntime?.changes.pending(conversationId) ?? [];
  }

  /** The content before the agent's pending edits (the diff's left side); undefined for a created file or none pending. */
  originalContent(path: string): string | undefined {
    return this.agentRuntime?.changes.original(path);
  }

  keepChange(path: string): boolean {
    return this.agentRuntime?.changes.keep(path) ?? false;
  }

  async undoChange(path: string): Promise<boolean> {
    return (await this.agentRuntime?.changes.undo(path)) ?? false;
  }

  keepAllChanges(conversationId: string): number {
    return this.agentRuntime?.changes.keepAll(conversationId) ?? 0;
  }

  async undoAllChanges(conversationId: string): Promise<number> {
    return (await this.agentRuntime?.changes.undoAll(conversationId)) ?? 0;
  }

  /** Restores every file the agent touched since `messageId` to its content at that point; the files restored. */
  async revertTo(conversationId: string, messageId: string): Promise<string[]> {
    return (await this.agentRuntime?.revertTo(conversationId, messageId)) ?? [];
  }
}

/**
 * The part of the Gateway the editor's agent UI uses: approvals and the files an agent changed
 * (pending review, checkpoints). Written as a structural type so the UI depends on what it calls,
 * not on the Gateway class; `Gateway` satisfies it.
 */
import type { ApprovalDecision, ApprovalRequest, FileChange } from '../../protocol/agent';
import type { Event } from '../../gateway/util/disposable';

export interface AgentGatewayApi {
  pendingApprovals(): readonly ApprovalRequest[];
  /** False when the request is no longer pending (answered elsewhere, or its turn stopped). */
  resolveApproval(id: string, decision: ApprovalDecision): boolean;
  readonly onDidChangeApprovals: Event<unknown>;
  /** Files pending review (of one conversation, or all). */
  pendingChanges(conversationId?: string): readonly FileChange[] | Promise<readonly FileChange[]>;
  /** A changed file's content before the agent's first unreviewed edit; undefined when the agent created it (or none is pending). */
  originalContent(path: string): string | undefined | Promise<string | undefined>;
  keepChange(path: string): unknown;
  undoChange(path: string): unknown;
  keepAllChanges(conversationId: string): unknown;
  undoAllChanges(conversationId: string): unknown;
  /** Restores every file the agent touched since `messageId`; the paths restored. */
  revertTo(conversationId: string, messageId: string): unknown;
  readonly onDidChangeFiles: Event<unknown>;
}

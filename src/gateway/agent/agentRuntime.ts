/**
 * The agent's parts for one gateway run: the editor port, the approval broker, the stored rules,
 * the change tracker and what the model has read. The gateway builds one in `start()` when it has a
 * workspace port, hands `tools()` to the chat service, and disposes it on `stop()`.
 */
import path from 'node:path';
import type { Guardrails as WorkspaceGuardrails } from '../../protocol/workspace/models';
import type { Logger } from '../ports';
import type { ConversationStore } from '../store/conversationStore';
import { Disposable, Emitter, type Event } from '../util/disposable';
import { ApprovalBroker, type ApprovalChange } from './approvals';
import { ChangeTracker } from './changes';
import type { FilesChange } from './agentHost';
import type { Guardrails } from './policy';
import { ProjectRules } from './projectRules';
import { ToolAddons, type ToolAddonsOptions } from './toolAddons';
import { RulesStore } from './rulesStore';
import type { AgentTools } from './toolRunner';
import { ReadTracker } from './tools/readTracker';
import type { WorkspacePort } from './workspacePort';

export interface AgentRuntimeOptions {
  port: WorkspacePort;
  /** The gateway's storage folder: rules, checkpoints, conversations. No agent may write under it. */
  storageDir: string;
  store: ConversationStore;
  logger: Logger;
  /** MCP servers and skills (absent: built-in tools only). */
  addons?: Omit<ToolAddonsOptions, 'port' | 'storageDir' | 'logger'>;
}

/** The workspace floor, tightened by the agent's own guardrails (never loosened). */
export function mergeGuardrails(ws: Partial<WorkspaceGuardrails> | undefined, own: Partial<WorkspaceGuardrails> | undefined): Guardrails {
  const union = (a?: string[], b?: string[]): string[] => [...new Set([...(a ?? []), ...(b ?? [])])];
  const g: Guardrails = { blockedTools: union(ws?.blockedTools, own?.blockedTools), approvalRequired: union(ws?.approvalRequired, own?.approvalRequired) };
  const wsDomains = ws?.allowedDomains ?? [];
  const ownDomains = own?.allowedDomains ?? [];
  // Empty = every domain; when both list some, only those on both lists are allowed.
  const domains = wsDomains.length && ownDomains.length ? wsDomains.filter((d) => ownDomains.includes(d)) : wsDomains.length ? wsDomains : ownDomains;
  if (domains.length) g.allowedDomains = domains;
  else if (wsDomains.length && ownDomains.length) g.allowedDomains = ['(none)'];
  const budgets = [ws?.maxTokenBudget, own?.maxTokenBudget].filter((n): n is number => typeof n === 'number' && n > 0);
  if (budgets.length) g.maxTokenBudget = Math.min(...budgets);
  return g;
}

export class AgentRuntime extends Disposable {
  private readonly onDidChangeFilesEmitter = this._register(new Emitter<FilesChange>());
  readonly onDidChangeFiles: Event<FilesChange> = this.onDidChangeFilesEmitter.event;
  readonly onDidChangeApprovals: Event<ApprovalChange>;
  readonly reads = new ReadTracker();

  private constructor(
    private readonly o: AgentRuntimeOptions,
    readonly rules: RulesStore,
    readonly changes: ChangeTracker,
    readonly approvals: ApprovalBroker,
    readonly projectRules: ProjectRules,
    readonly addons: ToolAddons | undefined,
  ) {
    super();
    if (addons) this._register(addons);
    this._register(projectRules);
    this._register(approvals);
    this._register(changes);
    this._register(rules);
    this.onDidChangeApprovals = approvals.onDidChangePending;
    this._register(changes.onDidChange(({ conversationId }) => this.onDidChangeFilesEmitter.fire({ conversationId, files: changes.pending(conversationId) })));
  }

  static async open(o: AgentRuntimeOptions): Promise<AgentRuntime> {
    const log = o.logger.child('agent');
    const rules = await RulesStore.open(path.join(o.storageDir, 'agent-rules.json'), log);
    const changes = await ChangeTracker.open(o.port, path.join(o.storageDir, 'checkpoints'), log);
    const projectRules = await ProjectRules.open(o.port, path.join(o.storageDir, 'project-rules.json'), log);
    const addons = o.addons ? await ToolAddons.open({ ...o.addons, port: o.port, storageDir: o.storageDir, logger: o.logger }) : undefined;
    return new AgentRuntime(o, rules, changes, new ApprovalBroker(rules, log), projectRules, addons);
  }

  get port(): WorkspacePort {
    return this.o.port;
  }

  /** What the agent loop gets. */
  tools(): AgentTools {
    return {
      port: this.o.port,
      approvals: this.approvals,
      changes: this.changes,
      reads: this.reads,
      storageDirs: [this.o.storageDir],
      rules: () => this.rules.rules(this.o.port.folders().map((f) => f.path)),
      projectRules: () => this.projectRules.list(),
      mcp: () => this.addons?.mcp,
      skills: () => this.addons?.skills,
    };
  }

  /** Revert to here: the conversation's message order decides what "since" means. */
  async revertTo(conversationId: string, messageId: string): Promise<string[]> {
    const conversation = await this.o.store.open(conversationId);
    return this.changes.revertTo(
      conversationId,
      messageId,
      conversation.messages.map((m) => m.id),
    );
  }

  /** Stops waiting approvals (their turns end) and writes the checkpoints. */
  async close(): Promise<void> {
    this.approvals.cancelAll();
    await this.addons?.close();
    await this.changes.flush();
    this.dispose();
  }
}

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
import type { McpServerStatus } from '../mcp';
import type { SkillInfo, SkillProblem } from '../skills';
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

  private readonly onDidChangeMcpEmitter = this._register(new Emitter<void>());
  /** An MCP server's state or tools changed, a tool was switched, or the runtime started or stopped. */
  readonly onDidChangeMcp: Event<void> = this.onDidChangeMcpEmitter.event;
  private readonly onDidChangeSkillsEmitter = this._register(new Emitter<void>());
  /** The skill library changed (loaded, a skill switched, the runtime started or stopped). */
  readonly onDidChangeSkills: Event<void> = this.onDidChangeSkillsEmitter.event;

  /** Called by the gateway when its runtime starts (with it) and stops (undefined). */
  protected attachAgent(runtime: AgentRuntime | undefined): void {
    this.agentRuntime = runtime;
    this.onDidChangeMcpEmitter.fire();
    this.onDidChangeSkillsEmitter.fire();
    if (!runtime) return;
    runtime.addons?.onDidChangeMcp(() => this.onDidChangeMcpEmitter.fire());
    runtime.addons?.onDidChangeSkills(() => this.onDidChangeSkillsEmitter.fire());
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

  // ── MCP servers and skills (issue 13): empty while stopped.

  mcpServers(): McpServerStatus[] {
    return this.agentRuntime?.addons?.mcp?.states() ?? [];
  }

  /** Enabled MCP tools, how many are sent to the model, and the cap. */
  mcpToolBudget(): { enabled: number; sent: number; cap: number } {
    return this.agentRuntime?.addons?.mcp?.toolBudget() ?? { enabled: 0, sent: 0, cap: 0 };
  }

  async startMcpServer(name: string): Promise<void> {
    await this.addons().startServer(name);
  }

  async stopMcpServer(name: string): Promise<void> {
    await this.mcpManager(name).stop(name);
  }

  async restartMcpServer(name: string): Promise<void> {
    await this.mcpManager(name).stop(name);
    await this.addons().startServer(name);
  }

  async setMcpToolEnabled(qualifiedName: string, enabled: boolean): Promise<void> {
    await this.mcpManager(qualifiedName).setToolEnabled(qualifiedName, enabled);
  }

  skills(): SkillInfo[] {
    return this.agentRuntime?.addons?.skills.skills() ?? [];
  }

  skillProblems(): SkillProblem[] {
    return this.agentRuntime?.addons?.skills.problems() ?? [];
  }

  async setSkillEnabled(name: string, enabled: boolean): Promise<void> {
    await this.addons().skills.setEnabled(name, enabled);
  }

  /** A SKILL.md changed on disk (as the host reports): read them again. */
  async reloadSkills(): Promise<void> {
    await this.agentRuntime?.addons?.reloadSkills();
  }

  private addons(): NonNullable<AgentRuntime['addons']> {
    const a = this.agentRuntime?.addons;
    if (!a) throw new Error('The gateway is not running.');
    return a;
  }

  private mcpManager(name: string): NonNullable<NonNullable<AgentRuntime['addons']>['mcp']> {
    const m = this.addons().mcp;
    if (!m) throw new Error(`No MCP server is configured (looked for ${name}).`);
    return m;
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

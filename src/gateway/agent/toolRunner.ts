/**
 * One tool call, start to end: the tool and its arguments are checked, the policy decides (allow,
 * ask, deny), an "ask" waits for the user through the ApprovalBroker, then the tool runs through the
 * port. Every outcome is a result for the model (an error result for a failing tool); nothing in a
 * result or a file changes a verdict. The card (ToolCallView) is updated at each step.
 */
import os from 'node:os';
import type { ToolCallView, ToolKind } from '../../protocol/agent';
import { errorMessage } from '../errors';
import type { NetService } from '../net/net';
import type { ToolCall } from '../providers/types';
import type { Conversation } from '../store/conversationStore';
import type { ToolResultStatus } from '../store/records';
import type { ApprovalBroker } from './approvals';
import type { ProjectRule } from './projectRules';
import type { ChangeTracker } from './changes';
import {
  decide,
  isToolAvailable,
  RESTRICTED_MODE_REASON,
  resolveToolPath,
  type Guardrails,
  type PolicyCall,
  type PolicyContext,
  type PolicySettings,
} from './policy';
import { parseToolArguments, toolByName, type AnyTool, type ToolResult } from './tools';
import type { McpToolSource, SkillSource } from './tools/extraTools';
import type { ReadTracker } from './tools/readTracker';
import { ToolInputError } from './tools/toolTypes';
import type { WorkspacePort } from './workspacePort';

export interface AgentTools {
  port: WorkspacePort;
  approvals: ApprovalBroker;
  changes: ChangeTracker;
  reads: ReadTracker;
  /** Folders no agent may write (the gateway's storage: rules, checkpoints, conversations). */
  storageDirs: string[];
  /** The standing rules stored for the port's workspace. */
  rules: () => string[];
  /** The workspace's rules files and the team's rules, for the system prompt (`projectRules.ts`). */
  projectRules?: () => Promise<ProjectRule[]>;
  /** The MCP servers' tools, while any run. */
  mcp?: () => McpToolSource | undefined;
  /** The skill library (its prompt block and `read_skill`). */
  skills?: () => SkillSource | undefined;
}

export interface CallScope {
  conversation: Conversation;
  messageId: string;
  signal: AbortSignal;
  guardrails: Guardrails;
  settings: Omit<PolicySettings, 'rules'>;
  mode: 'plan' | 'act';
  createdThisTurn: Set<string>;
  taskId?: string;
  /** Every change of the call's card. */
  onView: (view: ToolCallView) => void;
}

export interface CallOutcome {
  status: ToolResultStatus;
  result: ToolResult;
}

const PLAN_KINDS: readonly ToolKind[] = ['read', 'interaction'];

export function policyContext(t: AgentTools, scope: Pick<CallScope, 'guardrails' | 'settings'>): PolicyContext {
  return {
    guardrails: scope.guardrails,
    settings: { ...scope.settings, rules: t.rules() },
    trusted: t.port.isTrusted(),
    folders: t.port.folders().map((f) => f.path),
    home: os.homedir(),
    storageDirs: t.storageDirs,
  };
}

/** The tools the model may call this turn (blocked and unavailable ones are never sent). */
export function availableTools(all: readonly AnyTool[], t: AgentTools, guardrails: Guardrails, mode: 'plan' | 'act'): AnyTool[] {
  const trusted = t.port.isTrusted();
  return all.filter((tool) => isToolAvailable(tool.name, tool.kind, { guardrails, trusted }) && (mode === 'act' || PLAN_KINDS.includes(tool.kind)));
}

function approvalTitle(tool: AnyTool, call: PolicyCall, subject: string): string {
  switch (call.kind) {
    case 'command':
      return `Run ${subject}`;
    case 'network':
      return `Fetch ${call.url}`;
    case 'edit':
      return `${tool.name === 'write_file' ? 'Create' : 'Edit'} ${subject}`;
    case 'read':
      return `Read ${subject || 'the workspace'}`;
    case 'mcp':
      return `Use ${call.tool} (MCP server "${call.server}")${call.changed ? ': it changed since you approved it' : ''}`;
    default:
      return `${tool.name} ${subject}`;
  }
}

export class ToolRunner {
  constructor(
    private readonly t: AgentTools,
    private readonly net: NetService,
  ) {}

  /** Runs one call; never throws (a crash of the tool is its error result). */
  async run(call: ToolCall, offered: readonly AnyTool[], scope: CallScope): Promise<CallOutcome> {
    const error = (content: string): CallOutcome => ({ status: 'error', result: { content, isError: true } });
    const tool = offered.find((x) => x.name === call.name);
    if (!tool) {
      const builtin = toolByName(call.name);
      // Restricted Mode offers no write, command or network tool; a call to one is the policy's refusal, said as such.
      if (builtin && !this.t.port.isTrusted() && !PLAN_KINDS.includes(builtin.kind))
        return { status: 'denied', result: { content: `Refused by the policy: ${RESTRICTED_MODE_REASON}. It was not run.`, isError: true } };
      const known = toolByName(call.name) ? ' It is not available here (blocked, read-only mode or an untrusted workspace).' : '';
      return error(`Unknown tool "${call.name}".${known} Available tools: ${offered.map((x) => x.name).join(', ') || 'none'}.`);
    }
    if (call.invalidArguments) {
      return error(
        `The arguments of this ${call.name} call were not a valid JSON object (${call.invalidArguments.error}); it was not run. Send the arguments again as one JSON object.`,
      );
    }
    const parsed = parseToolArguments(tool, call.arguments);
    if (!parsed.ok) return error(parsed.error);
    const args = parsed.args;
    const ctx = policyContext(this.t, scope);
    let policyCall: PolicyCall;
    try {
      policyCall = await tool.policyCall(args, {
        port: this.t.port,
        resolve: (p) => resolveToolPath(p, [...this.t.port.folders()], (x) => this.t.port.realpath(x)),
      });
    } catch (err) {
      return error(err instanceof ToolInputError ? err.message : `${call.name}: ${errorMessage(err)}`);
    }
    const verdict = decide(policyCall, ctx);
    if (verdict.decision === 'deny')
      return { status: 'denied', result: { content: `Refused by the policy: ${verdict.reason}. It was not run.`, isError: true } };
    const update = (patch: Partial<ToolCallView>): void => {
      const v = scope.conversation.updateToolCall(scope.messageId, call.id, patch);
      if (v) scope.onView(v);
    };
    if (verdict.decision === 'ask') {
      const subject = tool.subject(args);
      const req = {
        conversationId: scope.conversation.id,
        messageId: scope.messageId,
        callId: call.id,
        toolName: call.name,
        title: approvalTitle(tool, policyCall, subject).slice(0, 2000),
        reason: verdict.reason.slice(0, 2000),
        detail: (policyCall.kind === 'command'
          ? policyCall.command
          : policyCall.kind === 'network'
            ? policyCall.url
            : (tool.detail?.(args) ?? JSON.stringify(call.arguments, null, 1))
        ).slice(0, 20_000),
        ...(verdict.suggestedRule ? { suggestedRule: verdict.suggestedRule.slice(0, 500) } : {}),
        ...(scope.taskId ? { taskId: scope.taskId } : {}),
      };
      const pending = this.t.approvals.request(req, ctx.folders, scope.signal);
      const asked = this.t.approvals.pending().find((r) => r.callId === call.id && r.conversationId === scope.conversation.id);
      update({ status: 'awaiting_approval', approval: asked });
      const outcome = await pending;
      update({ approval: undefined });
      if (outcome.interrupted)
        return { status: 'interrupted', result: { content: 'The user stopped the turn before deciding; it was not run.', isError: true } };
      if (outcome.decision === 'deny')
        return { status: 'denied', result: { content: 'The user denied this call; it was not run. Do not retry it; ask or take another way.', isError: true } };
    }
    const startedAt = Date.now();
    update({ status: 'running', startedAt });
    let live = '';
    try {
      const result = await tool.run(args, policyCall, {
        port: this.t.port,
        net: this.net,
        conversationId: scope.conversation.id,
        messageId: scope.messageId,
        callId: call.id,
        signal: scope.signal,
        reads: this.t.reads,
        changes: this.t.changes,
        createdThisTurn: scope.createdThisTurn,
        urlAllowed: (url) => {
          const v = decide({ tool: 'web_fetch', kind: 'network', url }, ctx);
          return v.decision === 'allow' ? { ok: true } : { ok: false, reason: v.reason };
        },
        onOutput: (chunk) => {
          live = (live + chunk).slice(-4000);
          update({ preview: live });
        },
      });
      if (scope.signal.aborted) return { status: 'interrupted', result: { ...result, content: `${result.content}\n(stopped by the user)`, isError: true } };
      return { status: result.isError ? 'error' : 'done', result };
    } catch (err) {
      if (scope.signal.aborted) return { status: 'interrupted', result: { content: 'Stopped by the user while it ran.', isError: true } };
      return error(`${call.name} failed: ${errorMessage(err)}`);
    }
  }
}

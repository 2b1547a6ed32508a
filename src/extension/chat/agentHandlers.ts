/**
 * The chat webview's agent commands (tool-call approvals, Keep / Undo, diffs, Revert to here), kept
 * out of chatViewProvider.ts. Without the agent parts attached (the gateway has no editor tools)
 * they say so instead of failing silently.
 */
import * as vscode from 'vscode';
import type { ToolCallView } from '../../protocol/agent';
import type { ChatCommandMethod, ChatCommandParams } from '../../protocol/chatView';
import type { AgentGatewayApi } from '../agent/agentApi';
import type { EditReview } from '../agent/editReview';

export const AGENT_COMMANDS = ['chat/approve', 'chat/keepFile', 'chat/undoFile', 'chat/keepAll', 'chat/undoAll', 'chat/openDiff', 'chat/revertTo'] as const;
export type AgentCommandMethod = (typeof AGENT_COMMANDS)[number];
type Handlers = { [M in AgentCommandMethod]: (params: ChatCommandParams<M>) => Promise<void> | void };

export interface AgentParts {
  api: AgentGatewayApi;
  review: EditReview;
}

export function agentCommandHandlers(parts: () => AgentParts | undefined, conversationId: () => string | null): Handlers {
  const need = (): AgentParts => {
    const p = parts();
    if (!p) throw new Error('the agent tools are not available in this window');
    return p;
  };
  const cid = (): string | null => conversationId();
  return {
    'chat/approve': (p) => {
      const ok = need().api.resolveApproval(p.approvalId, { decision: p.decision, always: p.always, via: 'chat' });
      if (!ok) vscode.window.setStatusBarMessage('$(info) That request was already answered', 3000);
    },
    'chat/keepFile': (p) => need().review.keep(p.path),
    'chat/undoFile': (p) => need().review.undo(p.path),
    'chat/keepAll': async () => {
      const id = cid();
      if (id) await need().review.keepAll(id);
    },
    'chat/undoAll': async () => {
      const id = cid();
      if (id) await need().review.undoAll(id);
    },
    'chat/openDiff': (p) => need().review.openDiff(p.path, true),
    'chat/revertTo': async (p) => {
      const id = cid();
      if (id) await need().review.revertTo(id, p.messageId);
    },
  };
}

/** Compile-time check that the list above names chat commands. */
export const agentCommandMethods: readonly ChatCommandMethod[] = AGENT_COMMANDS;

const clip = (s: string | undefined, max: number): string | undefined => (s === undefined || s.length <= max ? s : `${s.slice(0, max - 1)}…`);

/**
 * A call as the webview's schema accepts it: every text within its limit (the webview drops a
 * notification that fails its schema, so a long result must not make a card disappear).
 */
export function viewCall(call: ToolCallView): ToolCallView {
  const a = call.approval;
  return {
    ...call,
    subject: clip(call.subject, 2000) ?? '',
    url: call.url && call.url.length <= 4000 ? call.url : undefined,
    preview: clip(call.preview, 4000),
    argumentsJson: clip(call.argumentsJson, 20_000),
    result: clip(call.result, 50_000),
    approval: a && {
      ...a,
      title: clip(a.title, 2000) ?? '',
      reason: clip(a.reason, 2000) ?? '',
      detail: clip(a.detail, 20_000),
      suggestedRule: clip(a.suggestedRule, 500),
    },
  };
}

/** A stored message as the chat webview's protocol carries it. */
import type { BranchPosition } from '../../gateway/store/branchTree';
import type { StoredMessage } from '../../gateway/store/conversationStore';
import type { ChatViewMessage } from '../../protocol/chatView';
import { viewCall } from './agentHandlers';
import type { Pricing } from './usageView';

/** `branchOf`: where a message sits among its versions (the conversation's tree), when the message does not say. */
export function toViewMessage(m: StoredMessage, pricing: Pricing, branchOf?: (id: string) => BranchPosition | undefined): ChatViewMessage {
  const branch = m.branch ?? branchOf?.(m.id);
  return {
    id: m.id,
    role: m.role,
    text: m.text,
    ts: m.ts,
    status: m.status,
    agentId: m.agentId,
    finishReason: m.finishReason,
    usage: pricing.message(m),
    error: m.error,
    toolCalls: m.toolCalls?.map(viewCall),
    ...(m.context?.length ? { context: m.context.map((c) => ({ kind: c.kind, label: c.label, tokens: c.tokens, truncated: c.truncated })) } : {}),
    ...(branch ? { branch } : {}),
    ...(m.origin ? { origin: m.origin } : {}),
  };
}

/** The conversation store's public data shapes (compatible with the chat view's `ChatViewMessage`). */
import type { ToolCallView } from '../../protocol/agent';
import { MAX_TITLE_LENGTH, type ContextItem, type StoredToolCall, type ToolResultStatus } from './records';

export type { ContextItem } from './records';

export interface ConversationMeta {
  id: string;
  title: string;
  agentId: string | null;
  createdAt: number;
  taskId?: string;
}

export interface ConversationSummary extends ConversationMeta {
  updatedAt: number;
  /** The last message's text, whitespace collapsed, at most ~100 characters. */
  snippet: string;
  messageCount: number;
}

export type StoredStatus = 'complete' | 'streaming' | 'interrupted' | 'error' | 'cancelled';

export interface StoredUsage {
  /** Prompt tokens, cached ones included. */
  inputTokens?: number;
  outputTokens?: number;
  /** Prompt tokens the provider served from its cache (priced apart). */
  cachedInputTokens?: number;
  /** The provider and model that answered (what the reply is priced by, even after the agent changed). */
  provider?: string;
  model?: string;
}

export interface StoredError {
  kind: string;
  message: string;
  retryable: boolean;
}

export interface StoredMessage {
  id: string;
  role: 'user' | 'assistant';
  text: string;
  ts: number;
  status: StoredStatus;
  agentId?: string;
  finishReason?: string;
  usage?: StoredUsage;
  error?: StoredError;
  /** The tool calls this reply made, as cards (the approval is live state, never stored). */
  toolCalls?: ToolCallView[];
  /** What the user attached to this message (user messages only). */
  context?: ContextItem[];
  /** Never stored: on the copies a Conversation returns, where the message sits among its alternatives. */
  branch?: { index: number; count: number };
  /** `task`: a prompt a task sent (its plan request, "the plan was approved"), not the user speaking. */
  origin?: 'task';
}

/** What a provider needs to replay one reply's tool calls: the exact calls, and each result. */
export interface MessageTools {
  calls: StoredToolCall[];
  results: Map<string, { status: ToolResultStatus; content: string }>;
}

/** The result sent for a call that never got one (the gateway stopped while it ran). */
export const INTERRUPTED_RESULT = 'The tool call was interrupted (the gateway stopped before it finished); its effect is unknown. Check before repeating it.';

/** How a reply ended, as given to `Conversation.finishAssistant`. */
export interface AssistantEnd {
  status: 'complete' | 'error' | 'cancelled';
  /** `false`: not fsynced now (a reply whose tool calls run next; the turn's end syncs it). Default true. */
  durable?: boolean;
  finishReason?: string;
  usage?: StoredUsage;
  error?: StoredError;
}

/** Shown when there is neither an explicit title nor a user message to derive one from. */
export const UNTITLED = 'New conversation';

/** The title shown: the explicit one, else the one derived from the first user message. */
export function displayTitle(explicitTitle: string, derivedTitle: string): string {
  return explicitTitle || derivedTitle || UNTITLED;
}

const TITLE_FROM_TEXT_LENGTH = 60;
const SNIPPET_LENGTH = 100;
/** How many leading characters of each message the list index keeps (enough for a snippet). */
export const INDEX_TEXT_CAP = 4 * SNIPPET_LENGTH;

/** Cuts `text` to `max` characters at a word boundary when one is near, adding an ellipsis. */
function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.slice(0, max - 1);
  const space = cut.lastIndexOf(' ');
  return (space > max * 0.6 ? cut.slice(0, space) : cut).trimEnd() + '…';
}

/** The default title: first non-empty line of the first user message, trimmed, ~60 characters. */
export function titleFromText(text: string): string {
  const rest = text.trimStart();
  const nl = rest.indexOf('\n');
  const line = (nl === -1 ? rest : rest.slice(0, nl)).slice(0, 4 * TITLE_FROM_TEXT_LENGTH);
  return clip(line.replace(/\s+/g, ' ').trim(), TITLE_FROM_TEXT_LENGTH);
}

/** An explicit title as stored: one line, trimmed, at most MAX_TITLE_LENGTH characters. */
export function normalizeTitle(title: string): string {
  return clip(title.replace(/\s+/g, ' ').trim(), MAX_TITLE_LENGTH);
}

/** Only the first INDEX_TEXT_CAP characters count, so the index (which keeps no more) agrees. */
export function snippetFromText(text: string): string {
  return clip(text.slice(0, INDEX_TEXT_CAP).replace(/\s+/g, ' ').trim(), SNIPPET_LENGTH);
}

/** Snippet of the last message that has any text. */
export function snippetOf(messages: readonly StoredMessage[]): string {
  for (let i = messages.length - 1; i >= 0; i--) {
    const s = snippetFromText(messages[i].text);
    if (s) return s;
  }
  return '';
}

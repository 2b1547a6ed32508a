/** Builders for chat protocol payloads, and a deterministic, realistic long conversation. */
import type { ApprovalRequest, ToolCallView } from '../../../src/protocol/agent';
import type { AgentInfo, ChatState, ChatViewMessage, ConversationInfo } from '../../../src/protocol/chatView';

export function agent(over: Partial<AgentInfo> = {}): AgentInfo {
  return { id: 'gpt', name: 'GPT Coder', provider: 'openai', model: 'gpt-4.1', available: true, source: 'default', ...over };
}

export const agents: AgentInfo[] = [
  agent(),
  agent({ id: 'claude', name: 'Claude Reviewer', provider: 'anthropic', model: 'claude-sonnet-4' }),
  agent({ id: 'gemini', name: 'Gemini Helper', provider: 'gemini', model: 'gemini-2.5-pro', available: false }),
];

let seq = 0;
export function message(over: Partial<ChatViewMessage> = {}): ChatViewMessage {
  seq++;
  return { id: `m${seq}`, role: 'assistant', text: 'Hello', ts: 1_760_000_000_000 + seq * 1000, status: 'complete', agentId: 'gpt', ...over };
}

export function conversation(over: Partial<ConversationInfo> = {}): ConversationInfo {
  return { id: 'c1', title: 'Refactor the parser', agentId: 'gpt', locked: true, messageCount: 0, ...over };
}

export function state(over: Partial<ChatState> = {}): ChatState {
  const messages = over.messages ?? [];
  return {
    agents,
    selectedAgentId: 'gpt',
    conversation: conversation({ messageCount: (over.firstIndex ?? 0) + messages.length, locked: messages.length > 0 }),
    messages,
    firstIndex: 0,
    busy: false,
    gatewayState: 'running',
    ...over,
  };
}

const questions = [
  'How do I debounce a function in TypeScript?',
  'Why does this test hang on CI but not locally?',
  'Can you explain what `Promise.allSettled` returns?',
  'Rename `parseRow` to `parseRecord` everywhere and update the docs.',
  'What is the difference between `interface` and `type` here?',
];

const replies = [
  'Here is a small, typed debounce:\n\n```ts\nexport function debounce<A extends unknown[]>(fn: (...args: A) => void, ms: number) {\n  let timer: ReturnType<typeof setTimeout> | undefined;\n  return (...args: A) => {\n    clearTimeout(timer);\n    timer = setTimeout(() => fn(...args), ms);\n  };\n}\n```\n\nCall it once and reuse the returned function; each call **resets** the timer.',
  'Most likely an open handle keeps the event loop alive:\n\n1. a server that is never closed,\n2. an interval without `unref()`,\n3. a socket left in `keep-alive`.\n\nRun mocha with `--exit` only as a last resort; better to close what you open in `after()`. See https://mochajs.org/#-exit for details.',
  '`Promise.allSettled` resolves to an array of outcomes:\n\n| status | field |\n|---|---|\n| `fulfilled` | `value` |\n| `rejected` | `reason` |\n\nIt never rejects, so check each `status`.',
  'Done. I renamed the function in 4 files:\n\n- `src/parser/row.ts`\n- `src/parser/index.ts`\n- `test/parser.test.ts`\n- `docs/parser.md`\n\n> Note: the public export keeps a deprecated alias for one release.\n\n```diff\n-export function parseRow(line: string): Row {\n+export function parseRecord(line: string): Row {\n```',
  'Both describe shapes. Use an `interface` when you expect declaration merging or `extends`; use a `type` for unions, mapped and conditional types. In this file a union is needed, so `type Result = Ok | Err;` is the right choice.\n\nA longer explanation: interfaces are open (they can be augmented), their error messages name the interface, and they are cached by the checker, which can make large codebases slightly faster to check. Types are closed and can express anything, including tuples and template literal types.',
];

/** `count` alternating user/assistant messages with mixed markdown (code, lists, tables, quotes). */
export function longConversation(count: number, idPrefix = 'h', startIndex = 0): ChatViewMessage[] {
  const out: ChatViewMessage[] = [];
  for (let i = 0; i < count; i++) {
    const n = startIndex + i;
    const user = n % 2 === 0;
    const k = Math.floor(n / 2) % questions.length;
    out.push({
      id: `${idPrefix}${n}`,
      role: user ? 'user' : 'assistant',
      text: user ? `${questions[k]} (#${n})` : replies[(k + Math.floor(n / 10)) % replies.length],
      ts: 1_750_000_000_000 + n * 60_000,
      status: 'complete',
      agentId: user ? undefined : 'gpt',
    });
  }
  return out;
}

/** A streamed reply cut into small deltas (as providers send them): prose, a list and code. */
export function replyDeltas(total: number): string[] {
  const source = replies.join('\n\n');
  const out: string[] = [];
  let pos = 0;
  for (let i = 0; i < total; i++) {
    const size = 3 + (i % 9);
    if (pos + size > source.length) pos = 0;
    out.push(source.slice(pos, pos + size));
    pos += size;
  }
  return out;
}

/** A tool call as the gateway shows it (a done read_file unless overridden). */
export function toolCall(over: Partial<ToolCallView> & { id: string; messageId: string }): ToolCallView {
  return { name: 'read_file', kind: 'read', subject: 'src/app.ts', status: 'done', startedAt: 1_760_000_000_000, durationMs: 42, ...over };
}

/** An approval request for a call (a command that is not in the allow list unless overridden). */
export function approval(over: Partial<ApprovalRequest> & { id: string; callId: string; messageId: string }): ApprovalRequest {
  return { conversationId: 'c1', toolName: 'run_command', title: 'Run npm test', reason: 'not in the allow list', ts: 1_760_000_000_000, ...over };
}
